"""Which review flags a reviewer's decisions have settled, and which values are still in doubt.

A ``review`` flag stays *open* until decisions settle it:

- a date flag on the file (``ambiguous_date``, ``no_exam_date``): by a decision on the exam date
  (a reading confirmed, or the date entered);
- a ``label_uncertain`` flag on a hip region (the row's side is in doubt): by a decision on the
  scan type and side, or by decisions on every value it covers;
- any other flag on the file as a whole (``page_quality``, ``unplaced_data``,
  ``sources_disagree``, ``name_collision`` …): by accepting the page as read;
- a flag on a region: by a decision on every value it covers (its region; its side and its
  measure where it names them, see :meth:`bmdkit.model.Flag.covers`); a region flag that covers
  no value on the page (a region that was not read at all): by accepting the page.

Error flags are never settled: a failed file stays failed.

:func:`settle` keeps a settled flag (code, region, message) and lowers its severity to
``info``, adding the ids of the decisions that settled it to its message. The exam's status is
derived from its flags, so an exam whose every doubt is decided becomes ``extracted``, and
everything that reads the flags (exports, eligibility, change, the review page, ``results.csv``)
follows the decisions at once. :func:`decided_values` and :func:`open_doubts` are what the
exports and the review page ask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import EXAM_FIELDS, MEASURES, Exam, Flag, Method, Side

#: Flag codes that record a reviewer's decision (the decision id is the message's second word).
DECISION_CODES: frozenset[FlagCode] = frozenset({FlagCode.ACCEPTED, FlagCode.CORRECTED})
#: File-level flags that only a decision on the exam date settles.
DATE_CODES: frozenset[FlagCode] = frozenset({FlagCode.AMBIGUOUS_DATE, FlagCode.NO_EXAM_DATE})
#: Region flags that a decision on the scan type and side settles (on hip regions).
SIDE_CODES: frozenset[FlagCode] = frozenset({FlagCode.LABEL_UNCERTAIN})
_SETTLED_MARK = " [settled by reviewer decision "

#: (region, side, measure) of a value; (None, None, field) for an exam-level decision.
ValueKey = tuple[str | None, str | None, str]


@dataclass(frozen=True)
class DecisionMark:
    """A decision as recorded on the exam: its id, what it is about, and accepted or corrected."""

    decision_id: str
    key: ValueKey
    corrected: bool
    message: str


def decision_marks(exam: Exam) -> list[DecisionMark]:
    """Every applied decision recorded in the exam's flags, oldest first.

    Flags written by this version name their target in ``region``/``side``/``measure``;
    flags written before (code ``corrected`` for accepts too, target only in the message)
    are read from the message: ``decision d-… MEASURE[ (side)] …``.
    """
    out = []
    for f in exam.flags:
        if f.code not in DECISION_CODES or f.level is not Severity.INFO:
            continue
        words = f.message.split(" ")
        if len(words) < 4 or words[0] != "decision" or not words[1].startswith("d-"):
            continue
        measure = f.measure or words[2]
        if measure not in MEASURES and measure not in EXAM_FIELDS:
            continue
        side = f.side.value if f.side else None
        if side is None and f.measure is None and words[3].startswith("(") and words[3].endswith(")"):
            side = words[3][1:-1]
        corrected = f.code is FlagCode.CORRECTED and " accepted " not in f.message
        region = None if measure in EXAM_FIELDS else f.region
        out.append(DecisionMark(words[1], (region, side, measure), corrected, f.message))
    return out


def decided_values(exam: Exam) -> dict[ValueKey, str]:
    """What a reviewer already decided on: ``(region, side, measure)`` (or ``(None, None, field)``
    for the exam date, scan type and page) to the decision flag's message (who, when, what)."""
    return {m.key: m.message for m in decision_marks(exam)}


def covered_values(exam: Exam, flag: Flag) -> list[ValueKey]:
    """The values a region flag is about: read (not computed) values of its region, side and measure
    that the page shows (a value, or a cell that was located but not read)."""
    out: list[ValueKey] = []
    if flag.region is None:
        return out
    for r in exam.regions:
        if r.method is Method.COMPUTED:
            continue
        for m in MEASURES:
            if flag.covers(r.region.value, r.side, m) and (r.value(m) is not None or m in r.sources):
                out.append((r.region.value, r.side.value if r.side else None, m))
    return out


