"""The exam as a long table: one row per region, side and measure.

Used by ``bmdkit check --format csv`` and a batch's ``results.csv``. No
patient identifiers: rows carry the file's path and SHA-256 only, and text
holding the patient's name (a report row labelled with it, a model field
typed wrongly) is masked by the exam's :class:`~bmdkit.privacy.Redactor`. Writers pass the
rows through :mod:`bmdkit.batchfolder.cells` (spreadsheet-safe text).
"""

from __future__ import annotations

from typing import Any

from bmdkit.model import MEASURES, Exam
from bmdkit.privacy import redact_exam

COLUMNS: tuple[str, ...] = (
    "path", "sha256", "kind", "status", "vendor", "scanner_model", "exam_date",
    "study_instance_uid", "region", "side", "label", "vertebrae", "measure", "value",
    "method", "confidence", "evaluable", "reference", "flag_codes",
)


def exam_rows(exam: Exam) -> list[dict[str, Any]]:
    """Rows for every measured value; a file without values gives one row with its status.

    The exam's own identifiers are masked in its free text (:func:`redact_exam`).
    """
    exam = redact_exam(exam)
    base = {
        "path": exam.source.path,
        "sha256": exam.source.sha256,
        "kind": exam.source.kind.value,
        "status": exam.status.value,
        "vendor": exam.vendor.value,
        "scanner_model": exam.scanner_model or "",
        "exam_date": exam.exam_date.isoformat() if exam.exam_date else "",
        "study_instance_uid": exam.study_instance_uid or "",
    }
    file_flags = [f.code.value for f in exam.flags if f.region is None]
    rows: list[dict[str, Any]] = []
    for r in exam.regions:
        for m in MEASURES:
            value = r.value(m)
            if value is None:
                continue
            # a flag naming a side or a measure marks only that side's or measure's rows
            region_flags = file_flags + [f.code.value for f in exam.flags if f.covers(r.region.value, r.side, m)]
            src = r.sources.get(m)
            conf = src.confidence if src and src.confidence is not None else r.confidence
            rows.append({
                **base,
                "region": r.region.value,
                "side": r.side.value if r.side else "",
                "label": r.label or "",
                "vertebrae": "+".join(v.value for v in r.vertebrae) if r.vertebrae else "",
                "measure": m,
                "value": value,
                "method": r.method.value,
                "confidence": "" if conf is None else conf,
                "evaluable": "" if r.evaluable is None else str(r.evaluable).lower(),
                "reference": r.reference or "",
                "flag_codes": ";".join(dict.fromkeys(region_flags)),
            })
    if not rows:
        rows.append({**base, **{c: "" for c in COLUMNS if c not in base},
                     "flag_codes": ";".join(dict.fromkeys(file_flags))})
    return rows
