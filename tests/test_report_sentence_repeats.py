"""A value a report states twice, read by two engines (issue 22, bilingual photos and scans).

A bilingual report states each value in Chinese and in English; an impression repeats the
lowest T-score. Where both engines read one statement alike (confirmed) and only one engine
read the other, or read its region only in part ('左全' for '左全髋'), the repeated value is
that confirmed value: no review flag for it. A repeat that gives another value stays flagged.
"""

from __future__ import annotations

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Region, Side
from bmdkit.report.sentences import TextLine, read_sentences

R, T = "rapidocr", "tesseract"


def line(text: str, row: int, engine: str, conf: float = 0.95) -> TextLine:
    """A line of the page at text row ``row`` (40 px apart, 24 px high)."""
    return TextLine(text, conf, 1, (100, 40 * row, 900, 40 * row + 24), engine)


def _review(got, side: Side = Side.LEFT) -> list:
    return [f for f in got.flags if f.level is not Severity.INFO and f.region in (None, Region.TOTAL_HIP)
            and f.side in (None, side)]


def _hip(got):
    return [(r.bmd, r.t_score) for r in got.regions if r.region is Region.TOTAL_HIP and r.side is Side.LEFT]


EN = "In the left hip, the total hip BMD measured 0.999 g/cm2, corresponding to a T-score of 0.3."


def test_bilingual_repeat_read_in_part_by_one_engine_is_the_confirmed_value() -> None:
    got = read_sentences([
        line("左全骨密度0.999g/cm2，T值0.3。", 1, R),  # RapidOCR loses 髋; tesseract reads the Chinese line as noise
        line(EN.replace(" ", ""), 2, R),
        line("AWS BRR", 1, T),
        line(EN, 2, T),
    ])
    assert _hip(got) == [(0.999, 0.3)]
    assert _review(got) == [], got.flags


def test_repeat_one_engine_read_whole_is_the_confirmed_value() -> None:
    got = read_sentences([
        line("左侧全髋骨密度0.999g/cm2，T值0.3。", 1, R),
        line(EN, 2, R),
        line("AWS BRR", 1, T),
        line(EN, 2, T),
    ])
    hip = [r for r in got.regions if r.region is Region.TOTAL_HIP]
    assert _hip(got) == [(0.999, 0.3)] and hip[0].sources["bmd"].engines == (R, T)
    assert _review(got) == [], got.flags


def test_repeat_with_another_value_stays_flagged() -> None:
    """The Chinese line read by one engine gives 0.989: not the confirmed 0.999, so it is flagged
    (and not used)."""
    got = read_sentences([
        line("左侧全髋骨密度0.989g/cm2，T值0.3。", 1, R),
        line(EN, 2, R),
        line("AWS BRR", 1, T),
        line(EN, 2, T),
    ])
    assert _hip(got) == [(0.999, 0.3)]
    assert any(f.measure == "bmd" and f.code is FlagCode.LOW_CONFIDENCE for f in _review(got)), got.flags


def test_region_read_in_part_with_another_value_keeps_its_flag() -> None:
    """Both engines read '左全' and 0.989 alike, the English line 0.999: the part-word reading is
    not backed by the whole word's value, its flag stays."""
    got = read_sentences([
        line("左全骨密度0.989g/cm2，T值0.3。", 1, R),
        line(EN, 2, R),
        line("左全骨密度 0.989 g/cm2，T 值 0.3。", 1, T),
        line(EN, 2, T),
    ])
    assert _review(got), got.flags