def _hip(region: str) -> bool:
    return region in {"femoral_neck", "total_hip", "trochanter", "intertrochanter", "wards", "upper_neck", "shaft"}


def settled_by(exam: Exam, flag: Flag, decided: dict[ValueKey, str]) -> list[str] | None:
    """Ids of the decisions that settle ``flag`` (None: still open). Only review flags can be settled."""
    if flag.level is not Severity.REVIEW or flag.code in DECISION_CODES:
        return None

    def ids(*keys: ValueKey) -> list[str]:
        return [decided[k].split(" ", 2)[1] for k in keys]

    date, scan, page = ((None, None, f) for f in EXAM_FIELDS)
    if flag.region is None:
        if flag.code in DATE_CODES:
            return ids(date) if date in decided else None
        return ids(page) if page in decided else None
    if flag.code in SIDE_CODES and _hip(flag.region) and scan in decided:
        return ids(scan)
    covered = covered_values(exam, flag)
    if not covered:
        return ids(page) if page in decided else None
    return ids(*covered) if all(k in decided for k in covered) else None


def settle(exam: Exam) -> Exam:
    """``exam`` with every review flag its decisions settle lowered to ``info`` (idempotent)."""
    decided = decided_values(exam)
    if not decided:
        return exam
    flags = []
    changed = False
    for f in exam.flags:
        by = settled_by(exam, f, decided)
        if by is None:
            flags.append(f)
            continue
        changed = True
        unique = list(dict.fromkeys(by))
        shown = ", ".join(unique[:3]) + (f" and {len(unique) - 3} more" if len(unique) > 3 else "")
        message = f.message if _SETTLED_MARK in f.message else f"{f.message}{_SETTLED_MARK}{shown}]"
        flags.append(replace(f, severity=Severity.INFO, message=message))
    return replace(exam, flags=tuple(flags)) if changed else exam


def is_settled(flag: Flag) -> bool:
    """True for a flag a reviewer's decisions settled (see :func:`settle`)."""
    return flag.level is Severity.INFO and _SETTLED_MARK in flag.message


def open_flags(exam: Exam) -> list[Flag]:
    """The exam's review flags that no decision has settled yet."""
    return [f for f in exam.flags if f.level is Severity.REVIEW and f.code not in DECISION_CODES]


@dataclass(frozen=True)
class Doubts:
    """What still needs a reviewer on one exam: exam-level fields and values (with the flags behind them)."""

    fields: dict[str, list[Flag]]
    values: dict[ValueKey, list[Flag]]
    file_level: tuple[Flag, ...] = ()

    def blocking(self, region: str, side: Side | None, measure: str) -> list[Flag]:
        """Open flags that hold back one value: every open file-level flag, and the region flags covering it."""
        return [*self.file_level, *self.values.get((region, side.value if side else None, measure), [])]


def open_doubts(exam: Exam, flags: Iterable[Flag] | None = None) -> Doubts:
    """Exam-level fields (``exam_date``, ``scan_type``, ``page``) and values that open flags still hold in doubt.

    A value a reviewer already decided is not in doubt whatever flag still covers it.
    """
    decided = decided_values(exam)
    fields: dict[str, list[Flag]] = {}
    values: dict[ValueKey, list[Flag]] = {}
    file_level: list[Flag] = []
    for f in open_flags(exam) if flags is None else flags:
        if f.region is None:
            file_level.append(f)
            fields.setdefault("exam_date" if f.code in DATE_CODES else "page", []).append(f)
            continue
        covered = covered_values(exam, f)
        if f.code in SIDE_CODES and _hip(f.region):
            fields.setdefault("scan_type", []).append(f)
        if not covered:
            fields.setdefault("page", []).append(f)
        for k in covered:
            if k not in decided:
                values.setdefault(k, []).append(f)
    return Doubts(fields, values, tuple(file_level))
