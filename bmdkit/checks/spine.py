"""Small spine helpers shared by the checks: which vertebrae a total covers, ΣBMC/ΣArea.

ISCD: the BMD of a set of vertebrae is their total BMC over their total area,
never a mean of their BMDs; these helpers return ``None`` rather than fall
back to an average when a BMC or an area is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bmdkit.model import VERTEBRAE, Exam, Method, Region, RegionResult

_RANGE = re.compile(r"^L?([1-5])\s*[-–~—至到]\s*L?([1-5])$", re.IGNORECASE)
_SINGLE = re.compile(r"^L?([1-5])$", re.IGNORECASE)
_PARTS = re.compile(r"\s*[,，、+&/]\s*|\s+and\s+", re.IGNORECASE)


def parse_label(label: str | None) -> tuple[Region, ...] | None:
    """Vertebrae named by a printed total label, else ``None``.

    Accepts ``L1-L4``, ``L2 - L4``, ``L2-4``, ``L1,L3,L4`` and mixed forms
    such as ``L1-L2,L4`` (Hologic prints non-contiguous combinations so);
    anything else (``Total``, ``腰椎``) is unknown rather than guessed.
    """
    if not label:
        return None
    text = label.strip()
    for prefix in ("腰椎", "Lumbar spine", "Spine", "Total"):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):].strip(" :")
    levels: set[int] = set()
    for part in _PARTS.split(text):
        if not part:
            continue
        m = _RANGE.match(part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if not (1 <= a <= b <= 4):
                return None
            levels.update(range(a, b + 1))
            continue
        m = _SINGLE.match(part)
        if not m or not 1 <= int(m.group(1)) <= 4:
            return None
        levels.add(int(m.group(1)))
    return tuple(VERTEBRAE[i - 1] for i in sorted(levels)) if levels else None


def label_for(vertebrae: tuple[Region, ...]) -> str:
    """``L2-L4`` for contiguous levels, ``L1,L3,L4`` otherwise."""
    idx = [VERTEBRAE.index(v) for v in vertebrae]
    if idx == list(range(idx[0], idx[0] + len(idx))) and len(idx) > 1:
        return f"{vertebrae[0].value}-{vertebrae[-1].value}"
    return ",".join(v.value for v in vertebrae)


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


def computed_total(exam: Exam) -> RegionResult | None:
    for r in exam.regions:
        if r.region is Region.SPINE_TOTAL and r.method is Method.COMPUTED:
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
