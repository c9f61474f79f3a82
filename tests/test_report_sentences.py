"""bmdkit.report.sentences: results written as sentences, taken only where a sentence joins them.

The example sentences are those of issue 22; the expected values are what
the sentences print.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import VERTEBRAE, Method, Region, Side
from bmdkit.report.sentences import (
    TextLine,
    fold,
    group_words,
    lines_from_words,
    read_sentences,
    read_text,
)


def one(text: str):
    got = read_text(text)
    assert len(got.regions) == 1, (got.regions, got.flags)
    return got.regions[0], got


def review(got) -> list:
    return [f for f in got.flags if f.level is not Severity.INFO]


# --- the examples ---------------------------------------------------------------------------

def test_english_spine_sentence() -> None:
    r, got = one("The BMD measured at AP Spine L1-L4 is 0.823 g/cm² with a T-score of -3.0")
    assert (r.region, r.side, r.bmd, r.t_score, r.z_score) == (Region.SPINE_TOTAL, None, 0.823, -3.0, None)
    assert r.vertebrae == VERTEBRAE and r.label == "L1-L4"
    assert r.method is Method.OCR and got.flags == ()
    assert r.sources["bmd"].raw_text == "0.823" and r.sources["t_score"].raw_text == "-3.0"
    assert r.sources["bmd"].confidence == 1.0 and r.sources["bmd"].engines == ("text-file",)


def test_english_hip_sentence_with_ellipses() -> None:
    r, got = one("Femur Neck Left … 0.861 g/cm² … T-score of -1.3")
    assert (r.region, r.side, r.bmd, r.t_score) == (Region.FEMORAL_NECK, Side.LEFT, 0.861, -1.3)
    assert got.flags == ()


def test_chinese_spine_sentence() -> None:
    r, got = one("腰椎L1-L4骨密度0.823 g/cm²，T值-3.0，Z值-1.2")
    assert (r.region, r.bmd, r.t_score, r.z_score) == (Region.SPINE_TOTAL, 0.823, -3.0, -1.2)
    assert r.vertebrae == VERTEBRAE and got.flags == ()


def test_chinese_hip_sentence() -> None:
    r, got = one("左侧股骨颈 BMD 0.861，T值 -1.3")
    assert (r.region, r.side, r.bmd, r.t_score) == (Region.FEMORAL_NECK, Side.LEFT, 0.861, -1.3)
    assert got.flags == ()


@pytest.mark.parametrize("text", [
    "腰椎 Lumbar Spine L1-L4：骨密度 BMD 0.823 g/cm²，T值 T-score -3.0，Z值 Z-score -1.2。",
    ("腰椎L1-L4骨密度0.823 g/cm²，T值-3.0，Z值-1.2。The BMD of the lumbar spine L1-L4 is 0.823 g/cm2 "
     "with a T-score of -3.0 and a Z-score of -1.2."),
])
def test_bilingual_sentences(text: str) -> None:
    r, got = one(text)
    assert (r.region, r.bmd, r.t_score, r.z_score) == (Region.SPINE_TOTAL, 0.823, -3.0, -1.2)
    assert got.flags == ()


def test_bilingual_hip_with_side_twice() -> None:
    r, got = one("左股骨颈 Left Femoral Neck：BMD 0.593 g/cm²，T值 T-score −2.8。")
    assert (r.region, r.side, r.bmd, r.t_score) == (Region.FEMORAL_NECK, Side.LEFT, 0.593, -2.8)
    assert got.flags == ()


# --- numbers ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "腰椎L1-L4骨密度０.８２３ g/cm²，T值－３.０",           # full-width digits and minus
    "腰椎L1-L4骨密度0.823克/平方厘米，T值\u22123.0",          # unicode minus, Chinese unit
    "Lumbar spine L1–L4: BMD 0.823 g/cm2, T-score \u22123.0",  # en dash in the levels, g/cm2
    "腰椎L1-L4骨密度：0.823 g/cm²；T值：-3.0",               # Chinese colon and semicolon
])
def test_number_forms(text: str) -> None:
    r, _ = one(text)
    assert (r.bmd, r.t_score) == (0.823, -3.0)


def test_fold_keeps_minus_and_digits() -> None:
    assert fold("Ｔ值－１.２，ＢＭＤ") == "t值-1.2,bmd"


def test_single_vertebrae_and_other_totals() -> None:
    got = read_text("L2: BMD 0.801 g/cm², T-score -2.9.\nThe BMD of L2-L4 is 0.845 g/cm² (T-score -2.6).")
    l2 = next(r for r in got.regions if r.region is Region.L2)
    total = next(r for r in got.regions if r.region is Region.SPINE_TOTAL)
    assert (l2.bmd, l2.t_score) == (0.801, -2.9)
    assert total.vertebrae == (Region.L2, Region.L3, Region.L4) and total.label == "L2-L4" and total.bmd == 0.845


def test_one_sentence_two_hip_regions_each_with_values() -> None:
    got = read_text("Left hip: femoral neck BMD 0.861 g/cm², T-score -1.3; total hip BMD 0.912 g/cm², "
                    "T-score -0.9.")
    assert got.flags == ()
    assert {(r.region, r.side, r.bmd, r.t_score) for r in got.regions} == {
        (Region.FEMORAL_NECK, Side.LEFT, 0.861, -1.3), (Region.TOTAL_HIP, Side.LEFT, 0.912, -0.9)}


def test_sentence_wrapped_over_lines() -> None:
    r, got = one("The BMD measured at AP Spine L1-L4 is 0.823\ng/cm² with a T-score of -3.0.")
    assert (r.bmd, r.t_score) == (0.823, -3.0) and got.flags == ()


# --- ambiguity is flagged, never guessed ----------------------------------------------------------------

def test_two_regions_one_value() -> None:
    got = read_text("The BMD of the femoral neck and total hip is 0.861 g/cm2.")
    assert got.regions == ()
    assert {f.region for f in got.flags} == {"femoral_neck", "total_hip"}
    assert all(f.code is FlagCode.UNPLACED_DATA and f.level is Severity.REVIEW for f in got.flags)
    assert "which value belongs to which" in got.flags[0].message


def test_value_whose_measure_cannot_be_told() -> None:
    got = read_text("Left femoral neck 0.861, T-score -1.3, (-0.4).")
    r = got.regions[0]
    assert (r.bmd, r.t_score) == (None, -1.3)  # 0.861 has neither a measure word nor a unit
    msgs = [f.message for f in got.flags]
    assert any("no measure" in m and "0.861" in m for m in msgs) and any("-0.4" in m for m in msgs)
    assert all(f.region == "femoral_neck" for f in got.flags)


def test_two_measure_words_one_number() -> None:
    got = read_text("BMD and T-score were 0.823 and -3.0 at L1-L4.")
    assert got.regions == ()
    assert any("2 measure words" in f.message for f in got.flags)


def test_unit_contradicts_measure_word() -> None:
    got = read_text("Lumbar spine L1-L4 T-score 0.823 g/cm².")
    assert got.regions == () and "unit" in got.flags[0].message


def test_conflicting_sides() -> None:
    got = read_text("Left and right femoral neck BMD 0.861 g/cm², T-score -1.3.")
    assert got.regions == ()
    assert "two sides" in got.flags[0].message and got.flags[0].region == "femoral_neck"


def test_hip_without_side() -> None:
    got = read_text("The T-score at the total hip is -2.8.")
    assert got.regions == () and "without a side" in got.flags[0].message


def test_hip_without_part() -> None:
    got = read_text("Left hip BMD 0.912 g/cm².")
    assert got.regions == () and "which part" in got.flags[0].message


def test_value_without_region() -> None:
    got = read_text("T-score -2.8.")
    assert got.regions == () and got.flags[0].region is None and "names no region" in got.flags[0].message


def test_two_values_for_one_measure_are_withheld() -> None:
    got = read_text("腰椎L1-L4骨密度0.823 g/cm²，T值-3.0。\nThe BMD of the lumbar spine L1-L4 is 0.832 g/cm² "
                    "with a T-score of -3.0.")
    r = got.regions[0]
    assert r.bmd is None and r.t_score == -3.0
    (f,) = got.flags
    assert f.code is FlagCode.SOURCES_DISAGREE and (f.region, f.measure) == ("L1-L4", "bmd")
    assert "0.823" in f.message and "0.832" in f.message


def test_two_lumbar_totals_keep_l1_l4() -> None:
    got = read_text("L1-L4 BMD 0.823 g/cm², T-score -3.0. L2-L4 BMD 0.845 g/cm², T-score -2.6.")
    (r,) = got.regions
    assert r.vertebrae == VERTEBRAE and r.bmd == 0.823


# --- distractors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Repeat DXA of the lumbar spine and both hips in 2 years.",
    "Vitamin D 25 ng/mL; calcium 1200 mg daily is advised.",
    "WHO criteria: T-score ≥ -1.0 normal, -1.0 to -2.5 osteopenia, ≤ -2.5 osteoporosis.",
    "FRAX 10-year probability of major osteoporotic fracture 12%, hip fracture 3.1%.",
    "Clinical history: fracture of the left wrist in 2019.",
    "Height 158.0 cm, weight 55.2 kg, BMI 22.1 kg/m².",
    "Exam date: 2026-02-14 08:10:56. Age 65.",
    "建议2年后复查骨密度。",
    "25-羟维生素D 25 ng/mL，建议每日补充钙剂1200 mg。",
    "WHO诊断标准：T值≥-1.0为正常，-1.0～-2.5为骨量减少，≤-2.5为骨质疏松。",
    "T值介于-1.0与-2.5之间为骨量减少。",
    "检查日期：2026年2月14日，年龄：65岁。",
    "Total sBMD 985 mg/cm² at the lumbar spine.",
])
def test_distractors_give_nothing(text: str) -> None:
    got = read_text(text)
    assert got.regions == () and got.flags == () and not got


def test_sentence_about_an_earlier_exam_is_not_used() -> None:
    got = read_text("Compared with the previous exam, the L1-L4 BMD was 0.850 g/cm² and the T-score -2.8.")
    assert got.regions == ()
    assert [f.level for f in got.flags] == [Severity.INFO]


def test_distractors_beside_results() -> None:
    text = ("骨密度检测报告\n姓名：王秀英  性别：女  年龄：65岁\n检查日期：2026年2月14日\n\n"
            "建议2年后复查骨密度。\n左侧股骨颈 BMD 0.861，T值 -1.3。\n25-羟维生素D 25 ng/mL。\n"
            "左侧全髋骨密度0.912 g/cm²，T值-0.9，Z值0.2。\n结论：骨量减少（最低T值-1.3，位于左侧股骨颈）。")
    got = read_text(text)
    assert review(got) == []
    assert {(r.region, r.side, r.bmd, r.t_score, r.z_score) for r in got.regions} == {
        (Region.FEMORAL_NECK, Side.LEFT, 0.861, -1.3, None), (Region.TOTAL_HIP, Side.LEFT, 0.912, -0.9, 0.2)}


# --- OCR lines: confidence and provenance ---------------------------------------------------------------

@dataclass
class W:
    text: str
    box: tuple[int, int, int, int]
    conf: float
    engine: str = "rapidocr"


def test_ocr_lines_keep_page_box_and_confidence() -> None:
    words = [W("Femur", (10, 100, 60, 120), 0.97), W("Neck", (65, 101, 100, 121), 0.95),
             W("Left", (105, 99, 140, 119), 0.9), W("0.861", (150, 100, 200, 120), 0.6),
             W("g/cm²", (205, 100, 250, 120), 0.9), W("T-score", (10, 140, 70, 160), 0.95),
             W("-1.3", (80, 141, 110, 161), 0.92)]
    lines = lines_from_words(group_words(words), page=2)
    assert [ln.text for ln in lines] == ["Femur Neck Left 0.861 g/cm²", "T-score -1.3"]
    got = read_sentences(lines)
    (r,) = got.regions
    assert (r.bmd, r.t_score, r.side) == (0.861, -1.3, Side.LEFT)
    src = r.sources["bmd"]
    # the value's own stretch of its line's box (10, 99, 250, 121): the word 0.861 at x 150-200
    x0, y0, x1, y1 = src.location.box
    assert src.location.page == 2 and (y0, y1) == (99, 121) and src.engines == ("rapidocr",)
    assert 140 <= x0 <= 160 and 190 <= x1 <= 210, src.location.box
    assert src.confidence == 0.6 and r.sources["t_score"].confidence == 0.92
    low = [f for f in got.flags if f.code is FlagCode.LOW_CONFIDENCE]
    assert [(f.region, f.side, f.measure) for f in low] == [("femoral_neck", Side.LEFT, "bmd")]


def test_exact_lines_have_confidence_one() -> None:
    got = read_sentences([TextLine("L1-L4 BMD 0.823 g/cm², T-score -3.0", None, 1, (0, 0, 10, 10), "pdf-text")])
    src = got.regions[0].sources["t_score"]
    assert src.confidence == 1.0 and src.engines == ("pdf-text",) and src.location.detail == "line 1"


def test_messages_do_not_quote_the_sentence() -> None:
    got = read_text("Patient Wang Xiuying: the BMD of the femoral neck and total hip is 0.861 g/cm2.")
    assert got.flags and all("Wang" not in f.message for f in got.flags)


@pytest.mark.parametrize("text,doubt", [
    ("左侧股骨颈 BMD 0.861，T值一1.3。", "minus"),       # OCR reads the minus as 一
    ("Left femoral neck BMD 0.86l g/cm², T-score -1.3.", "misread"),  # an l for a 1
])
def test_doubtful_numbers_are_flagged_not_guessed(text: str, doubt: str) -> None:
    got = read_text(text)
    (r,) = got.regions
    assert r.bmd in (None, 0.861) and r.t_score in (None, -1.3)
    assert (r.bmd is None) != (r.t_score is None)
    (f,) = got.flags
    assert f.code is FlagCode.UNPLACED_DATA and f.region == "femoral_neck" and doubt in f.message


def test_combine_with_table_results() -> None:
    from bmdkit.model import RegionResult
    from bmdkit.report.sentences import combine

    table = [RegionResult(Region.SPINE_TOTAL, Method.OCR, bmd=0.823, t_score=-3.0)]
    said = read_text("Lumbar spine L1-L4: BMD 0.823 g/cm², T-score -2.9, Z-score -1.2.\n"
                     "Left femoral neck BMD 0.861 g/cm², T-score -1.3.")
    regions, flags = combine(table, said)
    spine = next(r for r in regions if r.region is Region.SPINE_TOTAL)
    assert (spine.bmd, spine.t_score, spine.z_score) == (0.823, None, -1.2)
    assert "z_score" in spine.sources
    assert [(f.code, f.region, f.measure) for f in flags] == [(FlagCode.SOURCES_DISAGREE, "L1-L4", "t_score")]
    assert any(r.region is Region.FEMORAL_NECK and r.side is Side.LEFT for r in regions)


def test_one_region_given_two_values_is_not_used() -> None:
    # OCR lost the second region's name (全髋 read as 全酸): both BMDs would land on the neck
    got = read_text("右侧髋关节：股骨颈骨密度0.767 g/cm²，T值-1.3；全酸骨密度0.864 g/cm²，T值-0.8。")
    assert got.regions == ()
    (f,) = got.flags
    assert f.region == "femoral_neck" and f.side is Side.RIGHT and "two different values" in f.message


def test_ocr_line_without_full_stop_before_a_conclusion() -> None:
    lines = [TextLine("左侧全髋骨密度0.710 g/cm²，T值-1.9", 0.95), TextLine("结论：骨量减少（最低T值-2.3，位于左侧股骨颈）。", 0.97)]
    got = read_sentences(lines)
    assert {(r.region, r.side, r.bmd, r.t_score) for r in got.regions} == {
        (Region.TOTAL_HIP, Side.LEFT, 0.71, -1.9), (Region.FEMORAL_NECK, Side.LEFT, None, -2.3)}
    assert got.flags == ()


def test_run_together_ocr_text() -> None:
    got = read_text("Lefthip:femoral neckBMD0.665g/cm2,T-score-2.2;totalhipBMD0.730g/cm²,T-score-1.8.\n"
                    "FemurNeckRight...0.636g/cm²..T-scoreof-2.4 and a Z-scoreof-0.8.")
    assert got.flags == ()
    assert {(r.region, r.side, r.bmd, r.t_score) for r in got.regions} == {
        (Region.FEMORAL_NECK, Side.LEFT, 0.665, -2.2), (Region.TOTAL_HIP, Side.LEFT, 0.73, -1.8),
        (Region.FEMORAL_NECK, Side.RIGHT, 0.636, -2.4)}


def test_a_point_before_a_number_may_be_a_minus() -> None:
    # '.0.951': a dot (from an ellipsis) before a BMD does not matter; before a T-score it may be a minus
    got = read_text("Femur Neck Left .0.951 g/cm² .T-score of .1.5.")
    (r,) = got.regions
    assert (r.bmd, r.t_score) == (0.951, None)
    (f,) = got.flags
    assert "minus" in f.message and f.region == "femoral_neck"
