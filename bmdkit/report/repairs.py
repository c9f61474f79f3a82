"""Stage 6: misreadings repaired from the page's own evidence, each one flagged.

Each repair is one function. It changes a value only where the page itself
shows what was printed, lowers the value's confidence or marks it disputed,
and says in its docstring which flag it raises (the flag is raised where the
value's flags are made, :mod:`bmdkit.report.valueflags`, or returned here).
A PDF text layer's characters are never repaired.

- the minus never on a BMD (:func:`minus_never_on_bmd`);
- the decimal point restored (:func:`restore_decimal`);
- an impossible score never kept over a plausible reading (:func:`impossible_never_kept`);
- a BMD outside its plausible range read again on its crop (:func:`recheck_implausible`);
- the BMC/area pick (:func:`settle_by_ratio`);
- the T-score sign from its site's line (:func:`restore_signs`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from bmdkit import reference
from bmdkit.flags import FlagCode
from bmdkit.model import Flag, RegionResult
from bmdkit.report.crosscheck import (
    SIGN_WITNESSES,
    Z_BELOW_T,
    bad_pairs,
    bmd_matches,
    read_from_pixels,
    region_flag,
    site_groups,
)
from bmdkit.report.numbers import parse_number
from bmdkit.report.vote import MIN_CONFIDENCE, Candidate, Reading, decide
from bmdkit.rounding import half_unit


class SignsRestored(NamedTuple):
    """The regions with any lost minus put back, and the flags saying where."""

    regions: list[RegionResult]
    flags: list[Flag]


#: measures that cannot be negative (a minus read on one is a misread)
NEVER_NEGATIVE = ("bmd", "bmc", "area")

#: measures whose printed decimal point OCR may lose ('-11' for -1.1)
SCORES = ("t_score", "z_score")


def minus_never_on_bmd(rd: Reading, measure: str) -> None:
    """A minus read on a BMD, BMC or area is dropped: a dash left of one is a rule or a
    speck, never a sign. The digits are kept and the cell is marked disputed, which
    raises LOW_CONFIDENCE ("read as ... without its minus (it cannot be negative)")."""
    if measure in NEVER_NEGATIVE and rd.value is not None and rd.value < 0:
        rd.value, rd.disagreement = -rd.value, True


@functools.cache
def _score_bound(measure: str) -> float | None:
    """The largest plausible |T| or |Z|, or BMD at any site (reference_data/plausible_ranges.csv):
    a value beyond it is no reading of a real scan, whatever the region."""
    if measure not in ("t_score", "z_score", "bmd"):
        return None
    bounds = [max(abs(float(row["low"])), abs(float(row["high"]))) for row in reference.table("plausible_ranges")
              if row.get("measure") == measure and (measure == "bmd" or row.get("region") == "any")]
    return max(bounds) if bounds else None


def restore_decimal(rd: Reading, decimals: int | None, measure: str) -> None:
    """A score or BMD read without its decimal point ('-11' in a column printed to one
    decimal, '1358' in a BMD column printed to three) and beyond any plausible value
    (an impossible value is a misread, never anatomy) gets the point back where the column
    prints it, with low confidence, marked disputed: LOW_CONFIDENCE (\"... (decimal point restored: ...)\")
    or ENGINE_DISAGREEMENT where the engines also differed. A plausible one is left alone."""
    bound = _score_bound(measure)
    if rd.value is None or not decimals or bound is None or abs(rd.value) <= bound:
        return
    p = parse_number(rd.raw)
    fixed = rd.value / 10 ** decimals
    if p is None or p.decimals != 0 or abs(fixed) > bound:
        return
    rd.value, rd.disagreement, rd.conf = round(fixed, decimals), True, min(rd.conf, 0.5)
    rd.repair = f"decimal point restored: {rd.value}"


def impossible_never_kept(rd: Reading, decimals: int | None, measure: str) -> None:
    """A T- or Z-score the vote kept although it is beyond any plausible value ('71.3' where a
    minus was read as a 7, backed by two weak readings), while some reading of the cell is
    plausible: the vote is taken again among the plausible readings alone (vote.decide). The
    cell stays disputed (ENGINE_DISAGREEMENT): the value kept can now be right, and is still
    reviewed. (A score read without its decimal point is :func:`restore_decimal`'s.)"""
    bound = _score_bound(measure)
    if measure not in SCORES or bound is None or rd.value is None or rd.repair or abs(rd.value) <= bound:
        return
    ok = [c for c in rd.candidates if c.parsed is not None and c.parsed.value is not None
          and abs(c.parsed.value) <= bound]
    if not ok:
        return
    again = decide(ok, decimals, True)
    rd.value, rd.blank, rd.raw = again.value, again.blank, again.raw
    rd.engines = tuple(sorted({e.split("+")[0] for e in again.engines}))
    rd.disagreement, rd.single, rd.sign_only, rd.conf = True, False, False, min(rd.conf, again.conf, 0.4)


@functools.cache
def _bmd_ranges() -> dict[str, tuple[float, float]]:
    rows = [r for r in reference.table("plausible_ranges") if r.get("measure") == "bmd"]
    out = {r["region"]: (float(r["low"]), float(r["high"])) for r in rows}
    out["any"] = (min(lo for lo, _ in out.values()), max(hi for _, hi in out.values()))
    return out


def bmd_range(site: str | None) -> tuple[float, float]:
    """The plausible BMD of a row (reference_data/plausible_ranges.csv): ``site`` is "vertebra",
    "L1-L4" (any spine total), "femoral_neck", "total_hip"; any other or None: the widest range
    over every site (a trochanter or Ward's row has no range of its own)."""
    ranges = _bmd_ranges()
    return ranges.get(site or "any", ranges["any"])


def plausible(measure: str, site: str | None) -> Callable[[float], bool]:
    """Whether a value of ``measure`` could be printed on a real scan of ``site`` (bmd_range;
    a T- or Z-score within the plausible bound for any region); other measures: any positive."""
    if measure == "bmd":
        lo, hi = bmd_range(site)
        return lambda v: lo <= v <= hi
    bound = _score_bound(measure)
    if bound is not None:
        return lambda v: abs(v) <= bound
    return lambda v: v > 0


def _restored(rd: Reading, decimals: int | None, lo: float, hi: float) -> float | None:
    """The value with its column's decimal point put back ('1358' -> 1.358), if that is plausible."""
    p = parse_number(rd.raw)
    if rd.value is None or not decimals or p is None or p.value is None or p.decimals != 0:
        return None
    fixed = round(abs(rd.value) / 10 ** decimals, decimals)
    return fixed if lo <= fixed <= hi else None


def _digits(x: float | str) -> str:
    text = f"{x:.6f}".rstrip("0") if isinstance(x, float) else x
    return "".join(ch for ch in text if ch.isdigit()).strip("0")


def recheck_implausible(rd: Reading, decimals: int | None, rng: tuple[float, float], looks: list[Candidate]) -> None:
    """A BMD read outside its plausible range ``rng`` is a misread, never anatomy: the cell is
    read again alone on its crop (``looks``: each engine's closer look, vote.closer_look), and a
    new value is taken only where it is plausible and backed twice over:

    - the column's decimal point restored (:func:`restore_decimal`'s repair, '1358' -> 1.358) and
      an engine that reads the crop alone exactly so: kept. Where every engine that looked read
      it so, and every reading of the cell had these digits, it is settled: a note (LOW_CONFIDENCE,
      information: "... read again on its crop alone ..."); else flagged for review (LOW_CONFIDENCE);
    - a value every engine that looked read alike (two or more engines), printed to the column's
      decimals: kept, flagged for review (LOW_CONFIDENCE, the readings named);
    - the decimal point restored, no closer look reading it: kept, flagged (LOW_CONFIDENCE, as
      restore_decimal);
    - none of these: the value stays as read and is marked a misread (``Reading.misread``),
      which valueflags flags OUT_OF_RANGE, so evaluability never takes it for anatomy.

    ``Reading.reread`` says what the closer look read. A value inside ``rng`` is left alone.
    """
    lo, hi = rng
    if rd.value is None or rd.blank or lo <= rd.value <= hi:
        return
    was = rd.raw.strip() or f"{rd.value:g}"
    fixed = _restored(rd, decimals, lo, hi)
    rd.candidates.extend(looks)
    ok = [c for c in looks if c.parsed is not None and c.parsed.value is not None and not c.parsed.blank
          and lo <= c.parsed.value <= hi and (decimals is None or c.parsed.decimals == decimals)]
    engines = {c.engine.split("+")[0] for c in looks if c.key is not None}
    said = "; ".join(f"{c.engine.split('+')[0]} {c.text.strip() or 'nothing'}" for c in looks) or "not done"
    rd.reread = f"read again on its crop alone: {said}"
    by_value: dict[float, set[str]] = {}
    for c in ok:
        by_value.setdefault(c.parsed.value, set()).add(c.engine.split("+")[0])  # type: ignore[union-attr]
    if fixed is not None and fixed in by_value:
        same_digits = all(c.parsed is None or c.parsed.value is None or _digits(c.text) == _digits(fixed)
                          for c in rd.candidates if not c.engine.endswith("+alone"))
        settled = len(engines) >= 2 and by_value[fixed] == engines and same_digits
        rd.value, rd.conf = fixed, (0.8 if settled else 0.5)
        rd.disagreement, rd.single = not settled, False
        rd.repair = f"read as {was}, outside a plausible BMD; {rd.reread}: {fixed}, its column's decimal point restored"
        return
    agreed = [v for v, es in by_value.items() if len(es) >= 2 and es == engines]
    if len(agreed) == 1:
        rd.value, rd.conf, rd.disagreement, rd.single = agreed[0], 0.5, True, False
        rd.repair = f"read as {was}, outside a plausible BMD; {rd.reread}: {agreed[0]} kept"
        return
    if fixed is not None:
        rd.value, rd.conf, rd.disagreement = fixed, min(rd.conf, 0.5), True
        rd.repair = (f"read as {was}, outside a plausible BMD: {fixed}, its column's decimal point restored "
                     f"({rd.reread}, which did not confirm it)")
        return
    rd.misread, rd.conf = True, min(rd.conf, 0.4)


def settle_by_ratio(rds: dict[str, Reading]) -> str | None:
    """Pick, for a row whose BMD, BMC and area disagree as decided, the one
    reading of a disputed cell that makes BMD = BMC / area hold.

    Only a cell the engines disagreed on changes, only to a value one of its
    own readings gave, and only if exactly one such value fits; it stays
    flagged as a disagreement (ENGINE_DISAGREEMENT or LOW_CONFIDENCE, naming the
    reading picked). Returns the measure changed, or None.
    (Not for Mean rows: a printed mean BMD is not their BMC over area.)
    """
    got = {m: rds.get(m) for m in ("bmd", "bmc", "area")}
    if any(rd is None or rd.value is None for rd in got.values()):
        return None
    vals = {m: rd.value for m, rd in got.items() if rd is not None}
    if bmd_matches(vals["bmd"], vals["bmc"], vals["area"]):  # type: ignore[arg-type]
        return None
    fits: dict[str, set[float]] = {}
    for m, rd in got.items():
        if rd is None or not rd.disagreement:
            continue
        for c in rd.candidates:
            v = c.parsed.value if c.parsed is not None else None
            if v is None or v <= 0 or v == rd.value:
                continue
            trial = {**vals, m: v}
            if bmd_matches(trial["bmd"], trial["bmc"], trial["area"]):  # type: ignore[arg-type]
                fits.setdefault(m, set()).add(v)
    if len(fits) != 1:
        return None
    (m, values), = fits.items()
    if len(values) != 1:
        return None
    rd = got[m]
    assert rd is not None
    rd.value = values.pop()
    rd.repair = f"BMC/area picked the reading {rd.value}"
    return m


def confirm_by_ratio(rds: dict[str, Reading]) -> str | None:
    """A row whose BMD, BMC or area the engines read differently, where the other two were read
    alike by both engines (not disputed, confidence at least vote.MIN_CONFIDENCE): the kept
    value is settled where it makes BMD = BMC / area hold and no other well-formed reading of
    the cell does (two other cells of the page witness it). Marks it no longer disputed
    (``Reading.settled``, a note: ENGINE_DISAGREEMENT, information). Returns the measure
    settled, or None. (Not for Mean rows: a printed mean BMD is not their BMC over area.)"""
    got = {m: rds.get(m) for m in ("bmd", "bmc", "area")}
    if any(rd is None or rd.value is None or rd.blank for rd in got.values()):
        return None
    disputed = [m for m, rd in got.items() if rd is not None and (rd.disagreement or rd.single)]
    if len(disputed) != 1:
        return None
    (m,) = disputed
    rd = got[m]
    assert rd is not None
    if rd.repair or rd.reread or rd.sign_only or any(
            o is not None and (o.single or o.conf < MIN_CONFIDENCE) for k, o in got.items() if k != m):
        return None
    vals = {k: o.value for k, o in got.items() if o is not None}
    printed = {k: parse_number(o.raw) for k, o in got.items() if o is not None}
    if any(p is None or p.value is None for p in printed.values()):
        return None
    decs = {f"d_{k}": p.decimals for k, p in printed.items() if p is not None}  # each value's own rounding
    if not bmd_matches(vals["bmd"], vals["bmc"], vals["area"], **decs):  # type: ignore[arg-type]
        return None
    kept = printed[m]
    for c in rd.candidates:
        v = c.parsed.value if c.parsed is not None else None
        if v is None or v <= 0 or v == rd.value:
            continue
        trial = {**vals, m: v}
        if bmd_matches(trial["bmd"], trial["bmc"], trial["area"], **decs):  # type: ignore[arg-type]
            return None  # another reading fits as well: the ratio cannot tell them apart
    assert kept is not None
    rd.disagreement, rd.single = False, False
    rd.conf = max(rd.conf, MIN_CONFIDENCE)
    rd.settled = f"{rd.raw.strip()} alone makes BMD = BMC / area hold for this row, as kept"
    return m


#: the measures a Mean row prints as the mean of its Left and Right rows (a T- or Z-score is
#: recomputed from the mean BMD: within a tenth either way of the scores' mean, too loose a witness)
MEAN_OF_SIDES = ("bmd", "bmc", "area")


def sure(rd: Reading | None) -> bool:
    """A reading both engines gave alike: no dispute, no repair, confidence at least vote.MIN_CONFIDENCE."""
    return (rd is not None and rd.value is not None and not rd.blank and not rd.disagreement and not rd.single
            and not rd.repair and not rd.reread and rd.conf >= MIN_CONFIDENCE)


def _is_mean_of(rd: Reading, a: Reading, b: Reading) -> bool:
    """The kept value of ``rd`` is the mean of ``a`` and ``b`` within print rounding (half a unit
    of the last printed digit for its own rounding, and half a unit for the mean of theirs),
    printed to their decimals, and no other well-formed reading of the cell is."""
    kept, pa, pb = parse_number(rd.raw), parse_number(a.raw), parse_number(b.raw)
    if kept is None or pa is None or pb is None or kept.value != rd.value or pa.value is None or pb.value is None:
        return False
    if not kept.decimals == pa.decimals == pb.decimals:
        return False  # a mean is printed like its sides: a digit lost or gained is a misread
    slack = half_unit(kept.decimals) + 0.5 * (half_unit(pa.decimals) + half_unit(pb.decimals)) + 1e-9
    centre = (pa.value + pb.value) / 2
    if abs(kept.value - centre) > slack:
        return False
    return not any(c.parsed is not None and c.parsed.value is not None and c.parsed.value != rd.value
                   and not c.parsed.blank and c.parsed.decimals == kept.decimals
                   and abs(c.parsed.value - centre) <= slack for c in rd.candidates)


def confirm_by_mean(mean: dict[str, Reading], left: dict[str, Reading], right: dict[str, Reading]) -> list[str]:
    """A Mean row's BMD, BMC or area that the engines read differently, or one engine alone,
    where the Left and Right rows' values of that measure were read alike by both engines: the
    kept value is settled where it is their mean within print rounding and no other well-formed
    reading of the cell is (two other cells of the table witness it; :func:`_is_mean_of`).
    Marks it no longer disputed (``Reading.settled``, a note). Returns the measures settled."""
    done: list[str] = []
    for m in MEAN_OF_SIDES:
        rd, a, b = mean.get(m), left.get(m), right.get(m)
        if rd is None or rd.value is None or rd.blank or not (rd.disagreement or rd.single):
            continue
        if rd.repair or rd.reread or a is None or b is None or not sure(a) or not sure(b) \
                or not _is_mean_of(rd, a, b):
            continue
        rd.disagreement, rd.single = False, False
        rd.conf = max(rd.conf, MIN_CONFIDENCE)
        rd.settled = (f"{rd.raw.strip()} is the mean of the left and right values ({a.raw.strip()}, "
                      f"{b.raw.strip()}) both engines read alike, as kept")
        done.append(m)
    return done


def restore_signs(regions: list[RegionResult]) -> SignsRestored:
    """A positive T-score that breaks its site's line, and fits it exactly once
    negated, lost its minus (a faint dash): the minus is put back, the value's
    confidence lowered and the region flagged for review (T_SCORE_INCONSISTENT, returned
    with the regions).

    Only on values read from pixels (a text layer prints what it prints), where
    at least two other rows of the site agree with each other and with the
    negated value; never more than one row per site.
    """
    out = list(regions)
    flags: list[Flag] = []
    index = {id(r): k for k, r in enumerate(regions)}
    for g in site_groups(regions):
        pts = [r for r in g if r.bmd is not None and r.t_score is not None]
        if len(pts) < SIGN_WITNESSES + 1:
            continue
        spine = g[0].region.is_spine
        line = [(r.bmd, r.t_score) for r in pts]
        if bad_pairs(line, spine) == 0:  # type: ignore[arg-type]
            continue
        fits = []
        for k, r in enumerate(pts):
            if r.t_score is None or r.t_score <= 0 or not read_from_pixels(r):
                continue
            flipped = line[:k] + [(r.bmd, -r.t_score)] + line[k + 1:]
            if bad_pairs(flipped, spine) == 0 and (r.z_score is None or r.z_score >= -r.t_score - Z_BELOW_T):  # type: ignore[arg-type]
                fits.append(r)
        if len(fits) != 1:
            continue
        r = fits[0]
        src = dict(r.sources)
        if "t_score" in src:
            old = src["t_score"]
            src["t_score"] = replace(old, confidence=min(old.confidence or 0.5, 0.5))
        fixed = r.replace(t_score=-r.t_score, sources=src)  # type: ignore[operator]
        out[index[id(r)]] = fixed
        flags.append(region_flag(FlagCode.T_SCORE_INCONSISTENT, fixed,
                           f"the T-score was read as {r.t_score}, which does not fit the BMDs and T-scores of the "
                           f"other rows of this site, and fits them as {fixed.t_score}: the minus sign was put back; "
                           "check it on the page"))
    return SignsRestored(out, flags)
