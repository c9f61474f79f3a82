"""Inclusion 5 and 6 on constructed exams, including every boundary the protocol names."""

from __future__ import annotations

import pytest
from test_checks_factory import hip_exam, spine_exam

from bmdkit.checks.eligibility import (
    ELIGIBLE,
    MET,
    NOT_ELIGIBLE,
    NOT_MET,
    UNDETERMINED,
    assess_eligibility,
    assess_subject,
)
from bmdkit.checks.trial_inputs import FractureHistory, parse_yes_no
from bmdkit.model import Exam

NO_FX = FractureHistory(hip_or_vertebral=False, other=False)


def spine(l1: float = -1.2, l2: float = -1.1, l3: float = -1.0, l4: float = -0.9, total: float = -1.0,
          **kw) -> Exam:
    specs = {"L1": (0.80, l1), "L2": (0.85, l2), "L3": (0.88, l3), "L4": (0.90, l4)}
    return spine_exam(specs, total_t=total, **kw)


def hip(neck: float = -1.5, total: float = -1.2) -> Exam:
    return hip_exam({"left": (0.70, neck, 5.1)}, {"left": (0.80, total, 30.0)})


def one(exams: list[Exam], fx: FractureHistory | None = NO_FX, setting: str | None = None):
    return assess_eligibility({"S001": exams}, {"S001": fx} if fx else {}, setting)[0]


@pytest.mark.parametrize("neck,expected", [(-2.0, NOT_ELIGIBLE), (-2.1, ELIGIBLE), (-2.5, ELIGIBLE),
                                           (-1.9999999999, NOT_ELIGIBLE), (-2.04, NOT_ELIGIBLE)])
def test_t_threshold_is_strict_on_the_printed_value(neck: float, expected: str) -> None:
    r = one([spine(), hip(neck=neck)])
    assert r.outcome == expected, r.reasons
    if expected == ELIGIBLE:
        assert r.criterion == "5.3" and r.qualifying.site == "femoral_neck (left)"
        assert r.qualifying.t_score == neck


@pytest.mark.parametrize("t,expected", [(-1.0, NOT_MET), (-1.1, MET)])
def test_other_fracture_needs_t_strictly_below_minus_one(t: float, expected: str) -> None:
    r = one([spine(-0.5, -0.4, -0.3, -0.2, -0.3), hip(neck=t, total=-0.5)],
            FractureHistory(hip_or_vertebral=False, other=True))
    assert r.inclusion_5 == expected, r.reasons
    if expected == MET:
        assert r.criterion == "5.2"


def test_hip_or_vertebral_fracture_alone_meets_inclusion_5() -> None:
    r = one([spine(), hip(neck=0.5, total=0.4)], FractureHistory(hip_or_vertebral=True, other=None))
    assert (r.outcome, r.criterion) == (ELIGIBLE, "5.1")


def test_missing_fracture_history_is_undetermined_not_no() -> None:
    r = one([spine(), hip()], fx=None)
    assert r.inclusion_5 == UNDETERMINED and r.outcome == UNDETERMINED
    assert any("fracture history missing" in x for x in r.reasons)
    partial = one([spine(), hip()], FractureHistory(hip_or_vertebral=False, other=None))
    assert partial.outcome == UNDETERMINED  # T -1.5 < -1.0: an other fracture would decide it
    high = one([spine(-0.5, -0.4, -0.3, -0.2, -0.3), hip(-0.6, -0.4)], FractureHistory(hip_or_vertebral=False, other=None))
    assert high.outcome == NOT_ELIGIBLE  # no T < -1.0 anywhere: other fracture cannot matter


def test_low_t_decides_even_without_fracture_history() -> None:
    r = one([spine(), hip(neck=-2.2)], fx=None)
    assert r.outcome == ELIGIBLE and r.criterion == "5.3"


