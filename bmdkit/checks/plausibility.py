"""Plausibility: every read value against the ranges in ``plausible_ranges.csv``.

Values outside a range are flagged (``out_of_range``, review), never dropped
or changed. Vertebral BMD and area are left to :mod:`.evaluability`, which
flags them as ``vertebra_out_of_range`` and takes the vertebra out of the
total; everything else is flagged here. A BMD, BMC or area of zero or less
is impossible whatever the table says and is flagged too.
"""

from __future__ import annotations

from bmdkit.checks.settings import CheckSettings, Range
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Method, RegionResult

_POSITIVE = ("bmd", "bmc", "area")


def range_for(r: RegionResult, measure: str, settings: CheckSettings) -> Range | None:
    """The most specific range for a region's measure: its own, ``vertebra``, then ``any``."""
    keys = [r.region.value]
    if r.region.is_vertebra:
        keys.append("vertebra")
    keys.append("any")
    for k in keys:
        rng = settings.ranges.get((k, measure))
        if rng is not None:
            return rng
    return None


def violations(r: RegionResult, settings: CheckSettings, measures: tuple[str, ...]) -> list[str]:
    """Human-readable descriptions of the measures of ``r`` outside their range."""
    return [text for _, text in _violations(r, settings, measures)]


def _violations(r: RegionResult, settings: CheckSettings, measures: tuple[str, ...]) -> list[tuple[str, str]]:
    """(measure, description) for each measure of ``r`` outside its range."""
    out: list[tuple[str, str]] = []
    for m in measures:
        v = r.value(m)
        if v is None:
            continue
        if m in _POSITIVE and v <= 0:
            out.append((m, f"{m} {v:g} is not positive"))
            continue
        rng = range_for(r, m, settings)
        if rng is not None and not (rng.low <= v <= rng.high):
            out.append((m, f"{m} {v:g} outside plausible {rng.low:g}..{rng.high:g}"))
    return out


def _in_doubt(measure: str) -> tuple[str | None, tuple[str, ...]]:
    """What an implausible value puts in doubt, as (Flag.measure, Flag.measures): a T- or Z-score
    only itself (a cell of its own); a BMD, BMC or area all three (BMD = BMC / area ties them:
    one misread may hide in another)."""
    return (None, _POSITIVE) if measure in _POSITIVE else (measure, ())


def _where(r: RegionResult) -> str:
    return r.region.value + (f" ({r.side.value})" if r.side else "")


def check_plausibility(exam: Exam, settings: CheckSettings) -> list[Flag]:
    """``out_of_range`` flags for read values (vertebral BMD/area excepted, see module doc)."""
    flags: list[Flag] = []
    for r in exam.regions:
        if r.method is Method.COMPUTED:
            continue
        measures = ("bmc", "t_score", "z_score") if r.region.is_vertebra else ("bmd", "bmc", "area", "t_score", "z_score")
        for m, text in _violations(r, settings, measures):
            one, several = _in_doubt(m)
            flags.append(Flag(FlagCode.OUT_OF_RANGE, f"{_where(r)}: {text}", region=r.region.value, side=r.side,
                              measure=one, measures=several))
    return flags
