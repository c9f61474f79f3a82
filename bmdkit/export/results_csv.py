"""The exam as a long table: one row per region, side and measure.

Used by ``bmdkit check --format csv`` and a batch's ``results.csv``. No
patient identifiers: rows carry the file's path and SHA-256 only, and text
holding the patient's name (a report row labelled with it, a model field
typed wrongly) is masked by the exam's :class:`~bmdkit.privacy.Redactor`. Writers pass the
rows through :mod:`bmdkit.batchfolder.cells` (spreadsheet-safe text):
:func:`exam_rows` gives dict rows for a :class:`~bmdkit.batchfolder.cells.SafeDictWriter`,
:func:`safe_exam_cells` the same rows as lists with every cell already made safe, for a
batch's ``results.csv``, where building and checking a dict per row cost more than the
row's values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bmdkit.batchfolder.cells import safe_cell
from bmdkit.model import MEASURES, Exam
from bmdkit.privacy import redact_exam

COLUMNS: tuple[str, ...] = (
    "path", "sha256", "kind", "status", "vendor", "scanner_model", "exam_date",
    "study_instance_uid", "region", "side", "label", "vertebrae", "measure", "value",
    "method", "confidence", "evaluable", "reference", "flag_codes",
)
#: the cells of the row of a file without values after the exam's own ones and before flag_codes
_EMPTY_MIDDLE = ("",) * (len(COLUMNS) - 9)


def _same(value: Any) -> Any:
    return value


def _table(exam: Exam, cell: Callable[[Any], Any]) -> list[list[Any]]:
    """The rows of :func:`exam_rows` as lists in :data:`COLUMNS` order, each cell passed through ``cell``.

    A cell shared by rows (the exam's, a region's) is passed through ``cell`` once; ``cell`` must
    depend on the value only (it is :func:`safe_cell` or the identity).
    """
    exam = redact_exam(exam)
    src0 = exam.source
    base = [cell(v) for v in (
        src0.path, src0.sha256, src0.kind.value, exam.status.value, exam.vendor.value,
        exam.scanner_model or "", exam.exam_date.isoformat() if exam.exam_date else "",
        exam.study_instance_uid or "",
    )]
    file_flags = [f.code.value for f in exam.flags if f.region is None]
    rows: list[list[Any]] = []
    for r in exam.regions:
        head: list[Any] | None = None  # set with method and tail at the region's first value
        method: Any = None
        tail: tuple[Any, Any] = ("", "")
        for m in MEASURES:
            value = r.value(m)
            if value is None:
                continue
            if head is None:  # the region's own cells, once
                head = [*base, cell(r.region.value), cell(r.side.value if r.side else ""), cell(r.label or ""),
                        cell("+".join(v.value for v in r.vertebrae) if r.vertebrae else "")]
                tail = (cell("" if r.evaluable is None else str(r.evaluable).lower()), cell(r.reference or ""))
                method = cell(r.method.value)
            # a flag naming a side or a measure marks only that side's or measure's rows
            region_flags = file_flags + [f.code.value for f in exam.flags if f.covers(r.region.value, r.side, m)]
            src = r.sources.get(m)
            conf = src.confidence if src and src.confidence is not None else r.confidence
            rows.append([*head, cell(m), cell(value), method, cell("" if conf is None else conf), *tail,
                         cell(";".join(dict.fromkeys(region_flags)))])
    if not rows:
        rows.append([*base, *(cell(v) for v in _EMPTY_MIDDLE), cell(";".join(dict.fromkeys(file_flags)))])
    return rows


def exam_rows(exam: Exam) -> list[dict[str, Any]]:
    """Rows for every measured value; a file without values gives one row with its status.

    The exam's own identifiers are masked in its free text (:func:`redact_exam`).
    """
    return [dict(zip(COLUMNS, row, strict=True)) for row in _table(exam, _same)]


def safe_exam_cells(exam: Exam) -> list[list[Any]]:
    """The rows of :func:`exam_rows` as lists in :data:`COLUMNS` order, every cell through
    :func:`~bmdkit.batchfolder.cells.safe_cell` (what a :class:`SafeDictWriter` writes for them)."""
    return _table(exam, safe_cell)
