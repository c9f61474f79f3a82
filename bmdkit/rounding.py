"""What a printed number's rounding allows: one owner for the arithmetic of print rounding.

A report prints each value to a fixed number of decimals, so a printed value
stands for any exact value within half a unit of its last digit. Two rules
are built on that and used on both sides of the pipeline:

- :func:`ratio_fits`: a printed BMD can equal a printed BMC over a printed
  area (BMD = BMC / area, shared/domain/reports.md) when some exact BMC and
  area within their half-units give a ratio within the BMD's half-unit. The
  report reader uses it to choose between readings of a cell
  (:mod:`bmdkit.report.repairs`, :mod:`bmdkit.report.crosscheck`), the exam
  checks to flag a misread digit (:mod:`bmdkit.checks.consistency`);
- :func:`printed_half_unit`: the half-unit of the digits a value was printed
  with (``"15.0"`` -> 0.05), and :func:`half_units`, each measure's usual
  half-unit from ``reference_data/print_rounding.csv``.
"""

from __future__ import annotations

import re

from bmdkit import reference
from bmdkit.errors import ReferenceDataError

_NUMBER = re.compile(r"[-+]?\d+(?:[.,](\d+))?")

#: float noise allowed on top of the half-units, so that a ratio exactly on the edge fits
_EPS = 1e-12


def half_unit(decimals: int) -> float:
    """Half a unit of the last of ``decimals`` printed decimals (3 -> 0.0005)."""
    return 0.5 * 10.0 ** -decimals


def printed_half_unit(text: str | None) -> float | None:
    """Half a unit of the last digit of the first number in ``text`` ("15.0" -> 0.05, "0,812" ->
    0.0005, "12" -> 0.5); ``None`` when ``text`` holds no number."""
    m = _NUMBER.search(text or "")
    return half_unit(len(m.group(1) or "")) if m else None


def half_units() -> dict[str, float]:
    """``print_rounding.csv`` as {measure: half a unit of its usual last printed digit}; empty if
    that table is absent or unreadable (callers then fall back to their relative tolerances)."""
    try:
        return {r["measure"]: float(r["half_unit"]) for r in reference.table("print_rounding")}
    except (ReferenceDataError, KeyError, ValueError):
        return {}


def ratio_fits(bmd: float, bmc: float, area: float, hd: float, hb: float, ha: float) -> bool:
    """Some BMC within ``hb`` of ``bmc`` over some area within ``ha`` of ``area`` gives a ratio
    within ``hd`` of ``bmd``. An area no larger than its own rounding bounds nothing: it fits."""
    if area - ha <= 0:
        return True
    lo, hi = (bmc - hb) / (area + ha), (bmc + hb) / (area - ha)
    return lo <= bmd + hd + _EPS and hi >= bmd - hd - _EPS
