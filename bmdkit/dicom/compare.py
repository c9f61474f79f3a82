"""Compare two readings of the same region: do they agree within print rounding?

Used inside one DICOM file (script table vs SR vs XML) and by
:mod:`bmdkit.merge` (DICOM vs the report read from the same file's pages).
A printed value may differ from an exact one by half a unit of its last
printed digit; the half-units live in ``reference_data/print_rounding.csv``.
"""

from __future__ import annotations

import functools

from bmdkit import rounding
from bmdkit.flags import FlagCode
from bmdkit.model import MEASURES, Flag, RegionResult

#: float noise allowed on top of the print half-unit
_EPS = 1e-9


@functools.lru_cache(maxsize=1)
def half_units() -> dict[str, float]:
    """measure -> half a unit of the last printed digit (:func:`bmdkit.rounding.half_units`, read once)."""
    return rounding.half_units()


def disagreements(a: RegionResult, b: RegionResult) -> list[str]:
    """Measures present in both whose values differ by more than print rounding."""
    tol = half_units()
    out = []
    for m in MEASURES:
        va, vb = a.value(m), b.value(m)
        if va is None or vb is None:
            continue
        if abs(va - vb) > tol.get(m, 0.0) + _EPS:
            out.append(m)
    return out


def region_name(r: RegionResult) -> str:
    """``femoral_neck/left`` style name for flags."""
    return r.region.value + (f"/{r.side.value}" if r.side else "")


def disagreement_flags(kept: RegionResult, other: RegionResult, what: str) -> list[Flag]:
    """SOURCES_DISAGREE flags (one per region) when ``other`` differs from ``kept``."""
    bad = disagreements(kept, other)
    if not bad:
        return []
    detail = ", ".join(f"{m} {kept.value(m)} vs {other.value(m)}" for m in bad)
    return [Flag(FlagCode.SOURCES_DISAGREE,
                 f"{region_name(kept)}: {what} disagree ({detail})", region=region_name(kept))]
