"""Synthetic DXA DICOM files, shaped as vendor_dicom.md says each vendor writes them.

Every file is written with pydicom from a :class:`~bmdkit.samples.truth.TruthExam`
and comes with a ground-truth dict (file, kind, expected status and flag,
the regions as the file holds them). Kinds:

==================  ==================================================================
hologic_script      report DICOM: Secondary Capture, Modality OT, report-page pixels and
                    a ``ResultsTable[c][r]`` script (LT, creator "HOLOGIC", group 0029)
hologic_script_alt  same, another column order, labels "Neck Left", "*" on excluded levels,
                    UT in group 0019
hologic_xml         Modality BMD, (0021,xx01) "Image Analysis Data in XML": ROI elements
hologic_xml_attr    XML with one element per region and measures as attributes
sr_flat             Enhanced SR, flat NUM list, LOINC codes where edc.md has them
sr_nested           Comprehensive SR, site > region containers, DCM/vendor local codes
sr_zh               Comprehensive SR in Chinese (ISO_IR 192), side > region containers
lunar_cr            GE Lunar CR scan image, scan type only in ProtocolName: no results
lunar_raw           GE Lunar CR with a GEMS_LUNAR_RAW blob (proprietary): no results
hologic_display     Hologic SC RGB display image with BodyPartExamined/Laterality: no results
ct                  a CT slice (valid DICOM, not DXA)
truncated           a report DICOM cut in the middle
hostile_xml         Hologic XML with a DTD and entity expansion (billion laughs)
report_page_sc      a report page as Secondary Capture, numbers only in pixels (OCR)
report_pdf          the report PDF in an Encapsulated PDF object, Modality DOC (OCR)
==================  ==================================================================

The generator is development data; ``tests/heldout_dicom.py`` writes other
shapes (spellings, index orders, nesting, charsets, VRs) to measure the
readers on what they were not developed on.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from bmdkit.samples.truth import TruthExam, TruthRegion

SC = "1.2.840.10008.5.1.4.1.1.7"
CR = "1.2.840.10008.5.1.4.1.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
UID_ROOT = "1.2.826.0.1.3680043.10.1111."

GOOD_KINDS = ("hologic_script", "hologic_script_alt", "hologic_xml", "hologic_xml_attr",
              "sr_flat", "sr_nested", "sr_zh")
NO_RESULT_KINDS = ("lunar_cr", "lunar_raw", "hologic_display")
BAD_KINDS = ("ct", "truncated", "hostile_xml")
ALL_KINDS = GOOD_KINDS + NO_RESULT_KINDS + BAD_KINDS
#: report pages stored as DICOM, read by OCR (the report reader), not by the DICOM reader
REPORT_KINDS = ("report_page_sc", "report_pdf")
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"

#: character sets Chinese sites use for patient names (vendor_dicom.md §4)
CHARSETS = ("GB18030", "ISO_IR 192", ["", "ISO 2022 IR 58"], "GBK")

_MANUFACTURER = {"hologic": "HOLOGIC", "ge_lunar": "GE Healthcare", "norland": "Norland"}
_SCAN_WORDS = {
    "spine": ("AP Spine", "LSPINE", ""),
    "hip_left": ("Left Femur", "HIP", "L"),
    "hip_right": ("Right Femur", "HIP", "R"),
    "hip_dual": ("DualFemur", "HIP", "B"),
}


# --------------------------------------------------------------------------- helpers
def _stable_int(text: str) -> int:
    """A number from ``text`` that is the same in every process (``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _uid(truth: TruthExam, tag: str) -> str:
    return generate_uid(prefix=UID_ROOT, entropy_srcs=[truth.study_instance_uid, tag])  # deterministic


def _da(iso: str) -> str:
    return iso.replace("-", "")


def base_dataset(truth: TruthExam, sop_class: str, modality: str, tag: str,
                 charset: str | list[str] | None = "ISO_IR 192", chinese_name: bool = True) -> Dataset:
    """Patient, study, series and equipment attributes common to every vendor file."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(_uid(truth, tag))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = UID(UID_ROOT + "1")
    if charset is not None:
        ds.SpecificCharacterSet = charset
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = truth.study_instance_uid
    ds.SeriesInstanceUID = _uid(truth, tag + ".series")
    ds.Modality = modality
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = _da(truth.exam_date)
    ds.StudyTime = ds.ContentTime = "101500"
    p = truth.patient
    ds.PatientName = p.name_zh if chinese_name else p.name_pinyin
    ds.PatientID = p.patient_id
    ds.PatientBirthDate = _da(p.birth_date)
    ds.PatientSex = p.sex
    ds.PatientAge = f"{p.age:03d}Y"
    ds.PatientSize = f"{p.height_cm / 100:.3f}"
    ds.PatientWeight = f"{p.weight_kg:.1f}"
    ds.Manufacturer = _MANUFACTURER.get(truth.vendor, truth.vendor)
    ds.ManufacturerModelName = truth.scanner_model
    ds.DeviceSerialNumber = truth.scanner_serial
    ds.SoftwareVersions = truth.scanner_software
    ds.InstitutionName = truth.institution if charset not in (None, "ISO_IR 100") else truth.center
    ds.StudyDescription = "DXA Exam"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    return ds


def _add_pixels(ds: Dataset, img: np.ndarray) -> None:
    """uint8 pixels, grey (H, W) or RGB (H, W, 3)."""
    ds.Rows, ds.Columns = int(img.shape[0]), int(img.shape[1])
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if img.ndim == 3:
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    else:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = np.ascontiguousarray(img, dtype=np.uint8).tobytes()


def scan_image(truth: TruthExam, rgb: bool, shape: tuple[int, int] = (240, 200)) -> np.ndarray:
    """A small synthetic scan picture (a bright column on a dark field), no numbers."""
    rng = np.random.default_rng(_stable_int(truth.sample_id) % (2**32))
    h, w = shape
    img = (rng.random((h, w)) * 40).astype(np.uint8)
    img[:, w // 3: 2 * w // 3] += 120
    return np.stack([img] * 3, axis=-1) if rgb else img


def report_page_pixels(truth: TruthExam, dpi: int = 90) -> np.ndarray:
    """The printed Hologic report page as RGB pixels (report_gen), or a plain grey page."""
    try:
        from bmdkit.samples.report_gen import render_report
        img = render_report(truth, layout="hologic", lang="en", dpi=dpi)
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except Exception:  # noqa: BLE001 - the report generator is optional here
        h, w = int(11 * dpi), int(8.5 * dpi)
        return np.full((h, w, 3), 235, dtype=np.uint8)


def _fmt(v: float | None, decimals: int) -> str:
    return " " if v is None else f"{v:.{decimals}f}"


def _dec(measure: str) -> int:
    return {"bmd": 3, "bmc": 2, "area": 2, "t_score": 1, "z_score": 1}[measure]


def file_regions(truth: TruthExam, include_extra: bool = True) -> list[dict[str, Any]]:
    """The truth regions a file holds, as plain dicts."""
    out = []
    for r in truth.regions:
        if not include_extra and not r.in_contract:
            continue
        out.append({"region": r.region, "side": r.side, "bmd": r.bmd, "bmc": r.bmc, "area": r.area,
                    "t_score": r.t_score, "z_score": r.z_score, "evaluable": r.evaluable,
                    "vertebrae": r.vertebrae, "label": r.label})
    return out


def _truth_dict(path: Path, kind: str, truth: TruthExam, regions: list[dict[str, Any]],
                status: str, flag: str | None = None, charset: Any = None,
                name: str | None = None) -> dict[str, Any]:
    return {"file": path.name, "kind": kind, "sample_id": truth.sample_id,
            "expect_status": status, "expect_flag": flag, "vendor": truth.vendor,
            "scan_type": truth.scan_type, "exam_date": truth.exam_date,
            "study_instance_uid": truth.study_instance_uid,
            "scanner_model": truth.scanner_model, "charset": charset,
            "patient_name": name, "patient_id": truth.patient.patient_id,
            "excluded": list(truth.excluded), "regions": regions}


def _write(ds: Dataset, path: Path, implicit: bool = False, preamble: bool = True) -> None:
    if implicit:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    pydicom.dcmwrite(path, ds, enforce_file_format=preamble, implicit_vr=implicit,
                     little_endian=True)


def _status(truth: TruthExam) -> str:
    return "extracted"


# --------------------------------------------------------------------------- script
_SCRIPT_COLS_A = (("Region", None), ("Area[cm<sup><small>2</small></sup>]", "area"),
                  ("BMC[(g)]", "bmc"), ("BMD[g/cm<sup><small>2</small></sup>]", "bmd"),
                  ("T - score", "t_score"), ("PR (%)", "pr"), ("Z - score", "z_score"),
                  ("AM (%)", "am"))
_SCRIPT_COLS_B = (("Region", None), ("BMD<br>(g/cm<sup>2</sup>)", "bmd"),
                  ("T-Score", "t_score"), ("Z-Score", "z_score"),
                  ("BMC<br>(g)", "bmc"), ("Area<br>(cm<sup>2</sup>)", "area"))
_HIP_ORDER = ("femoral_neck", "trochanter", "intertrochanter", "total_hip", "wards")
_HIP_LABEL = {"femoral_neck": "Neck", "trochanter": "Troch", "intertrochanter": "Inter",
              "total_hip": "Total", "wards": "Ward's"}


def _script_rows(truth: TruthExam, style: str) -> list[tuple[str, TruthRegion | None]]:
    """(row label, region) rows in the order Hologic prints them; None = a group header row."""
    rows: list[tuple[str, TruthRegion | None]] = []
    if truth.scan_type == "spine":
        for r in truth.regions:
            if r.region in ("L1", "L2", "L3", "L4"):
                star = "*" if (style == "B" and r.evaluable is False) else ""
                rows.append((r.region + star, r))
        total = next(r for r in truth.regions if r.region == "L1-L4")
        rows.append(("Total" if style == "B" else total.label, total))
        return rows
    by = {(r.region, r.side): r for r in truth.regions}
    dual = truth.scan_type == "hip_dual"
    for reg in _HIP_ORDER:
        if dual and style == "A":
            rows.append((_HIP_LABEL[reg], None))
        for side in ("left", "right", "mean"):
            hit = by.get((reg, side))
            if hit is None:
                continue
            if not dual:
                rows.append((_HIP_LABEL[reg], hit))
            elif style == "A":
                rows.append((side.capitalize(), hit))
            else:
                rows.append((f"{_HIP_LABEL[reg]} {side.capitalize()}", hit))
    return rows


def script_text(truth: TruthExam, style: str = "A", table: str = "ResultsTable",
                row_first: bool = False) -> str:
    """The report script: header assignments then the results table cells (CRLF lines)."""
    cols = _SCRIPT_COLS_A if style == "A" else _SCRIPT_COLS_B
    p = truth.patient
    scan = {"spine": "AP Spine", "hip_left": "Left Hip", "hip_right": "Right Hip",
            "hip_dual": "Dual Hip"}[truth.scan_type]
    lines = [f'Scan = "{scan}";', f'PatientName = "{p.name_pinyin}";', f'PatientSex = "{p.sex}";',
             f'DOB = "{p.birth_date}";', f'Age = "{p.age}";', f'Height = "{p.height_cm}";',
             f'Weight = "{p.weight_kg}";', 'Ethnicity = "Asian";', 'ImageXPos = "40";',
             'ImageYPos = "120";', 'ImageXSize = "300";', 'ImageYSize = "360";']
    rows = _script_rows(truth, style)
    cells: list[tuple[int, int, str]] = []
    for c, (head, _) in enumerate(cols):
        cells.append((c, 0, head))
    for i, (label, reg) in enumerate(rows, start=1):
        for c, (_, key) in enumerate(cols):
            if key is None:
                text = label
            elif reg is None:
                text = " "
            elif key in ("pr", "am"):
                text = " " if reg.t_score is None else str(int(round(100 + 10 * (reg.t_score if key == "pr" else (reg.z_score or 0.0)))))
            else:
                text = _fmt(getattr(reg, key), _dec(key))
            cells.append((c, i, text))
    for c, r, text in cells:
        a, b = (r, c) if row_first else (c, r)
        lines.append(f'{table}[{a:2d}][{b:2d}] = "{text}";')
    return "\r\n".join(lines) + "\r\n"


def write_hologic_script(truth: TruthExam, path: Path, style: str = "A",
                         charset: Any = "GB18030", page_dpi: int = 90) -> dict[str, Any]:
    ds = base_dataset(truth, SC, "OT", "script" + style, charset=charset)
    ds.ConversionType = "WSD"
    ds.SeriesDescription = "Report"
    if style == "A":
        blk = ds.private_block(0x0029, "HOLOGIC", create=True)
        blk.add_new(0x01, "LO", "Report Script")
        blk.add_new(0x10, "LT", script_text(truth, "A"))
    else:
        blk = ds.private_block(0x0019, "HOLOGIC", create=True)
        blk.add_new(0x20, "UT", script_text(truth, "B"))
    _add_pixels(ds, report_page_pixels(truth, page_dpi))
    _write(ds, path)
    return _truth_dict(path, f"hologic_script{'' if style == 'A' else '_alt'}", truth,
                       file_regions(truth), _status(truth), None, charset, truth.patient.name_zh)


# --------------------------------------------------------------------------- XML
_XML_MEASURE = {"bmd": "BMD", "bmc": "BMC", "area": "Area", "t_score": "TScore", "z_score": "ZScore"}
_XML_REGION = {"L1": "L1", "L2": "L2", "L3": "L3", "L4": "L4", "femoral_neck": "Neck",
               "trochanter": "Troch", "intertrochanter": "Inter", "total_hip": "Total Hip",
               "wards": "Wards"}


def _xml_region_name(r: TruthRegion) -> str:
    return r.label if r.region == "L1-L4" else _XML_REGION[r.region]


def xml_text(truth: TruthExam, style: str = "elements") -> str:
    """Hologic-like XML (invented: the real element names are unknown, vendor_dicom.md §8)."""
    scan = _SCAN_WORDS[truth.scan_type][0]
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    if style == "elements":
        out.append(f"<ImageAnalysis><ScanID>{_stable_int(truth.sample_id) % 10**6}</ScanID>"
                   f"<ScanType>{escape(scan)}</ScanType><ACF>1.031</ACF><BCF>0.998</BCF><Results>")
        for r in truth.regions:
            side = f' Side="{r.side.capitalize()}"' if r.side else ""
            body = "".join(f"<{tag}>{_fmt(getattr(r, m), _dec(m))}</{tag}>"
                           for m, tag in _XML_MEASURE.items() if getattr(r, m) is not None)
            if r.evaluable is not None:
                body += f"<Included>{'true' if r.evaluable else 'false'}</Included>"
            out.append(f"<ROI Name={quoteattr(_xml_region_name(r))}{side}>{body}</ROI>")
        out.append("</Results></ImageAnalysis>")
    else:
        out.append(f'<Analysis scan={quoteattr(scan)} k="1.134" d0="48.2">')
        for r in truth.regions:
            attrs = "".join(f' {m.replace("_", "")}="{_fmt(getattr(r, m), _dec(m))}"'
                            for m in _XML_MEASURE if getattr(r, m) is not None)
            side = f' side="{r.side}"' if r.side else ""
            excl = f' excluded="{"yes" if r.evaluable is False else "no"}"' if r.evaluable is not None else ""
            out.append(f"<Region name={quoteattr(_xml_region_name(r))}{side}{attrs}{excl}/>")
        out.append("</Analysis>")
    return "".join(out)


def write_hologic_xml(truth: TruthExam, path: Path, style: str = "elements",
                      charset: Any = "ISO_IR 192", body: str | None = None) -> dict[str, Any]:
    ds = base_dataset(truth, SC, "BMD", "xml" + style, charset=charset)
    words = _SCAN_WORDS[truth.scan_type]
    ds.BodyPartExamined = words[1]
    ds.Laterality = words[2] if words[2] in ("L", "R") else ""
    blk = ds.private_block(0x0021, "HOLOGIC", create=True)
    blk.add_new(0x01, "LT", body if body is not None else xml_text(truth, style))
    blk2 = ds.private_block(0x0023, "HOLOGIC", create=True)
    blk2.add_new(0x00, "LO", "1.0")
    _add_pixels(ds, scan_image(truth, rgb=False))
    _write(ds, path)
    kind = "hologic_xml" if style == "elements" else "hologic_xml_attr"
    return _truth_dict(path, kind, truth, file_regions(truth), _status(truth), None, charset,
                       truth.patient.name_zh)


# --------------------------------------------------------------------------- SR
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


# --------------------------------------------------------------------------- no results
def write_lunar_cr(truth: TruthExam, path: Path, raw_blob: bool = False) -> dict[str, Any]:
    """GE Lunar CR scan image as UK Biobank files are (vendor_dicom.md §2)."""
    ds = base_dataset(truth, CR, "CR", "lunar" + str(raw_blob), charset="ISO_IR 100",
                      chinese_name=False)
    ds.Manufacturer = "GE Healthcare"
    ds.SeriesDescription = "DXA Images"
    proto = _SCAN_WORDS[truth.scan_type][0]
    ds.ProtocolName = ds.PerformedProcedureStepDescription = proto
    ds.Laterality = ""
    ds.BodyPartExamined = ""
    ds.ExposedArea = [170, 150]
    if raw_blob:
        blk = ds.private_block(0x7003, "GEMS_LUNAR_RAW", create=True)
        blk.add_new(0x01, "ST", f"{truth.sample_id}.dfx")
        blob = bytes(random.Random(truth.sample_id).randrange(256) for _ in range(4096))
        blk.add_new(0x02, "OB", blob)
        blk.add_new(0x03, "UL", len(blob))
        blk.add_new(0x04, "LO", "2026-01-01 10:00:00")
    _add_pixels(ds, scan_image(truth, rgb=False))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    _write(ds, path, implicit=True)
    return _truth_dict(path, "lunar_raw" if raw_blob else "lunar_cr", truth, [], "failed",
                       "no_results", "ISO_IR 100", truth.patient.name_pinyin)


def write_hologic_display(truth: TruthExam, path: Path) -> dict[str, Any]:
    """Hologic SC display image (CLSA style): RGB, BodyPartExamined and Laterality, no numbers."""
    ds = base_dataset(truth, SC, "OT", "display", charset="GB18030")
    words = _SCAN_WORDS[truth.scan_type]
    ds.BodyPartExamined = words[1]
    ds.Laterality = words[2] if words[2] in ("L", "R") else ""
    ds.ConversionType = "WSD"
    _add_pixels(ds, scan_image(truth, rgb=True, shape=(300, 320)))
    _write(ds, path)
    return _truth_dict(path, "hologic_display", truth, [], "failed", "no_results", "GB18030",
                       truth.patient.name_zh)


# --------------------------------------------------------------------------- bad inputs
def write_ct(truth: TruthExam, path: Path) -> dict[str, Any]:
    ds = base_dataset(truth, CT, "CT", "ct", charset="ISO_IR 100", chinese_name=False)
    ds.Manufacturer = "GE MEDICAL SYSTEMS"
    ds.ManufacturerModelName = "LightSpeed VCT"
    ds.SeriesDescription = "Chest 1.25mm"
    ds.BodyPartExamined = "CHEST"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SliceThickness = "1.25"
    _add_pixels(ds, scan_image(truth, rgb=False, shape=(64, 64)))
    _write(ds, path)
    return _truth_dict(path, "ct", truth, [], "failed", "not_dxa")


def write_truncated(truth: TruthExam, path: Path) -> dict[str, Any]:
    write_hologic_script(truth, path, page_dpi=40)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return _truth_dict(path, "truncated", truth, [], "failed", "unreadable")


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                  '<ImageAnalysis><ROI Name="L1"><BMD>&lol3;</BMD></ROI></ImageAnalysis>')


def write_hostile_xml(truth: TruthExam, path: Path) -> dict[str, Any]:
    d = write_hologic_xml(truth, path, body=BILLION_LAUGHS)
    d.update(kind="hostile_xml", expect_status="failed", expect_flag="unplaced_data", regions=[])
    return d


# --------------------------------------------------------------------------- report pages (OCR)
def write_report_page_sc(truth: TruthExam, path: Path, page_dpi: int = 150) -> dict[str, Any]:
    """A report page exported as Secondary Capture, numbers only in the pixels (no script)."""
    ds = base_dataset(truth, SC, "OT", "page", charset="ISO_IR 192")
    ds.ConversionType = "WSD"
    ds.SeriesDescription = "DXA Report"
    _add_pixels(ds, report_page_pixels(truth, page_dpi))
    _write(ds, path)
    d = _truth_dict(path, "report_page_sc", truth, file_regions(truth, include_extra=False),
                    "extracted", None, "ISO_IR 192", truth.patient.name_zh)
    d["expect_method"] = "ocr"
    return d


def write_report_pdf(truth: TruthExam, path: Path) -> dict[str, Any]:
    """The printed report as a PDF inside an Encapsulated PDF DICOM object (Modality DOC)."""
    import tempfile

    from bmdkit.samples.pdfs import render_pdf
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "r.pdf"
        render_pdf(truth, "hologic" if truth.vendor == "hologic" else "ge_lunar", "en", pdf)
        data = pdf.read_bytes()
    ds = base_dataset(truth, ENCAPSULATED_PDF, "DOC", "pdf", charset="ISO_IR 192")
    ds.DocumentTitle = "DXA Report"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.BurnedInAnnotation = "YES"
    ds.EncapsulatedDocument = data + (b"\x00" if len(data) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(data)
    _write(ds, path)
    d = _truth_dict(path, "report_pdf", truth, file_regions(truth, include_extra=False),
                    "extracted", None, "ISO_IR 192", truth.patient.name_zh)
    d["expect_method"] = "ocr"
    return d


# --------------------------------------------------------------------------- entry point
_WRITERS: dict[str, Callable[[TruthExam, Path], dict[str, Any]]] = {
    "hologic_script": lambda t, p: write_hologic_script(t, p, "A"),
    "hologic_script_alt": lambda t, p: write_hologic_script(t, p, "B", charset="ISO_IR 192"),
    "hologic_xml": lambda t, p: write_hologic_xml(t, p, "elements"),
    "hologic_xml_attr": lambda t, p: write_hologic_xml(t, p, "attributes", charset=["", "ISO 2022 IR 58"]),
    "sr_flat": lambda t, p: write_sr(t, p, "flat", charset="GB18030"),
    "sr_nested": lambda t, p: write_sr(t, p, "nested", charset="GBK"),
    "sr_zh": lambda t, p: write_sr(t, p, "zh", charset="ISO_IR 192"),
    "lunar_cr": lambda t, p: write_lunar_cr(t, p),
    "lunar_raw": lambda t, p: write_lunar_cr(t, p, raw_blob=True),
    "hologic_display": write_hologic_display,
    "ct": write_ct,
    "truncated": write_truncated,
    "hostile_xml": write_hostile_xml,
    "report_page_sc": lambda t, p: write_report_page_sc(t, p),
    "report_pdf": write_report_pdf,
}


def write_dicom_samples(truth: TruthExam, outdir: Path, kinds: Sequence[str] = ALL_KINDS,
                        page_dpi: int | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Write one file per kind for ``truth`` into ``outdir``; returns (path, ground truth) pairs.

    Vendor-specific kinds follow the kind, not ``truth.vendor``: a Hologic
    kind written from a GE truth is relabelled Hologic in its ground truth.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = []
    for kind in kinds:
        if kind not in _WRITERS:
            raise ValueError(f"unknown DICOM sample kind {kind!r}; known: "
                             f"{', '.join(ALL_KINDS + REPORT_KINDS)}")
        t = _as_vendor(truth, kind)
        path = outdir / f"{truth.sample_id}_{kind}.dcm"
        if page_dpi is not None and kind == "report_page_sc":
            d = write_report_page_sc(t, path, page_dpi)
        elif page_dpi is not None and kind.startswith("hologic_script"):
            d = write_hologic_script(t, path, "A" if kind == "hologic_script" else "B",
                                     charset="GB18030" if kind == "hologic_script" else "ISO_IR 192",
                                     page_dpi=page_dpi)
        else:
            d = _WRITERS[kind](t, path)
        out.append((path, d))
    return out


def _as_vendor(truth: TruthExam, kind: str) -> TruthExam:
    from dataclasses import replace

    from bmdkit.samples.truth import VENDOR_MODELS
    want = "ge_lunar" if kind.startswith("lunar") else (
        "hologic" if kind.startswith("hologic") or kind in ("truncated", "hostile_xml") else truth.vendor)
    if want == truth.vendor or kind == "ct":
        return truth
    model, software = VENDOR_MODELS[want][int(truth.scanner_serial) % len(VENDOR_MODELS[want])]
    return replace(truth, vendor=want, scanner_model=model, scanner_software=software)


