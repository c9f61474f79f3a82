"""Held-out shapes for issue 20 (SR read by meaning, nested-element XML): never developed against.

The reader was developed on ``bmdkit/samples/dicom_kinds/sr_loinc.py`` and
``xml_nested.py``. These shapes were written afterwards and run once to
measure; each differs from every development variant in ways a reader must
survive:

=====================  ===========================================================
ho_sr_obs_context      one CONTAINER per region; site and side as HAS OBS CONTEXT
                       siblings (Finding Site TEXT "Left femoral neck", Target
                       Region "L3"); NUMs named by LOINC long names with no code;
                       scores in UCUM "1" with unit text "T-Score"/"Z-Score";
                       BMD unit meaning "gram per square centimeter"
ho_sr_nested_mod       Finding Site CODE (SNOMED) with Laterality nested *beneath*
                       it; scores with no unit; unsided "DXA Hip" for the total
                       hip, "DXA Lumbar spine" + Finding Site "L1 to L4" / range
ho_xml_prefixed        a prefixed namespace (``d:``), RegionName + Laterality
                       child elements, measures as ``<d:Value type="BMD">``, a
                       UTF-8 BOM and an ISO-8859-1 encoding declaration, VR UN in
                       an explicit-VR file
ho_xml_grand_attr      side on the grandparent (``<Hip side="R">``), region label
                       on the parent, measures in ``<Measure name="TScore">``
                       two levels down; spine in ``<Vertebra id="L2">``
=====================  ===========================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from bmdkit.samples import dicom_gen as g
from bmdkit.samples.dicom_kinds.sr import code_item
from bmdkit.samples.truth import TruthExam, TruthRegion

HELDOUT_MEANING_KINDS = ("ho_sr_obs_context", "ho_sr_nested_mod", "ho_xml_prefixed", "ho_xml_grand_attr")

_SITE_TEXT = {"L1": "L1", "L2": "L2", "L3": "L3", "L4": "L4", "femoral_neck": "femoral neck",
              "total_hip": "total hip", "trochanter": "trochanter", "intertrochanter": "intertrochanteric region",
              "wards": "Ward's triangle"}
_LONG = {"bmd": "[Mass/Area] Bone density", "t_score": "[T-score] Bone density",
         "z_score": "[Z-score] Bone density", "bmc": "[Mass] Bone mineral content", "area": "[Area] Projected area"}


def _item(rel: str, vt: str, name: tuple[str, str, str]) -> Dataset:
    it = Dataset()
    it.RelationshipType = rel
    it.ValueType = vt
    it.ConceptNameCodeSequence = [code_item(*name)]
    return it


def _num(name: str, value: float, unit: tuple[str, str, str] | None) -> Dataset:
    it = _item("CONTAINS", "NUM", ("L-" + str(abs(hash(name)) % 9999), "99LOCAL", name))
    mv = Dataset()
    mv.NumericValue = repr(value)
    if unit:
        mv.MeasurementUnitsCodeSequence = [code_item(*unit)]
    it.MeasuredValueSequence = [mv]
    return it


def _measures(r: TruthRegion) -> list[tuple[str, float]]:
    return [(m, getattr(r, m)) for m in ("bmd", "bmc", "area", "t_score", "z_score") if getattr(r, m) is not None]


def _site(r: TruthRegion) -> str:
    return "Lumbar spine" if r.region.startswith("L") else ("Hip" if r.region == "total_hip" else "Femur")


def ho_sr_obs_context(truth: TruthExam, path: Path) -> dict[str, Any]:
    units = {"bmd": ("g/cm2", "UCUM", "gram per square centimeter"), "bmc": ("g", "UCUM", "gram"),
             "area": ("cm2", "UCUM", "square centimeter"), "t_score": ("1", "UCUM", "T-Score"),
             "z_score": ("1", "UCUM", "Z-Score")}
    groups = []
    for r in truth.regions:
        grp = _item("CONTAINS", "CONTAINER", ("125007", "DCM", "Measurement Group"))
        grp.ContinuityOfContent = "SEPARATE"
        kids = []
        site = _item("HAS OBS CONTEXT", "TEXT", ("123014", "DCM", "Target Region"))
        if r.region == "L1-L4":
            site.TextValue = r.label or "L1-L4"
        else:
            site.TextValue = (f"{r.side.capitalize()} " if r.side else "") + _SITE_TEXT[r.region]
        kids.append(site)
        for m, v in _measures(r):
            kids.append(_num(f"DXA {_site(r)} {_LONG[m]}", v, units[m]))
        grp.ContentSequence = kids
        groups.append(grp)
    return g.write_sr(truth, path, "flat", charset="ISO_IR 192", content=groups, kind="ho_sr_obs_context",
                      sop_class=g.COMPREHENSIVE_SR)


def ho_sr_nested_mod(truth: TruthExam, path: Path) -> dict[str, Any]:
    snomed = {"L1": "66794005", "L2": "14293000", "L3": "36470004", "L4": "11994002", "femoral_neck": "29627003"}
    items = []
    for r in truth.regions:
        for m, v in _measures(r):
            unit = {"bmd": ("g/cm2", "UCUM", "g/cm2"), "bmc": ("g", "UCUM", "g"),
                    "area": ("cm2", "UCUM", "cm2")}.get(m)
            num = _num(f"DXA {_site(r)} {_LONG[m]}", v, unit)
            mods = []
            fs = _item("HAS CONCEPT MOD", "CODE", ("G-C0E3", "SRT", "Finding Site"))
            if r.region in snomed:
                fs.ConceptCodeSequence = [code_item(snomed[r.region], "SCT", "")]
            elif r.region == "L1-L4":
                fs.ValueType = "TEXT"
                fs.TextValue = (r.label or "L1-L4").replace("-", " to ")
            elif r.region == "total_hip":
                fs = None  # "DXA Hip" names the total hip on its own
            else:
                fs.ValueType = "TEXT"
                fs.TextValue = _SITE_TEXT[r.region]
            if r.side:
                lat = _item("HAS CONCEPT MOD", "CODE", ("G-C171", "SRT", "Laterality"))
                lat.ConceptCodeSequence = [code_item({"left": "7771000", "right": "24028007"}.get(r.side, "X"),
                                                     "SCT", "" if r.side != "mean" else "Mean")]
                if fs is not None:
                    fs.ContentSequence = [lat]
                else:
                    mods.append(lat)
            if fs is not None:
                mods.insert(0, fs)
            if mods:
                num.ContentSequence = mods
            items.append(num)
    return g.write_sr(truth, path, "flat", charset="ISO_IR 192", content=items, kind="ho_sr_nested_mod")


def _xml_name(r: TruthRegion) -> str:
    return r.label if r.region == "L1-L4" else {"femoral_neck": "Neck", "total_hip": "Total", "trochanter": "Troch",
                                                  "intertrochanter": "Inter", "wards": "Wards"}.get(r.region, r.region)


_TAGS = {"bmd": "BMD", "bmc": "BMC", "area": "Area", "t_score": "T-Score", "z_score": "Z-Score"}


def _write_xml_object(truth: TruthExam, path: Path, body: bytes, kind: str, as_un: bool) -> dict[str, Any]:
    ds = g.base_dataset(truth, g.SC, "OT", kind, charset="ISO_IR 100", chinese_name=False)
    ds.Manufacturer = "HOLOGIC"
    blk = ds.private_block(0x0033, "HOLOGIC DXA 2", create=True)
    if len(body) % 2:
        body += b" "
    if as_un:
        ds.add(DataElement(blk.get_tag(0x05), "UN", body))
    else:
        blk.add_new(0x05, "LT", body.decode("latin-1"))
    g._add_pixels(ds, g.scan_image(truth, rgb=False))
    g._write(ds, path)
    return g._truth_dict(path, kind, truth, g.file_regions(truth), "extracted", None, "ISO_IR 100",
                         truth.patient.name_pinyin)


def ho_xml_prefixed(truth: TruthExam, path: Path) -> dict[str, Any]:
    out = ['<?xml version="1.0" encoding="ISO-8859-1"?>',
           '<d:Report xmlns:d="http://example.org/dxa/2"><d:Results>']
    for r in truth.regions:
        lat = f"<d:Laterality>{r.side.capitalize()}</d:Laterality>" if r.side else ""
        vals = "".join(f'<d:Value type="{_TAGS[m]}">{g._fmt(v, g._dec(m))}</d:Value>' for m, v in _measures(r))
        inc = "" if r.evaluable is None else f"<d:Included>{'Yes' if r.evaluable else 'No'}</d:Included>"
        out.append(f"<d:ROI><d:RegionName>{escape(_xml_name(r))}</d:RegionName>{lat}{vals}{inc}</d:ROI>")
    out.append("</d:Results></d:Report>")
    body = b"\xef\xbb\xbf" + "".join(out).encode("latin-1")
    return _write_xml_object(truth, path, body, "ho_xml_prefixed", as_un=True)


def ho_xml_grand_attr(truth: TruthExam, path: Path) -> dict[str, Any]:
    out = ["<Exam><Analysis>"]
    by_side: dict[str, list[TruthRegion]] = {}
    for r in truth.regions:
        by_side.setdefault(r.side or "", []).append(r)
    for side, regs in by_side.items():
        out.append(f'<Hip side="{side[:1].upper()}">' if side else "<LumbarSpine>")
        for r in regs:
            tag = "Vertebra" if r.region.startswith("L") and r.region != "L1-L4" else "Region"
            attr = f'id="{r.region}"' if tag == "Vertebra" else f'label="{escape(_xml_name(r))}"'
            ms = "".join(f'<Measure name="{_TAGS[m].replace("-", "")}">{g._fmt(v, g._dec(m))}</Measure>'
                         for m, v in _measures(r))
            excl = "" if r.evaluable is None else f"<Excluded>{'false' if r.evaluable else 'true'}</Excluded>"
            out.append(f"<{tag} {attr}><Result>{ms}</Result>{excl}</{tag}>")
        out.append("</Hip>" if side else "</LumbarSpine>")
    out.append("</Analysis></Exam>")
    return _write_xml_object(truth, path, "".join(out).encode("utf-8"), "ho_xml_grand_attr", as_un=False)


_WRITERS = {"ho_sr_obs_context": ho_sr_obs_context, "ho_sr_nested_mod": ho_sr_nested_mod,
            "ho_xml_prefixed": ho_xml_prefixed, "ho_xml_grand_attr": ho_xml_grand_attr}


def write_heldout_meaning(truth: TruthExam, outdir: Path,
                          kinds: tuple[str, ...] = HELDOUT_MEANING_KINDS) -> list[tuple[Path, dict[str, Any]]]:
    outdir.mkdir(parents=True, exist_ok=True)
    return [(outdir / f"{truth.sample_id}_{k}.dcm", _WRITERS[k](truth, outdir / f"{truth.sample_id}_{k}.dcm"))
            for k in kinds]


__all__ = ["HELDOUT_MEANING_KINDS", "pydicom", "write_heldout_meaning"]
