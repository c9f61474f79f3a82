"""Hologic-like DICOM with "Image Analysis Data in XML" in (0021,xx01).

The element names are invented: the real ones are unknown (vendor_dicom.md §8).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from bmdkit.samples.dicom_kinds.base import _SCAN_WORDS, SC, _dec, _fmt, _stable_int, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _status, _truth_dict, file_regions
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, scan_image
from bmdkit.samples.truth import TruthExam, TruthRegion

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
