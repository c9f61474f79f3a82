"""Standardized BMD (sBMD, mg/cm²) from a vendor's BMD, by a named equation set.

Units matter: the Hui 1997 spine equations as published give the g/cm²
scale and the hip/neck equations carry the factor 1000; the table's
``scale`` column makes every row return mg/cm², so callers never mix them.
"""

from __future__ import annotations

from bmdkit.harmonize.equations import DEFAULT_STATUSES, find_sbmd
from bmdkit.harmonize.values import Harmonized
from bmdkit.model import Region, RegionResult, Vendor

UNIT = "mg/cm2"


def covered_vertebrae(region: RegionResult) -> str:
    """What a spine total covers, e.g. ``L1-L4`` or ``L1+L3``, from its vertebrae or label."""
    if region.vertebrae:
        nums = [int(v.value[1]) for v in region.vertebrae]
        if nums == list(range(nums[0], nums[-1] + 1)):
            return f"L{nums[0]}-L{nums[-1]}"
        return "+".join(v.value for v in region.vertebrae)
    return (region.label or "").replace(" ", "").upper()


def region_note(region: RegionResult | Region, derived_region: str) -> str:
    """A caveat when the spine total covers other vertebrae than the equation was fit on."""
    if isinstance(region, Region) or region.region is not Region.SPINE_TOTAL or not derived_region:
        return ""
    covered = covered_vertebrae(region) or "spine total (vertebrae not stated)"
    if covered != derived_region.upper():
        return f"equation derived on {derived_region}, applied to {covered}"
    return ""


def model_note(derived_on: str, scanner_model: str | None) -> str:
    """A caveat when the scan's model is not among those the equation was derived on.

    The published sBMD and pairwise equations came from pencil-beam models;
    on newer fan-beam models residual differences remain (Fan 2010: 4.1 %
    at L1-L4 after sBMD), so the model gap is stated beside the value.
    """
    model = (scanner_model or "").strip()
    if not model or not derived_on:
        return ""
    squash = "".join(ch for ch in derived_on.casefold() if ch.isalnum())
    if "".join(ch for ch in model.casefold() if ch.isalnum()) in squash:
        return ""
    return f"derived on {derived_on}, not {model}"


def join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def to_sbmd(
    bmd: float | None, vendor: Vendor, region: RegionResult | Region,
    equation_set: str | None = None, statuses: frozenset[str] = DEFAULT_STATUSES,
    scanner_model: str | None = None,
) -> Harmonized:
    """sBMD in mg/cm² for one BMD (g/cm²), or a refusal saying why.

    Examples
    --------
    >>> round(to_sbmd(1.000, Vendor.GE_LUNAR, Region.TOTAL_HIP).value, 1)
    948.0
    >>> round(to_sbmd(0.972, Vendor.HOLOGIC, Region.SPINE_TOTAL).value, 1)
    1043.6
    """
    reg = region if isinstance(region, Region) else region.region
    if bmd is None:
        return Harmonized.refused("no BMD", UNIT)
    if vendor is Vendor.UNKNOWN:
        return Harmonized.refused("vendor unknown: no sBMD equation can be chosen", UNIT)
    eq = find_sbmd(vendor, reg, equation_set, statuses)
    if eq is None:
        return Harmonized.refused(
            f"no sBMD equation for {vendor.value} {reg.value}"
            + (f" in set {equation_set}" if equation_set else ""), UNIT)
    return Harmonized(
        value=eq.apply(bmd), unit=eq.output_unit, equation_set=eq.label, source=eq.source,
        note=join_notes(region_note(region, eq.derived_region), model_note(eq.derived_on, scanner_model)),
    )
