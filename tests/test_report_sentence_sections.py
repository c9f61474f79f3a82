"""A report section word with its colon opens a new sentence (issue 22, photos and scans).

RapidOCR on a scan loses the full stop after 'in 2 years'; the recommendation (naming the
lumbar spine) then ran into the impression (naming the femoral neck) as one sentence with
two regions, flagged over a value read right.
"""

from __future__ import annotations

from bmdkit.flags import Severity
from bmdkit.model import Region, Side
from bmdkit.report.sentences import read_text


def _review(got) -> list:
    return [f for f in got.flags if f.level is not Severity.INFO]


def test_impression_after_a_lost_full_stop_is_its_own_sentence() -> None:
    got = read_text("FemurNeckLeft...0.595g/cm2...T-scoreof-2.8and aZ-scoreof-1.6.\n"
                    "Recommendation:repeatDXAofthelumbarspineandbothhipsin2years\n"
                    "Impression:osteoporosis;thelowestT-scoreis-2.8at theleftfemoral neck.")
    neck = [r for r in got.regions if r.region is Region.FEMORAL_NECK and r.side is Side.LEFT]
    assert neck and (neck[0].bmd, neck[0].t_score) == (0.595, -2.8)
    assert all(r.region is Region.FEMORAL_NECK for r in got.regions)
    assert _review(got) == [], got.flags


def test_chinese_conclusion_opens_a_sentence() -> None:
    got = read_text("建议2年后复查腰椎骨密度\n结论：骨量减少（最低T值-1.1，位于右侧股骨颈）\n"
                    "右股骨颈骨密度为0.799克/平方厘米，T值为-1.1。")
    assert [(r.region, r.side, r.t_score) for r in got.regions] == [(Region.FEMORAL_NECK, Side.RIGHT, -1.1)]
    assert _review(got) == [], got.flags


def test_a_section_word_without_its_colon_runs_on() -> None:
    """'summary of the left femoral neck' inside a wrapped sentence is no section heading: the
    sentence is read whole (one region, its values)."""
    got = read_text("The values below give a\nsummary of the left femoral neck: BMD 0.861 g/cm2, T-score -1.3.")
    neck = [r for r in got.regions if r.region is Region.FEMORAL_NECK]
    assert neck and (neck[0].side, neck[0].bmd, neck[0].t_score) == (Side.LEFT, 0.861, -1.3)
