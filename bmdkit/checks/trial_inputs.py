"""Inputs of the trial-level functions: batch results, the subject mapping, fracture history, precision.

Formats (CSV with a header row, UTF-8; column names are case-insensitive):

- **results**: a batch output folder holding ``results.jsonl``, or a JSONL
  file; one contract JSON object per line (``exam_from_dict``). A folder's
  merged exams (``exams.jsonl``, one per visit and scan type) are used when
  present.
- **subjects**: either ``sha256`` (or ``path``), ``subject_id``, ``visit`` —
  one row per input file, as in the ``subjects.csv`` placement report that
  ``bmdkit batch`` writes beside ``results.jsonl`` (used by default; rows
  without a subject are skipped) — or ``patient_id``, ``subject_id`` with optional
  ``visit``, ``center`` and ``institution`` — one row per hospital patient
  ID (the exam's ``patient.id``; ``hospital_patient_id`` is accepted too, as
  in :mod:`bmdkit.batch.subjects`). A patient ID mapped to two subjects is
  resolved by the exam's ``institution`` matching ``center`` or
  ``institution`` (case and spaces ignored), else left unmapped.
  Without a ``visit`` column, each distinct exam date is a visit named by
  its date and the earliest is the baseline.
- **fractures**: ``subject_id`` (or ``record_id``),
  ``hip_or_vertebral_fracture``, ``other_fragility_fracture``; values yes/no
  (also y/n, 1/0, true/false, 是/否, 有/无). Blank or anything else is
  *unknown*, and a subject without a row has unknown history.
- **precision** (site precision for the LSC): ``region`` (``L1-L4``,
  ``femoral_neck``, ``total_hip``) and ``precision_pct`` (RMS %CV) or
  ``precision_g_cm2`` (RMS-SD).

Hospital patient IDs are used only to join; they are never returned,
printed or logged.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bmdkit.batchfolder import SUBJECTS_CSV, load_exams, results_path
from bmdkit.batchfolder.cells import unescape_cell
from bmdkit.errors import BmdkitError
from bmdkit.model import Exam
from bmdkit.vocabulary import key_of

#: yes/no answers (kind ``answer``) and baseline visit labels (kind ``visit_baseline``) are words of
#: reference_data/vocabulary.csv
_ANSWERS = {"yes": True, "no": False}


@dataclass
class LoadReport:
    """What could not be used while loading, without identifiers."""

    bad_lines: list[int] = field(default_factory=list)
    unmapped: int = 0
    ambiguous: int = 0


def _read_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows with lower-case keys and stripped cells; a cell bmdkit wrote spreadsheet-safe
    (``subjects.csv``: a leading ``'``, :mod:`bmdkit.batchfolder.cells`) is read back as it was."""
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return [{(k or "").strip().lower(): unescape_cell((v or "").strip()) or "" for k, v in row.items() if k}
                for row in reader]


def _norm(text: str | None) -> str:
    return "".join((text or "").split()).casefold()


#: kept name: the results file of a folder or a file path (:func:`bmdkit.batchfolder.results_path`)
results_file = results_path


def subjects_file(results: str | Path, subjects_csv: str | Path | None) -> Path:
    """The subject mapping: ``subjects_csv``, else the ``subjects.csv`` placement report
    ``bmdkit batch`` writes beside ``results.jsonl`` (columns sha256, subject_id, visit)."""
    if subjects_csv is not None:
        return Path(subjects_csv)
    beside = results_file(results).parent / SUBJECTS_CSV
    if beside.is_file():
        return beside
    raise BmdkitError("no subject mapping: pass --subjects, or run 'bmdkit batch' with a mapping", str(beside))


def load_trial_exams(path: str | Path, report: LoadReport | None = None) -> list[Exam]:
    """Exams from a batch folder or a JSONL file; unusable lines are counted in ``report``, not raised.

    A batch folder's merged exams (``exams.jsonl``: one per visit and scan type, :mod:`bmdkit.merge`)
    are read when the batch wrote them; otherwise its ``results.jsonl``, one exam per file
    (:func:`bmdkit.batchfolder.load_exams`).
    """
    f = results_file(path)
    if not f.is_file():
        raise BmdkitError("no results.jsonl found", str(f))
    return load_exams(path, on_bad_line=report.bad_lines.append if report is not None else lambda _n: None)


def parse_yes_no(value: str | None) -> bool | None:
    """True/False for a yes/no word (yes, y, 1, true, 是, 有 / no, n, 0, false, 否, 无), None for anything else."""
    return _ANSWERS.get(key_of("answer", value) or "")


