"""A line of a photographed sentence report read again on its crop (issue 22).

On a phone photo RapidOCR loses characters of Chinese region words ('右侧部总体' for
'右侧髋部总体', '全' for '全髋'); the value is then placed on a region told from part
of its word, under a review flag, or not placed at all.
:func:`bmdkit.report.prose.reread_doubtful` reads such a line again on its crop by
each engine and takes a re-reading only where it adds words, keeps every number as
first read and every word of the first reading, and the line then states all it stated
before and more, or with fewer doubts.

The first test reads a generated Chinese photo with both real engines, as the report
reader reads a page of prose; the others give the rule a re-reading as text (what a
closer look could return) and check that an ambiguity is never settled by it.
"""

from __future__ import annotations

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Region, Side
from bmdkit.report import prose
from bmdkit.report.sentences import TextLine, lines_from_words, read_sentences


def _line(text: str) -> TextLine:
    return TextLine(text, 0.9, 1, (100, 400, 900, 424), "rapidocr")


def _reread_with(*texts: str):
    """A re-reader giving each box the readings ``texts`` (as PageRereader.read_boxes gives them)."""
    def reread(boxes):
        return [list(texts) for _ in boxes]
    return reread


def _review(got) -> list:
    return [f for f in got.flags if f.level is not Severity.INFO]


def test_generated_chinese_photo_region_word_read_again(tmp_path) -> None:
    """Seed 31's 11th Chinese photo: RapidOCR reads '右侧部总体' (髋 lost) on the page and
    '右侧髋部总体' on the line's crop. RapidOCR's lines alone place the right total hip on part of
    its word (flagged); with the crop re-read on its whole word; the page read by both engines,
    as the reader reads it, gives every value exact, confirmed by both and free of review flags."""
    from bmdkit.options import DEFAULT_OPTIONS
    from bmdkit.report import preprocess
    from bmdkit.report.pagefiles import load_pages
    from bmdkit.report.pageimage import read_image_page
    from bmdkit.report.rereading import Budget
    from bmdkit.samples.sentence_gen import make_sentence_pages

    page_file = make_sentence_pages(11, tmp_path, 31, ("photo",), ("zh",))[-1]
    page = load_pages(page_file.path, DEFAULT_OPTIONS, None, "image")[0]
    read = read_image_page(page, ["tesseract", "rapidocr"], DEFAULT_OPTIONS, Budget())
    words = [" ".join(w.text for w in ln) for ln in read.layout.lines]
    assert any("部总体" in w and "髋" not in w for w in words), words  # the page's reading lost 髋
    rapid = lines_from_words(read.layout.lines, page=1)
    assert any(f.code is FlagCode.LABEL_UNCERTAIN for f in read_sentences(rapid).flags)
    again = read_sentences(prose.reread_doubtful(rapid, read.rereader.read_boxes))  # RapidOCR's lines alone
    assert not any(f.code is FlagCode.LABEL_UNCERTAIN for f in again.flags), again.flags
    assert any(r.region is Region.TOTAL_HIP and r.side is Side.RIGHT for r in again.regions)
    tess = read.rereader.page_tokens("tesseract")
    crop = read_sentences(prose.ocr_sentence_lines(
        read.layout.lines, 1, lambda: tess, lambda b: preprocess.map_box(read.to_page, b),
        reread=read.rereader.read_boxes))
    for tr in page_file.truth.contract_regions():
        res = [r for r in crop.regions if r.region.value == tr.region and r.side == Side(tr.side)]
        assert res and (res[0].bmd, res[0].t_score) == (tr.bmd, tr.t_score), (tr, crop.regions)
        assert res[0].sources["bmd"].engines == ("rapidocr", "tesseract")
    assert _review(crop) == [], crop.flags
    hip = [r for r in crop.regions if r.region is Region.TOTAL_HIP]
    assert hip and hip[0].side is Side.RIGHT


def test_reread_adds_the_lost_character_and_keeps_the_number_first_read() -> None:
    """The re-reading adds 髋 but reads 0.838 as 0.83: the words it adds are taken, the number
    stays as first read."""
    first = _line("右侧部总体骨密度为0.838克/平方厘米，T值为-1.0。")
    assert any(f.code is FlagCode.LABEL_UNCERTAIN for f in read_sentences([first]).flags)
    out = prose.reread_doubtful([first], _reread_with("右侧髋部总体骨密度为0.83克/平方厘米，T值为-1.0。"))
    assert out[0].text == "右侧髋部总体骨密度为0.838克/平方厘米，T值为-1.0。"
    got = read_sentences(out)
    assert [(r.region, r.side, r.bmd, r.t_score) for r in got.regions] == [(Region.TOTAL_HIP, Side.RIGHT, 0.838, -1.0)]
    assert not any(f.code is FlagCode.LABEL_UNCERTAIN for f in got.flags)


