"""Plain words for flag messages: what a site coordinator should look at on the page.

``place(region, side)`` -> "the left total hip", "L2", "the L1-L4 total";
``measure_word("t_score")`` -> "T-score". Messages say what was read and what
to check, never a raw list of OCR outputs.
"""

from __future__ import annotations

import re

from bmdkit.model import Region, Side

_MEASURES = {"bmd": "BMD", "bmc": "BMC", "area": "area", "t_score": "T-score", "z_score": "Z-score"}
_REGIONS = {
    Region.SPINE_TOTAL: "lumbar spine total", Region.FEMORAL_NECK: "femoral neck",
    Region.TOTAL_HIP: "total hip", Region.TROCHANTER: "trochanter", Region.INTERTROCHANTER: "intertrochanter",
    Region.WARDS: "Ward's triangle", Region.UPPER_NECK: "upper neck", Region.SHAFT: "shaft",
}
_SIDES = {Side.LEFT: "left", Side.RIGHT: "right", Side.MEAN: "mean of both hips'"}


def measure_word(measure: str) -> str:
    return _MEASURES.get(measure, measure.replace("_", " "))


def place(region: Region, side: Side | None = None, label: str | None = None) -> str:
    """Where on the report: 'the right total hip', 'L3', 'the lumbar spine total (L2-L4)'."""
    if region.is_vertebra:
        return region.value
    name = _REGIONS.get(region, region.value.replace("_", " "))
    if region is Region.SPINE_TOTAL and label and re.search(r"L\d", label) and label.strip() != region.value:
        name += f" ({label.strip()})"
    if side is Side.MEAN:
        return f"the {name} (mean of both hips)"
    return f"the {_SIDES[side]} {name}" if side is not None else f"the {name}"


def opening(text: str) -> str:
    """``text`` as the start of a message: its first letter capitalised ('the left total hip' ->
    'The left total hip'), the rest as it is (a region code such as 'L3' stays)."""
    return text[:1].upper() + text[1:]


def value_text(v: float | None, raw: str | None = None) -> str:
    """A reading as printed ('-1.1'), or 'nothing readable'."""
    if raw and raw.strip():
        return raw.strip()
    return "nothing readable" if v is None else f"{v:g}"
