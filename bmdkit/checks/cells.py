"""One cell, one column: a guard against values taken from a neighbouring column.

A report page's cell belongs to one column. When two measures of one row
were read from the same ink (their boxes on the page coincide), at most one
of them is what the page prints there and the other is a column the page
left blank or a misplaced cell: a T-score equal to the Z-score beside it is
how this shows. Neither value can be trusted, so both are withdrawn from the
region and a ``shared_cell`` review flag names the region, side, measures and
what was read, so nothing is lost and nothing wrong passes on.

This is the one check that removes values: a value whose ink another
measure of its row claims is not a reading. It runs for every reader (only
page readers give boxes) and before evaluability, so a withdrawn value never
decides anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bmdkit.flags import FlagCode
from bmdkit.model import MEASURES, Exam, Flag, Location, RegionResult, ValueSource

#: boxes whose intersection covers at least this share of the smaller one are the same ink
SAME_INK_OVERLAP = 0.5

_MEASURE_WORDS = {"bmd": "BMD", "bmc": "BMC", "area": "area", "t_score": "T-score", "z_score": "Z-score"}


@dataclass(frozen=True)
class SharedCell:
    """Measures of one region whose sources point at the same ink."""

    region: RegionResult
    measures: tuple[str, ...]


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection area over the smaller box's area (1.0 for identical boxes)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return (w * h) / smaller if smaller > 0 else 1.0


def _box(src: ValueSource | None) -> tuple[int | None, tuple[int, int, int, int]] | None:
    loc: Location | None = src.location if src is not None else None
    if loc is None or loc.box is None:
        return None
    return (loc.page, loc.box)


#: the engine a reviewer's decision records on a value it settles (bmdkit.decisions.records)
REVIEWER_ENGINE = "reviewer"


def _decided(src: ValueSource | None) -> bool:
    return src is not None and REVIEWER_ENGINE in src.engines


def shared_cells(region: RegionResult) -> tuple[str, ...]:
    """The measures of ``region`` (with a value) whose boxes coincide with another measure's.

    A value a reviewer decided is a person's reading, not the page's: it never counts."""
    placed = [(m, _box(region.sources.get(m))) for m in MEASURES
              if region.value(m) is not None and not _decided(region.sources.get(m))]
    boxed = [(m, b) for m, b in placed if b is not None]
    shared: set[str] = set()
    for i, (m1, (p1, b1)) in enumerate(boxed):
        for m2, (p2, b2) in boxed[i + 1:]:
            if p1 == p2 and _overlap(b1, b2) >= SAME_INK_OVERLAP:
                shared.update((m1, m2))
    return tuple(m for m in MEASURES if m in shared)


def find_shared(exam: Exam) -> list[SharedCell]:
    return [SharedCell(r, ms) for r in exam.regions if (ms := shared_cells(r))]


def _message(cell: SharedCell) -> str:
    r = cell.region
    where = r.region.value.replace("_", " ") + (f" ({r.side.value})" if r.side else "")
    read = ", ".join(f"{_MEASURE_WORDS[m]} {r.value(m):g}" for m in cell.measures)
    return (f"{where}: {read} were read from the same place on the page, so one column is probably blank "
            f"or misplaced; these values are not used: read them from the page")


def withdraw_shared(exam: Exam) -> tuple[Exam, list[Flag]]:
    """``exam`` with every value that shares its ink with another measure of its row removed,
    and one ``shared_cell`` flag per such measure (region, side and measure named)."""
    found = {id(c.region): c for c in find_shared(exam)}
    if not found:
        return exam, []
    regions: list[RegionResult] = []
    flags: list[Flag] = []
    for r in exam.regions:
        cell = found.get(id(r))
        if cell is None:
            regions.append(r)
            continue
        message = _message(cell)
        flags.extend(Flag(FlagCode.SHARED_CELL, message, r.region.value, side=r.side, measure=m)
                     for m in cell.measures)
        regions.append(r.replace(**{m: None for m in cell.measures},
                                 sources={k: v for k, v in r.sources.items() if k not in cell.measures}))
    return exam.with_regions(regions), flags


def measures_named(flags: Iterable[Flag]) -> set[tuple[str, str]]:
    """(region, measure) pairs the flags withdraw, for tests and reports."""
    return {(f.region or "", f.measure or "") for f in flags if f.code is FlagCode.SHARED_CELL}
