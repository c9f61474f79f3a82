"""Is what the DICOM data gave enough to skip reading the burned-in page?

When a file's own data (script table, vendor XML, SR) gives the results,
OCR of its report page adds seconds and no value, so it is skipped by
default. The page is still read (as a cross-check) when the data is
incomplete or inconsistent; this module says which, in words:

- a source disagreed with another or with itself, or left result-like values
  unplaced (a flag says so);
- a region lacks BMD (and T-score), the value the trial needs;
- a spine scan lacks its total, or a hip side lacks the femoral neck or the
  total hip.
"""

from __future__ import annotations

from bmdkit.flags import FlagCode
from bmdkit.model import Flag, Region, RegionResult, Side

#: flags that say the DICOM data is inconsistent or partly not understood
_DOUBT = frozenset({FlagCode.SOURCES_DISAGREE, FlagCode.UNPLACED_DATA})
#: regions every hip side shown must have (the trial's hip results)
_HIP_NEEDS = (Region.FEMORAL_NECK, Region.TOTAL_HIP)


def gaps(regions: list[RegionResult], flags: list[Flag]) -> list[str]:
    """Why the DICOM values are not enough on their own (empty: they are)."""
    out = [f"{f.code.value}: {f.message[:80]}" for f in flags if f.code in _DOUBT]
    if not regions:
        return out + ["no values in the DICOM data"]
    for r in regions:
        if r.bmd is None and r.t_score is None:
            out.append(f"{r.region.value} has neither BMD nor T-score")
    keys = {r.key for r in regions}
    if any(r.region.is_vertebra for r in regions) and (Region.SPINE_TOTAL, None) not in keys:
        out.append("vertebrae without the spine total")
    sides = {r.side for r in regions if r.region.is_hip and r.side in (Side.LEFT, Side.RIGHT)}
    for side in sorted(sides, key=lambda s: s.value):
        for need in _HIP_NEEDS:
            if (need, side) not in keys:
                out.append(f"{side.value} hip without {need.value}")
    return out
