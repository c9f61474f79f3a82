"""Vendor XML with results as nested elements, not attributes (element names invented, vendor_dicom.md §8).

``<Region><Name>L1</Name><BMD>0.933</BMD><TScore>-0.1</TScore></Region>``
and development variants of it:

==============  ================================================================
``child``       region name and side as child elements; LT in (0021,xx01),
                creator "HOLOGIC", explicit VR
``ns_bom``      a default XML namespace and a UTF-8 BOM; implicit VR under an
                unknown creator, so the element reads back as UN bytes
``ancestor``    region name and side as attributes of ancestors
                (``<Femur side="Left"><ROI name="Neck"><Values><BMD>``),
                measures two levels below
==============  ================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pydicom

from bmdkit.samples.dicom_kinds.base import _SCAN_WORDS, SC, _dec, _fmt, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _status, _truth_dict, file_regions
from bmdkit.samples.dicom_kinds.hologic_xml import _XML_MEASURE, _xml_region_name
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, scan_image
from bmdkit.samples.truth import TruthExam, TruthRegion

VARIANTS = ("child", "ns_bom", "ancestor")


def _measures(r: TruthRegion) -> str:
    return "".join(f"<{tag}>{_fmt(getattr(r, m), _dec(m))}</{tag}>"
                   for m, tag in _XML_MEASURE.items() if getattr(r, m) is not None)


def _included(r: TruthRegion) -> str:
    return "" if r.evaluable is None else f"<Included>{'true' if r.evaluable else 'false'}</Included>"


def nested_xml(truth: TruthExam, variant: str) -> str:
    """The XML text of one variant (see the module table)."""
    ns = ' xmlns="urn:example:densitometry:1"' if variant == "ns_bom" else ""
    out = [f"<AnalysisResults{ns}><Scan>{escape(_SCAN_WORDS[truth.scan_type][0])}</Scan>"]
    if variant == "ancestor":
        by_side: dict[str, list[TruthRegion]] = {}
        for r in truth.regions:
            by_side.setdefault(r.side or "", []).append(r)
        for side, regs in by_side.items():
            group = f'<Femur side="{side.capitalize()}">' if side else "<Spine>"
            out.append(group)
            for r in regs:
                out.append(f"<ROI name={quoteattr(_xml_region_name(r))}><Values>{_measures(r)}</Values>"
                           f"{_included(r)}</ROI>")
            out.append("</Femur>" if side else "</Spine>")
    else:
        for r in truth.regions:
            side = f"<Side>{r.side.capitalize()}</Side>" if r.side else ""
            out.append(f"<Region><Name>{escape(_xml_region_name(r))}</Name>{side}{_measures(r)}"
                       f"{_included(r)}</Region>")
    out.append("</AnalysisResults>")
    body = "".join(out)
    if variant == "ns_bom":
        return "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + body
    return body


def write_xml_nested(truth: TruthExam, path: Path, variant: str = "child") -> dict[str, Any]:
    """A Hologic-like object with nested-element XML; ground truth: every truth region, exactly."""
    ds = base_dataset(truth, SC, "BMD", "xmlnested" + variant, charset="ISO_IR 192")
    words = _SCAN_WORDS[truth.scan_type]
    ds.BodyPartExamined = words[1]
    ds.Laterality = words[2] if words[2] in ("L", "R") else ""
    body = nested_xml(truth, variant)
    implicit = variant == "ns_bom"
    if implicit:
        blk = ds.private_block(0x0029, "ACME DXA RESULTS 1", create=True)
        blk.add_new(0x01, "OB", body.encode("utf-8") + (b" " if len(body.encode("utf-8")) % 2 else b""))
    else:
        blk = ds.private_block(0x0021, "HOLOGIC", create=True)
        blk.add_new(0x01, "LT", body)
    _add_pixels(ds, scan_image(truth, rgb=False))
    if implicit:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    _write(ds, path, implicit=implicit)
    return _truth_dict(path, f"xml_nested_{variant}", truth, file_regions(truth), _status(truth), None,
                       "ISO_IR 192", truth.patient.name_zh)
