"""Reviewer decisions: the CSV the review page downloads, and applying it to exams.

A reviewer looks at a flagged value beside the crop it was read from and
either *accepts* it or *corrects* it (new value and a reason). The same holds
for the file as a whole (:mod:`bmdkit.decisions.exam_fields`): the exam date
(confirm a reading or enter the date), the scan type and side, and the page
accepted as read. Decisions travel as a CSV with the columns
:data:`DECISION_COLUMNS` (an exam-level decision has an empty ``region`` and
names its field in ``measure``); a batch output folder keeps every decision
ever applied in ``audit.csv`` (append-only, :data:`AUDIT_COLUMNS`), so that a
batch that regenerates ``results.jsonl`` can re-apply them with
:func:`load_audit` and :func:`apply_decisions` and a corrected value
survives re-runs with its history.

:func:`apply_decisions` is pure: it returns new exams and the audit rows and
touches no file. It removes nothing from an exam: a corrected value replaces
the old one in its region and a ``corrected`` flag records the value before
and after, the reason, the reviewer and the time; an accepted one changes
nothing and gets an ``accepted`` flag (accepted and corrected are different
records). The review flags the decisions settle are then lowered to ``info``
(:func:`bmdkit.decisions.settle.settle`), so the exam leaves review once every
doubt is decided. Each decision has a stable id (``d-`` and 12 hex digits of
its SHA-256) written into its flag, so applying the same decision twice is a
no-op (resume after a crash, re-running the batch on exams that already
carry it).

Example
-------
>>> import datetime as dt
>>> d = Decision(sha256="a" * 64, region=Region.FEMORAL_NECK, side=Side.LEFT, measure="bmd",
...              action="correct", old_value=0.812, new_value=0.821, reason="misread 2 as 1",
...              reviewer="dr x", decided_at="2026-11-25T10:00:00+00:00")
>>> d.decision_id.startswith("d-")
True
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bmdkit.batchfolder.cells import SafeDictWriter, unescape_cell
from bmdkit.batchfolder.layout import AUDIT_CSV
from bmdkit.decisions import exam_fields
from bmdkit.decisions.settle import DECISION_CODES, decided_values, settle
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import EXAM_FIELDS, MEASURES, Exam, Flag, Method, Region, RegionResult, Side, ValueSource

__all__ = [
    "ACTIONS", "AUDIT_COLUMNS", "AUDIT_FILE", "DECISION_COLUMNS", "AuditRow", "Decision", "DecisionError",
    "apply_decisions", "audit_csv_text", "decided_values", "load_audit", "parse_decisions", "read_decisions",
]

DECISION_COLUMNS: tuple[str, ...] = (
    "sha256", "region", "side", "measure", "action", "old_value", "new_value",
    "reason", "reviewer", "decided_at",
)
#: ``audit.csv``: the decision, who applied it and when, and its stable id.
AUDIT_COLUMNS: tuple[str, ...] = (*DECISION_COLUMNS, "method", "applied_by", "recorded_at", "decision_id")
ACTIONS: tuple[str, ...] = ("accept", "correct")
AUDIT_FILE = AUDIT_CSV
#: Two values read from CSV text are the same number when this close (relative).
_SAME_VALUE_RTOL = 1e-9
#: A value a decision carries: a number for a measure, text for an exam field (date, scan types).
DecisionValue = float | str | None


class DecisionError(ValueError):
    """Decisions that cannot be applied; ``problems`` lists each in plain words."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} decision(s) rejected: {shown}{more}")


