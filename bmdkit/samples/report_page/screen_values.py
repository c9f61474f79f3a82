"""Figures real-like pages print beyond the truth exam: spine combinations, hip means and differences.

Every figure follows from the truth's own values and its reference population
(through :mod:`bmdkit.samples.truth`), so a page stays internally consistent
(BMD = BMC / area, T and Z from the same reference). None of them is part of
the truth exam: their cells are tagged ``in_truth=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from bmdkit.samples.report_page.truth_values import _ref, _ref_region
from bmdkit.samples.truth import TruthExam, TruthRegion, _z_shift, t_score

LEVELS = ("L1", "L2", "L3", "L4")


@dataclass(frozen=True)
class Derived:
    """One printed row that is not a truth region (a spine combination, a hip mean or difference)."""

    label: str
    area: float | None
    bmc: float | None
    bmd: float | None
    t: float | None
    z: float | None

    @classmethod
    def of(cls, r: TruthRegion) -> Derived:
        """A truth region's printed row in the same shape."""
        return cls(r.label, r.area, r.bmc, r.bmd, r.t_score, r.z_score)


def z_score(truth: TruthExam, bmd: float, region: str) -> float | None:
    """The Z-score the truth's reference gives ``bmd`` at ``region`` (as :mod:`.truth` computes it)."""
    rr = _ref_region(region)
    ref = _ref(truth.reference, rr) if rr else None
    if ref is None:
        return None
    mean, sd = ref
    return round((bmd - mean * (1 - _z_shift(truth.patient.age))) / sd, 1) + 0.0


def t_for(truth: TruthExam, bmd: float, region: str) -> float | None:
    """The T-score of ``bmd`` at ``region``, or None where the reference has no such region."""
    rr = _ref_region(region)
    if rr is None or _ref(truth.reference, rr) is None:
        return None
    return t_score(bmd, truth.reference, rr)


def level_label(run: tuple[str, ...]) -> str:
    """Hologic's name of a set of vertebrae: runs joined by "-", runs separated by "," (L1,L3-L4)."""
    idx = [int(v[1]) for v in run]
    parts: list[str] = []
    start = prev = idx[0]
    for i in idx[1:] + [None]:  # type: ignore[list-item]
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(f"L{start}" if start == prev else f"L{start}-L{prev}")
        if i is not None:
            start = prev = i
    return ",".join(parts)


def spine_sets(truth: TruthExam, contiguous_only: bool) -> list[tuple[str, ...]]:
    """Sets of two or more included vertebrae, by size then in order (APEX lists up to 11, enCORE 6)."""
    inc = [v for v in LEVELS if v not in truth.excluded]
    out: list[tuple[str, ...]] = []
    for k in range(2, len(inc) + 1):
        for run in combinations(inc, k):
            idx = [int(v[1]) for v in run]
            if contiguous_only and idx != list(range(idx[0], idx[0] + len(idx))):
                continue
            out.append(run)
    return out


def spine_set(truth: TruthExam, run: tuple[str, ...]) -> Derived:
    """Area, BMC and BMD summed over ``run`` as the scanner computes them, with T and Z."""
    by = {r.region: r for r in truth.regions}
    area = round(sum(by[v].area or 0 for v in run), 2)
    bmc = round(sum(by[v].bmc or 0 for v in run), 2)
    bmd = round(bmc / area, 3)
    return Derived(level_label(run), area, bmc, bmd, t_for(truth, bmd, "L1-L4"), z_score(truth, bmd, "L1-L4"))


def hip_mean(truth: TruthExam, region: str) -> Derived | None:
    """The Mean row of a dual hip: the truth's mean where it has one, else the mean of the two sides."""
    by = {r.side: r for r in truth.regions if r.region == region}
    left, right = by.get("left"), by.get("right")
    if left is None or right is None:
        return None
    area = _avg(left.area, right.area, 2)
    bmc = _avg(left.bmc, right.bmc, 2)
    m = by.get("mean")
    if m is not None:
        return Derived("Mean", area, bmc, m.bmd, m.t_score, m.z_score)
    bmd = _avg(left.bmd, right.bmd, 3)
    t = t_for(truth, bmd, region) if bmd is not None else None
    z = z_score(truth, bmd, region) if bmd is not None else None
    return Derived("Mean", area, bmc, bmd, t, z)


def hip_diff(truth: TruthExam, region: str) -> Derived | None:
    """The |Diff.| row of a dual hip: absolute left-right differences."""
    by: dict[str | None, TruthRegion] = {r.side: r for r in truth.regions if r.region == region}
    left, right = by.get("left"), by.get("right")
    if left is None or right is None:
        return None
    return Derived("Diff.", _absdiff(left.area, right.area, 2), _absdiff(left.bmc, right.bmc, 2),
                   _absdiff(left.bmd, right.bmd, 3), _absdiff(left.t_score, right.t_score, 1),
                   _absdiff(left.z_score, right.z_score, 1))


def _avg(a: float | None, b: float | None, nd: int) -> float | None:
    return None if a is None or b is None else round((a + b) / 2, nd)


def _absdiff(a: float | None, b: float | None, nd: int) -> float | None:
    return None if a is None or b is None else round(abs(a - b), nd) + 0.0
