"""Sentence photos and scans (issue 22): flags about the values of their line, units and sentence
ends as OCR misreads them.

- A sentence that names no region flags the values placed on its line (by the other engine),
  or the measures its numbers are meant for, not every value of the page; a conclusion
  restating a value read elsewhere, or a line of WHO definitions, is a note.
- A flag on a doubtful number is about the side and measure it was meant for.
- '克 /平方原米' (厘 misread) is a BMD unit, never a BMC's.
- A full stop lost after a clause naming a region that states nothing, a line opening with a
  number after a value, 'WHO criteria:' and dots OCR reads for specks split sentences.
- 'L.1-L4' and 'L1-14' are the lumbar range L1-L4.
Each test feeds lines as the engines give them (text, box, confidence, engine) or plain text.
"""

from __future__ import annotations

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Region, Side
from bmdkit.report.sentences import TextLine, read_sentences, read_text

R, T = "rapidocr", "tesseract"


def line(text: str, row: int, engine: str, conf: float = 0.95) -> TextLine:
    """A line of the page at text row ``row`` (40 px apart, 24 px high)."""
    return TextLine(text, conf, 1, (100, 40 * row, 900, 40 * row + 24), engine)


def covering(got, region: Region, side: Side | None, measure: str) -> list:
    """The review flags that cover one value (a flag naming no region covers every value)."""
    return [f for f in got.flags if f.level is not Severity.INFO
            and (f.region is None or f.covers(region.value, side, measure))]


def one(got, r: Region, side: Side | None = None):
    found = [x for x in got.regions if x.region is r and x.side == side]
    assert len(found) == 1, got.regions
    return found[0]


def test_a_line_one_engine_lost_the_region_of_flags_only_the_values_placed_there() -> None:
    """Tesseract reads the right total hip's line without its region and with a stray number; its
    flag covers that line's values (which RapidOCR placed), not the left femoral neck's."""
    got = read_sentences([
        line("左侧股骨颈骨密度为0.805克/平方厘米，T值为-1.0。", 1, R),
        line("右侧全髋骨密度1.120g/cm²，T值1.2。", 2, R),
        line("左侧股骨颈骨密度为 0.805 克 /平方厘米，T 值为 -1.0。", 1, T),
        line("4120049 11.120 g/cm2z，T 值 1.2。", 2, T),
    ])
    assert (one(got, Region.FEMORAL_NECK, Side.LEFT).bmd, one(got, Region.FEMORAL_NECK, Side.LEFT).t_score) \
        == (0.805, -1.0)
    assert covering(got, Region.FEMORAL_NECK, Side.LEFT, "bmd") == []
    assert covering(got, Region.FEMORAL_NECK, Side.LEFT, "t_score") == []
    assert covering(got, Region.TOTAL_HIP, Side.RIGHT, "bmd"), got.flags  # the doubt stays where it is


def test_numbers_meant_for_a_measure_flag_that_measure_only() -> None:
    """'T值 -1.7 Z值 -0.2' with its region lost: no region's BMD is in doubt, every T-score is."""
    got = read_text("L1-L4椎体骨密度：0.915g/cm2。\n左侧股骨颈骨密度0.700g/cm²。\nT值 -1.7，Z值 -0.2。")
    assert covering(got, Region.SPINE_TOTAL, None, "bmd") == []
    assert covering(got, Region.FEMORAL_NECK, Side.LEFT, "bmd") == []
    assert covering(got, Region.SPINE_TOTAL, None, "t_score")
    assert covering(got, Region.FEMORAL_NECK, Side.LEFT, "t_score")


def test_a_number_meant_for_no_measure_still_flags_the_whole_page() -> None:
    got = read_text("L1-L4椎体骨密度：0.915g/cm2。\n骨密度 0.88 或 0.92 见图。")
    assert covering(got, Region.SPINE_TOTAL, None, "bmd") or covering(got, Region.SPINE_TOTAL, None, "t_score")


def test_a_whole_number_after_a_measure_word_puts_no_decimal_measure_in_doubt() -> None:
    """Photo background read as 'area ... 2 ... 2g': a whole number is never a BMD or T-score."""
    got = read_text("L1-L4椎体骨密度：0.915g/cm2，T值：-1.7。\nso ae he area ree 2 ame 2g or 2 corre")
    assert covering(got, Region.SPINE_TOTAL, None, "bmd") == []
    assert covering(got, Region.SPINE_TOTAL, None, "t_score") == []
    assert covering(got, Region.SPINE_TOTAL, None, "area")