@dataclass(frozen=True)
class Decision:
    """One reviewer decision on one value (exam, region, side, measure) or one exam field
    (``region`` None, ``measure`` one of :data:`bmdkit.model.EXAM_FIELDS`)."""

    sha256: str
    region: Region | None
    side: Side | None
    measure: str
    action: str
    old_value: DecisionValue
    new_value: DecisionValue
    reason: str
    reviewer: str
    decided_at: str
    method: Method | None = None
    applied_by: str = ""
    recorded_at: str = ""

    @property
    def decision_id(self) -> str:
        """Stable id from what was decided, by whom and when (not from when it was applied)."""
        key = "|".join((
            self.sha256, self.region.value if self.region else "", self.side.value if self.side else "", self.measure,
            self.action, _fmt(self.old_value), _fmt(self.new_value), self.reason, self.reviewer,
            self.decided_at,
        ))
        return "d-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]

    def to_row(self) -> dict[str, str]:
        """The decision as an ``audit.csv`` row (all strings)."""
        return {
            "sha256": self.sha256, "region": self.region.value if self.region else "",
            "side": self.side.value if self.side else "", "measure": self.measure,
            "action": self.action, "old_value": _fmt(self.old_value), "new_value": _fmt(self.new_value),
            "reason": self.reason, "reviewer": self.reviewer, "decided_at": self.decided_at,
            "method": self.method.value if self.method else "", "applied_by": self.applied_by,
            "recorded_at": self.recorded_at, "decision_id": self.decision_id,
        }

    @property
    def exam_level(self) -> bool:
        """True for a decision about the file as a whole (date, scan type, page)."""
        return self.measure in EXAM_FIELDS

    @property
    def where(self) -> str:
        """What the decision is about, in words: ``abc123456789 femoral_neck/left bmd``."""
        place = f"{self.region.value}{'/' + self.side.value if self.side else ''} " if self.region else ""
        return f"{self.sha256[:12]} {place}{self.measure}"


@dataclass(frozen=True)
class AuditRow:
    """What applying one decision did: the value before and after, and whether it was new."""

    decision: Decision
    path: str
    value_before: DecisionValue
    value_after: DecisionValue
    applied: bool
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _fmt(v: DecisionValue) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else repr(float(v))


