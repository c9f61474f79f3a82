"""Values the report reader repairs, and only with the page's own evidence: a
minus lost on a T-score that breaks its site's line, a decimal point lost on a
score beyond any plausible one. Each repair is flagged for review."""

from __future__ import annotations

import pytest

from bmdkit.flags import FlagCode
from bmdkit.model import Method, Region, RegionResult, Side, ValueSource
from bmdkit.report import crosscheck, repairs, vote


def _spine(t_total: float, z_total: float | None = -0.5,
           engines: tuple[str, ...] = ("rapidocr", "tesseract")) -> list[RegionResult]:
    rows = [(Region.L1, 0.880, -1.8), (Region.L2, 0.890, -1.8), (Region.L3, 0.990, -1.1), (Region.L4, 0.950, -1.4),
            (Region.SPINE_TOTAL, 0.937, t_total)]
    return [RegionResult(region=r, method=Method.OCR, bmd=b, t_score=t,
                         z_score=z_total if r is Region.SPINE_TOTAL else None,
                         sources={"t_score": ValueSource(confidence=0.9, raw_text=str(t), engines=engines)})
            for r, b, t in rows]


def test_a_lost_minus_that_breaks_the_sites_line_is_restored_and_flagged() -> None:
    fixed, flags = repairs.restore_signs(_spine(1.5))
    total = next(r for r in fixed if r.region is Region.SPINE_TOTAL)
    assert total.t_score == -1.5 and total.sources["t_score"].confidence == 0.5
    assert [f.code for f in flags] == [FlagCode.T_SCORE_INCONSISTENT] and flags[0].region == "L1-L4"
    assert crosscheck.check_regions(fixed) == []  # consistent once restored


def test_a_sign_is_not_restored_without_witnesses_or_when_it_still_does_not_fit() -> None:
    # a text layer's characters are the page's own: never repaired
    assert repairs.restore_signs(_spine(1.5, engines=("pdf-text",)))[1] == []
    # consistent as read: nothing to do
    assert repairs.restore_signs(_spine(-1.5)) == (_spine(-1.5), [])
    # negated it still breaks the line (a wrong digit, not a sign): left as read, the check flags it
    fixed, flags = repairs.restore_signs(_spine(3.9))
    assert flags == [] and next(r for r in fixed if r.region is Region.SPINE_TOTAL).t_score == 3.9
    # two rows of a site say nothing about which of them is wrong
    hips = [RegionResult(region=Region.FEMORAL_NECK, method=Method.OCR, side=s, bmd=b, t_score=t)
            for s, b, t in ((Side.LEFT, 0.700, -1.9), (Side.RIGHT, 0.692, 2.0))]
    assert repairs.restore_signs(hips) == (hips, [])


def _reading(raw: str, value: float) -> vote.Reading:
    return vote.Reading(value, False, 0.9, raw, ("rapidocr",))


@pytest.mark.parametrize(("raw", "value", "decimals", "want", "repaired"), [
    ("-11", -11.0, 1, -1.1, True),    # beyond any T-score: the point goes back where the column prints it
    ("-25", -25.0, 1, -2.5, True),
    ("-3", -3.0, 1, -3.0, False),     # plausible as read: left alone (the vote already flagged the decimals)
    ("-110", -110.0, 2, -1.1, True),
    ("-1.1", -1.1, 1, -1.1, False),
    ("-99", -99.0, 0, -99.0, False),  # a column printed without decimals: nothing to put back
    ("-700", -700.0, 1, -700.0, False),  # still implausible with the point: not a lost point
])
def test_a_lost_decimal_point_on_a_score_is_restored_only_beyond_plausible(raw: str, value: float, decimals: int,
                                                                        want: float, repaired: bool) -> None:
    rd = _reading(raw, value)
    repairs.restore_decimal(rd, decimals, "t_score")
    assert rd.value == want and bool(rd.repair) is repaired and rd.disagreement is repaired
    assert rd.conf == (0.5 if repaired else 0.9)