@dataclass(frozen=True)
class FractureHistory:
    """Fragility fracture history of one subject; ``None`` = unknown."""

    hip_or_vertebral: bool | None = None
    other: bool | None = None


def load_fractures(path: str | Path) -> dict[str, FractureHistory]:
    out: dict[str, FractureHistory] = {}
    for row in _read_csv(path):
        sid = row.get("subject_id") or row.get("record_id") or row.get("subject")
        if not sid:
            continue
        out[sid] = FractureHistory(parse_yes_no(row.get("hip_or_vertebral_fracture")),
                                   parse_yes_no(row.get("other_fragility_fracture")))
    return out


def visit_months(label: str) -> int | None:
    """Nominal months of a visit label: baseline 0, ``6m``/``month_6``/``M6``/``6`` -> 6; else ``None``."""
    v = label.strip().lower()
    if key_of("visit_baseline", v) is not None:
        return 0
    m = re.fullmatch(r"(?:m|month|months|mo|visit_m)?[ _-]?(\d{1,2})[ _-]?(?:m|mo|month|months|个月|月)?", v)
    return int(m.group(1)) if m else None


Visits = dict[str, list[Exam]]


def group_by_subject(exams: Iterable[Exam], subjects_csv: str | Path,
                     report: LoadReport | None = None) -> dict[str, Visits]:
    """``{subject_id: {visit: [exams]}}`` from the mapping (see module docstring)."""
    rows = _read_csv(subjects_csv)
    cols = set(rows[0]) if rows else set()
    out: dict[str, Visits] = defaultdict(lambda: defaultdict(list))
    by_file: dict[str, tuple[str, str]] = {}
    by_patient: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in rows:
        sid = r.get("subject_id", "")
        if not sid:
            continue
        if "sha256" in cols or "path" in cols:
            key = r.get("sha256") or r.get("path") or ""
            by_file[key.lower() if len(key) == 64 else key] = (sid, r.get("visit", ""))
        pid = r.get("patient_id") or r.get("hospital_patient_id")
        if pid:
            centers = "|".join(_norm(c) for c in (r.get("center"), r.get("institution")) if c)
            by_patient[pid].append((sid, r.get("visit", ""), centers))
    for e in exams:
        hit = by_file.get(e.source.sha256) or by_file.get(e.source.path)
        if hit is None and e.patient is not None and e.patient.patient_id in by_patient:
            cands = by_patient[e.patient.patient_id]
            if len({c[0] for c in cands}) > 1:
                inst = _norm(e.institution)
                cands = [c for c in cands if inst and inst in c[2].split("|")]
            if len({c[0] for c in cands}) == 1:
                visits = {c[1] for c in cands}
                hit = (cands[0][0], visits.pop() if len(visits) == 1 else "")  # several visits: by date
            elif report is not None:
                report.ambiguous += 1
                continue
        if hit is None:
            if report is not None:
                report.unmapped += 1
            continue
        sid, visit = hit
        if not visit:
            visit = e.exam_date.isoformat() if e.exam_date else "undated"
        out[sid][visit].append(e)
    return {k: dict(v) for k, v in out.items()}


def ordered_visits(visits: Visits) -> list[str]:
    """Visit labels in time order: nominal months where known (baseline first), then earliest exam date."""
    def key(label: str) -> tuple[float, dt.date, str]:
        months = visit_months(label)
        first = min([e.exam_date for e in visits[label] if e.exam_date] or [dt.date.max])
        return (float(months) if months is not None else float("inf"), first, label)
    return sorted(visits, key=key)


def baseline_exams(visits: Visits) -> tuple[str, list[Exam]]:
    """The baseline visit's label and exams (the first in :func:`ordered_visits`)."""
    order = ordered_visits(visits)
    return (order[0], visits[order[0]]) if order else ("", [])


@dataclass(frozen=True)
class Precision:
    """Per-site precision and where it came from."""

    values: dict[str, tuple[str, float]]  # region -> ("pct" | "g/cm2", precision)
    source: str


def load_precision(path: str | Path | None = None) -> Precision:
    """Site precision from ``path``; without one, the ISCD minima of ``precision_minima.csv``."""
    if path is None:
        from bmdkit import reference
        vals = {r["region"]: ("pct", float(r["precision_pct"])) for r in reference.table("precision_minima")}
        return Precision(vals, "ISCD minimum precision (reference_data/precision_minima.csv)")
    vals = {}
    for r in _read_csv(path):
        region = r.get("region", "")
        if r.get("precision_g_cm2"):
            vals[region] = ("g/cm2", float(r["precision_g_cm2"]))
        elif r.get("precision_pct"):
            vals[region] = ("pct", float(r["precision_pct"]))
    return Precision(vals, f"site precision ({Path(path).name})")
