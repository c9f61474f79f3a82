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
from bmdkit.batch.made import Made
from bmdkit.batch.walk import DEFAULT_LIMITS, InputItem, WalkLimits, walk_inputs
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import InputKind, Source
from bmdkit.options import ReadOptions
from bmdkit.read import UNREAD_SHA256, failed_exam, sha256_file


@dataclass(frozen=True)
class Task:
    """One file content to process: ``path`` on disk, shown as ``display``.

    ``key`` is the content's SHA-256 when the planner hashed the file
    (``hashed``); otherwise a placeholder unique to the input (``pending:``
    and its place), and the worker's digest of what it read decides the
    ledger entry when the result comes back (:func:`commit`).
    """

    key: str
    path: Path
    display: str
    temporary: bool
    place: str = ""
    stamp: str | None = None
    hashed: bool = True


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
    hash_first: bool = True,
) -> Iterator[Task]:
    """Yield the tasks still to do; ``advance(failed)`` is called for every item settled here.

    Every item is recorded under its place (:attr:`InputItem.place`), so
    inputs shown under the same name are never merged. A file larger than
    ``limits.max_file_bytes`` is failed by its size, before it is hashed:
    hashing gigabytes in the batch's main process would be work outside
    every time limit.

    ``hash_first=False``: files are not hashed here (the worker hashes what
    it reads, and that digest keys the result, :func:`commit`), so a file is
    hashed once, not twice. What is already done is still told apart by its
    stamp (size and mtime, :func:`~bmdkit.batch.walk.walk_inputs`); the same
    content under two new names is read twice and kept once.
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
        if not hash_first:
            yield Task("pending:" + place, item.path, item.display, item.temporary, place, item.stamp, False)
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
        yield Task(sha, item.path, item.display, item.temporary, place, item.stamp)


def digest_of(task: Task) -> str:
    """The task's content digest: its key when planned hashed, else the file hashed now
    (for a result the worker did not give: a crash, a time limit)."""
    if task.hashed:
        return task.key
    try:
        return sha256_file(task.path)
    except OSError:
        return UNREAD_SHA256


def commit(ledger: Ledger, task: Task, line: dict[str, Any], made: Made | None = None) -> None:
    """Record a task's result (as :func:`finish_line` made it) in the ledger.

    A hashed task's result goes under its key. An unhashed one's goes under
    the digest the worker computed of the bytes it read, and its name is
    recorded now (as :func:`plan` does for a hashed one); when that content
    is already done (the same bytes under another name) the earlier result
    stays. A line made in the batch for a file the worker gave nothing for
    (a crash, a time limit) carries :func:`digest_of` the task. A file that
    could not be read is kept under its place, as :func:`plan` keeps one. ``made``: the line's
    output pieces, if the worker made them (:mod:`bmdkit.batch.made`).
    """
    if task.hashed:
        ledger.record(task.key, line, made)
        return
    place = task.place or LEGACY_PLACE + task.display
    sha = str(line.get("source", {}).get("sha256") or UNREAD_SHA256)
    if sha == UNREAD_SHA256:
        ledger.see_and_record(task.display, "place:" + place, UNREAD_SHA256, None, place, line, made)
    else:
        ledger.see_and_record(task.display, sha, sha, task.stamp, place, line, made)


def _settle(ledger: Ledger, item: InputItem, place: str, code: FlagCode, reason: str) -> None:
    """Record an input that gives no content as failed, keyed by its place (not by its name)."""
    key = "place:" + place
    if ledger.see(item.display, key, UNREAD_SHA256, None, place=place):
        ledger.record(key, failed_line(item.display, code, reason))
