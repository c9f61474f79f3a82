"""The report reader on real PDFs with a text layer (no OCR) and on error cases.

Pages come from tests/heldout_reports.py (reportlab) and from
bmdkit.samples.pdfs (the development generator); truth from TruthGenerator.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import heldout_reports as ho
import pytest
from conftest import assert_valid

from bmdkit.errors import NotDXA, ResourceLimit
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import Region, Side
from bmdkit.options import ReadOptions
from bmdkit.payload import PagePayload
from bmdkit.read import make_source, read_file
from bmdkit.report import read_report
from bmdkit.samples.truth import TruthGenerator


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("family", ho.FAMILIES)
@pytest.mark.parametrize("scan", ["spine", "hip_dual", "hip_left"])
def test_heldout_text_pdf_read_exactly(tmp_path: Path, family: str, scan: str, contract: object) -> None:
    truth = TruthGenerator(11).exam(scan_type=scan)
    path = _write(tmp_path, "r.pdf", ho.make_pdf(truth, family))
    exam = read_file(path)
    score = ho.score_exam(exam, truth, ("bmd", "t_score", "z_score", "bmc", "area"))
    assert score["exact"] == score["values"], (score, [f.message for f in exam.flags])
    assert exam.exam_date is not None and exam.exam_date.isoformat() == truth.exam_date
    r = exam.regions[0]
    assert r.sources["bmd"].engines == ("pdf-text",) and r.sources["bmd"].confidence == 1.0
    assert r.sources["bmd"].location is not None and r.sources["bmd"].location.box is not None
    assert_valid(contract, exam_to_dict(exam))  # type: ignore[arg-type]


def test_excluded_vertebra_and_spine_total(tmp_path: Path) -> None:
    truth = TruthGenerator(5).exam(scan_type="spine", exclude=["L1"])
    exam = read_file(_write(tmp_path, "s.pdf", ho.make_pdf(truth, "zh_hospital")))
    assert exam.region(Region.L1) is not None and exam.region(Region.L1).evaluable is False
    tot = exam.region(Region.SPINE_TOTAL)
    assert tot is not None and tot.vertebrae == (Region.L2, Region.L3, Region.L4)
    assert tot.bmd == next(r.bmd for r in truth.regions if r.region == "L1-L4")


def test_lost_minus_sign_is_flagged_not_accepted(tmp_path: Path) -> None:
    """A page that printed a T-score without its minus: the T-vs-BMD check must flag it."""
    gen = TruthGenerator(21)
    truth = gen.exam(scan_type="hip_dual", t_shift=-2.0)
    neck_left = next(r for r in truth.regions if r.region == "femoral_neck" and r.side == "left")
    assert neck_left.t_score is not None and neck_left.t_score < -0.5
    bad = dataclasses.replace(neck_left, t_score=-neck_left.t_score)
    truth.regions[truth.regions.index(neck_left)] = bad
    exam = read_file(_write(tmp_path, "h.pdf", ho.make_pdf(truth, "borderless_en")))
    got = exam.region(Region.FEMORAL_NECK, Side.LEFT)
    assert got is not None and got.t_score == bad.t_score  # read as printed ...
    codes = {(f.code, f.region) for f in exam.flags}
    assert (FlagCode.T_SCORE_INCONSISTENT, "femoral_neck") in codes  # ... but never silently
    assert exam.status.value == "flagged"


def test_ambiguous_us_date_flagged(tmp_path: Path) -> None:
    gen = TruthGenerator(3)
    truth = gen.exam(scan_type="spine")
    truth.exam_date = "2026-03-04"
    exam = read_file(_write(tmp_path, "d.pdf", ho.make_pdf(truth, "ruled_en", date_style="us")))
    assert any(f.code is FlagCode.AMBIGUOUS_DATE for f in exam.flags)


def test_dev_generator_pdf(tmp_path: Path, contract: object) -> None:
    from bmdkit.samples import pdfs

    truth = TruthGenerator(8).exam(scan_type="hip_dual")
    p = tmp_path / "g.pdf"
    pdfs.render_pdf(truth, "hologic", "en", p)
    exam = read_file(p)
    score = ho.score_exam(exam, truth)
    assert score["exact"] == score["values"] and score["silent"] == 0
    assert_valid(contract, exam_to_dict(exam))  # type: ignore[arg-type]


def test_payload_pdf_bytes(tmp_path: Path) -> None:
    truth = TruthGenerator(9).exam(scan_type="spine")
    pdf = ho.make_pdf(truth, "ruled_en")
    path = _write(tmp_path, "container.pdf", pdf)
    exam = read_report(path, make_source(path), ReadOptions(), PagePayload("test", pdf_bytes=pdf))
    assert exam.region(Region.SPINE_TOTAL) is not None


def test_not_dxa_pdf(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    p = tmp_path / "letter.pdf"
    c = canvas.Canvas(str(p))
    for i, line in enumerate(["Dear colleague,", "the meeting moves to Tuesday 10:00.", "Regards"]):
        c.drawString(72, 700 - 20 * i, line)
    c.save()
    with pytest.raises(NotDXA):
        read_report(p, make_source(p), ReadOptions())
    assert read_file(p).status.value == "failed"


def test_pixel_cap_is_a_resource_limit(tmp_path: Path) -> None:
    truth = TruthGenerator(2).exam(scan_type="spine")
    from PIL import Image

    p = tmp_path / "big.png"
    Image.fromarray(ho.rasterize(ho.make_pdf(truth, "ruled_en"), 100)).save(p)
    with pytest.raises(ResourceLimit):
        read_report(p, make_source(p), ReadOptions(max_pixels=100_000))
