"""SR shapes whose concept name is the measurement (LOINC-style), with site and side in modifiers.

The concept name is a LOINC long common name ("DXA Lumbar spine [Mass/Area]
Bone density", "DXA Femur - left [T-score] Bone density"; edc.md LOINC
table), coded LN where edc.md has the code. LOINC has no per-vertebra and no
femoral-neck code (edc.md), so the exact site comes in child items:
Finding Site (SNOMED CT where edc.md has the code, text otherwise) and
Laterality, related by HAS CONCEPT MOD. Development variants:

=============  ===============================================================
``mod``        sided names ("DXA Femur - left"), Finding Site HAS CONCEPT MOD,
               units {T-score} / {Z-score}
``lat``        unsided names ("DXA Femur"), Laterality as its own HAS CONCEPT
               MOD (SNOMED code), scores with UCUM unit ``1``
``unitless``   scores with no unit at all; Finding Site as TEXT; spine totals
               named by their range in the Finding Site ("L2-L4")
=============  ===============================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from bmdkit.samples.dicom_kinds.sr import code_item, num_item, write_sr
from bmdkit.samples.truth import TruthExam, TruthRegion

#: LOINC codes and long names (edc.md LOINC table); other names are written with local codes
_SITE_NAME = {"spine": "Lumbar spine", "femur": "Femur", "hip": "Hip"}
_PROPERTY = {"bmd": "[Mass/Area] Bone density", "t_score": "[T-score] Bone density",
             "z_score": "[Z-score] Bone density", "bmc": "[Mass] Bone mineral content",
             "area": "[Area] Projected area"}
_LOINC = {("Lumbar spine", None, "bmd"): "24966-4", ("Lumbar spine", None, "t_score"): "38267-1",
          ("Lumbar spine", None, "z_score"): "85394-5",
          ("Femur", "left", "bmd"): "80954-1", ("Femur", "left", "t_score"): "80948-3",
          ("Femur", "left", "z_score"): "80940-0", ("Femur", "right", "bmd"): "80953-3",
          ("Femur", "right", "t_score"): "80947-5", ("Femur", "right", "z_score"): "80939-2",
          ("Femur", None, "bmd"): "24701-5", ("Femur", None, "t_score"): "38263-0",
          ("Femur", None, "z_score"): "80934-3",
          ("Hip", "left", "bmd"): "46278-8", ("Hip", "left", "t_score"): "80946-7",
          ("Hip", "left", "z_score"): "80938-4", ("Hip", "right", "bmd"): "46279-6",
          ("Hip", "right", "t_score"): "80945-9", ("Hip", "right", "z_score"): "80937-6",
          ("Hip", None, "bmd"): "38261-4", ("Hip", None, "t_score"): "38264-8",
          ("Hip", None, "z_score"): "80933-5"}
#: Finding Site values: SNOMED CT (edc.md) where known, else None (written as TEXT)
_FINDING_SITE = {"L1": ("66794005", "First lumbar vertebra"), "L2": ("14293000", "Second lumbar vertebra"),
                 "L3": ("36470004", "Third lumbar vertebra"), "L4": ("11994002", "Fourth lumbar vertebra"),
                 "femoral_neck": ("29627003", "Neck of femur"), "trochanter": (None, "Greater trochanter"),
                 "intertrochanter": (None, "Intertrochanteric region"), "wards": (None, "Ward's triangle")}
_LATERALITY = {"left": ("7771000", "Left"), "right": ("24028007", "Right"), "mean": (None, "Mean of both")}
_UNITS = {"bmd": ("g/cm2", "UCUM", "g/cm2"), "bmc": ("g", "UCUM", "g"), "area": ("cm2", "UCUM", "cm2")}


def _modifier(concept: tuple[str, str, str], value: tuple[str | None, str], as_text: bool = False) -> Dataset:
    it = Dataset()
    it.RelationshipType = "HAS CONCEPT MOD"
    it.ConceptNameCodeSequence = [code_item(*concept)]
    if as_text or value[0] is None:
        it.ValueType = "TEXT"
        it.TextValue = value[1]
    else:
        it.ValueType = "CODE"
        it.ConceptCodeSequence = [code_item(value[0], "SCT", value[1])]
    return it


FINDING_SITE = ("363698007", "SCT", "Finding Site")
LATERALITY = ("272741003", "SCT", "Laterality")


def _site_of(r: TruthRegion) -> str:
    if r.region.startswith("L"):
        return "Lumbar spine"
    return "Hip" if r.region == "total_hip" else "Femur"


def _score_unit(variant: str, measure: str) -> tuple[str, str, str] | None:
    if variant == "mod":
        return ("{T-score}", "UCUM", "T-score") if measure == "t_score" else ("{Z-score}", "UCUM", "Z-score")
    if variant == "lat":
        return ("1", "UCUM", "no units")
    return None


def loinc_items(truth: TruthExam, variant: str) -> list[Dataset]:
    """NUM items of one variant (see the module table)."""
    items = []
    for r in truth.regions:
        site = _site_of(r)
        named_side = r.side if variant == "mod" and r.side in ("left", "right") else None
        for m in ("bmd", "bmc", "area", "t_score", "z_score"):
            v = getattr(r, m)
            if v is None:
                continue
            side_txt = f" - {named_side}" if named_side else ""
            name = f"DXA {site}{side_txt} {_PROPERTY[m]}"
            loinc = _LOINC.get((site, named_side, m))
            unit = _UNITS.get(m) or _score_unit(variant, m)
            item = num_item(name, v, unit or ("", "", ""), (loinc, "LN") if loinc else None)
            if unit is None:
                del item.MeasuredValueSequence[0].MeasurementUnitsCodeSequence
            mods = []
            if r.region in _FINDING_SITE:
                mods.append(_modifier(FINDING_SITE, _FINDING_SITE[r.region], as_text=variant == "unitless"))
            elif r.region == "L1-L4" and r.label and r.label != "L1-L4":
                mods.append(_modifier(FINDING_SITE, (None, f"Lumbar spine {r.label}")))
            if r.side and not named_side:
                mods.append(_modifier(LATERALITY, _LATERALITY[r.side]))
            if mods:
                item.ContentSequence = mods
            items.append(item)
    return items


def write_sr_loinc(truth: TruthExam, path: Path, variant: str = "mod") -> dict[str, Any]:
    """An Enhanced SR of one variant; ground truth: every truth region, exactly."""
    return write_sr(truth, path, "flat", charset="ISO_IR 192", content=loinc_items(truth, variant),
                    title=("83311-1", "LN", "Bone density quantitative measurement by DXA panel"),
                    kind=f"sr_loinc_{variant}")
