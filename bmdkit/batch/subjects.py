"""Patients to trial subjects, and exam dates to visits.

The mapping is a CSV kept by the sites with the columns ``center``,
``hospital_patient_id`` and ``subject_id`` (optional: ``institution``, the
institution name as the scanner writes it, and ``baseline_date``,
``YYYY-MM-DD``). A patient ID is matched within its center: when the exam
names its institution, only rows whose ``center`` or ``institution`` equals
it (ignoring case and spaces) count; when it does not, the patient ID must
be unique across the mapping. Anything else is *unmapped* and reported,
never exported.

Visits come from a window table (``reference_data/visit_windows.csv`` by
default; the trial's own with ``--windows``): days from the subject's
baseline (``baseline_date`` from the mapping, else the subject's earliest
exam) to the exam must fall inside exactly one window; the nearest target
wins when windows overlap; an exam outside every window is reported.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bmdkit import reference
from bmdkit.errors import ConfigError
from bmdkit.model import Exam

MAPPING_COLUMNS = ("center", "hospital_patient_id", "subject_id")


@dataclass(frozen=True)
class MappingRow:
    center: str
    hospital_patient_id: str
    subject_id: str
    institution: str = ""
    baseline_date: dt.date | None = None


@dataclass(frozen=True)
class VisitWindow:
    visit: str
    event: str
    target_day: int
    before: int
    after: int

    def contains(self, day: int) -> bool:
        return self.target_day - self.before <= day <= self.target_day + self.after


def _norm(text: str | None) -> str:
    return "".join((text or "").split()).casefold()


class SubjectMap:
    """Hospital patient IDs (per center) to trial subject IDs."""

    def __init__(self, rows: list[MappingRow]) -> None:
        self.rows = rows
        self._by_pid: dict[str, list[MappingRow]] = {}
        for r in rows:
            self._by_pid.setdefault(r.hospital_patient_id.strip(), []).append(r)

    @classmethod
    def load(cls, path: str | Path) -> SubjectMap:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"mapping cannot be read ({exc.strerror})", str(p)) from None
        reader = csv.DictReader(text.splitlines())
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in MAPPING_COLUMNS if c not in header]
        if missing:
            raise ConfigError(f"mapping lacks column(s) {', '.join(missing)}", str(p))
        rows: list[MappingRow] = []
        seen: dict[tuple[str, str], str] = {}
        for n, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            if not row.get("hospital_patient_id") or not row.get("subject_id"):
                raise ConfigError(f"mapping row {n} lacks a patient or subject ID", str(p))
            key = (_norm(row["center"]), row["hospital_patient_id"])
            if key in seen and seen[key] != row["subject_id"]:
                raise ConfigError(f"mapping row {n} maps a patient already mapped to another subject", str(p))
            seen[key] = row["subject_id"]
            bd = row.get("baseline_date") or ""
            try:
                baseline = dt.date.fromisoformat(bd) if bd else None
            except ValueError:
                raise ConfigError(f"mapping row {n}: baseline_date is not YYYY-MM-DD", str(p)) from None
            rows.append(MappingRow(row["center"], row["hospital_patient_id"], row["subject_id"],
                                   row.get("institution", ""), baseline))
        return cls(rows)

    def lookup(self, exam: Exam) -> tuple[MappingRow | None, str]:
        """The mapping row for an exam's patient, or None and the reason (no identifiers in it)."""
        pid = exam.patient.patient_id.strip() if exam.patient and exam.patient.patient_id else ""
        if not pid:
            return None, "no hospital patient ID in the file"
        cands = self._by_pid.get(pid, [])
        if not cands:
            return None, "patient ID not in the mapping"
        inst = _norm(exam.institution)
        if inst:
            match = [r for r in cands if inst in (_norm(r.center), _norm(r.institution))]
            if len(match) == 1:
                return match[0], ""
            if len(cands) == 1 and not cands[0].institution:
                return cands[0], ""
            return None, ("patient ID mapped at another center only" if not match
                          else "patient ID mapped more than once at this center")
        if len(cands) == 1:
            return cands[0], ""
        return None, "patient ID found at several centers and the file names no institution"


def load_windows(path: str | Path | None = None) -> list[VisitWindow]:
    """Visit windows from ``path`` (same columns as the reference table) or the default table."""
    if path is None:
        rows = reference.table("visit_windows")
    else:
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(fh)]
        except OSError as exc:
            raise ConfigError(f"visit windows cannot be read ({exc.strerror})", str(path)) from None
    try:
        return [VisitWindow(r["visit"], r["event"], int(r["target_day"]),
                            int(r["window_before_days"]), int(r["window_after_days"])) for r in rows]
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"visit windows table is malformed ({exc})", str(path or "visit_windows")) from None


def assign_visit(exam_date: dt.date | None, baseline: dt.date | None,
                 windows: list[VisitWindow]) -> tuple[VisitWindow | None, str]:
    """The visit an exam date falls in, or None and why."""
    if exam_date is None:
        return None, "no exam date"
    if baseline is None:
        return None, "no baseline date"
    day = (exam_date - baseline).days
    hits = [w for w in windows if w.contains(day)]
    if not hits:
        return None, f"day {day} from baseline is outside every visit window"
    return min(hits, key=lambda w: (abs(day - w.target_day), w.target_day)), ""
