"""Consistency of an exam's own numbers: what a scanner's printout always obeys.

- per region, BMD = BMC / area within ``bmd_bmc_area_rel_tol`` and within the
  printed rounding (see :func:`half_unit`);
- the printed spine total = ΣBMC / ΣArea of the vertebrae it covers (and its
  BMC and area are their sums); where BMC or area are missing, the total BMD
  must at least lie between its vertebrae's BMDs (a ratio of sums is a
  weighted mean);
- T-scores: against the BMD where the reference is known (sign and size),
  and across the sides of one region (same region and reference: a higher
  BMD never has a lower T-score by more than one printed step);
- the dual-femur mean lies between left and right and near their average.

Each rule yields flags (review); nothing is changed. Computed regions are
not checked here (they are consistent by construction).
"""

from __future__ import annotations

from itertools import combinations

from bmdkit.checks import spine
from bmdkit.checks.settings import CheckSettings
from bmdkit.checks.young_adult import young_adult
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Method, Region, RegionResult, Side
from bmdkit.rounding import printed_half_unit, ratio_fits

#: One printed BMD step (3 decimals): a unit of rounding, not a threshold.
_BMD_STEP = 0.001


def _where(r: RegionResult) -> str:
    return r.region.value + (f" ({r.side.value})" if r.side else "")


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-9)


def half_unit(r: RegionResult, measure: str, s: CheckSettings) -> float | None:
    """Half a unit of the last printed digit of ``r``'s ``measure``.

    From the raw text the reader kept (``sources[measure].raw_text``: "15.0"
    -> 0.05) where there is one, else ``print_rounding.csv`` (the vendors'
    usual decimals). ``None`` when neither is known.
    """
    src = r.sources.get(measure)
    shown = printed_half_unit(src.raw_text) if src is not None and src.raw_text else None
    return shown if shown is not None else s.half_units.get(measure)


def _fits_rounding(r: RegionResult, s: CheckSettings) -> bool:
    units = [half_unit(r, m, s) for m in ("bmd", "bmc", "area")]
    if None in units:
        return True  # rounding unknown: only the relative tolerance applies
    hd, hb, ha = units
    return ratio_fits(r.bmd, r.bmc, r.area, hd, hb, ha)  # type: ignore[arg-type]


def check_bmd_bmc_area(exam: Exam, s: CheckSettings) -> list[Flag]:
    """BMD = BMC / area for every read region that has all three.

    Flagged when the ratio is off by more than ``bmd_bmc_area_rel_tol`` or,
    with ``s.bmd_rounding_check`` (default), when no BMC and area within their
    printed rounding give a ratio within the BMD's printed rounding (see
    :func:`half_unit`); this catches a misread last digit that the relative
    tolerance lets through. The
    dual-femur mean is skipped: its BMD is the mean of the sides' BMDs
    (shared/domain/reports.md), not its BMC over its area.
    """
    flags = []
    for r in exam.regions:
        if r.method is Method.COMPUTED or r.side is Side.MEAN or None in (r.bmd, r.bmc, r.area):
            continue
        assert r.bmd is not None and r.bmc is not None and r.area is not None
        if r.area <= 0 or r.bmd <= 0 or r.bmc <= 0:
            continue  # plausibility flags impossible values
        ratio = r.bmc / r.area
        off = _rel(ratio, r.bmd) > s.bmd_bmc_area_rel_tol
        if off or (s.bmd_rounding_check and not _fits_rounding(r, s)):
            why = "" if off else " (beyond the rounding of the digits shown)"
            flags.append(Flag(
                FlagCode.BMD_BMC_AREA_MISMATCH,
                f"{_where(r)}: BMD {r.bmd:g} but BMC/area = {r.bmc:g}/{r.area:g} = {ratio:.4f}{why}",
                region=r.region.value, side=r.side, measures=("bmd", "bmc", "area"),  # not the T- or Z-score
            ))
    return flags


def _total_problems(total: RegionResult, rows: dict[Region, RegionResult], cover: tuple[Region, ...],
                    s: CheckSettings) -> list[str]:
    name = spine.label_for(cover)
    problems: list[str] = []
    sums = spine.sum_over(rows, cover)
    if sums is not None:
        if total.bmd is not None and _rel(sums.bmd, total.bmd) > s.bmd_bmc_area_rel_tol:
            problems.append(f"BMD {total.bmd:g} but ΣBMC/ΣArea over {name} = {sums.bmd:.3f}")
        if total.area is not None and _rel(sums.area, total.area) > s.bmd_bmc_area_rel_tol:
            problems.append(f"area {total.area:g} but Σarea over {name} = {sums.area:.2f}")
        if total.bmc is not None and _rel(sums.bmc, total.bmc) > s.bmd_bmc_area_rel_tol:
            problems.append(f"BMC {total.bmc:g} but ΣBMC over {name} = {sums.bmc:.2f}")
    elif total.bmd is not None:
        bmds = [rows[v].bmd for v in cover if rows[v].bmd is not None]
        if len(bmds) == len(cover):
            lo, hi = min(bmds), max(bmds)  # type: ignore[type-var]
            if not (lo - _BMD_STEP <= total.bmd <= hi + _BMD_STEP):  # type: ignore[operator]
                problems.append(f"BMD {total.bmd:g} not between the BMDs of {name} ({lo:g}..{hi:g})")
    return problems


