"""The DICOM sample kinds and :func:`write_dicom_samples`, which writes one file per kind.

See :mod:`bmdkit.samples.dicom_gen` for the table of kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bmdkit.samples.dicom_kinds.bad_inputs import write_ct, write_hostile_xml, write_truncated
from bmdkit.samples.dicom_kinds.hologic_script import write_hologic_script
from bmdkit.samples.dicom_kinds.hologic_xml import write_hologic_xml
from bmdkit.samples.dicom_kinds.images import write_hologic_display, write_lunar_cr
from bmdkit.samples.dicom_kinds.report_pages import write_report_page_sc, write_report_pdf
from bmdkit.samples.dicom_kinds.scan_images import write_ge_scan
from bmdkit.samples.dicom_kinds.sr import write_sr
from bmdkit.samples.dicom_kinds.sr_loinc import write_sr_loinc
from bmdkit.samples.dicom_kinds.xml_nested import write_xml_nested
from bmdkit.samples.truth import TruthExam

GOOD_KINDS = ("hologic_script", "hologic_script_alt", "hologic_xml", "hologic_xml_attr",
              "sr_flat", "sr_nested", "sr_zh", "sr_loinc_mod", "sr_loinc_lat", "sr_loinc_unitless",
              "xml_nested_child", "xml_nested_ns_bom", "xml_nested_ancestor")
#: real-shaped GE scan images (scan_images.py): (kind, scan, SOP class / modality)
GE_SCAN_KINDS = {"ge_knee_cr": ("knee_right", "cr"), "ge_total_body_bmd": ("total_body", "bmd"),
                 "ge_forearm_ot": ("forearm", "ot"), "ge_lva_cr": ("lva", "cr"),
                 "ge_hip_implant_cr": ("hip_implant", "cr")}
NO_RESULT_KINDS = ("lunar_cr", "lunar_raw", "hologic_display", *GE_SCAN_KINDS)
BAD_KINDS = ("ct", "truncated", "hostile_xml")
ALL_KINDS = GOOD_KINDS + NO_RESULT_KINDS + BAD_KINDS
#: report pages stored as DICOM, read by OCR (the report reader), not by the DICOM reader
REPORT_KINDS = ("report_page_sc", "report_pdf")


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
    "sr_loinc_mod": lambda t, p: write_sr_loinc(t, p, "mod"),
    "sr_loinc_lat": lambda t, p: write_sr_loinc(t, p, "lat"),
    "sr_loinc_unitless": lambda t, p: write_sr_loinc(t, p, "unitless"),
    "xml_nested_child": lambda t, p: write_xml_nested(t, p, "child"),
    "xml_nested_ns_bom": lambda t, p: write_xml_nested(t, p, "ns_bom"),
    "xml_nested_ancestor": lambda t, p: write_xml_nested(t, p, "ancestor"),
    **{k: (lambda scan, klass: lambda t, p: write_ge_scan(t, p, scan, klass))(*v)
       for k, v in GE_SCAN_KINDS.items()},
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
    want = "ge_lunar" if kind.startswith(("lunar", "ge_")) else (
        "hologic" if kind.startswith("hologic") or kind in ("truncated", "hostile_xml") else truth.vendor)
    if want == truth.vendor or kind == "ct":
        return truth
    model, software = VENDOR_MODELS[want][int(truth.scanner_serial) % len(VENDOR_MODELS[want])]
    return replace(truth, vendor=want, scanner_model=model, scanner_software=software)
