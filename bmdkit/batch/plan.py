"""What a batch must still do: inputs walked, hashed, de-duplicated against the ledger.

Shared by the process-pool runner and the Dask runner so both produce the
same state for the same inputs. Items that cannot be processed at all (a
symbolic link, an unsafe archive member, a file that cannot be read) are
recorded as failed results here, in the client, so every input appears in
the outputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bmdkit.batch.ledger import Ledger
from bmdkit.batch.walk import DEFAULT_LIMITS, InputItem, WalkLimits, walk_inputs
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import InputKind, Source
from bmdkit.read import UNREAD_SHA256, failed_exam, sha256_file


@dataclass(frozen=True)
class Task:
    """One file content to process: ``path`` on disk, shown as ``display``."""

    key: str
    path: Path
    display: str
    temporary: bool


def failed_line(display: str, code: FlagCode, reason: str, sha256: str = UNREAD_SHA256) -> dict[str, Any]:
    """The contract dict of a file that gave nothing."""
    return exam_to_dict(failed_exam(Source(display, sha256, InputKind.UNKNOWN), code, reason))


def finish_line(line: dict[str, Any], task: Task) -> dict[str, Any]:
    """A worker's result as stored: temporary paths replaced by the shown name."""
    if task.temporary or str(task.path) != task.display:
        text = json.dumps(line, ensure_ascii=False).replace(json.dumps(str(task.path))[1:-1], task.display)
        line = json.loads(text)
    line["source"]["path"] = task.display
    return line


def discard(task_or_item: Task | InputItem) -> None:
    """Remove an archive member's temporary copy."""
    if task_or_item.temporary and task_or_item.path is not None:
        task_or_item.path.unlink(missing_ok=True)


def plan(
    inputs: Iterable[str | Path],
    ledger: Ledger,
    advance: Callable[[bool], None],
    limits: WalkLimits = DEFAULT_LIMITS,
) -> Iterator[Task]:
    """Yield the tasks still to do; ``advance(failed)`` is called for every item settled here."""
    queued: set[str] = set()
    for item in walk_inputs(inputs, ledger.work_dir, limits, known=ledger.known):
        if item.known:
            advance(False)
            continue
        if item.problem is not None or item.path is None:
            code, reason = item.problem or (FlagCode.UNREADABLE, "cannot be read")
            key = "name:" + item.display
            if ledger.see(item.display, key, UNREAD_SHA256, None):
                ledger.record(key, failed_line(item.display, code, reason))
            advance(True)
            continue
        try:
            sha = sha256_file(item.path)
        except OSError as exc:
            key = "name:" + item.display
            if ledger.see(item.display, key, UNREAD_SHA256, None):
                ledger.record(key, failed_line(item.display, FlagCode.UNREADABLE,
                                               f"cannot be read ({exc.strerror or type(exc).__name__})"))
            discard(item)
            advance(True)
            continue
        needs = ledger.see(item.display, sha, sha, item.stamp)
        if not needs or sha in queued:
            discard(item)
            advance(False)
            continue
        queued.add(sha)
        yield Task(sha, item.path, item.display, item.temporary)
