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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bmdkit.batch.ledger import LEGACY_PLACE, Ledger
from bmdkit.batch.walk import DEFAULT_LIMITS, InputItem, WalkLimits, walk_inputs
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import InputKind, Source
from bmdkit.options import ReadOptions
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


def limits_for(limits: WalkLimits, options: ReadOptions) -> WalkLimits:
    """``limits`` with the per-file size cap no larger than the readers' own (``options.max_file_bytes``),
    so a file over it is refused by its size, before it is hashed."""
    return replace(limits, max_file_bytes=min(limits.max_file_bytes, options.max_file_bytes))


def plan(
    inputs: Iterable[str | Path],
    ledger: Ledger,
    advance: Callable[[bool], None],
    limits: WalkLimits = DEFAULT_LIMITS,
) -> Iterator[Task]:
    """Yield the tasks still to do; ``advance(failed)`` is called for every item settled here.

    Every item is recorded under its place (:attr:`InputItem.place`), so
    inputs shown under the same name are never merged. A file larger than
    ``limits.max_file_bytes`` is failed by its size, before it is hashed:
    hashing gigabytes in the batch's main process would be work outside
    every time limit.
    """
    queued: set[str] = set()
    for item in walk_inputs(inputs, ledger.work_dir, limits, known=ledger.known):
        if item.known:
            advance(False)
            continue
        place = item.place or LEGACY_PLACE + item.display
        if item.problem is not None or item.path is None:
            code, reason = item.problem or (FlagCode.UNREADABLE, "cannot be read")
            _settle(ledger, item, place, code, reason)
            advance(True)
            continue
        if item.size is not None and item.size > limits.max_file_bytes:
            _settle(ledger, item, place, FlagCode.RESOURCE_LIMIT,
                    f"file of {item.size} bytes exceeds the {limits.max_file_bytes}-byte cap (not read)")
            discard(item)
            advance(True)
            continue
        try:
            sha = sha256_file(item.path)
        except OSError as exc:
            _settle(ledger, item, place, FlagCode.UNREADABLE,
                    f"cannot be read ({exc.strerror or type(exc).__name__})")
            discard(item)
            advance(True)
            continue
        needs = ledger.see(item.display, sha, sha, item.stamp, place=place)
        if not needs or sha in queued:
            discard(item)
            advance(False)
            continue
        queued.add(sha)
        yield Task(sha, item.path, item.display, item.temporary)


def _settle(ledger: Ledger, item: InputItem, place: str, code: FlagCode, reason: str) -> None:
    """Record an input that gives no content as failed, keyed by its place (not by its name)."""
    key = "place:" + place
    if ledger.see(item.display, key, UNREAD_SHA256, None, place=place):
        ledger.record(key, failed_line(item.display, code, reason))