def _cell(value: float, texts: list[str], disagreement: bool) -> vote.Reading:
    from bmdkit.report.numbers import parse_number

    cands = [vote.Candidate("rapidocr", t, 0.8, parse_number(t)) for t in texts]
    return vote.Reading(value, False, 0.4 if disagreement else 0.95, texts[0], ("rapidocr",),
                        disagreement=disagreement, candidates=cands)


def test_bmc_over_area_picks_between_a_disputed_cells_readings() -> None:
    rds = {"bmd": _cell(1.682, ["1.682", "1.082", "1082"], True),
           "bmc": _cell(17.48, ["17.48"], False), "area": _cell(16.16, ["16.16"], False)}
    assert repairs.settle_by_ratio(rds) == "bmd" and rds["bmd"].value == 1.082 and rds["bmd"].disagreement
    assert "BMC/area" in rds["bmd"].repair
    # a cell the engines agreed on is never changed, even when the ratio fails
    rds = {"bmd": _cell(1.682, ["1.682", "1.082"], False),
           "bmc": _cell(17.48, ["17.48"], False), "area": _cell(16.16, ["16.16"], False)}
    assert repairs.settle_by_ratio(rds) is None and rds["bmd"].value == 1.682
    # two disputed cells that could each make it fit: no choice
    rds = {"bmd": _cell(1.682, ["1.682", "1.082"], True),
           "bmc": _cell(17.48, ["17.48", "27.18"], True), "area": _cell(16.16, ["16.16"], False)}
    assert repairs.settle_by_ratio(rds) is None and rds["bmd"].value == 1.682


@pytest.mark.parametrize(("raw", "value", "decimals", "want", "repaired"), [
    ("1358", 1358.0, 3, 1.358, True),   # issue 22: an L3 BMD of 1.358 read as 1358
    ("0873", 873.0, 3, 0.873, True),
    ("1.358", 1.358, 3, 1.358, False),  # plausible as read
    ("9999", 9999.0, 3, 9999.0, False),  # 9.999 is still no BMD: left for the checks to flag as a misread
])
def test_a_lost_decimal_point_on_a_bmd_is_restored_only_beyond_plausible(raw: str, value: float, decimals: int,
                                                                      want: float, repaired: bool) -> None:
    rd = _reading(raw, value)
    repairs.restore_decimal(rd, decimals, "bmd")
    assert rd.value == want and bool(rd.repair) is repaired and rd.disagreement is repaired


def _agreed(text: str) -> vote.Reading:
    return _cell(float(text), [text, text], False)


def test_bmc_over_area_settles_a_disputed_bmd_that_alone_fits_it() -> None:
    # issue 19: tesseract reads '0.' as '8.'; BMC and area read alike by both engines witness 0.625
    rds = {"bmd": _cell(0.625, ["0.625", "8.625", ".626"], True), "bmc": _agreed("20.00"), "area": _agreed("32.00")}
    assert repairs.confirm_by_ratio(rds) == "bmd"
    assert not rds["bmd"].disagreement and rds["bmd"].conf >= vote.MIN_CONFIDENCE and rds["bmd"].value == 0.625
    assert "BMC / area" in rds["bmd"].settled
    # the kept value does not fit: nothing settled (the mismatch check flags the row)
    rds = {"bmd": _cell(0.625, ["0.625", "8.625"], True), "bmc": _agreed("20.30"), "area": _agreed("32.00")}
    assert repairs.confirm_by_ratio(rds) is None and rds["bmd"].disagreement
    # a rival reading fits as well (within the print rounding): the ratio cannot tell them apart
    rds = {"bmd": _cell(0.625, ["0.625", "0.626"], True), "bmc": _agreed("20.02"), "area": _agreed("32.00")}
    assert repairs.confirm_by_ratio(rds) is None
    # a witness that is itself disputed or unconfirmed witnesses nothing
    rds = {"bmd": _cell(0.625, ["0.625", "8.625"], True), "bmc": _cell(20.0, ["20.00", "26.00"], True),
           "area": _agreed("32.00")}
    assert repairs.confirm_by_ratio(rds) is None
