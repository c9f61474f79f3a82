"""Checks a report's numbers against each other, inside the reader.

These run before anything is trusted, on the values as read:

- BMD = BMC / area within print rounding (not for Mean rows: a printed mean
  BMD is the mean of the sides' BMDs, reports.md);
- the spine total's BMC and area equal the sums over its vertebrae, and its
  BMD equals ΣBMC/ΣArea;
- T-scores against BMDs: within a site (the same hip region on both sides,
  or the vertebrae and spine total) T rises with BMD; a T whose sign flipped
  makes the implied reference SD (ΔBMD/ΔT) absurd; bounds for that SD are
  taken from reference_data/reference_populations.csv, not from code;
- a Z-score a whole SD below the T-score is the mark of a lost minus on T
  (for adults past peak bone mass Z >= T, give or take reference details).

Each failure becomes a flag naming the check, the region and what to look at
on the page. These are the reader's own guard, and they also pick between
candidate readings (:mod:`bmdkit.report.repairs`). The exam checks
(:mod:`bmdkit.checks.consistency`) run after reading on every exam, whatever
read it; where this guard already flagged the same values with the same code,
the checks' copy is dropped (``checks._merge_flags``), so a reviewer sees one
flag. The print-rounding arithmetic both use has one owner,
:mod:`bmdkit.rounding`.
"""

from __future__ import annotations

import functools
from itertools import combinations

from bmdkit import reference
from bmdkit.flags import FlagCode
from bmdkit.model import Flag, Region, RegionResult, Side
from bmdkit.report import settings, words
from bmdkit.report.pdftext import ENGINE as PDF_ENGINE
from bmdkit.rounding import half_unit, ratio_fits

#: a Z-score this far below its T-score marks a lost minus on T (adults past peak bone mass have Z >= T,
#: give or take reference details; a review threshold, not a reference number)
Z_BELOW_T = 1.0


#: the reader's BMD half-unit is widened by this factor, so that a ratio on the very edge of the
#: BMD's rounding fits (float noise in BMC/area; a tolerance, not a reference number)
BMD_EDGE = 1.01


def bmd_matches(bmd: float, bmc: float, area: float, d_bmd: int = 3, d_bmc: int = 2, d_area: int = 2) -> bool:
    """True if the printed BMD can equal BMC/area given each value's rounding (``d_*``: the
    decimals printed; the arithmetic is :func:`bmdkit.rounding.ratio_fits`, which the exam
    checks use too). A BMC or area of zero or below never fits."""
    if area <= 0 or bmc <= 0:
        return False
    return ratio_fits(bmd, bmc, area, half_unit(d_bmd) * BMD_EDGE, half_unit(d_bmc), half_unit(d_area))


@functools.lru_cache(maxsize=1)
def sd_bounds() -> tuple[float, float]:
    """Plausible reference SD band: half the smallest to twice the largest tabled SD."""
    sds = [float(r["sd"]) for r in reference.table("reference_populations") if r.get("sd")]
    return (min(sds) * 0.5, max(sds) * 2.0)


#: the measures a BMD = BMC / area mismatch (or a spine total's sums) is about: never the row's T- and Z-scores
RATIO_MEASURES = ("bmd", "bmc", "area")


def region_flag(code: FlagCode, r: RegionResult, msg: str, measure: str | None = None,
                measures: tuple[str, ...] = ()) -> Flag:
    """A flag on one row (its region and side; a measure where one value alone is in question,
    ``measures`` where several are: Flag.measures)."""
    where = words.place(r.region, r.side, r.label)
    return Flag(code, f"{words.opening(where)}: {msg}", region=r.region.value, side=r.side, measure=measure,
                measures=measures)


