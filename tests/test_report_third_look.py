"""Review burden, round two (issue 19): doubt settled by the page's own evidence, never assumed.

- a closer look at a cell alone (the other engine, enlarged) confirms a value one engine
  alone could read, and only an exact match confirms;
- a score whose engines differed only in the sign is settled, as a note, where that closer
  look reads the value kept and the site's other rows fit it; it stays flagged otherwise;
- the page-wide "values read with low confidence" flag becomes a note where every doubtful
  value of the page carries a flag of its own, and stays for review where one does not.

The page tests read bench pages (tests/heldout_reports.py and the dev generator, as
bench/bench_ocr.py makes them), so they run OCR: a few seconds each.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Flag, Location, Method, Region, RegionResult, Side, ValueSource
from bmdkit.options import ReadOptions
from bmdkit.read import read_file
from bmdkit.report import crosscheck, ocr, reading, settings, valueflags, vote
from bmdkit.report.numbers import parse_number

ROOT = Path(__file__).resolve().parents[1]
BOTH = ReadOptions(ocr_engines=("tesseract", "rapidocr"))
needs_tesseract = pytest.mark.skipif("tesseract" not in ocr.available_engines(), reason="tesseract binary missing")


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_ocr_for_tests", ROOT / "bench" / "bench_ocr.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


def _bench_page(i: int, tmp_path: Path) -> tuple[Path, object, object]:
    """Page ``i`` of the seeded bench (seed 2026): file, truth, and its score."""
    b = _bench()
    gen = b.TruthGenerator(2026)  # type: ignore[attr-defined]
    for k in range(i + 1):
        truth = gen.exam(exclude=["L1"] if k % 7 == 3 else None)
    maker = b.dev_page if i % 2 == 0 else b.heldout_page  # type: ignore[attr-defined]
    path, fam, lang, _ = maker(truth, i // 2, tmp_path)
    printed = b.dev_printed(truth, fam, lang) if i % 2 == 0 else None  # type: ignore[attr-defined]
    exam = read_file(path, BOTH)
    return path, exam, b.score(exam, truth, printed)  # type: ignore[attr-defined]


def _cell(text: str, size: int = 28) -> np.ndarray:
    """A printed table cell, as the reader crops it (grey, padded)."""
    font = None
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            font = ImageFont.truetype(name, size)
            break
        except OSError:
            continue
    img = Image.new("L", (size * (len(text) + 2), int(size * 1.8)), 255)
    ImageDraw.Draw(img).text((size, size // 3), text, fill=0, font=font or ImageFont.load_default())
    return np.asarray(img)


def _cand(engine: str, text: str, conf: float = 0.95) -> vote.Candidate:
    return vote.Candidate(engine, text, conf, parse_number(text))


# --- a closer look confirms a single reading, only on an exact match --------------------------

@needs_tesseract
def test_third_look_confirms_a_value_one_engine_alone_read() -> None:
    rd = vote.decide([_cand("rapidocr", "0.956"), _cand("tesseract", ""), _cand("rapidocr+reread", "0.956"),
                      _cand("tesseract+reread", "")], 3, True)
    assert rd.single and rd.engines == ("rapidocr",)
    vote.third_look([rd], [_cell("0.956")], ["tesseract", "rapidocr"])
    assert not rd.single and rd.conf >= vote.MIN_CONFIDENCE
    assert rd.engines == ("rapidocr", "tesseract")
    region = RegionResult(Region.L1, Method.OCR, bmd=0.956)
    assert not [f for f in valueflags.value_flags(region, {"bmd": rd}, {"bmd"}) if f.level is not Severity.INFO]


@needs_tesseract
def test_third_look_does_not_confirm_a_different_value() -> None:
    rd = vote.decide([_cand("rapidocr", "0.958"), _cand("tesseract", ""), _cand("rapidocr+reread", "0.958"),
                      _cand("tesseract+reread", "")], 3, True)
    vote.third_look([rd], [_cell("0.956")], ["tesseract", "rapidocr"])
    assert rd.single and rd.value == 0.958 and rd.conf < vote.MIN_CONFIDENCE
    assert any(c.engine == "tesseract+alone" for c in rd.candidates)  # it did look
    region = RegionResult(Region.L1, Method.OCR, bmd=0.958)
    (f,) = [f for f in valueflags.value_flags(region, {"bmd": rd}, {"bmd"}) if f.level is not Severity.INFO]
    assert f.level is Severity.REVIEW and "Only one of the two OCR engines" in f.message


def test_trailing_point_is_a_speck() -> None:
    p = parse_number("0.956.")
    assert p is not None and p.value == 0.956 and p.decimals == 3 and p.repaired
    assert parse_number("12.") is None  # no decimals before it: not a complete number


# --- sign disputes: a closer look plus the site's rows -----------------------------------------

@needs_tesseract
def test_third_look_marks_a_sign_dispute_it_reads_alike() -> None:
    rd = vote.decide([_cand("rapidocr", "-0.7"), _cand("tesseract", "07"), _cand("tesseract+reread", "0.7"),
                      _cand("rapidocr+reread", "-0.7")], 1, True)
    assert rd.sign_only and rd.disagreement
    vote.third_look([rd], [_cell("-0.7")], ["tesseract", "rapidocr"])
    assert rd.third == "tesseract" and rd.value == -0.7
    lost = vote.decide([_cand("rapidocr", "-0.7"), _cand("tesseract", "07"), _cand("tesseract+reread", "0.7"),
                        _cand("rapidocr+reread", "-0.7")], 1, True)
    vote.third_look([lost], [_cell("0.7")], ["tesseract", "rapidocr"])  # the cell shows no minus
    assert lost.third == ""


def _hip(side: Side, bmd: float, t: float) -> RegionResult:
    src = {"t_score": ValueSource(confidence=0.4, location=Location(page=1), engines=("rapidocr", "tesseract"))}
    return RegionResult(Region.FEMORAL_NECK, Method.OCR, side=side, bmd=bmd, t_score=t, sources=src)


def test_sign_settled_only_where_the_site_fits() -> None:
    fits = [_hip(Side.LEFT, 0.80, -0.7), _hip(Side.RIGHT, 0.86, -0.2)]
    breaks = [_hip(Side.LEFT, 0.80, -0.7), _hip(Side.RIGHT, 0.70, 1.9)]
    key = (Region.FEMORAL_NECK, Side.LEFT, "t_score")
    assert crosscheck.sign_fits(fits, key)
    assert not crosscheck.sign_fits(breaks, key)
    assert not crosscheck.sign_fits(fits[:1], key)  # no other row: nothing to fit
    for regions, settled in ((fits, True), (breaks, False)):
        f = Flag(FlagCode.ENGINE_DISAGREEMENT, "The two OCR engines read ...", region="femoral_neck",
                 side=Side.LEFT, measure="t_score")
        (out,) = valueflags.settle_signs(regions, [f], {key: valueflags.SignDispute(f, "tesseract")})
        assert (out.level is Severity.INFO) is settled
        if settled:
            assert "tesseract read the cell alone as -0.7" in out.message
    f = Flag(FlagCode.ENGINE_DISAGREEMENT, "x", region="femoral_neck", side=Side.LEFT, measure="t_score")
    (out,) = valueflags.settle_signs(fits, [f], {key: valueflags.SignDispute(f, "")})  # no closer look agreed: stays for review
    assert out.level is Severity.REVIEW


@needs_tesseract
def test_sign_disputes_settled_on_the_heldout_scan(tmp_path: Path) -> None:
    """Bench page 17 (held-out zh_hospital scan): tesseract's stacked strip lost the minus of six
    hip T-scores that RapidOCR read; the cells read alone show it."""
    _, exam, sc = _bench_page(17, tmp_path)
    assert sc["silent"] == 0 and sc["exact"] == sc["values"]  # type: ignore[index]
    settled = [f for f in exam.flags if "read the cell alone" in f.message]  # type: ignore[attr-defined]
    assert all(f.level is Severity.INFO for f in settled)
    # six before; the closer looks settled four, and since each cell is read on its own line of
    # print (cellcrop.value_crop) the stacked strip keeps the minus itself: none left to settle
    assert sc["burdened"] <= 2  # type: ignore[index]


# --- the page-wide low-confidence flag ---------------------------------------------------------

def _page_with(doubtful_flagged: bool) -> tuple[list[reading.PageResult], list[RegionResult], list[Flag]]:
    res = reading.PageResult()
    res.page = 1
    res.low_conf = Flag(FlagCode.PAGE_QUALITY, "page 1: values read with low confidence")
    src = {"bmd": ValueSource(confidence=0.4, location=Location(page=1)),
           "t_score": ValueSource(confidence=0.9, location=Location(page=1))}
    r = RegionResult(Region.L2, Method.OCR, bmd=0.9, t_score=-1.0, sources=src)
    flags = [res.low_conf]
    if doubtful_flagged:
        flags.append(Flag(FlagCode.LOW_CONFIDENCE, "Only one ...", region="L2", measure="bmd"))
    return [res], [r], flags


def test_page_flag_becomes_a_note_only_when_each_doubtful_value_has_its_own() -> None:
    results, regions, flags = _page_with(True)
    out = valueflags.scope_page_flags(results, regions, flags)
    (page,) = [f for f in out if f.code is FlagCode.PAGE_QUALITY]
    assert page.level is Severity.INFO and "flagged on its own" in page.message
    results, regions, flags = _page_with(False)
    out = valueflags.scope_page_flags(results, regions, flags)
    (page,) = [f for f in out if f.code is FlagCode.PAGE_QUALITY]
    assert page.level is Severity.REVIEW


@needs_tesseract
def test_phone_photo_page_flag_scoped_to_its_doubtful_values(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Bench page 28 (dev Chinese phone photo): every value read right, and the page-wide
    review flag that put all of them under review is a note; each doubtful value keeps its own.
    (The page's mean confidence now depends on the closer looks, so the page-wide flag is made
    to fire here by raising its threshold: the test is about what happens to it.)"""
    monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, page_quality_min=0.99))
    _, exam, sc = _bench_page(28, tmp_path)
    assert sc["silent"] == 0  # type: ignore[index]
    page = [f for f in exam.flags if f.code is FlagCode.PAGE_QUALITY and "low confidence" in f.message]  # type: ignore[attr-defined]
    assert page and all(f.level is Severity.INFO for f in page)
    own = [f for f in exam.flags if f.region is not None and f.measure is not None]  # type: ignore[attr-defined]
    for r in exam.regions:  # type: ignore[attr-defined]
        for m, s in r.sources.items():
            if s.confidence is not None and s.confidence < vote.MIN_CONFIDENCE:
                assert any(f.covers(r.region.value, r.side, m) for f in own), (r.region, m)
    assert sc["burdened"] < sc["exact"]  # type: ignore[index]  # all ten were under review before
