"""Sentence photos (issue 22): OCR forms of region words the engines read on generated pages.

- '股骨臻' (RapidOCR reads 颈 as 臻) names the femoral neck; '股骨' alone still names only the hip.
- '(LI-L4)' (tesseract reads the first one as I) is the lumbar range L1-L4, so that engine agrees
  with the other's 'L1-L4' instead of reading the spine total and L4 and putting both in doubt;
  a name such as 'Li' is never a level.
- A line opening with 与前次 (compared with the previous exam) starts a new sentence, so that a result
  line before it whose full stop OCR lost keeps its values; the history sentence gives none.
- 'T 值为 -L.2' (tesseract's '-1.2') names no level: a stray point after an L only before a range.
Each test feeds lines as the engines gave them (text, box, confidence, engine) or plain text.
"""

from __future__ import annotations

from bmdkit.flags import Severity
from bmdkit.model import Region, Side
from bmdkit.report.sentences import TextLine, read_sentences, read_text

R, T = "rapidocr", "tesseract"


def review(got) -> list:
    """The flags that put something in doubt."""
    return [f for f in got.flags if f.level is not Severity.INFO]


def test_femoral_neck_with_its_neck_character_misread_is_the_femoral_neck() -> None:
    # RapidOCR on a generated Chinese photo (seed 7): 颈 read as 臻
    got = read_text("左股骨臻骨密度为0.573克/平方厘米，T值为-3.0，Z值为-2.2。")
    assert [(r.region, r.side, r.bmd, r.t_score, r.z_score) for r in got.regions] == \
        [(Region.FEMORAL_NECK, Side.LEFT, 0.573, -3.0, -2.2)]


def test_femur_alone_still_names_no_part_of_the_hip() -> None:
    got = read_text("左股骨骨密度为0.573克/平方厘米，T值为-3.0。")
    assert got.regions == ()
    assert review(got)


def test_a_range_read_with_its_first_one_as_i_is_l1_to_l4() -> None:
    got = read_text("腰椎 (LI-L4) BMD 为 0.795 克 /平方厘米，T 值为 -2.7，Z 值为 -0.1。")
    assert [(r.region, r.bmd, r.t_score, r.z_score) for r in got.regions] == [(Region.SPINE_TOTAL, 0.795, -2.7, -0.1)]
    assert got.regions[0].vertebrae == (Region.L1, Region.L2, Region.L3, Region.L4)
    assert not review(got)


def test_both_engines_agree_on_the_lumbar_total_when_one_reads_li() -> None:
    # the two engines' lines of one generated photo (seed 5151): RapidOCR 'L1-L4', tesseract 'LI-L4'
    lines = [TextLine("腰椎（L1-L4）BMD为0.795克/平方厘米，T值为-2.7，Z值为-0.1。", 0.97, 1, (324, 457, 1028, 529), R),
             TextLine("腰椎 (LI-L4) BMD 为 0.795 克 /平方厘米，T 值为 -2.7，Z 值为 -0.1。", 0.59, 1,
                      (326, 450, 1028, 533), T)]
    got = read_sentences(lines)
    assert [(r.region, r.bmd, r.t_score) for r in got.regions] == [(Region.SPINE_TOTAL, 0.795, -2.7)]
    assert set(got.regions[0].sources["bmd"].engines) == {R, T}
    assert not review(got)


def test_a_name_li_is_never_a_level() -> None:
    got = read_text("Patient: Li Guilan, Li-Ming Hospital. Lumbar spine BMD 0.900 g/cm2, T-score -1.2.")
    assert [(r.region, r.vertebrae, r.bmd, r.t_score) for r in got.regions] == [(Region.SPINE_TOTAL, None, 0.9, -1.2)]


def test_a_history_line_after_a_result_whose_full_stop_was_lost_keeps_the_result() -> None:
    # RapidOCR on a generated bilingual scan: the result line ends on 'T值-2.4' with no full stop,
    # the next line compares with the previous exam
    lines = [TextLine("左全航LeftTotalHip：骨密度BMD0.655g/cm²，T值-2.4", 0.92, 1, (93, 311, 505, 348), R),
             TextLine("与前次检查对比，腰椎骨密度下降2.1%。", 0.96, 1, (94, 339, 368, 367), R)]
    got = read_sentences(lines)
    assert [(r.region, r.side, r.bmd, r.t_score) for r in got.regions] == [(Region.TOTAL_HIP, Side.LEFT, 0.655, -2.4)]


def test_a_history_sentence_still_gives_no_value() -> None:
    got = read_text("与前次检查对比，左股骨颈骨密度0.700克/平方厘米，下降2.1%。")
    assert got.regions == ()


def test_a_t_score_read_as_minus_l_point_two_names_no_level() -> None:
    # tesseract on a generated Chinese photo: 'T 值为 -1.2' read '-L.2'; a stray point after an L is a
    # level only before a range ('L.1-L4'), so the sentence names the total hip alone
    got = read_text("右侧髋部总体骨密度为 0.809 克 /平方厘米，T 值为 -L.2。")
    assert [(r.region, r.side, r.bmd) for r in got.regions] == [(Region.TOTAL_HIP, Side.RIGHT, 0.809)]
    assert read_text("腰椎L.1-L4 BMD 0.900 g/cm2").regions[0].vertebrae == (Region.L1, Region.L2, Region.L3,
                                                                             Region.L4)
