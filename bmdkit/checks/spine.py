"""Small spine helpers shared by the checks: which vertebrae a total covers, ΣBMC/ΣArea.

ISCD: the BMD of a set of vertebrae is their total BMC over their total area,
never a mean of their BMDs; these helpers return ``None`` rather than fall
back to an average when a BMC or an area is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bmdkit.model import Exam, Method, Region, RegionResult
from bmdkit.vocabulary import parse_vertebrae, vertebra_label

#: the one vertebra-range parser and its inverse live in :mod:`bmdkit.vocabulary` (names kept for callers)
parse_label = parse_vertebrae
label_for = vertebra_label


def read_vertebrae(exam: Exam) -> dict[Region, RegionResult]:
    """The vertebra rows a reader produced (computed rows ignored), by level."""
    out: dict[Region, RegionResult] = {}
    for r in exam.regions:
        if r.region.is_vertebra and r.method is not Method.COMPUTED and r.region not in out:
            out[r.region] = r
    return out


def printed_total(exam: Exam) -> RegionResult | None:
    """The spine total as read (not computed), if any."""
    for r in exam.regions:
        if r.region is Region.SPINE_TOTAL and r.method is not Method.COMPUTED:
            return r
    return None


def total_coverage(total: RegionResult) -> tuple[Region, ...] | None:
    """The vertebrae a total covers: its ``vertebrae`` field, else its label, else unknown."""
    if total.vertebrae:
        return total.vertebrae
    return parse_label(total.label)


@dataclass(frozen=True)
class Sums:
    """ΣBMC, ΣArea and their ratio over a set of vertebrae."""

    bmc: float
    area: float

    @property
    def bmd(self) -> float:
        return self.bmc / self.area


def sum_over(rows: dict[Region, RegionResult], levels: tuple[Region, ...]) -> Sums | None:
    """ΣBMC/ΣArea over ``levels``; ``None`` if any level lacks a positive BMC or area."""
    bmc = area = 0.0
    for v in levels:
        r = rows.get(v)
        if r is None or r.bmc is None or r.area is None or r.area <= 0 or r.bmc <= 0:
            return None
        bmc += r.bmc
        area += r.area
    return Sums(bmc, area) if levels else None