def test_missing_site_makes_not_met_undetermined() -> None:
    r = one([spine()])  # no hip exam: hip T-scores unknown
    assert r.inclusion_5 == UNDETERMINED
    assert any("femoral_neck" in x and "total_hip" in x for x in r.reasons)


def test_any_of_l1_l4_each_vertebra_versus_total() -> None:
    exams = [spine(l1=-2.1, total=-1.6), hip()]
    lit = one(exams)
    assert lit.outcome == ELIGIBLE and lit.qualifying.site == "L1" and lit.spine_setting == "each_vertebra"
    tot = one(exams, setting="spine_total")
    assert tot.outcome == NOT_ELIGIBLE, tot.reasons
    low_total = one([spine(l1=-1.9, total=-2.1), hip()], setting="spine_total")
    assert low_total.outcome == ELIGIBLE and low_total.qualifying.site.startswith("L1-L4")


def test_excluded_vertebra_does_not_count() -> None:
    r = one([spine(l4=-3.0, excluded=("L4",), total_levels=("L1", "L2", "L3")), hip()])
    assert r.outcome == NOT_ELIGIBLE, r.reasons
    assert r.evaluable_vertebrae == ("L1", "L2", "L3")


def test_spine_total_setting_uses_total_over_evaluable_vertebrae_only() -> None:
    # the scanner excluded L4 but printed an L1-L4 total with T -2.3: that total must not count;
    # the L1-L3 total is recomputed but has no reference for that combination -> undetermined
    r = one([spine(l4=-3.0, total=-2.3, excluded=("L4",)), hip()], setting="spine_total")
    assert r.inclusion_5 == UNDETERMINED, r.reasons
    assert any("no usable T-score at L1-L4" in x for x in r.reasons)


def test_one_evaluable_vertebra_fails_inclusion_6_and_does_not_count_for_5() -> None:
    r = one([spine(l4=-3.0, excluded=("L1", "L2", "L3"), total_levels=None), hip()])
    assert r.inclusion_6 == NOT_MET and r.outcome == NOT_ELIGIBLE
    assert r.qualifying is None or r.qualifying.site != "L4"
    assert r.evaluable_vertebrae == ("L4",)


def test_two_evaluable_vertebrae_meet_inclusion_6() -> None:
    r = one([spine(excluded=("L1", "L2"), total_levels=("L3", "L4")), hip(neck=-2.6)])
    assert r.inclusion_6 == MET and r.outcome == ELIGIBLE


def test_no_spine_exam_leaves_inclusion_6_undetermined() -> None:
    r = one([hip(neck=-2.6)])
    assert r.inclusion_6 == UNDETERMINED and r.outcome == UNDETERMINED


def test_discordant_qualifying_vertebra_needs_review() -> None:
    r = one([spine(l1=-2.4, l2=-1.3, l3=-1.2, l4=-1.1), hip()])
    assert r.outcome == ELIGIBLE and r.qualifying.site == "L1"
    assert r.review and "vertebra_t_discordant" in r.qualifying.review


def test_subject_level_call_and_sorting() -> None:
    res = assess_eligibility({"B": [spine(), hip(-2.6)], "A": [spine(), hip()]}, {"A": NO_FX, "B": NO_FX})
    assert [r.subject_id for r in res] == ["A", "B"]
    assert assess_subject("X", [], None).outcome == UNDETERMINED


@pytest.mark.parametrize("text,value", [("yes", True), ("Y", True), ("是", True), ("1", True), ("no", False),
                                        ("否", False), ("0", False), ("", None), ("unknown", None)])
def test_yes_no_parsing(text: str, value: bool | None) -> None:
    assert parse_yes_no(text) is value


def test_unread_vertebra_rows_count_from_the_printed_total_with_review() -> None:
    full = spine()
    only_l4 = full.with_regions([r for r in full.regions if r.region.value in ("L4", "L1-L4")])
    r = one([only_l4, hip(neck=-2.6)])
    assert r.inclusion_6 == MET and r.review
    assert any("counted from the printed total" in x for x in r.reasons)
