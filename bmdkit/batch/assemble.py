"""From a batch's results to de-identified subject visits, plus what could not be placed.

Reads ``results.jsonl``, groups the files of one study, maps each group to
a trial subject and a visit, and hands the exports
:class:`~bmdkit.privacy.SubjectExam` objects only. Every file that
is not exported is listed in the report with the reason (failed, unmapped,
outside every visit window, two subjects in one study), by path and
SHA-256, never by patient name or hospital ID.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit import __version__
from bmdkit.batch.subjects import (
    PLACEMENT_FILE,
    MappingRow,
    SubjectMap,
    VisitWindow,
    assign_visit,
    keep_mapping,
    kept_mapping,
    read_placement,
)
from bmdkit.batchfolder import RESULTS_JSONL, atomic_write
from bmdkit.batchfolder import load_exams as load_folder_exams
from bmdkit.batchfolder.cells import SafeDictWriter
from bmdkit.errors import ConfigError
from bmdkit.flags import FlagCode
from bmdkit.merge import group_exams, sources_of
from bmdkit.model import Exam, Outcome, Status
from bmdkit.privacy import SubjectExam, deidentify, register_exam_identifiers

REPORT_COLUMNS = ("path", "sha256", "status", "exam_date", "subject_id", "visit", "problem", "center")


@dataclass
class Assembly:
    subjects: list[SubjectExam] = field(default_factory=list)
    report: list[dict[str, str]] = field(default_factory=list)


def load_exams(out_dir: str | Path) -> Iterator[Exam]:
    """Exams of a batch output folder (:func:`bmdkit.batchfolder.load_exams`, strict), each with its
    patient identifiers registered for redaction before an export sees it."""
    path = Path(out_dir) / RESULTS_JSONL
    if not path.is_file():
        raise ConfigError("no results.jsonl here: run 'bmdkit batch' first", str(out_dir))
    for exam in load_folder_exams(out_dir):
        register_exam_identifiers(exam)
        yield exam


def assemble(exams: list[Exam], mapping: SubjectMap, windows: list[VisitWindow]) -> Assembly:
    out = Assembly()
    placed: dict[str, list[tuple[list[Exam], MappingRow]]] = {}

    def report(group: list[Exam], problem: str, code: FlagCode | None, subject: str = "", visit: str = "",
               center: str = "") -> None:
        for e in group:
            for src in sources_of(e):  # every file behind a merged exam
                out.report.append({
                    "path": src.path, "sha256": src.sha256, "status": e.status.value,
                    "exam_date": e.exam_date.isoformat() if e.exam_date else "",
                    "subject_id": subject, "visit": visit,
                    "problem": f"{code.value}: {problem}" if code else problem, "center": center,
                })

    for group in group_exams(exams):
        usable = [e for e in group if e.status is not Status.FAILED]
        failed = [e for e in group if e.status is Status.FAILED and e.outcome is not Outcome.SKIPPED]
        skipped = [e for e in group if e.outcome is Outcome.SKIPPED]
        if failed:
            report(failed, "file failed; see failures.csv", None)
        if skipped:
            report(skipped, "not a scan or report; see skipped.csv", None)
        if not usable:
            continue
        rows, reasons = {}, []
        for e in usable:
            row, why = mapping.lookup(e)
            if row is None:
                reasons.append(why)
            else:
                rows[row.subject_id] = row
        if len(rows) > 1:
            report(usable, "files of one study map to different subjects", FlagCode.UNMAPPED_PATIENT)
            continue
        if not rows:
            report(usable, reasons[0] if reasons else "not in the mapping", FlagCode.UNMAPPED_PATIENT)
            continue
        row = next(iter(rows.values()))
        placed.setdefault(row.subject_id, []).append((usable, row))

    for subject_id in sorted(placed):
        entries = placed[subject_id]
        dates = [e.exam_date for g, _ in entries for e in g if e.exam_date]
        baseline = entries[0][1].baseline_date or (min(dates) if dates else None)
        visits: dict[str, tuple[VisitWindow, list[Exam], MappingRow]] = {}
        for group, row in entries:
            gdates = [e.exam_date for e in group if e.exam_date]
            window, why = assign_visit(min(gdates) if gdates else None, baseline, windows)
            if window is None:
                code = FlagCode.NO_EXAM_DATE if not gdates else FlagCode.OUTSIDE_VISIT_WINDOW
                report(group, why, code, subject_id, center=row.center)
                continue
            prev = visits.get(window.visit)
            visits[window.visit] = (window, (prev[1] if prev else []) + group, row)
        for name in sorted(visits, key=lambda v: visits[v][0].target_day):
            window, group, row = visits[name]
            report(group, "", None, subject_id, window.visit, row.center)
            out.subjects.append(deidentify(
                group, subject_id=subject_id, center=row.center, visit=window.visit,
                event=window.event, display_paths={s.sha256: s.path for e in group for s in sources_of(e)},
                software=f"bmdkit {__version__}",
            ))
    return out


def write_report(rows: list[dict[str, str]], path: str | Path) -> None:
    """The placement report as CSV (text cells spreadsheet-safe), written atomically."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        w = SafeDictWriter(fh, fieldnames=list(REPORT_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: (r["path"], r["sha256"])))


def place_subjects(out_dir: str | Path, exams: list[Exam] | None = None) -> dict[str, dict[str, Any]] | None:
    """Place the batch's files under subjects and visits again with the mapping it kept; rewrite subjects.csv.

    ``exams`` default to results.jsonl's. Returns the new ``subject`` objects by SHA-256 (see
    :func:`~bmdkit.batch.subjects.read_placement`), or None when the batch kept no mapping.
    Called after a batch run with ``--mapping`` and after reviewer decisions that change an
    exam date, so that visits follow the decided date.
    """
    out = Path(out_dir)
    kept = kept_mapping(out)
    if kept is None:
        return None
    result = assemble(list(exams) if exams is not None else list(load_exams(out)), *kept)
    write_report(result.report, out / PLACEMENT_FILE)
    return read_placement(out)


def place_after_batch(out_dir: str | Path, mapping: Path, windows: Path | None) -> None:
    """After ``bmdkit batch --mapping``: keep the mapping, write subjects.csv, and put each file's
    ``subject`` into results.jsonl (the outputs are regenerated under the batch lock)."""
    from bmdkit.batch.ledger import Ledger

    out = Path(out_dir)
    keep_mapping(out, mapping, windows)
    place_subjects(out)
    with Ledger(out, wait=True) as led:
        led.write_outputs()
