"""T-scores recomputed from (harmonized) BMD with a named reference population.

``T = (BMD − young-adult mean) / young-adult SD`` with the mean and SD from
``reference_data/reference_populations.csv``. A reference is tied to the
scanner scale it was measured on (NHANES III hip: Hologic); the BMD given
must be on that scale, so a GE Lunar BMD needs a conversion first, and
references whose scale is not stated are refused unless the caller accepts
that explicitly. Every result names the reference it used: T-scores from
different references are not comparable (shared/domain/iscd_rules.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from bmdkit import reference
from bmdkit.harmonize.sbmd import covered_vertebrae
from bmdkit.harmonize.values import Harmonized
from bmdkit.model import Region, RegionResult

TABLE = "reference_populations"
UNIT = "SD"


@dataclass(frozen=True)
class ReferenceRow:
    population: str
    sex: str
    region: str
    scale: str
    mean: float
    sd: float
    age_range: str
    source: str

    @property
    def label(self) -> str:
        return f"{self.population} {self.sex} {self.region} ({self.scale} scale, age {self.age_range})"


def populations() -> list[str]:
    """The names of the reference populations available."""
    return sorted({r["population"] for r in reference.table(TABLE)})


def find_reference(population: str, sex: str, region: str) -> ReferenceRow | None:
    for r in reference.table(TABLE):
        if r["population"] == population and r["sex"] == sex and r["region"] == region:
            return ReferenceRow(r["population"], r["sex"], r["region"], r["scale"], float(r["mean"]),
                                float(r["sd"]), r.get("age_range", ""), r["source"])
    return None


def _region_key(region: RegionResult) -> tuple[str | None, str]:
    """The table region for this result, or None with the reason."""
    if region.region is Region.SPINE_TOTAL:
        covered = covered_vertebrae(region)
        if covered and covered != "L1-L4":
            why = (f"spine total covers {covered}; the reference is for L1-L4 "
                   "(ISCD: use the reference for that combination of vertebrae)")
            return None, why
        return "L1-L4", ""
    if region.region.is_vertebra:
        return None, "no single-vertebra reference"
    return region.region.value, ""


def recompute_t(
    bmd: float | None, bmd_scale: str, region: RegionResult, population: str, sex: str | None,
    allow_unknown_scale: bool = False,
) -> Harmonized:
    """T-score of ``bmd`` (on ``bmd_scale``, a vendor value such as ``hologic``) against ``population``."""
    if bmd is None:
        return Harmonized.refused("no BMD", UNIT)
    if not sex:
        return Harmonized.refused("sex unknown: reference row cannot be chosen", UNIT)
    key, why = _region_key(region)
    if key is None:
        return Harmonized.refused(why, UNIT)
    ref = find_reference(population, sex, key)
    if ref is None:
        return Harmonized.refused(f"no {population!r} reference for {sex} {key}", UNIT)
    note = ""
    if ref.scale == "unknown":
        if not allow_unknown_scale:
            return Harmonized.refused(f"{ref.label}: scanner scale not stated by the source", UNIT)
        note = f"reference scale not stated; BMD used as given ({bmd_scale} scale)"
    elif ref.scale != bmd_scale:
        return Harmonized.refused(f"{ref.label} needs BMD on the {ref.scale} scale, got {bmd_scale}", UNIT)
    digits = int(reference.constant("t_score_decimals"))
    t = round((bmd - ref.mean) / ref.sd, digits)
    return Harmonized(value=t, unit=UNIT, equation_set=ref.label, source=ref.source, note=note)