def test_a_conclusion_restating_a_value_with_its_region_lost_is_a_note() -> None:
    got = read_text("右侧髋部总体骨密度为0.752克/平方厘米，T值为-1.9。\n右侧股骨颈BMD0.694，T值-1.7。\n"
                    "结论：骨量减少（最低T值·1.9，位于右侧全院）。")
    assert (one(got, Region.TOTAL_HIP, Side.RIGHT).t_score, one(got, Region.FEMORAL_NECK, Side.RIGHT).t_score) \
        == (-1.9, -1.7)
    assert [f for f in got.flags if f.level is not Severity.INFO] == []
    assert any(f.code is FlagCode.UNPLACED_DATA for f in got.flags)  # the note stays


def test_a_conclusion_with_another_value_stays_for_review() -> None:
    got = read_text("右侧髋部总体骨密度为0.752克/平方厘米，T值为-1.9。\n结论：骨量减少（最低T值-2.4，位于右侧全院）。")
    assert covering(got, Region.TOTAL_HIP, Side.RIGHT, "t_score")


def test_who_definitions_with_a_comparator_misread_are_a_note() -> None:
    got = read_text("L1-L4椎体骨密度：0.827g/cm2,T值：-1.3,Z值0.4\n"
                    "WHO criteria:T-score≥-1.0normal,-1.0 to-2.5 osteopenia,-2.5osteoporosis.")
    total = one(got, Region.SPINE_TOTAL)
    assert (total.bmd, total.t_score) == (0.827, -1.3)
    assert covering(got, Region.SPINE_TOTAL, None, "t_score") == [], got.flags


def test_a_doubtful_number_flags_its_own_side_and_measure() -> None:
    got = read_text("左侧股骨颈骨密度0.700g/cm²，T值-1.5。\n右侧股骨颈骨密度0.720g/cm²，T值·1.3。")
    assert covering(got, Region.FEMORAL_NECK, Side.LEFT, "t_score") == []
    assert covering(got, Region.FEMORAL_NECK, Side.RIGHT, "bmd") == []
    assert covering(got, Region.FEMORAL_NECK, Side.RIGHT, "t_score")
    assert one(got, Region.FEMORAL_NECK, Side.RIGHT).t_score is None


def test_gram_per_square_centimetre_misread_is_a_bmd_unit() -> None:
    for unit in ("克 /平方原米", "克 /平方厚米", "克/平方厘米"):
        got = read_text(f"右侧髋部总体骨密度为 0.752 {unit}，T 值为 -1.9。")
        th = one(got, Region.TOTAL_HIP, Side.RIGHT)
        assert (th.bmd, th.t_score) == (0.752, -1.9), unit
        assert got.flags == (), (unit, got.flags)


def test_grams_alone_stay_a_bmc_unit() -> None:
    got = read_text("右侧髋部总体骨密度为 0.752 克，T 值为 -1.9。")
    th = one(got, Region.TOTAL_HIP, Side.RIGHT)
    assert th.bmd is None and th.t_score == -1.9
    assert covering(got, Region.TOTAL_HIP, Side.RIGHT, "bmd")


def test_a_clause_naming_a_region_and_stating_nothing_ends_where_a_statement_opens() -> None:
    got = read_text("Recommendation:repeatDxA of thelumbar spineandboth hipsin 2years\n"
                    "Right femoral neck:BMD 0.870 g/cm²,T-score-0.5 and a Z-score of 0.7.")
    neck = one(got, Region.FEMORAL_NECK, Side.RIGHT)
    assert (neck.bmd, neck.t_score) == (0.870, -0.5)
    assert [f for f in got.flags if f.level is not Severity.INFO] == []


def test_a_full_stop_read_as_a_comma_after_an_empty_clause() -> None:
    got = read_text("Recommendation: repeat DXA of the lumbar spine and both hips in 2 years, In the left hip, "
                    "the total hip BMD measured 0.846 g/cm2, corresponding to a T-score of -0.9.")
    th = one(got, Region.TOTAL_HIP, Side.LEFT)
    assert (th.bmd, th.t_score) == (0.846, -0.9)
    assert [f for f in got.flags if f.level is not Severity.INFO] == []


def test_two_regions_joined_by_and_over_a_line_break_stay_ambiguous() -> None:
    got = read_text("BMD of the left femoral neck and\ntotal hip are 0.80 g/cm2 and 0.90 g/cm2.")
    assert got.regions == ()
    assert covering(got, Region.FEMORAL_NECK, Side.LEFT, "bmd") and covering(got, Region.TOTAL_HIP, Side.LEFT, "bmd")


def test_a_wrapped_sentence_naming_its_region_first_runs_on() -> None:
    got = read_text("The BMD of the left femoral neck\nis 0.861 g/cm2 with a\nT-score of -1.3.")
    neck = one(got, Region.FEMORAL_NECK, Side.LEFT)
    assert (neck.bmd, neck.t_score) == (0.861, -1.3)


def test_a_line_opening_with_a_number_after_a_value_is_a_new_sentence() -> None:
    got = read_text("右全髋骨密度0.784g/cm²，T值-1.4，Z值0.0\n25羟维生素D25ng/mL，建议每日补充钙剂1200mg")
    th = one(got, Region.TOTAL_HIP, Side.RIGHT)
    assert (th.bmd, th.t_score) == (0.784, -1.4)
    assert [f for f in got.flags if f.level is not Severity.INFO] == []


