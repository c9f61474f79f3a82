"""Reading and rewriting a batch output folder's ``results.jsonl`` for review.

Each line is one contract object (see :mod:`bmdkit.export.jsonout`); the
batch may add optional fields, e.g. ``subject`` (``subject_id``, ``center``,
``visit``). Those extra fields are kept as they are when the file is
rewritten. Loading and the atomic rewrite are :mod:`bmdkit.batchfolder`'s
(a temporary file in the same folder, then ``os.replace``), so a crash
leaves either the old or the new file, never half.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit.batchfolder import (
    EXAMS_JSONL,
    RESULTS_JSONL,
    atomic_write,
    exam_line,
    iter_exam_lines,
    split_extra,
)
from bmdkit.model import Exam

#: kept name for :data:`bmdkit.batchfolder.RESULTS_JSONL`
RESULTS_FILE = RESULTS_JSONL


class BatchDirError(ValueError):
    """The folder is not a readable batch output; the message says which line and why."""


@dataclass(frozen=True)
class Line:
    """One results.jsonl line: the exam and the fields bmdkit's contract does not know."""

    exam: Exam
    extra: dict[str, Any] = field(default_factory=dict)
    had_patient: bool = True

    @property
    def subject(self) -> dict[str, Any]:
        s = self.extra.get("subject")
        return s if isinstance(s, dict) else {}


def iter_lines(directory: Path) -> Iterator[Line]:
    """Lines of ``DIR/results.jsonl`` in order; raises :class:`BatchDirError` on a bad line."""
    path = Path(directory) / RESULTS_FILE
    if not path.is_file():
        raise BatchDirError(f"{path}: no {RESULTS_FILE} here (is this a batch output folder?)")
    for line in iter_exam_lines(path):
        if line.error is not None:
            exc = line.error
            raise BatchDirError(f"{RESULTS_FILE} line {line.lineno}: {type(exc).__name__}: {exc}") from None
        assert line.exam is not None and line.data is not None
        yield Line(line.exam, split_extra(line.data), line.data.get("patient") is not None)


def read_lines(directory: Path) -> list[Line]:
    """All lines of ``DIR/results.jsonl`` (see :func:`iter_lines`)."""
    return list(iter_lines(directory))


def write_lines_atomic(directory: Path, lines: list[Line]) -> Path:
    """Rewrite ``DIR/results.jsonl`` from ``lines`` atomically (and exams.jsonl after it); returns its path."""
    path = Path(directory) / RESULTS_FILE
    with atomic_write(path, "w", encoding="utf-8") as fh:
        for ln in lines:
            fh.write(json.dumps(exam_line(ln.exam, include_patient=ln.had_patient, extra=ln.extra),
                                ensure_ascii=False) + "\n")
    from bmdkit.merged_file import write_exams

    if (Path(directory) / EXAMS_JSONL).is_file():  # the merged exams follow the rewritten results
        write_exams(directory, [(ln.exam, exam_line(ln.exam, include_patient=ln.had_patient, extra=ln.extra))
                                for ln in lines])
    return path
