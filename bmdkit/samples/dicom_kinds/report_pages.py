"""Report pages stored as DICOM (Secondary Capture pixels, Encapsulated PDF), read by OCR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bmdkit.samples.dicom_kinds.base import ENCAPSULATED_PDF, SC, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _truth_dict, file_regions
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, report_page_pixels
from bmdkit.samples.truth import TruthExam


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