def test_dots_read_for_specks_end_no_sentence() -> None:
    got = read_text("Femur Neck Right .. 0.708 g/cm? .. T-score of -1.8 and a Z-score of -0.7.")
    neck = one(got, Region.FEMORAL_NECK, Side.RIGHT)
    assert (neck.bmd, neck.t_score) == (0.708, -1.8)
    assert got.flags == ()


def test_lumbar_range_read_with_a_stray_point_or_a_one_for_the_l() -> None:
    for text in ("L.1-L4椎体骨密度：0.844g/cm2，T值：-2.3", "L1-14椎体骨密度：0.844g/cm2，T值：-2.3"):
        got = read_text(text)
        total = one(got, Region.SPINE_TOTAL)
        assert total.vertebrae == (Region.L1, Region.L2, Region.L3, Region.L4), text
        assert (total.bmd, total.t_score) == (0.844, -2.3)
        assert got.flags == (), (text, got.flags)


def test_a_conclusion_naming_the_spine_without_levels_restates_the_total() -> None:
    """'位于腰椎' (at the spine) names the lumbar total: a one-engine restatement of the value both
    engines read for L1-L4 is dropped with its flag."""
    got = read_sentences([
        line("L1-L4椎体骨密度：0.915g/cm2，T值：-1.7。", 1, R),
        line("结论：骨量减少（最低T值-1.7，位于腰椎）。", 3, R),
        line("L1-L4 椎体骨密度 : 0.915 g/cm2，T 值 : -1.7。", 1, T),
    ])
    total = one(got, Region.SPINE_TOTAL)
    assert (total.bmd, total.t_score) == (0.915, -1.7)
    assert covering(got, Region.SPINE_TOTAL, None, "t_score") == [], got.flags


def test_total_hip_word_read_without_its_hip_opening_a_clause() -> None:
    """'左侧关节：股骨颈…；全骨密度…' (髋 lost twice): the heading gives the side, '全' opening a
    clause before a measure word is the total hip told from part of its word, flagged; the femoral
    neck keeps its own two values."""
    got = read_text("左侧关节：股骨颈骨密度0.962g/cm²，T值0.3；全骨密度1.032g/cm²，T值0.5。")
    neck, th = one(got, Region.FEMORAL_NECK, Side.LEFT), one(got, Region.TOTAL_HIP, Side.LEFT)
    assert (neck.bmd, neck.t_score, th.bmd, th.t_score) == (0.962, 0.3, 1.032, 0.5)
    assert covering(got, Region.FEMORAL_NECK, Side.LEFT, "bmd") == []
    assert [f.code for f in covering(got, Region.TOTAL_HIP, Side.LEFT, "bmd")] == [FlagCode.LABEL_UNCERTAIN]


def test_heading_side_reaches_a_total_hip_read_whole() -> None:
    got = read_text("左侧散关节 : 股骨颈骨密度 0.739 g/cm?，T 值 -1.6; 全艇骨密度 0.804 g/cm2?，T 值 -1.2。")
    th = one(got, Region.TOTAL_HIP, Side.LEFT)
    assert (th.bmd, th.t_score) == (0.804, -1.2)
    assert got.flags == ()


def test_a_heading_side_yields_to_each_clause_s_own_side() -> None:
    got = read_text("Right: femoral neck BMD 0.800 g/cm2; left femoral neck BMD 0.700 g/cm2.")
    assert (one(got, Region.FEMORAL_NECK, Side.RIGHT).bmd, one(got, Region.FEMORAL_NECK, Side.LEFT).bmd) == (0.8, 0.7)


def test_total_without_a_side_in_the_sentence_is_no_region() -> None:
    """'全骨密度' opening a clause in a sentence naming no side: nothing is told (全身, the whole
    body, has no side either): the lumbar total is given two BMDs, flagged, none used."""
    got = read_text("腰椎L1-L4骨密度0.900g/cm²；全骨密度1.100g/cm²。")
    assert got.regions == ()
    assert covering(got, Region.SPINE_TOTAL, None, "bmd")


def test_t_and_z_read_without_their_zhi() -> None:
    """RapidOCR drops 值: 'T0.0', 'T-0.7' are a T-score; 'T12' (a thoracic vertebra) is no measure."""
    got = read_text("腰椎L1-L4骨密度0.975g/cm²，T0.0，Z-1.2")
    total = one(got, Region.SPINE_TOTAL)
    assert (total.bmd, total.t_score, total.z_score) == (0.975, 0.0, -1.2)
    assert got.flags == ()
    got = read_text("左股骨颈BMD0.845，T12")
    assert one(got, Region.FEMORAL_NECK, Side.LEFT).t_score is None
