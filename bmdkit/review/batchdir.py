"""Reading and rewriting a batch output folder's ``results.jsonl``.

Each line is one contract object (see :mod:`bmdkit.export.jsonout`); the
batch may add optional fields, e.g. ``subject`` (``subject_id``, ``center``,
``visit``). Those extra fields are kept as they are when the file is
rewritten. The rewrite is atomic (a temporary file in the same folder, then
``os.replace``), so a crash leaves either the old or the new file, never half.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit.export.jsonout import exam_from_dict, exam_to_dict
from bmdkit.model import Exam

RESULTS_FILE = "results.jsonl"


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


_KNOWN_KEYS = frozenset({
    "source", "status", "outcome", "vendor", "scanner_model", "scanner_serial", "scanner_software",
    "institution", "exam_date", "study_instance_uid", "scan_types", "patient", "regions",
    "extra_regions", "flags", "software",
})


def iter_lines(directory: Path) -> Iterator[Line]:
    """Lines of ``DIR/results.jsonl`` in order; raises :class:`BatchDirError` on a bad line."""
    path = Path(directory) / RESULTS_FILE
    if not path.is_file():
        raise BatchDirError(f"{path}: no {RESULTS_FILE} here (is this a batch output folder?)")
    with path.open(encoding="utf-8") as fh:
        for lineno, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                d = json.loads(text)
                exam = exam_from_dict(d)
            except (ValueError, KeyError, TypeError) as exc:
                raise BatchDirError(f"{RESULTS_FILE} line {lineno}: {type(exc).__name__}: {exc}") from None
            extra = {k: v for k, v in d.items() if k not in _KNOWN_KEYS}
            yield Line(exam, extra, d.get("patient") is not None)


def read_lines(directory: Path) -> list[Line]:
    return list(iter_lines(directory))


def write_lines_atomic(directory: Path, lines: list[Line]) -> Path:
    """Rewrite ``DIR/results.jsonl`` from ``lines`` atomically; returns its path."""
    path = Path(directory) / RESULTS_FILE
    fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".jsonl.tmp", dir=str(directory))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for ln in lines:
                d = exam_to_dict(ln.exam, include_patient=ln.had_patient)
                d.update(ln.extra)
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    from bmdkit.merge import EXAMS_JSONL, write_exams

    if (Path(directory) / EXAMS_JSONL).is_file():  # the merged exams follow the rewritten results
        write_exams(directory, [(ln.exam, {**exam_to_dict(ln.exam, include_patient=ln.had_patient), **ln.extra})
                                for ln in lines])
    return path
