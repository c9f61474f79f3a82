"""Scan images decided from the header in milliseconds, with the right reason; no needless OCR.

Real DICOM written with pydicom (bmdkit.samples.dicom_kinds); no mocks.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest

from bmdkit.dicom import density, read_dicom, sufficiency, triage
from bmdkit.dicom.header_facts import scan_context
from bmdkit.flags import FlagCode
from bmdkit.model import InputKind, Method, Region, Source
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.read import read_file
from bmdkit.samples import dicom_gen
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, report_page_pixels
from bmdkit.samples.dicom_kinds.scan_images import CLASSES, GE_SCANS, bone_image, write_ge_scan
from bmdkit.samples.truth import TruthGenerator

#: the aim of issue 20: a scan image with no results decided in under 0.2 s
SCAN_AIM_S = 0.2


@pytest.fixture(scope="module")
def truth():  # type: ignore[no-untyped-def]
    return TruthGenerator(20).exam(scan_type="spine")


def _read_dicom(path: Path):  # type: ignore[no-untyped-def]
    return read_dicom(path, Source(str(path), "0" * 64, InputKind.DICOM), DEFAULT_OPTIONS)


@pytest.mark.parametrize("scan", sorted(GE_SCANS))
@pytest.mark.parametrize("klass", sorted(CLASSES))
def test_ge_scan_images_are_scans_with_no_results_fast(tmp_path: Path, truth, scan: str, klass: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{scan}_{klass}.dcm"
    gt = write_ge_scan(truth, path, scan, klass)
    read_file(path)  # warm imports
    t0 = time.perf_counter()
    exam = read_file(path)
    took = time.perf_counter() - t0
    assert exam.status.value == "failed"
    flag = next(f for f in exam.flags if f.code is FlagCode.NO_RESULTS)
    assert flag.message.startswith("DXA scan image with no results"), flag.message
    assert "ask the site for the report page" in flag.message
    assert exam.vendor.value == "ge_lunar" and exam.scanner_model == gt["scanner_model"]
    assert not exam.regions and "report" not in (exam.reader or "")
    assert took < SCAN_AIM_S, f"{path.name} took {took:.3f} s"


def test_real_shaped_knee_is_decided_from_the_header(tmp_path: Path, truth) -> None:  # type: ignore[no-untyped-def]
    """The GE iDXA 'Right Ortho Knee' CR file: page-sized, but grey and a named scan: no pixels read."""
    path = tmp_path / "knee.dcm"
    write_ge_scan(truth, path, "knee_right", "cr")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert triage.page_shaped(int(ds.Rows), int(ds.Columns))  # size alone would say "page"
    verdict = triage.triage(ds, has_script=False, ctx=scan_context(ds))
    assert verdict.kind is triage.ObjectKind.SCAN_IMAGE and not verdict.may_hold_page
    assert _read_dicom(path).payload is None


def test_density_tells_report_pages_from_scan_images(truth) -> None:  # type: ignore[no-untyped-def]
    for dpi in (90, 150):
        assert density.measure(report_page_pixels(truth, dpi)).has_text
    for i, shape in enumerate(GE_SCANS.values()):
        d = density.measure(bone_image(i, shape.rows, shape.cols))
        assert not d.has_text, d.describe()
    assert not density.measure(np.full((1000, 760), 255, np.uint8)).has_text  # a blank page


def test_unnamed_page_shaped_colour_scan_gets_the_density_test_not_ocr(tmp_path: Path, truth) -> None:  # type: ignore[no-untyped-def]
    ds = dicom_gen.base_dataset(truth, dicom_gen.SC, "OT", "rgbscan", charset="ISO_IR 100")
    img = bone_image(3, 1000, 760)
    _add_pixels(ds, np.stack([img] * 3, axis=-1))
    path = tmp_path / "rgb_scan.dcm"
    dicom_gen._write(ds, path)
    t0 = time.perf_counter()
    exam = read_file(path)
    assert time.perf_counter() - t0 < 2.0  # decoding and the text test, never an OCR pass
    flag = next(f for f in exam.flags if f.code is FlagCode.NO_RESULTS)
    assert "no printed text" in flag.message and exam.vendor.value == truth.vendor


def test_report_page_still_reaches_the_page_reader(tmp_path: Path, truth) -> None:  # type: ignore[no-untyped-def]
    (path, _), = dicom_gen.write_dicom_samples(truth, tmp_path, ["report_page_sc"], page_dpi=90)
    assert _read_dicom(path).payload is not None
    exam = read_file(path, replace(DEFAULT_OPTIONS, ocr_engines=()))  # no OCR here: header metadata stays
    assert exam.status.value == "failed" and exam.vendor.value == truth.vendor
    assert exam.scanner_model == truth.scanner_model
    assert any(f.code is FlagCode.NO_READER for f in exam.flags)


def test_dicom_values_skip_the_page_unless_asked(tmp_path: Path, truth) -> None:  # type: ignore[no-untyped-def]
    (path, _), = dicom_gen.write_dicom_samples(truth, tmp_path, ["hologic_script_alt"], page_dpi=90)
    assert _read_dicom(path).payload is None
    asked = read_dicom(path, Source(str(path), "0" * 64, InputKind.DICOM),
                       replace(DEFAULT_OPTIONS, cross_check_pixels=True))
    assert asked.payload is not None and asked.exam is not None and asked.exam.regions
    t0 = time.perf_counter()
    exam = read_file(path)
    assert time.perf_counter() - t0 < 1.0 and exam.status.value == "extracted"


def test_inconsistent_dicom_data_is_cross_checked_automatically(tmp_path: Path, truth) -> None:  # type: ignore[no-untyped-def]
    """Two script copies that disagree: the DICOM data is inconsistent, so the page is read too."""
    (path, _), = dicom_gen.write_dicom_samples(truth, tmp_path, ["hologic_script"], page_dpi=90)
    ds = pydicom.dcmread(path)
    script = next(e for e in ds.iterall() if isinstance(e.value, str) and "ResultsTable" in e.value)
    bmd = f"{truth.regions[0].bmd:.3f}"
    assert bmd in script.value
    blk = ds.private_block(0x0031, "HOLOGIC", create=True)
    blk.add_new(0x10, "LT", script.value.replace(bmd, f"{truth.regions[0].bmd + 0.1:.3f}", 1))
    ds.save_as(path)
    reading = _read_dicom(path)
    assert reading.exam is not None and reading.exam.regions
    assert any(g.startswith("sources_disagree") for g in
               sufficiency.gaps(list(reading.exam.regions), list(reading.exam.flags)))
    assert reading.payload is not None


def test_sufficiency_names_each_gap(truth) -> None:  # type: ignore[no-untyped-def]
    assert sufficiency.gaps([], []) == ["no values in the DICOM data"]
    from bmdkit.model import RegionResult, Side
    neck = RegionResult(region=Region.FEMORAL_NECK, side=Side.LEFT, method=Method.DICOM_PRIVATE, bmd=0.7)
    assert sufficiency.gaps([neck], []) == ["left hip without total_hip"]


@pytest.mark.parametrize("command", ["check", "batch"])
def test_cross_check_pixels_is_a_cli_option(command: str) -> None:
    r = subprocess.run([sys.executable, "-m", "bmdkit", command, "--help"], capture_output=True, text=True,
                       timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and "--cross-check-pixels" in r.stdout
