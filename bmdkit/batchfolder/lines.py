"""Reading the JSON-lines files of a batch output folder (``results.jsonl``, ``exams.jsonl``).

Every reader of those files goes through :func:`iter_json_lines`, so they
all share one line cap (:data:`MAX_LINE_BYTES`) and one idea of a line:
bytes up to ``\\n``, blank lines skipped, numbered from 1 counting blanks.
A line that cannot be used is not raised here but *reported* (its
``error``), because callers differ in what a bad line means: a trial
analysis counts it and goes on, ``bmdkit harmonize`` and the review page
stop with the line number. :func:`load_exams` is the one way to get a
folder's exams (merged per visit when the batch wrote ``exams.jsonl``).

Each line is one contract object (:mod:`bmdkit.export.jsonout`); the batch
may add fields the contract does not know (``subject``, ``history``), which
:func:`split_extra` keeps apart so a rewrite keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bmdkit.batchfolder.layout import EXAMS_JSONL, RESULTS_JSONL
from bmdkit.export.jsonout import exam_from_dict, exam_to_dict
from bmdkit.model import Exam

#: Largest line accepted in a batch's JSON-lines files: one exam's JSON is a few kB, so a
#: longer line is damage or a hostile file. (Before one loader: 8 MiB in the trial
#: analyses, 4 MiB in ``bmdkit harmonize``, none elsewhere; the larger was kept.)
MAX_LINE_BYTES = 8 * 1024 * 1024

#: The contract's top-level keys; any other key of a results line is a batch extra.
CONTRACT_KEYS = frozenset({
    "source", "status", "outcome", "vendor", "scanner_model", "scanner_serial", "scanner_software",
    "institution", "exam_date", "study_instance_uid", "scan_types", "patient", "regions",
    "extra_regions", "flags", "software",
})


class LineTooLong(ValueError):
    """A line longer than :data:`MAX_LINE_BYTES`."""


class TooManyLines(ValueError):
    """The file has more lines than the caller allows (``max_lines``)."""


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line: its number, the decoded object, or why it could not be decoded."""

    lineno: int
    data: Any = None
    error: Exception | None = None


@dataclass(frozen=True)
class ExamLine:
    """One non-blank line read as a contract exam; ``error`` says why not when ``exam`` is None."""

    lineno: int
    data: dict[str, Any] | None = None
    exam: Exam | None = None
    error: Exception | None = None


def results_path(path: str | Path) -> Path:
    """``path/results.jsonl`` for a batch folder; a file path (a ``.jsonl`` given directly) as is."""
    p = Path(path)
    return p / RESULTS_JSONL if p.is_dir() else p


def iter_json_lines(path: str | Path, *, max_lines: int | None = None) -> Iterator[JsonLine]:
    """The non-blank lines of the JSON-lines file ``path``, each decoded or with its error.

    Raises :class:`TooManyLines` past line ``max_lines`` (blank lines count) and
    :class:`OSError` when the file cannot be opened; a line too long or not JSON
    is yielded with ``error`` set (:class:`LineTooLong`, :class:`ValueError`).
    """
    with Path(path).open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if max_lines is not None and lineno > max_lines:
                raise TooManyLines(f"more than {max_lines} lines")
            if not raw.strip():
                continue
            if len(raw) > MAX_LINE_BYTES:
                yield JsonLine(lineno, error=LineTooLong(f"line {lineno} longer than {MAX_LINE_BYTES} bytes"))
                continue
            try:
                yield JsonLine(lineno, json.loads(raw))
            except ValueError as exc:
                yield JsonLine(lineno, error=exc)


def iter_exam_lines(path: str | Path, *, max_lines: int | None = None) -> Iterator[ExamLine]:
    """:func:`iter_json_lines` with each object read as a contract exam (``exam_from_dict``).

    A line that is not a contract exam (``ValueError``, ``KeyError``,
    ``TypeError`` from the reader) is yielded with ``error`` set.
    """
    for line in iter_json_lines(path, max_lines=max_lines):
        if line.error is not None:
            yield ExamLine(line.lineno, error=line.error)
            continue
        try:
            exam = exam_from_dict(line.data)
        except (ValueError, KeyError, TypeError) as exc:
            yield ExamLine(line.lineno, error=exc)
            continue
        yield ExamLine(line.lineno, line.data, exam)


def read_exams_strict(path: str | Path) -> list[Exam]:
    """Every exam of the JSON-lines file ``path``; the first bad line's error is raised."""
    exams = []
    for line in iter_exam_lines(path):
        if line.error is not None:
            raise line.error
        assert line.exam is not None
        exams.append(line.exam)
    return exams


def load_exams(path: str | Path, on_bad_line: Callable[[int], None] | None = None) -> list[Exam]:
    """The exams of a batch folder (or of a results ``.jsonl`` file given directly).

    A folder's merged exams (``exams.jsonl``: one per visit and scan type,
    :func:`bmdkit.merged_file.load_merged`) are used when the batch wrote them;
    otherwise the per-file exams of ``results.jsonl``. The caller checks that
    the results exist (each command says so in its own words).

    Without ``on_bad_line`` (strict) the first unusable line raises. With it,
    each unusable line's number is passed to it and the line skipped, and an
    unreadable ``exams.jsonl`` falls back to the per-file results.
    """
    from bmdkit.merged_file import load_merged  # it imports this module's siblings at import time

    p = Path(path)
    if p.is_dir() and (p / EXAMS_JSONL).is_file():
        try:
            merged = load_merged(p)
        except (ValueError, KeyError, TypeError):
            if on_bad_line is None:
                raise
            merged = None  # unreadable merged exams: the per-file results below, bad lines counted
        if merged is not None:
            return merged
    if on_bad_line is None:
        return read_exams_strict(results_path(p))
    exams = []
    for line in iter_exam_lines(results_path(p)):
        if line.exam is None:
            on_bad_line(line.lineno)
        else:
            exams.append(line.exam)
    return exams


def split_extra(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of a results line that the contract does not know (kept as they are on rewrite)."""
    return {k: v for k, v in data.items() if k not in CONTRACT_KEYS}


def exam_line(exam: Exam, *, include_patient: bool = True, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A results line for ``exam``: its contract object plus the batch's ``extra`` fields."""
    d = exam_to_dict(exam, include_patient=include_patient)
    d.update(extra or {})
    return d
