"""Sentence pages read by two OCR engines (issue 22): a value both engines read alike is confirmed.

The first half feeds :func:`bmdkit.report.sentences.read_sentences` lines as
RapidOCR and tesseract give them (text, box, confidence, engine) and checks
how the two readings are joined: a value both read alike, in sentences giving
it the same region, side and measure, carries both engines and no review
flag; a region word one engine lost (髋) is taken from the other; a value one
engine alone read, or the engines read differently, is flagged; an ambiguous
sentence stays flagged whichever engine reads it.

The second half renders generated pages (scan and phone photo, English and
Chinese, :mod:`bmdkit.samples.sentence_gen`), reads them with both real
engines through :func:`bmdkit.report.prose.ocr_sentence_lines` (the
call the report reader makes for a page of prose) and checks the values
exact, confirmed values free of review flags, and a damaged sentence flagged.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import heldout_reports as ho
import pytest

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Region, Side
from bmdkit.read import read_file
from bmdkit.report.sentences import TextLine, lines_in_order, read_sentences

R, T = "rapidocr", "tesseract"


def line(text: str, row: int, engine: str, conf: float = 0.95) -> TextLine:
    """A line of the page at text row ``row`` (40 px apart, 24 px high)."""
    return TextLine(text, conf, 1, (100, 40 * row, 900, 40 * row + 24), engine)


def review(got, region: Region, side: Side | None = None, measure: str | None = None) -> list:
    return [f for f in got.flags if f.level is not Severity.INFO and
            (f.region is None or f.covers(region.value, side, measure or "bmd"))]


def region(got, r: Region, side: Side | None = None):
    found = [x for x in got.regions if x.region is r and x.side == side]
    return found[0] if found else None


def test_both_engines_alike_confirm_the_values() -> None:
    got = read_sentences([
        line("The BMD measured at AP Spine L1-L4 is 0.823 g/cm² with a T-score of -3.0.", 1, R),
        line("Left femoral neck: BMD 0.861 g/cm², T-score -1.3.", 2, R, conf=0.6),
        line("The BMD measured at AP Spine L1-L4 is 0.823 g/cm? with a T-score of -3.0.", 1, T),
        line("Left femoral neck: BMD 0.861 g/cm?, T-score 一 1.3.", 2, T, conf=0.5),
    ])
    spine, neck = region(got, Region.SPINE_TOTAL), region(got, Region.FEMORAL_NECK, Side.LEFT)
    assert (spine.bmd, spine.t_score, neck.bmd, neck.t_score) == (0.823, -3.0, 0.861, -1.3)
    for r in (spine, neck):
        for m, src in r.sources.items():
            assert src.engines == (R, T), (r.region, m)
            assert src.confidence >= 0.75
    # low line confidence alone, and tesseract's 一 for the minus, are no doubt once both engines agree
    assert [f for f in got.flags if f.level is not Severity.INFO] == [], got.flags


def test_region_word_one_engine_lost_is_taken_from_the_other() -> None:
    got = read_sentences([
        line("左侧全骨密度0.800g/cm2，T值-1.3，Z值-0.6", 1, R),  # RapidOCR loses 髋
        line("左侧全髋骨密度 0.800 g/cm2，T 值 -1.3，Z 值 -0.6。", 1, T),
    ])
    hip = region(got, Region.TOTAL_HIP, Side.LEFT)
    assert (hip.bmd, hip.t_score, hip.z_score) == (0.800, -1.3, -0.6)
    assert all(s.engines == (R, T) for s in hip.sources.values())
    assert review(got, Region.TOTAL_HIP, Side.LEFT) == [], got.flags


def test_region_word_neither_engine_read_whole_is_noted() -> None:
    """Both engines read '全' with the same side at the same place: the region word as read is
    confirmed and names the total hip (the one region so named with a side); the reading is noted,
    not put up for review (a reviewer would only confirm what both engines read)."""
    got = read_sentences([
        line("左侧全骨密度0.800g/cm2，T值-1.3。", 1, R),
        line("左侧全骨密度 0.800 g/cm2，T 值 -1.3。", 1, T),
    ])
    hip = region(got, Region.TOTAL_HIP, Side.LEFT)
    assert (hip.bmd, hip.t_score) == (0.800, -1.3)
    assert review(got, Region.TOTAL_HIP, Side.LEFT) == []
    assert [(f.code, f.level) for f in got.flags] == [(FlagCode.LABEL_UNCERTAIN, Severity.INFO)]


def test_value_one_engine_alone_read_is_flagged() -> None:
    got = read_sentences([
        line("Left total hip: BMD 0.912 g/cm², T-score -0.9.", 1, R),
        line("Lft tota hp 0 9l2 gcm", 1, T),
    ])
    hip = region(got, Region.TOTAL_HIP, Side.LEFT)
    assert (hip.bmd, hip.t_score) == (0.912, -0.9)
    assert {f.code for f in review(got, Region.TOTAL_HIP, Side.LEFT, "bmd")} == {FlagCode.LOW_CONFIDENCE}
    assert hip.sources["bmd"].engines == (R,)


def test_engines_reading_different_values_are_flagged() -> None:
    got = read_sentences([
        line("Left total hip: BMD 0.912 g/cm², T-score -0.9.", 1, R),
        line("Left total hip: BMD 0.942 g/cm², T-score -0.9.", 1, T),
    ])
    assert {f.code for f in review(got, Region.TOTAL_HIP, Side.LEFT, "bmd")} == {FlagCode.ENGINE_DISAGREEMENT}
    assert review(got, Region.TOTAL_HIP, Side.LEFT, "t_score") == []


@pytest.mark.parametrize("rapid, tess", [
    ("Femoral neck and total hip: BMD 0.777 g/cm².", "Femoral neck and total hip: BMD 0.777 g/cm?."),
    # one engine's misread hides the ambiguity: the other engine's flag stays
    ("Left femoral neck and total hip: BMD 0.777 g/cm².",
     "Left femoral neck and total h1p: BMD 0.777 g/cm²."),
])
def test_ambiguous_sentence_stays_flagged(rapid: str, tess: str) -> None:
    got = read_sentences([line(rapid, 1, R), line(tess, 1, T)])
    assert review(got, Region.FEMORAL_NECK, Side.LEFT), got.flags
    assert region(got, Region.TOTAL_HIP, Side.LEFT) is None


def test_a_range_read_without_its_start_is_not_a_vertebra() -> None:
    """'[.1-L4' (tesseract) and '[-L4' (RapidOCR) both read 'L4': never the lumbar total's values for L4."""
    got = read_sentences([
        line("At the lumbar spine [-L4, bone mineral density was 1.078 g/cm2 (T-score -0.3).", 1, R),
        line("At the lumbar spine [.1-L4, bone mineral density was 1.078 g/cm2 (T-score -0.3).", 1, T),
    ])
    assert region(got, Region.L4) is None
    assert review(got, Region.SPINE_TOTAL)


