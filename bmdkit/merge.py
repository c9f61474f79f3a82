"""Combine readings of one exam: DICOM values with the report read from the same file, or a study's files.

- :func:`merge_readings`: a DICOM file's exact values (script table, SR, XML)
  and the values OCR read from its own report page. The DICOM values stay;
  every report value that differs beyond print rounding becomes a
  ``sources_disagree`` flag on that region; report regions the DICOM lacks
  are added (they keep method ``ocr``); the report's flags are kept, except
  those about reading quality (low confidence, engine disagreement, missing
  value, page quality) for regions the DICOM holds exactly.
- :func:`merge_study`: one patient's files of one study (spine, hip, SR,
  report page) into one exam, recording in each value's location which file
  it came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bmdkit.dicom.compare import disagreement_flags
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Location, RegionResult, ScanType, Status

#: flags about how well a page was read; moot for values the DICOM file holds exactly
_READING_FLAGS = frozenset({FlagCode.LOW_CONFIDENCE, FlagCode.ENGINE_DISAGREEMENT,
                            FlagCode.MISSING_VALUE, FlagCode.PAGE_QUALITY})


def merge_readings(dicom_exam: Exam, report_exam: Exam) -> Exam:
    """The DICOM exam, cross-checked against (and completed by) the report read from its pages."""
    kept = {r.key: r for r in dicom_exam.regions}
    regions = list(dicom_exam.regions)
    flags = list(dicom_exam.flags)
    for rep in report_exam.regions:
        if rep.key in kept:
            flags.extend(disagreement_flags(kept[rep.key], rep, "DICOM values and the report page"))
        else:
            regions.append(rep)
            kept[rep.key] = rep
    known = {(f.code, f.message) for f in flags}
    exact = {r.region.value for r in dicom_exam.regions}
    for f in report_exam.flags:
        if (f.code, f.message) in known or f.code is FlagCode.NO_RESULTS:
            continue
        if f.code in _READING_FLAGS and exact and (f.region is None or f.region.split("/")[0] in exact):
            continue  # how well OCR read a value the DICOM holds exactly does not matter
        flags.append(f)
    reader = "+".join(x for x in (dicom_exam.reader, report_exam.reader) if x) or None
    return dicom_exam.replace(regions=tuple(regions), flags=tuple(flags), reader=reader,
                              exam_date=dicom_exam.exam_date or report_exam.exam_date,
                              scanner_model=dicom_exam.scanner_model or report_exam.scanner_model)


def study_key(exam: Exam) -> tuple[str, ...]:
    """StudyInstanceUID, else (patient ID, exam date): which files belong to one study."""
    if exam.study_instance_uid:
        return ("uid", exam.study_instance_uid)
    pid = exam.patient.patient_id if exam.patient else None
    return ("patient-date", pid or "?", exam.exam_date.isoformat() if exam.exam_date else "?")


def group_studies(exams: Iterable[Exam]) -> dict[tuple[str, ...], list[Exam]]:
    """Exams grouped by :func:`study_key`; failed exams are left out."""
    out: dict[tuple[str, ...], list[Exam]] = defaultdict(list)
    for e in exams:
        if e.status is not Status.FAILED:
            out[study_key(e)].append(e)
    return dict(out)


def merge_study(exams: list[Exam]) -> Exam:
    """One exam from one study's files; first file's metadata, each value tagged with its file.

    A region found in two files is taken from the first (DICOM files before
    OCR, in the order given) and the others are compared with it.
    """
    if not exams:
        raise ValueError("no exams to merge")
    ordered = sorted(exams, key=lambda e: min((r.method.value == "ocr" for r in e.regions), default=True))
    base = ordered[0]
    kept: dict[object, RegionResult] = {}
    flags: list[Flag] = []
    scan_types: list[ScanType] = []
    for e in ordered:
        flags.extend(e.flags)
        scan_types.extend(s for s in e.scan_types if s not in scan_types)
        for r in e.regions:
            tagged = _tag(r, e.source.path)
            if r.key in kept:
                first = kept[r.key].location
                flags.extend(disagreement_flags(kept[r.key], r, f"{first.detail if first else '?'} "
                                                                f"and file {e.source.path}"))
            else:
                kept[r.key] = tagged
    return base.replace(regions=tuple(kept.values()), flags=tuple(flags),
                        scan_types=tuple(scan_types))


def _tag(r: RegionResult, path: str) -> RegionResult:
    loc = r.location or Location()
    detail = f"file {path}" + (f"; {loc.detail}" if loc.detail else "")
    return r.replace(location=Location(element=loc.element, page=loc.page, box=loc.box, detail=detail))
