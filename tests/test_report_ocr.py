"""The report reader with real OCR (RapidOCR + tesseract) on real page images.

Held-out pages (tests/heldout_reports.py) are measured, dev pages
(bmdkit.samples.report_gen) are only smoke-tested here; the wider figures
come from bench/bench_ocr.py. OCR is slow on 2 cores, so these are few and
marked slow.
"""

from __future__ import annotations

from pathlib import Path

import heldout_reports as ho
import numpy as np
import pytest
from conftest import assert_valid
from PIL import Image

from bmdkit.export.jsonout import exam_to_dict
from bmdkit.model import Method, Region, Side
from bmdkit.options import ReadOptions
from bmdkit.payload import PagePayload
from bmdkit.read import make_source, read_file
from bmdkit.report import ocr, read_report
from bmdkit.samples.truth import TruthGenerator

pytestmark = pytest.mark.slow


def test_both_engines_are_installed() -> None:
    assert set(ocr.available_engines()) >= {"tesseract", "rapidocr"}


def test_clean_heldout_image_read_exactly_by_two_engines(tmp_path: Path, contract: object) -> None:
    truth = TruthGenerator(31).exam(scan_type="hip_dual")
    p = tmp_path / "page.png"
    Image.fromarray(ho.rasterize(ho.make_pdf(truth, "ruled_en"), 200)).save(p)
    exam = read_file(p)
    score = ho.score_exam(exam, truth)
    assert score["silent"] == 0
    assert score["exact"] == score["values"], (score, [f.message for f in exam.flags])
    neck = exam.region(Region.FEMORAL_NECK, Side.LEFT)
    assert neck is not None and neck.method is Method.OCR
    src = neck.sources["bmd"]
    assert set(src.engines) == {"rapidocr", "tesseract"} and src.confidence is not None and src.confidence > 0.9
    assert src.location is not None and src.location.page == 1 and src.location.box is not None
    assert_valid(contract, exam_to_dict(exam))  # type: ignore[arg-type]


def test_scanned_chinese_page_has_no_silent_error(tmp_path: Path) -> None:
    truth = TruthGenerator(32).exam(scan_type="spine", exclude=["L1"])
    img = ho.degrade(ho.rasterize(ho.make_pdf(truth, "zh_hospital"), 200), "scan", 5)
    p = tmp_path / "scan.jpg"
    Image.fromarray(np.ascontiguousarray(img[:, :, ::-1])).save(p)
    exam = read_file(p)
    score = ho.score_exam(exam, truth)
    assert score["silent"] == 0, [f.message for f in exam.flags]
    assert score["exact"] >= 0.8 * score["values"]
    assert exam.exam_date is not None and exam.exam_date.isoformat() == truth.exam_date
    tot = exam.region(Region.SPINE_TOTAL)
    assert tot is not None and tot.vertebrae == (Region.L2, Region.L3, Region.L4)


def test_dicom_style_image_payload_and_single_engine_setting(tmp_path: Path) -> None:
    """Secondary-capture pixels handed over as a payload; tesseract-free setting honoured."""
    from bmdkit.samples import report_gen as rg

    truth = TruthGenerator(33).exam(scan_type="spine")
    arr = np.asarray(rg.render_report(truth, "ge_lunar", "en", dpi=150).convert("L"))
    p = tmp_path / "sc.png"
    Image.fromarray(arr).save(p)
    exam = read_report(p, make_source(p), ReadOptions(ocr_engines=("rapidocr",)),
                       PagePayload("dicom secondary capture", images=(arr,)))
    score = ho.score_exam(exam, truth)
    assert score["silent"] == 0 and score["exact"] >= 0.8 * score["values"]
    assert all(s.engines == ("rapidocr",) for r in exam.regions for s in r.sources.values())


def test_upside_down_page_is_turned_and_read(tmp_path: Path) -> None:
    truth = TruthGenerator(33).exam(scan_type="spine")
    img = ho.rasterize(ho.make_pdf(truth, "ruled_en"), 200)
    p = tmp_path / "upside_down.png"
    Image.fromarray(np.ascontiguousarray(np.rot90(img, 2))).save(p)
    exam = read_file(p)
    assert any(f.code.value == "page_quality" and "rotated 180 degrees" in f.message for f in exam.flags)
    score = ho.score_exam(exam, truth)
    assert score["silent"] == 0 and score["exact"] >= score["values"] - 1, score