def test_a_stray_point_after_the_l_of_a_range_keeps_the_range() -> None:
    """'L.1-L4' (RapidOCR: a point read after the L) is the range L1-L4; tesseract's '[.1-L4'
    lacks the range's start but reads the same numbers there: the total is read, L4 is not."""
    got = read_sentences([
        line("At the lumbar spine L.1-L4, bone mineral density was 1.078 g/cm2 (T-score -0.3).", 1, R),
        line("At the lumbar spine [.1-L4, bone mineral density was 1.078 g/cm2 (T-score -0.3).", 1, T),
    ])
    assert region(got, Region.L4) is None
    total = region(got, Region.SPINE_TOTAL)
    assert total is not None and total.vertebrae == (Region.L1, Region.L2, Region.L3, Region.L4)
    assert (total.bmd, total.t_score) == (1.078, -0.3)


def test_tesseract_words_into_lines_by_their_order() -> None:
    @dataclass
    class W:
        text: str
        box: tuple[int, int, int, int]
        conf: float = 0.9
        engine: str = T

    # a sloping line (each word 6 px higher) and Chinese word boxes that overlap their neighbours
    words = [W("L1-L4", (10, 60, 70, 80)), W("BMD", (80, 54, 130, 74)), W("0.823", (140, 48, 200, 68)),
             W("江西", (10, 100, 200, 130)), W("省", (100, 98, 130, 130)), W("医院", (130, 98, 190, 130))]
    got = [" ".join(w.text for w in ln) for ln in lines_in_order(words)]
    assert got == ["L1-L4 BMD 0.823", "江西 省 医院"]


# --- generated pages, both real engines -------------------------------------------------------------

EN_LINES = ("Bone Densitometry Report", "Exam date: 2026-02-14", "",
            "The BMD measured at AP Spine L1-L4 is 0.823 g/cm² with a T-score of -3.0.",
            "Left femoral neck: BMD 0.861 g/cm², T-score -1.3.",
            "Left total hip: BMD 0.912 g/cm², T-score -0.9.",
            "L2 and L3: BMD 1.163 g/cm².")  # damaged: two regions, one value
