"""Pairwise conversion between vendors, and in vivo cross-calibration from paired scans.

Published pairwise equations (Genant 1994, spine) are separate regressions
per direction: bmdkit uses the row for the direction asked and never
inverts one. Where no pairwise equation exists (e.g. femoral neck, or any
equation derived in a Chinese population) the conversion is refused,
unless the caller explicitly asks to bridge through sBMD (vendor A → sBMD →
vendor B by inverting B's sBMD equation, a practice seen in published
analysis code); the bridge is then named in the result.

:func:`fit_pairs_csv` fits a site's own conversion from a CSV of patients
scanned on two machines (ISCD in vivo cross-calibration) by Deming
regression, and returns it as a pairwise-table row with its uncertainty.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bmdkit.errors import ConfigError
from bmdkit.harmonize.deming import DemingFit, deming
from bmdkit.harmonize.equations import DEFAULT_STATUSES, find_pairwise, find_sbmd
from bmdkit.harmonize.sbmd import join_notes, model_note, region_note
from bmdkit.harmonize.values import Harmonized
from bmdkit.model import Region, RegionResult, Vendor

UNIT = "g/cm2"
MAX_PAIR_ROWS = 100_000


def to_vendor(
    bmd: float | None, from_vendor: Vendor, to_vendor_: Vendor, region: RegionResult | Region,
    equation_set: str | None = None, statuses: frozenset[str] = DEFAULT_STATUSES,
    via_sbmd: bool = False, sbmd_set: str | None = None, scanner_model: str | None = None,
) -> Harmonized:
    """``bmd`` (g/cm²) of ``from_vendor`` expressed on ``to_vendor_``'s scale, or a refusal.

    Examples
    --------
    >>> round(to_vendor(1.0, Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.SPINE_TOTAL).value, 3)
    0.881
    >>> to_vendor(0.8, Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.FEMORAL_NECK).ok
    False
    """
    reg = region if isinstance(region, Region) else region.region
    if bmd is None:
        return Harmonized.refused("no BMD", UNIT)
    if from_vendor is Vendor.UNKNOWN:
        return Harmonized.refused("vendor unknown: no conversion can be chosen", UNIT)
    if from_vendor is to_vendor_:
        return Harmonized(value=bmd, unit=UNIT, equation_set="identity", source="same vendor")
    eq = find_pairwise(from_vendor, to_vendor_, reg, "bmd", equation_set, statuses)
    if eq is not None:
        return Harmonized(value=eq.apply(bmd), unit=eq.unit, equation_set=eq.label, source=eq.source,
                          note=join_notes(region_note(region, eq.derived_region),
                                     model_note(eq.derived_on, scanner_model)))
    if via_sbmd:
        a = find_sbmd(from_vendor, reg, sbmd_set, statuses)
        b = find_sbmd(to_vendor_, reg, sbmd_set, statuses)
        if a is not None and b is not None:
            note = f"bridged through sBMD ({a.label}): no pairwise equation exists for this region"
            return Harmonized(value=b.invert(a.apply(bmd)), unit=UNIT,
                              equation_set=f"{a.label} via sBMD", source=a.source,
                              note=join_notes(note, region_note(region, a.derived_region),
                                         model_note(a.derived_on, scanner_model)))
    return Harmonized.refused(
        f"no pairwise equation {from_vendor.value} -> {to_vendor_.value} for {reg.value}"
        + (" (sBMD bridge not allowed)" if not via_sbmd else ""), UNIT)


def read_pairs_csv(path: Path, x_col: str, y_col: str) -> tuple[list[float], list[float]]:
    """Paired BMDs from a CSV (one patient per row); rows with a blank in either column are skipped."""
    xs: list[float] = []
    ys: list[float] = []
    with Path(path).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or x_col not in reader.fieldnames or y_col not in reader.fieldnames:
            raise ConfigError(f"columns {x_col!r} and {y_col!r} are required", str(path))
        for lineno, row in enumerate(reader, start=2):
            if lineno > MAX_PAIR_ROWS:
                raise ConfigError(f"more than {MAX_PAIR_ROWS} rows", str(path))
            xt, yt = (row.get(x_col) or "").strip(), (row.get(y_col) or "").strip()
            if not xt or not yt:
                continue
            try:
                xs.append(float(xt))
                ys.append(float(yt))
            except ValueError as exc:
                raise ConfigError(f"row {lineno}: not a number", str(path)) from exc
    return xs, ys


def fit_pairs_csv(
    path: Path, x_col: str, y_col: str, delta: float = 1.0, min_pairs: int = 30,
) -> DemingFit:
    """Deming fit of ``y_col`` on ``x_col``; fewer than ``min_pairs`` is refused.

    ``min_pairs`` defaults to 30, the in vivo cross-calibration size given in
    shared/domain/crosscal.md (the ISCD text itself was not read; configurable).
    """
    xs, ys = read_pairs_csv(path, x_col, y_col)
    if len(xs) < min_pairs:
        raise ConfigError(f"only {len(xs)} complete pairs; at least {min_pairs} are required", str(path))
    return deming(xs, ys, delta)


def fit_as_row(
    fit: DemingFit, equation_set: str, version: str, from_vendor: Vendor, to_vendor_: Vendor,
    region: str, derived_on: str, source: str,
) -> dict[str, str]:
    """A site fit as a row for a custom pairwise table (status ``site_fit``; opt in to apply it)."""
    return {
        "equation_set": equation_set, "version": version, "measure": "bmd",
        "from_vendor": from_vendor.value, "to_vendor": to_vendor_.value, "region": region,
        "derived_region": region, "slope": f"{fit.slope:.6g}", "intercept": f"{fit.intercept:.6g}",
        "unit": UNIT, "derived_on": derived_on, "status": "site_fit", "source": source,
        "verified": f"Deming fit n={fit.n}, SE slope {fit.se_slope:.3g}, SE intercept {fit.se_intercept:.3g}",
    }
