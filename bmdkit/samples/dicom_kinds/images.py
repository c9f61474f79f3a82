"""Scan-image DICOM files that hold no results (GE Lunar CR, Hologic display image)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pydicom

from bmdkit.samples.dicom_kinds.base import _SCAN_WORDS, CR, SC, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _truth_dict
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, scan_image
from bmdkit.samples.truth import TruthExam


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