ZH_LINES = ("骨密度检测报告", "检查日期：2026年2月14日", "",
            "腰椎L1-L4骨密度0.823 g/cm²，T值-3.0，Z值-1.2。",
            "左侧股骨颈 BMD 0.861，T值 -1.3。",
            "左侧全髋骨密度0.912 g/cm²，T值-0.9。",
            "L2和L3骨密度1.163 g/cm²。")  # damaged: two regions, one value
WANT = {(Region.SPINE_TOTAL, None): (0.823, -3.0), (Region.FEMORAL_NECK, Side.LEFT): (0.861, -1.3),
        (Region.TOTAL_HIP, Side.LEFT): (0.912, -0.9)}


def _read_page(path):
    """The page read as the report reader would read a page of prose: RapidOCR lays it out,
    tesseract reads it too."""
    from bmdkit.options import DEFAULT_OPTIONS
    from bmdkit.report import preprocess, prose
    from bmdkit.report.pagefiles import load_pages
    from bmdkit.report.pageimage import read_image_page
    from bmdkit.report.rereading import Budget

    page = load_pages(path, DEFAULT_OPTIONS, None, "image")[0]
    read = read_image_page(page, ["tesseract", "rapidocr"], DEFAULT_OPTIONS, Budget())
    assert not read.layout.tables
    lines = prose.ocr_sentence_lines(read.layout.lines, 1, lambda: read.rereader.page_tokens("tesseract"),
                                         lambda b: preprocess.map_box(read.to_page, b))
    assert {ln.engine for ln in lines} == {R, T}
    return read_sentences(lines)


@pytest.mark.parametrize("lang, form, seed", [("en", "photo", 5), ("zh", "scan", 3)])
def test_generated_pages_read_by_both_engines(tmp_path, lang: str, form: str, seed: int) -> None:
    from bmdkit.samples.sentence_gen import SentenceReport, write_form

    report = SentenceReport(EN_LINES if lang == "en" else ZH_LINES, lang, frozenset())
    path = write_form(report, form, tmp_path / f"page_{lang}", random.Random(seed))
    got = _read_page(path)
    assert got.regions  # the page's lines of both engines, as the reader takes them
    exam = read_file(path)  # the product: the reader reads the page of prose with both engines
    both = 0
    for (r, side), (bmd, t) in WANT.items():
        res = exam.region(r, side)
        assert res is not None and (res.bmd, res.t_score) == (bmd, t), (r, side, res, exam.flags)
        for m in ("bmd", "t_score"):
            if res.sources[m].engines == (R, T):
                both += 1  # read alike by both engines: no review flag may cover it
                cover = ho.covering(exam, r.value, side, m)
                assert cover == [], (r, side, m, cover)
    assert both >= 4, exam.regions
    # the damaged sentence: flagged on the vertebrae it names, no value taken
    assert exam.region(Region.L2) is None and exam.region(Region.L3) is None
    assert ho.covering(exam, "L2", None, "bmd") and ho.covering(exam, "L3", None, "bmd")


def test_a_partial_region_word_both_engines_read_is_a_note() -> None:
    """'全' with 髋 lost, read so by both engines at the same place with the same side: the word is
    confirmed and the region follows from the vocabulary, so the flag is a note; where the other
    engine read something else there ('全舰'), it stays a review item."""
    from bmdkit.flags import FlagCode, Severity
    from bmdkit.report import sentences
    from bmdkit.report.sentence_results import TextLine

    rapid = TextLine("左侧髋关节：股骨颈骨密度0.744 g/cm²，T值-1.5；全骨密度0.818 g/cm²，T值-1.1。", 0.9, 1,
                     (0, 0, 900, 20), "rapidocr")
    for tess, level in (("左侧髋关节：股骨颈骨密度 0.744 g/cm²，T 值 -1.5；全 骨密度 0.818 g/cm²，T 值 -1.1。", Severity.INFO),
                        ("左侧髋关节：股骨颈骨密度 0.744 g/cm²，T 值 -1.5；全舰骨密度 0.818 g/cm²，T 值 -1.1。", Severity.REVIEW)):
        got = sentences.read_sentences([rapid, TextLine(tess, 0.9, 1, (0, 0, 900, 20), "tesseract")])
        hip = [r for r in got.regions if r.region.value == "total_hip"]
        assert [(r.side.value, r.bmd, r.t_score) for r in hip] == [("left", 0.818, -1.1)]
        partial = [f for f in got.flags if f.code is FlagCode.LABEL_UNCERTAIN]
        assert [f.level for f in partial] == [level], [f.message for f in partial]