def test_reread_places_a_value_the_first_reading_could_not() -> None:
    """'全骨密度' opening a clause after the femoral neck: the total hip told from part of its word,
    flagged (LABEL_UNCERTAIN); the crop's '全髋' gives each value its region with no doubt."""
    first = _line("左髋关节：股骨颈骨密度0.632g/cm²，T值-2.2；全骨密度0.690g/cm²，T值-2.5。")
    assert any(f.code is FlagCode.LABEL_UNCERTAIN and f.region == Region.TOTAL_HIP.value
               for f in read_sentences([first]).flags)
    out = prose.reread_doubtful([first], _reread_with("左髋关节：股骨颈骨密度0.632g/cm²，T值-2.2；全髋骨密度0.690g/cm²，T值-2.5。"))
    got = read_sentences(out)
    vals = {(r.region, r.side): (r.bmd, r.t_score) for r in got.regions}
    assert vals == {(Region.FEMORAL_NECK, Side.LEFT): (0.632, -2.2), (Region.TOTAL_HIP, Side.LEFT): (0.69, -2.5)}
    assert _review(got) == []


def test_reread_that_loses_a_side_word_settles_no_ambiguity() -> None:
    """Two sides named for one femoral neck: a re-reading that lost '左' would name one side; it is
    not taken, the sentence stays flagged and gives no value."""
    first = _line("左右股骨颈骨密度0.861，T值-1.3。")
    out = prose.reread_doubtful([first], _reread_with("右股骨颈骨密度0.861，T值-1.3。"))
    assert out == [first]
    got = read_sentences(out)
    assert got.regions == () and _review(got)


def test_reread_that_reads_another_number_is_not_taken() -> None:
    """A re-reading whose number differs and adds no word is not taken: the first reading and its
    flag stand."""
    first = _line("右侧部总体骨密度为0.838克/平方厘米，T值为-1.0。")
    out = prose.reread_doubtful([first], _reread_with("右侧部总体骨密度为0.888克/平方厘米，T值为-1.0。"))
    assert out == [first]
    assert any(f.code is FlagCode.LABEL_UNCERTAIN for f in read_sentences(out).flags)


def test_two_regions_one_value_stay_flagged_after_a_reread() -> None:
    """'L2和L3骨密度1.163': the crop reads the same; two regions, one value: flagged, no value."""
    first = _line("L2和L3骨密度1.163 g/cm²。")
    out = prose.reread_doubtful([first], _reread_with("L2和L3骨密度1.163 g/cm²。", "L2 和 L3 骨密度 1.163 g/cm²。"))
    got = read_sentences(out)
    assert got.regions == () and _review(got)


def test_lines_without_doubt_are_not_read_again() -> None:
    """A line stating its values plainly costs no crop reading."""
    asked: list = []

    def reread(boxes):
        asked.extend(boxes)
        return [[] for _ in boxes]

    first = _line("左侧股骨颈 BMD 0.861，T值 -1.3。")
    assert prose.reread_doubtful([first, _line("建议2年后复查骨密度。")], reread) == [first, _line("建议2年后复查骨密度。")]
    assert asked == []


def test_tesseract_form_of_the_hip_word_confirms_a_region_read_in_part() -> None:
    """Tesseract reads 髋 as 航 ('全航', an OCR form in the vocabulary); RapidOCR loses it ('全'):
    the same numbers at the same place, the region from tesseract's word: confirmed, no flag."""
    got = read_sentences([
        TextLine("左全骨密度1.032g/cm²，T值0.5。", 0.9, 1, (100, 400, 900, 424), "rapidocr"),
        TextLine("左全航骨密度 1.032 g/cm2，T 值 0.5。", 0.8, 1, (100, 398, 900, 426), "tesseract"),
    ])
    assert [(r.region, r.side, r.bmd, r.t_score) for r in got.regions] == [(Region.TOTAL_HIP, Side.LEFT, 1.032, 0.5)]
    assert _review(got) == [], got.flags
