"""DICOM Structured Reports of DXA results: content-item builders and three development shapes.

Shapes: ``flat`` (Enhanced SR, LOINC codes where edc.md has them), ``nested``
(site > region containers) and ``zh`` (Chinese, side > region containers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from bmdkit.samples.dicom_kinds.base import COMPREHENSIVE_SR, ENHANCED_SR, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _status, _truth_dict, file_regions
from bmdkit.samples.dicom_kinds.hologic_script import _HIP_LABEL
from bmdkit.samples.truth import TruthExam, TruthRegion


def code_item(value: str, scheme: str, meaning: str) -> Dataset:
    c = Dataset()
    c.CodeValue = value
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = meaning
    return c


def container(meaning: str, children: Sequence[Dataset], code: tuple[str, str] = ("", "99BMD"),
              rel: str = "CONTAINS") -> Dataset:
    it = Dataset()
    it.RelationshipType = rel
    it.ValueType = "CONTAINER"
    it.ConceptNameCodeSequence = [code_item(code[0] or _local_code(meaning), code[1], meaning)]
    it.ContinuityOfContent = "SEPARATE"
    it.ContentSequence = list(children)
    return it


def num_item(meaning: str, value: float, unit: tuple[str, str, str],
             code: tuple[str, str] | None = None) -> Dataset:
    it = Dataset()
    it.RelationshipType = "CONTAINS"
    it.ValueType = "NUM"
    cv, scheme = code if code else (_local_code(meaning), "99BMD")
    it.ConceptNameCodeSequence = [code_item(cv, scheme, meaning)]
    mv = Dataset()
    mv.NumericValue = repr(value) if abs(value) < 1e6 else str(value)
    mv.MeasurementUnitsCodeSequence = [code_item(unit[0], unit[1], unit[2])]
    it.MeasuredValueSequence = [mv]
    return it


def text_item(meaning: str, value: str) -> Dataset:
    it = Dataset()
    it.RelationshipType = "CONTAINS"
    it.ValueType = "TEXT"
    it.ConceptNameCodeSequence = [code_item(_local_code(meaning), "99BMD", meaning)]
    it.TextValue = value
    return it


def coded_item(meaning: str, value_meaning: str) -> Dataset:
    it = Dataset()
    it.RelationshipType = "CONTAINS"
    it.ValueType = "CODE"
    it.ConceptNameCodeSequence = [code_item(_local_code(meaning), "99BMD", meaning)]
    it.ConceptCodeSequence = [code_item(_local_code(value_meaning), "99BMD", value_meaning)]
    return it


def _local_code(meaning: str) -> str:
    return "BMD" + str(sum(ord(ch) * (i + 1) for i, ch in enumerate(meaning)) % 99991)


UNITS = {"bmd": ("g/cm2", "UCUM", "g/cm2"), "bmc": ("g", "UCUM", "g"),
         "area": ("cm2", "UCUM", "cm2"), "t_score": ("{T-score}", "UCUM", "T-score"),
         "z_score": ("{Z-score}", "UCUM", "Z-score")}
_EN_MEASURE = {"bmd": "Bone Mineral Density", "bmc": "Bone Mineral Content", "area": "Area",
               "t_score": "T-score", "z_score": "Z-score"}
_ZH_MEASURE = {"bmd": "骨密度", "bmc": "骨矿含量", "area": "面积", "t_score": "T值", "z_score": "Z值"}
_ZH_REGION = {"L1": "第1腰椎", "L2": "第2腰椎", "L3": "第3腰椎", "L4": "第4腰椎",
              "femoral_neck": "股骨颈", "total_hip": "全髋", "trochanter": "大转子",
              "intertrochanter": "转子间", "wards": "Ward三角"}
_ZH_SIDE = {"left": "左侧股骨", "right": "右侧股骨", "mean": "双侧平均"}
_EN_SIDE_REGION = {"femoral_neck": "Femoral Neck", "total_hip": "Total Hip", "trochanter": "Trochanter",
                   "intertrochanter": "Intertrochanteric", "wards": "Ward's"}
#: LOINC codes from edc.md, used where the table names them (spine total; sided total hip)
_LOINC = {("L1-L4", None, "bmd"): "24966-4", ("L1-L4", None, "t_score"): "38267-1",
          ("L1-L4", None, "z_score"): "85394-5",
          ("total_hip", "left", "bmd"): "46278-8", ("total_hip", "left", "t_score"): "80946-7",
          ("total_hip", "left", "z_score"): "80938-4", ("total_hip", "right", "bmd"): "46279-6",
          ("total_hip", "right", "t_score"): "80945-9", ("total_hip", "right", "z_score"): "80937-6"}


def _measures(r: TruthRegion) -> list[tuple[str, float]]:
    return [(m, getattr(r, m)) for m in ("bmd", "bmc", "area", "t_score", "z_score")
            if getattr(r, m) is not None]


def sr_content(truth: TruthExam, shape: str) -> list[Dataset]:
    """Content items for one of the development SR shapes: flat, nested, zh."""
    if shape == "flat":
        items = []
        for r in truth.regions:
            if r.region.startswith("L") and r.region != "L1-L4":
                name = r.region
            elif r.region == "L1-L4":
                name = f"Lumbar Spine {r.label}"
            else:
                name = f"{r.side.capitalize()} {_EN_SIDE_REGION[r.region]}"  # type: ignore[union-attr]
            for m, v in _measures(r):
                loinc = _LOINC.get((r.region, r.side, m))
                items.append(num_item(f"{name} {m.replace('_', '-').upper() if m in ('bmd', 'bmc') else _EN_MEASURE[m]}",
                                      v, UNITS[m], (loinc, "LN") if loinc else None))
            if r.evaluable is False:
                items.append(text_item(f"{r.region} Status", "Excluded"))
        return items
    if shape == "nested":
        if truth.scan_type == "spine":
            kids = []
            for r in truth.regions:
                name = r.region if r.region != "L1-L4" else r.label
                body = [num_item(_EN_MEASURE[m], v, UNITS[m]) for m, v in _measures(r)]
                if r.evaluable is not None:
                    body.append(coded_item("Included in Total", "Yes" if r.evaluable else "No"))
                kids.append(container(name, body))
            return [container("AP Spine", kids)]
        sides: dict[str, list[Dataset]] = {}
        for r in truth.regions:
            body = [num_item(_EN_MEASURE[m], v, UNITS[m]) for m, v in _measures(r)]
            sides.setdefault(r.side or "", []).append(container(_HIP_LABEL[r.region], body))
        return [container(f"{s.capitalize()} Femur", kids) for s, kids in sides.items()]
    if shape == "zh":
        if truth.scan_type == "spine":
            kids = []
            for r in truth.regions:
                name = _ZH_REGION[r.region] if r.region != "L1-L4" else f"腰椎 {r.label}"
                body = [num_item(_ZH_MEASURE[m], v, UNITS[m]) for m, v in _measures(r)]
                if r.evaluable is False:
                    body.append(text_item("备注", "排除"))
                kids.append(container(name, body))
            return [container("腰椎", kids)]
        sides = {}
        for r in truth.regions:
            body = [num_item(_ZH_MEASURE[m], v, UNITS[m]) for m, v in _measures(r)]
            sides.setdefault(r.side or "", []).append(container(_ZH_REGION[r.region], body))
        return [container(_ZH_SIDE[s], kids) for s, kids in sides.items()]
    raise ValueError(f"unknown SR shape {shape!r}")


def write_sr(truth: TruthExam, path: Path, shape: str, charset: Any = "ISO_IR 192",
             content: list[Dataset] | None = None, sop_class: str | None = None,
             title: tuple[str, str, str] = ("BMD-RPT", "99BMD", "Bone Densitometry Report"),
             kind: str | None = None) -> dict[str, Any]:
    sop = sop_class or (ENHANCED_SR if shape == "flat" else COMPREHENSIVE_SR)
    ds = base_dataset(truth, sop, "SR", "sr" + shape, charset=charset)
    ds.SeriesDescription = "DXA Results"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.ConceptNameCodeSequence = [code_item(*title)]
    ds.ContentSequence = content if content is not None else sr_content(truth, shape)
    _write(ds, path)
    return _truth_dict(path, kind or f"sr_{shape}", truth, file_regions(truth), _status(truth),
                       None, charset, truth.patient.name_zh)