def check_regions(regions: list[RegionResult]) -> list[Flag]:
    """Flags for values that contradict each other (see the module docstring)."""
    flags: list[Flag] = []
    by_key = {(r.region, r.side): r for r in regions}
    for r in regions:
        if r.side is Side.MEAN:
            continue
        if r.bmd is not None and r.bmc is not None and r.area is not None and not bmd_matches(r.bmd, r.bmc, r.area):
            flags.append(region_flag(FlagCode.BMD_BMC_AREA_MISMATCH, r,
                               f"BMD {r.bmd} but BMC/area = {r.bmc}/{r.area} = {r.bmc / r.area:.3f} as read: "
                               "check the BMD, BMC and area on the page", measures=RATIO_MEASURES))
    tot = by_key.get((Region.SPINE_TOTAL, None))
    if tot is not None and tot.vertebrae:
        vs = [by_key.get((v, None)) for v in tot.vertebrae]
        if all(v is not None and v.bmc is not None and v.area is not None for v in vs) and \
                tot.bmc is not None and tot.area is not None:
            sb = sum(v.bmc for v in vs if v and v.bmc)
            sa = sum(v.area for v in vs if v and v.area)
            tol = settings.SETTINGS.total_per_vertebra * len(vs) + settings.SETTINGS.total_base
            if abs(sb - tot.bmc) > tol or abs(sa - tot.area) > tol:
                flags.append(region_flag(FlagCode.TOTAL_MISMATCH, tot,
                                   f"BMC/area {tot.bmc}/{tot.area} but the vertebrae sum to {sb:.2f}/{sa:.2f}: "
                                   "check the BMC and area of the total and of each vertebra",
                                   measures=RATIO_MEASURES))
    flags += _t_vs_bmd(regions)
    for r in regions:
        if r.t_score is not None and r.z_score is not None and r.z_score < r.t_score - Z_BELOW_T:
            flags.append(region_flag(FlagCode.T_SCORE_INCONSISTENT, r,
                               f"the Z-score {r.z_score} is below the T-score {r.t_score}, which happens when a minus "
                               "sign was lost: check the signs of both on the page"))
    return flags


def site_groups(regions: list[RegionResult]) -> list[list[RegionResult]]:
    """The rows of each site with two or more rows: the spine, and each hip region over its sides."""
    spine = [r for r in regions if r.region.is_spine]
    hips: dict[Region, list[RegionResult]] = {}
    for r in regions:
        if not r.region.is_spine:
            hips.setdefault(r.region, []).append(r)
    return [g for g in [spine, *hips.values()] if len(g) >= 2]


def _pair_ok(db: float, dt: float, lo: float, hi: float, spine: bool) -> bool:
    """Can two rows of one site differ by ``db`` in BMD and ``dt`` in T-score?

    |ΔT| must lie within |ΔBMD|/SD for a plausible SD, give or take print
    rounding, and T must move the way BMD moves. Vertebrae may each have their
    own reference (Hologic), so their tolerance is wider.
    """
    slack = 0.5 if spine else 0.15
    if abs(dt) > abs(db) / lo + slack:
        return False
    if abs(dt) < abs(db) / hi - slack:
        return False
    return not (abs(dt) > slack and abs(db) > (0.03 if spine else 0.002) and (dt > 0) != (db > 0))


def bad_pairs(pts: list[tuple[float, float]], spine: bool) -> int:
    """Pairs of (BMD, score) points of one site that break its line (see _pair_ok)."""
    lo, hi = sd_bounds()
    return sum(not _pair_ok(b[0] - a[0], b[1] - a[1], lo, hi, spine) for a, b in combinations(pts, 2))


#: rows of a site besides the one whose sign is restored: two are needed to say where the line runs
SIGN_WITNESSES = 2


def read_from_pixels(r: RegionResult) -> bool:
    """The T-score was read from pixels: a text layer's characters are the page's own, never repaired."""
    src = r.sources.get("t_score")
    return src is not None and bool(src.engines) and PDF_ENGINE not in src.engines


def _t_vs_bmd(regions: list[RegionResult]) -> list[Flag]:
    """T must rise with BMD within a site; a flipped sign gives an absurd implied SD."""
    lo, hi = sd_bounds()
    flags: list[Flag] = []
    flagged: set[int] = set()
    for g in site_groups(regions):
        pts = [r for r in g if r.bmd is not None and r.t_score is not None]
        bad: dict[int, int] = {}
        for a, b in combinations(pts, 2):
            if not _pair_ok(b.bmd - a.bmd, b.t_score - a.t_score, lo, hi, g[0].region.is_spine):  # type: ignore[operator]
                bad[id(a)] = bad.get(id(a), 0) + 1
                bad[id(b)] = bad.get(id(b), 0) + 1
        if not bad:
            continue
        worst = max(bad.values())
        for r in pts:
            if bad.get(id(r), 0) == worst and id(r) not in flagged:
                flagged.add(id(r))
                flags.append(region_flag(FlagCode.T_SCORE_INCONSISTENT, r,
                                   f"the T-score {r.t_score} does not fit the BMD {r.bmd} beside the other rows of this "
                                   "site: check both on the page"))
    return flags