def _number(text: str | None, what: str, problems: list[str], where: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        v = float(text)
    except ValueError:
        problems.append(f"{where}: {what} {text!r} is not a number")
        return None
    if not math.isfinite(v):
        problems.append(f"{where}: {what} {text!r} is not a finite number")
        return None
    return v


def parse_decisions(text: str, *, default_reviewer: str = "", origin: str = "decisions") -> list[Decision]:
    """Decisions from CSV text; raises :class:`DecisionError` listing every malformed row.

    Extra columns are ignored; a row without a reviewer takes ``default_reviewer``. Cells are
    read back as written by the review page and ``audit.csv`` (:mod:`bmdkit.batchfolder.cells`: one
    leading ``'`` that kept a spreadsheet from running the text is removed).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [c for c in DECISION_COLUMNS if c not in header]
    if missing:
        raise DecisionError([f"{origin}: missing column(s) {', '.join(missing)}"])
    problems: list[str] = []
    out: list[Decision] = []
    for lineno, row in enumerate(reader, start=2):
        where = f"{origin} line {lineno}"
        row = {k: (unescape_cell((v or "").strip()) or "").strip() for k, v in row.items() if k is not None}
        n_before = len(problems)
        sha = row["sha256"].lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            problems.append(f"{where}: sha256 {row['sha256'][:70]!r} is not 64 hex digits")
        measure = row["measure"]
        region: Region | None = None
        if measure in EXAM_FIELDS:
            if row["region"] or row["side"]:
                problems.append(f"{where}: a decision on the {measure} names no region or side")
        else:
            try:
                region = Region(row["region"])
            except ValueError:
                problems.append(f"{where}: unknown region {row['region']!r}")
        try:
            side = Side(row["side"]) if row["side"] else None
        except ValueError:
            problems.append(f"{where}: unknown side {row['side']!r}")
            side = None
        method: Method | None = None
        if row.get("method"):
            try:
                method = Method(row["method"])
            except ValueError:
                problems.append(f"{where}: unknown method {row['method']!r}")
        if measure not in MEASURES and measure not in EXAM_FIELDS:
            problems.append(f"{where}: unknown measure {measure!r} (one of {', '.join((*MEASURES, *EXAM_FIELDS))})")
        action = row["action"].lower()
        if action not in ACTIONS:
            problems.append(f"{where}: action {row['action']!r} is not accept or correct")
        old: DecisionValue
        new: DecisionValue
        if measure in EXAM_FIELDS:
            old = exam_fields.parse_text(measure, row["old_value"], problems, where) if measure != "page" else None
            new = exam_fields.parse_text(measure, row["new_value"], problems, where) if measure != "page" else None
            exam_fields.check(measure, action, new, problems, where)
        else:
            old = _number(row["old_value"], "old_value", problems, where)
            new = _number(row["new_value"], "new_value", problems, where)
        reviewer = row["reviewer"] or default_reviewer
        if not reviewer:
            problems.append(f"{where}: no reviewer named")
        if not row["decided_at"]:
            problems.append(f"{where}: no decided_at time")
        if action == "correct":
            if new is None and measure not in EXAM_FIELDS:
                problems.append(f"{where}: a correction needs a new_value")
            if not row["reason"]:
                problems.append(f"{where}: a correction needs a reason")
        if len(problems) > n_before:
            continue
        out.append(Decision(
            sha256=sha, region=region, side=side, measure=measure, action=action,
            old_value=old, new_value=new if action == "correct" else old, reason=row["reason"],
            reviewer=reviewer, decided_at=row["decided_at"], method=method,
            applied_by=row.get("applied_by", ""), recorded_at=row.get("recorded_at", ""),
        ))
    if problems:
        raise DecisionError(problems)
    return out


def read_decisions(path: Path, *, default_reviewer: str = "", max_bytes: int = 64 * 1024 * 1024) -> list[Decision]:
    """Decisions from a CSV file (UTF-8, optional BOM); capped in size."""
    size = path.stat().st_size
    if size > max_bytes:
        raise DecisionError([f"{path.name}: {size} bytes is over the {max_bytes}-byte cap"])
    return parse_decisions(path.read_text(encoding="utf-8"), default_reviewer=default_reviewer,
                           origin=path.name)


def load_audit(directory: Path | str) -> list[Decision]:
    """Every decision recorded in ``DIR/audit.csv``, oldest first (empty if there is none)."""
    path = Path(directory) / AUDIT_FILE
    if not path.is_file():
        return []
    return read_decisions(path)


def _same(a: DecisionValue, b: DecisionValue) -> bool:
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return (a or None) == (b or None)
    return math.isclose(a, b, rel_tol=_SAME_VALUE_RTOL, abs_tol=1e-12)


def _target(exam: Exam, d: Decision) -> int | None:
    """Index in ``exam.regions`` of the region a decision is about (read values before computed)."""
    hits = [i for i, r in enumerate(exam.regions) if r.region is d.region and r.side is d.side
            and (d.method is None or r.method is d.method)]
    hits.sort(key=lambda i: exam.regions[i].method is Method.COMPUTED)
    return hits[0] if hits else None


def _applied_ids(exam: Exam) -> set[str]:
    return {f.message.split(" ", 2)[1] for f in exam.flags
            if f.code in DECISION_CODES and f.message.startswith("decision d-")}


def _flag(d: Decision, before: DecisionValue, after: DecisionValue) -> Flag:
    """The record of an applied decision: ``accepted`` when nothing changed, ``corrected`` when it did."""
    side = f" ({d.side.value})" if d.side else ""
    changed = d.action == "correct" and not _same(before, after)
    what = f"corrected {_shown(before)} -> {_shown(after)}" if changed else f"accepted {_shown(before)}"
    if d.measure == "page":
        what = "accepted the page as read"
    reason = f": {d.reason}" if d.reason else ""
    return Flag(
        FlagCode.CORRECTED if changed else FlagCode.ACCEPTED,
        f"decision {d.decision_id} {d.measure}{side} {what} by {d.reviewer} at {d.decided_at}{reason}",
        region=d.region.value if d.region else None, side=d.side, measure=d.measure,
    )


def _shown(v: DecisionValue) -> str:
    if v is None or v == "":
        return "none"
    return v if isinstance(v, str) else f"{v:g}"


def _corrected_region(r: RegionResult, d: Decision) -> RegionResult:
    old_src = r.sources.get(d.measure)
    src = ValueSource(
        confidence=None,
        location=old_src.location if old_src else None,
        raw_text=old_src.raw_text if old_src else None,
        engines=(*(old_src.engines if old_src else ()), "reviewer"),
    )
    return r.replace(**{d.measure: d.new_value, "sources": {**dict(r.sources), d.measure: src}})


@dataclass(frozen=True)
class _Outcome:
    """One decision tried on its exam: the exam after it, values before/after, or why it did not fit."""

    exam: Exam
    before: DecisionValue = None
    after: DecisionValue = None
    problem: str = ""


def _apply_value(exam: Exam, d: Decision) -> _Outcome:
    r_i = _target(exam, d)
    if r_i is None:
        return _Outcome(exam, problem="no such region/side in this exam")
    region = exam.regions[r_i]
    before = region.value(d.measure)
    if not _same(before, d.old_value):
        return _Outcome(exam, problem=f"value is {_shown(before)}, the decision was made on {_shown(d.old_value)}")
    new_region = _corrected_region(region, d) if d.action == "correct" else region
    regions = list(exam.regions)
    regions[r_i] = new_region
    after = new_region.value(d.measure)
    return _Outcome(replace(exam, regions=tuple(regions)), before, after)


def _apply_field(exam: Exam, d: Decision) -> _Outcome:
    before = exam_fields.current_text(exam, d.measure) or None
    if d.measure != "page" and not _same(before, d.old_value):
        return _Outcome(exam, problem=f"{d.measure} is {_shown(before)}, the decision was made on {_shown(d.old_value)}")
    if d.action == "accept" and d.measure == "exam_date" and before is None:
        return _Outcome(exam, problem="there is no exam date to confirm: enter it as a correction")
    if d.action != "correct":
        return _Outcome(exam, before, before)
    changed, note = exam_fields.apply_field(exam, d.measure, str(d.new_value) if d.new_value else None)
    if note:
        return _Outcome(exam, problem=note)
    return _Outcome(changed, before, exam_fields.current_text(changed, d.measure) or None)


def apply_decisions(
    exams: list[Exam], decisions: list[Decision], *, strict: bool = True
) -> tuple[list[Exam], list[AuditRow]]:
    """Apply decisions in order; returns the new exams (same order) and one audit row per decision.

    Each decision is checked against the exam as it stands after the decisions
    before it: the exam (by SHA-256) and the region/side must exist and the
    value (or exam field) must still equal ``old_value`` (so a decision made on
    another reading is never applied silently). With ``strict`` (the default)
    any problem raises :class:`DecisionError` listing all of them and nothing
    is applied; with ``strict=False`` a decision that does not fit is skipped,
    its exam (if known) gets a review-severity ``corrected`` flag saying so,
    and its audit row says why. A decision already recorded in the exam's
    flags is skipped as already applied. Every exam a decision touched is
    then :func:`settled <bmdkit.decisions.settle.settle>`.
    """
    index: dict[str, int] = {}
    for n, e in enumerate(exams):
        index.setdefault(e.source.sha256, n)
    current = list(exams)
    touched: set[int] = set()
    rows: list[AuditRow] = []
    problems: list[str] = []
    for d in decisions:
        i = index.get(d.sha256)
        if i is None:
            problems.append(f"unknown sha256 {d.sha256} ({d.where})")
            rows.append(AuditRow(d, "", None, None, False, "unknown sha256"))
            continue
        exam = current[i]
        if d.decision_id in _applied_ids(exam):
            if d.exam_level:
                v: DecisionValue = exam_fields.current_text(exam, d.measure) or None
            else:
                r_i = _target(exam, d)
                v = exam.regions[r_i].value(d.measure) if r_i is not None else None
            rows.append(AuditRow(d, exam.source.path, d.old_value, v, False, "already applied"))
            continue
        got = _apply_field(exam, d) if d.exam_level else _apply_value(exam, d)
        if got.problem:
            kind = "unknown region" if got.problem.startswith("no such region") else "stale decision"
            problems.append(f"{kind} {d.where}: {got.problem}")
            if not strict:
                current[i] = exam.with_flags([Flag(
                    FlagCode.CORRECTED, f"reviewer decision {d.decision_id} not applied: {got.problem}",
                    region=d.region.value if d.region else None, severity=Severity.REVIEW)])
            rows.append(AuditRow(d, exam.source.path, None, None, False, got.problem))
            continue
        current[i] = got.exam.with_flags([_flag(d, got.before, got.after)])
        touched.add(i)
        rows.append(AuditRow(d, exam.source.path, got.before, got.after, True))
    if strict and problems:
        raise DecisionError(problems)
    for i in touched:
        current[i] = settle(current[i])
    return current, rows


def audit_csv_text(decisions: Iterable[Decision], *, header: bool) -> str:
    """Rows for ``audit.csv`` (with the header line when ``header``); text cells spreadsheet-safe."""
    buf = io.StringIO()
    w = SafeDictWriter(buf, fieldnames=list(AUDIT_COLUMNS), lineterminator="\n")
    if header:
        w.writeheader()
    for d in decisions:
        w.writerow(d.to_row())
    return buf.getvalue()