def check_spine_total(exam: Exam, s: CheckSettings) -> list[Flag]:
    """The printed total against the vertebrae it covers.

    Where the total does not say which vertebrae it covers (no ``vertebrae``,
    no parsable label), both "all vertebrae read" and "those not marked
    excluded" are tried; the total is flagged only if it fits neither.
    """
    total = spine.printed_total(exam)
    rows = spine.read_vertebrae(exam)
    if total is None or not rows:
        return []
    cover = spine.total_coverage(total)
    if cover is not None:
        if not all(v in rows for v in cover):
            return []  # a level the total covers was not read: nothing to compare
        candidates = [cover]
        note = ""
    else:
        candidates = [tuple(rows), tuple(v for v in rows if rows[v].evaluable is not False)]
        note = " (the total does not say which vertebrae it covers; all read vertebrae assumed)"
    results = [_total_problems(total, rows, c, s) for c in candidates if c]
    if not results or any(not p for p in results):
        return []
    return [Flag(FlagCode.TOTAL_MISMATCH, f"spine total {total.label or ''}: {p}{note}".replace("  ", " "),
                 region=Region.SPINE_TOTAL.value, measures=("bmd", "bmc", "area")) for p in results[0]]


def _reference_key(exam: Exam, r: RegionResult) -> str | None:
    """The reference table's region for ``r``: itself, or L1-L4 for a total over L1-L4 only."""
    if r.region is Region.SPINE_TOTAL:
        cover = spine.total_coverage(r)
        return Region.SPINE_TOTAL.value if cover is None or len(cover) == 4 else spine.label_for(cover)
    return r.region.value


def check_t_vs_bmd(exam: Exam, s: CheckSettings) -> list[Flag]:
    """Printed T against (BMD - mean) / SD where the exam names a reference we hold."""
    flags = []
    for r in exam.regions:
        if r.method is Method.COMPUTED or r.bmd is None or r.t_score is None:
            continue
        key = _reference_key(exam, r)
        ya = young_adult(exam, key, r.reference) if key else None
        if ya is None:
            continue
        expected = ya.t_score(r.bmd)
        if abs(expected - r.t_score) > s.t_score_check_tol:
            flags.append(Flag(
                FlagCode.T_SCORE_INCONSISTENT,
                f"{_where(r)}: T-score {r.t_score:g} but BMD {r.bmd:g} with reference "
                f"{ya.population} gives {expected:.1f}",
                region=r.region.value, side=r.side,
            ))
    return flags


def check_t_across_sides(exam: Exam, s: CheckSettings) -> list[Flag]:
    """Same region and reference on different sides: T must rise with BMD (one printed step of slack)."""
    flags = []
    step = 1
    by_region: dict[Region, list[RegionResult]] = {}
    for r in exam.regions:
        if r.method is not Method.COMPUTED and r.side is not None and r.bmd is not None and r.t_score is not None:
            by_region.setdefault(r.region, []).append(r)
    for region, rs in by_region.items():
        for a, b in combinations(rs, 2):
            if (a.reference or "") != (b.reference or ""):
                continue
            hi, lo = (a, b) if a.bmd > b.bmd else (b, a)  # type: ignore[operator]
            if hi.bmd - lo.bmd > _BMD_STEP and s.tenths(hi.t_score) < s.tenths(lo.t_score) - step:  # type: ignore[operator,arg-type]
                flags.append(Flag(
                    FlagCode.T_SCORE_INCONSISTENT,
                    f"{region.value}: {hi.side.value} side has the higher BMD ({hi.bmd:g} > {lo.bmd:g}) "  # type: ignore[union-attr]
                    f"but the lower T-score ({hi.t_score:g} < {lo.t_score:g}) than the {lo.side.value} side",  # type: ignore[union-attr]
                    region=region.value,
                ))
    return flags


def check_mean(exam: Exam, s: CheckSettings) -> list[Flag]:
    """The dual-femur mean against left and right."""
    flags = []
    regions = {r.region for r in exam.regions if r.side is Side.MEAN}
    for region in regions:
        mean = exam.region(region, Side.MEAN)
        left, right = exam.region(region, Side.LEFT), exam.region(region, Side.RIGHT)
        if mean is None or left is None or right is None:
            continue
        if None not in (mean.bmd, left.bmd, right.bmd):
            lo, hi = sorted((left.bmd, right.bmd))  # type: ignore[type-var]
            avg = (left.bmd + right.bmd) / 2  # type: ignore[operator]
            if not (lo - _BMD_STEP <= mean.bmd <= hi + _BMD_STEP) or _rel(mean.bmd, avg) > s.bmd_bmc_area_rel_tol:  # type: ignore[operator,arg-type]
                flags.append(Flag(
                    FlagCode.SIDES_INCONSISTENT,
                    f"{region.value}: mean BMD {mean.bmd:g} does not fit left {left.bmd:g} and right {right.bmd:g}",
                    region=region.value,
                ))
        if None not in (mean.t_score, left.t_score, right.t_score):
            lo_t, hi_t = sorted((s.tenths(left.t_score), s.tenths(right.t_score)))  # type: ignore[arg-type]
            if not (lo_t - 1 <= s.tenths(mean.t_score) <= hi_t + 1):  # type: ignore[arg-type]
                flags.append(Flag(
                    FlagCode.SIDES_INCONSISTENT,
                    f"{region.value}: mean T-score {mean.t_score:g} not between left {left.t_score:g} "
                    f"and right {right.t_score:g}",
                    region=region.value,
                ))
    return flags


def check_consistency(exam: Exam, settings: CheckSettings) -> list[Flag]:
    """All consistency rules, in a stable order."""
    return [
        *check_bmd_bmc_area(exam, settings),
        *check_spine_total(exam, settings),
        *check_t_vs_bmd(exam, settings),
        *check_t_across_sides(exam, settings),
        *check_mean(exam, settings),
    ]
