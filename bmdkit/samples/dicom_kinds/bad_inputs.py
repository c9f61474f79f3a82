"""Inputs a reader must reject safely: a CT slice, a truncated file, an XML entity bomb."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bmdkit.samples.dicom_kinds.base import CT, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _truth_dict
from bmdkit.samples.dicom_kinds.hologic_script import write_hologic_script
from bmdkit.samples.dicom_kinds.hologic_xml import write_hologic_xml
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, scan_image
from bmdkit.samples.truth import TruthExam


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
