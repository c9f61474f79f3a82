"""What a flag on a sentence that names no region is about: the values of its line, not the page's.

A sentence that states numbers but names no region ('T值 -1.7，Z值 -0.2' with its region word on
the line above, or lost in reading) gives no value, and its flag (UNPLACED_DATA) once named no
region, which puts every value of the page under review. The numbers it states are still
somewhere on the page and each is meant for a measure, so its flag is narrowed
(:func:`scope_unplaced`), after the engines' readings are joined and the regions assembled:

- where values were placed at the same place of the page (the other engine, or another
  reading of the line, read the region word the sentence lacks), the flag is about those
  values: their region, side and measure, for the measures the sentence names;
- else, where each of its numbers is meant for a measure (a measure word or a unit before
  or after it), or is a whole number (never a BMD, T- or Z-score, which are printed with
  decimals), the flag is about those measures of every region the page states (of the
  side it names, if it names one): a number meant as a T-score can only be some region's T-score;
- a sentence that also states thresholds (:data:`CRITERIA_THRESHOLDS`: the WHO definitions,
  a comparator misread) is a note;
- a sentence each of whose numbers is the value of its measure read for a region elsewhere on
  the page (a conclusion restating the lowest T-score, its region word lost) is a note;
- else (a number meant for no measure that could be told) it stays as it was, about the
  whole page (or the side's hip regions).

The narrowed flag keeps its message (which names the numbers) and code; it never covers less
than the values its numbers could be: the values placed on its line, or every value of the
measures named.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from bmdkit.flags import Severity
from bmdkit.model import Flag, Region, RegionResult, Side
from bmdkit.report.sentence_measures import DECIMAL_MEASURES
from bmdkit.report.sentence_results import ReadNumber, Statement

#: a sentence naming no region that states this many thresholds ('-1.0 to -2.5') is the WHO
#: definitions printed under the results: a number of it left over is a threshold whose
#: comparator was misread ('T-score 2-1.0 normal'), and its flag a note
CRITERIA_THRESHOLDS = 2

#: the measures a sentence's value may be of, in the order flags name them
_MEASURES = ("bmd", "bmc", "area", "t_score", "z_score")


@dataclasses.dataclass(frozen=True)
class Unplaced:
    """A flag on a sentence that names no region, with the numbers it states and the side it
    names (None: none, or two)."""

    flag: Flag
    numbers: tuple[ReadNumber, ...]
    side: Side | None
    #: the sentence states at least :data:`CRITERIA_THRESHOLDS` thresholds
    criteria: bool = False


def scope_unplaced(flags: list[Flag], unplaced: Sequence[Unplaced], stated: Sequence[Statement],
                   regions: Sequence[RegionResult], near: Callable[[int, int], bool]) -> list[Flag]:
    """``flags`` with each flag of ``unplaced`` (found by identity) replaced by flags about the
    values it concerns (see the module's rules); ``stated``: the values used, each with its line;
    ``near(i, j)``: lines ``i`` and ``j`` lie at the same place of the page."""
    out: list[Flag] = []
    by_id = {id(u.flag): u for u in unplaced}
    done: set[tuple[object, ...]] = set()
    for f in flags:
        u = by_id.get(id(f))
        scoped = [f] if u is None else _scoped(u, stated, regions, near)
        for g in scoped:
            key = (g.code, g.region, g.side, g.measure, g.measures, g.message)
            if key not in done:
                done.add(key)
                out.append(g)
    return out


def _measures(u: Unplaced) -> tuple[str, ...] | None:
    """The measures the sentence's numbers may be values of: the one each is meant for, else, for a
    whole number, one not always printed with decimals (a BMD, T- or Z-score never is: see
    ``sentence_measures.DECIMAL_MEASURES``); None where a number may be any."""
    meant: set[str] = set()
    for n in u.numbers:
        if n.intent in _MEASURES and not _stray(n):
            meant.add(n.intent)
        elif "." not in n.raw:
            meant.update(m for m in _MEASURES if m not in DECIMAL_MEASURES)
        else:
            return None
    return tuple(m for m in _MEASURES if m in meant) or None


def _scoped(u: Unplaced, stated: Sequence[Statement], regions: Sequence[RegionResult],
            near: Callable[[int, int], bool]) -> list[Flag]:
    """The flags that take the place of ``u.flag`` (see :func:`scope_unplaced`)."""
    measures = _measures(u)
    lines = {n.line for n in u.numbers}
    here = [st for st in stated if any(near(st.line, ln) for ln in lines)
            and (u.side is None or st.side in (u.side, None))
            and (measures is None or st.measure in measures)]
    if here:
        per: dict[tuple[Region, Side | None], set[str]] = {}
        for st in here:
            per.setdefault((st.region, st.side), set()).add(st.measure)
        return [_narrowed(u.flag, region, side, tuple(m for m in _MEASURES if m in ms))
                for (region, side), ms in per.items()]
    if u.criteria:
        return [dataclasses.replace(u.flag, region=None, side=None, severity=Severity.INFO, message=u.flag.message + (
            " (a line of definitions: a threshold whose comparator was misread)"))]
    if measures is None:
        return [u.flag]
    if _restated(u, stated):
        return [dataclasses.replace(u.flag, region=None, side=None, severity=Severity.INFO, message=u.flag.message + (
            " (each of its numbers is the value of its measure read for a region elsewhere on the page)"))]
    if u.flag.region is not None:  # one side named: its hip regions, as flagged
        return [_narrowed(u.flag, Region(u.flag.region), u.flag.side, measures)]
    targets = [(r.region, r.side) for r in regions if u.side is None or r.side in (u.side, None)]
    return [_narrowed(u.flag, region, side, measures) for region, side in dict.fromkeys(targets)] or [u.flag]


def _stray(n: ReadNumber) -> bool:
    """A whole number meant for a measure always printed with decimals: a mark misread, no value."""
    return n.intent in DECIMAL_MEASURES and "." not in n.raw


def _restated(u: Unplaced, stated: Sequence[Statement]) -> bool:
    """Each number of the sentence is, as read (a doubtful minus either way), the value of the
    measure it is meant for that a sentence naming its region states elsewhere on the page (of the
    side the sentence names): a conclusion restating a result ('最低T值-1.9' with its region word lost)."""
    placed = {(st.measure, st.value) for st in stated if u.side is None or st.side in (u.side, None)}
    return bool(u.numbers) and all(
        n.intent is not None and not _stray(n) and any((n.intent, v) in placed for v in n.values())
        for n in u.numbers)


def _narrowed(f: Flag, region: Region, side: Side | None, measures: tuple[str, ...]) -> Flag:
    """``f`` about ``measures`` of ``region`` and ``side`` only."""
    one = measures[0] if len(measures) == 1 else None
    return dataclasses.replace(f, region=region.value, side=None if region.is_spine else side,
                               measure=one, measures=() if one else measures)
