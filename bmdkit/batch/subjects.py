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
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bmdkit import reference
from bmdkit.batchfolder.cells import SafeDictWriter, unescape_cell
from bmdkit.batchfolder.files import open_private
from bmdkit.errors import ConfigError
from bmdkit.model import Exam

MAPPING_COLUMNS = ("center", "hospital_patient_id", "subject_id")
#: The placement report a batch writes beside its outputs (one row per file).
PLACEMENT_FILE = "subjects.csv"
#: Copies of the mapping (hospital IDs hashed) and visit windows a batch was given, kept in its output
#: folder (owner-only) so that later commands (apply-decisions after a date decision, review) place
#: files the same way.
MAPPING_COPY = "mapping.csv"
WINDOWS_COPY = "windows.csv"
_HASHED = "sha256:"


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
        #: a kept mapping (:func:`keep_mapping`) holds hashed IDs: exams' IDs are hashed to match
        self.hashed = bool(rows) and all(r.hospital_patient_id.startswith(_HASHED) for r in rows)
        self._by_pid: dict[str, list[MappingRow]] = {}
        for r in rows:
            self._by_pid.setdefault(r.hospital_patient_id.strip(), []).append(r)

    @classmethod
    def load(cls, path: str | Path, *, kept: bool = False) -> SubjectMap:
        """The mapping CSV at ``path``; ``kept``: the copy a batch keeps (:func:`keep_mapping`), whose
        cells were written spreadsheet-safe and are read back with :func:`unescape_cell`."""
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
            if kept:
                row = {k: unescape_cell(v) or "" for k, v in row.items()}
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
        if self.hashed:
            pid = hashed_id(pid)
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


    def institutions(self) -> dict[str, str]:
        """Institution names (as scanners write them, normalized) to center codes, where one name means one center."""
        seen: dict[str, set[str]] = {}
        for r in self.rows:
            for name in (r.institution, r.center):
                if _norm(name):
                    seen.setdefault(_norm(name), set()).add(r.center)
        return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}

    def center_of(self, institution: str | None) -> str | None:
        """The center code for an institution name, or None when the mapping does not say."""
        return self.institutions().get(_norm(institution)) if _norm(institution) else None


def hashed_id(patient_id: str) -> str:
    """How the kept mapping stores a hospital patient ID: its SHA-256, never the ID itself."""
    return _HASHED + hashlib.sha256(f"bmdkit-mapping:{patient_id.strip()}".encode("utf-8")).hexdigest()


def keep_mapping(out: Path, mapping: Path, windows: Path | None) -> None:
    """Keep the mapping (hospital IDs hashed, :func:`hashed_id`) and the visit windows in the output folder,
    owner-only, so later commands place files as this batch did without a second copy of the IDs."""
    rows = SubjectMap.load(mapping).rows
    with open_private(out / MAPPING_COPY, "w", encoding="utf-8", newline="") as fh:
        w = SafeDictWriter(fh, fieldnames=[*MAPPING_COLUMNS, "institution", "baseline_date"], lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({"center": r.center, "hospital_patient_id": hashed_id(r.hospital_patient_id),
                        "subject_id": r.subject_id, "institution": r.institution,
                        "baseline_date": r.baseline_date.isoformat() if r.baseline_date else ""})
    if windows is not None:
        try:
            data = Path(windows).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot be read ({exc.strerror})", str(windows)) from None
        with open_private(out / WINDOWS_COPY, "wb") as fh:
            fh.write(data)


def kept_mapping(out: Path) -> tuple[SubjectMap, list[VisitWindow]] | None:
    """The mapping and windows a batch kept in ``out`` (:func:`keep_mapping`), or None without them."""
    if not (out / MAPPING_COPY).is_file():
        return None
    windows = out / WINDOWS_COPY
    return SubjectMap.load(out / MAPPING_COPY, kept=True), load_windows(windows if windows.is_file() else None)


def read_placement(out: Path) -> dict[str, dict[str, Any]]:
    """``subject`` objects (``subject_id``, ``center``, ``visit``) by file SHA-256 from ``out/subjects.csv``.

    Only files placed under a subject are listed; ``visit`` is None for one that fits no visit
    window (or has no date). Empty when the batch ran without a mapping.
    """
    path = Path(out) / PLACEMENT_FILE
    if not path.is_file():
        return {}
    found: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            sid = (row.get("subject_id") or "").strip()
            if sid:
                found[row.get("sha256") or ""] = {
                    "subject_id": unescape_cell(sid) or sid, "center": unescape_cell((row.get("center") or "").strip()) or "",
                    "visit": unescape_cell((row.get("visit") or "").strip()) or None}
    return found


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