def confirm_signs(regions: list[RegionResult],
                  disputed: set[tuple[Region, Side | None, str]]) -> set[tuple[Region, Side | None, str]]:
    """Of the scores whose readings differed only in the sign (``disputed``: region, side,
    measure), those the site's other rows confirm: the site's line (score rising with BMD,
    a plausible reference SD) holds with every score as kept, and breaks when this one
    alone takes the other sign. At least one row of the site besides it must be undisputed,
    so the line is not made of disputed readings alone.
    """
    confirmed: set[tuple[Region, Side | None, str]] = set()
    for g in site_groups(regions):
        spine = g[0].region.is_spine
        for m in ("t_score", "z_score"):
            pts = [r for r in g if r.bmd is not None and r.value(m) is not None]
            if len(pts) < SIGN_WITNESSES + 1:
                continue
            keys = [(r.region, r.side, m) for r in pts]
            if all(k in disputed for k in keys):
                continue
            line = [(r.bmd, r.value(m)) for r in pts]
            if bad_pairs(line, spine) != 0:  # type: ignore[arg-type]
                continue
            for k, (r, key) in enumerate(zip(pts, keys)):
                if key not in disputed:
                    continue
                flipped = line[:k] + [(r.bmd, -r.value(m))] + line[k + 1:]  # type: ignore[operator]
                if bad_pairs(flipped, spine) > 0:  # type: ignore[arg-type]
                    confirmed.add(key)
    return confirmed


#: how far a scanner's young-adult mean may lie from the means tabled in reference_populations.csv
#: (vendor scales and populations differ by some 10-15%, shared/domain/crosscal.md): a review margin
YOUNG_MEAN_MARGIN = 0.2


@functools.lru_cache(maxsize=1)
def _young_means() -> dict[str, tuple[float, float]]:
    """Per region, the band a young-adult reference mean may lie in (tabled means, widened by the margin)."""
    means: dict[str, list[float]] = {}
    for row in reference.table("reference_populations"):
        if row.get("mean") and row.get("region"):
            means.setdefault(row["region"], []).append(float(row["mean"]))
    return {k: (min(v) * (1 - YOUNG_MEAN_MARGIN), max(v) * (1 + YOUNG_MEAN_MARGIN)) for k, v in means.items()}


def young_mean_band(region: Region) -> tuple[float, float] | None:
    """The band a young-adult reference mean of ``region`` may lie in (the means tabled in
    reference_populations.csv, widened by YOUNG_MEAN_MARGIN); None for a region not tabled."""
    return _young_means().get(region.value)


def _fits_a_reference(bmd: float, t: float, band: tuple[float, float]) -> bool:
    """Some plausible reference (a mean in ``band``, an SD within sd_bounds) gives ``t`` for ``bmd``."""
    lo_sd, hi_sd = sd_bounds()
    a, b = sorted((bmd - t * lo_sd, bmd - t * hi_sd))  # the young-adult means that ``t`` implies
    return a <= band[1] and b >= band[0]


def sign_by_reference(r: RegionResult) -> bool:
    """The T-score's sign as kept is the only one its own row's BMD allows: T = (BMD - mean) / SD
    holds for some plausible young-adult mean and SD with the sign kept, and for none with the
    other sign (a hip region or the spine total with a tabled reference; T-scores only: a
    Z-score's mean depends on age). A witness for a one-hip page, where no other row can be."""
    band = young_mean_band(r.region)
    if band is None or r.bmd is None or r.t_score is None or r.t_score == 0 or r.side is Side.MEAN:
        return False
    return _fits_a_reference(r.bmd, r.t_score, band) and not _fits_a_reference(r.bmd, -r.t_score, band)


def sign_fits(regions: list[RegionResult], key: tuple[Region, Side | None, str]) -> bool:
    """The score ``key`` (region, side, measure) as kept fits its site's line: at least one
    other row of the site has a BMD and that score, and every pair of rows keeps the line
    (score rising with BMD, a plausible reference SD). A weaker test than confirm_signs (the
    other sign may fit too): it backs a sign two engines read alike, never decides one."""
    region, side, m = key
    for g in site_groups(regions):
        if not any((r.region, r.side) == (region, side) for r in g):
            continue
        pts = [r for r in g if r.bmd is not None and r.value(m) is not None]
        if len(pts) < 2 or not any((r.region, r.side) == (region, side) for r in pts):
            return False
        return bad_pairs([(r.bmd, r.value(m)) for r in pts], g[0].region.is_spine) == 0  # type: ignore[misc]
    return False
