"""Vertebral evaluability (ISCD) and the recomputed spine total, on constructed exams."""

from __future__ import annotations

import dataclasses

import random

import pytest
from conftest import assert_valid
from test_checks_factory import exam_from_truth, source, spine_exam

from bmdkit.checks import apply_all
from bmdkit.checks.settings import default_settings
from bmdkit.export.jsonout import exam_from_dict, exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Method, Region, Status
from bmdkit.samples.truth import TruthGenerator

L = {v: Region(v) for v in ("L1", "L2", "L3", "L4")}


def codes(exam: Exam, region: str | None = None) -> list[str]:
    return [f.code.value for f in exam.flags if region is None or f.region == region]


def computed(exam: Exam):
    return exam.region(Region.SPINE_TOTAL, method=Method.COMPUTED)


def read_values(exam: Exam) -> list[tuple]:
    return [(r.region, r.side, r.bmd, r.bmc, r.area, r.t_score, r.z_score, r.label)
            for r in exam.regions if r.method is not Method.COMPUTED]


def test_clean_spine_all_evaluable_no_computed_total() -> None:
    e = apply_all(spine_exam())
    assert all(e.region(v).evaluable is True for v in L.values())
    assert computed(e) is None
    assert e.status is Status.EXTRACTED, e.flags


def test_scanner_exclusion_matching_printed_total_needs_no_recompute() -> None:
    e = apply_all(spine_exam(excluded=("L1",), total_levels=("L2", "L3", "L4")))
    assert e.region(L["L1"]).evaluable is False
    assert "vertebra_excluded" in codes(e, "L1")
    assert computed(e) is None  # the printed L2-L4 already covers the evaluable set


def test_vertebra_left_out_of_printed_label_is_excluded() -> None:
    e = apply_all(spine_exam(total_levels=("L1", "L2", "L3")))
    assert e.region(L["L4"]).evaluable is False
    assert any("not included in the printed spine total" in f.message for f in e.flags if f.region == "L4")


def test_excluded_vertebra_under_l1_l4_total_recomputes_sum_of_bmc_over_area() -> None:
    raw = spine_exam(excluded=("L1",))  # scanner excluded L1 but printed an L1-L4 total
    e = apply_all(raw)
    tot = computed(e)
    assert tot is not None and tot.method is Method.COMPUTED
    assert tot.vertebrae == (L["L2"], L["L3"], L["L4"]) and tot.label == "L2-L4"
    rows = [raw.region(L[v]) for v in ("L2", "L3", "L4")]
    expect = sum(r.bmc for r in rows) / sum(r.area for r in rows)
    assert tot.bmd == pytest.approx(expect, abs=5e-4)
    mean_of_bmds = sum(r.bmd for r in rows) / 3
    assert abs(mean_of_bmds - expect) > 1e-4  # the test can tell an average from ΣBMC/ΣArea
    # the printed total is kept, unchanged, beside the computed one
    printed = e.region(Region.SPINE_TOTAL, method=Method.DICOM_PRIVATE)
    assert printed is not None and printed.label == "L1-L4"
    assert read_values(e) == read_values(raw)
    assert "total_recomputed" in codes(e, "L1-L4")


@pytest.mark.parametrize("level,bmd", [("L3", 2.60), ("L4", 0.10), ("L3", 1358.0)])
def test_impossible_vertebral_bmd_is_a_misread_not_anatomy(level: str, bmd: float) -> None:
    """Issue 22: an L3 BMD of 1.358 read as 1358 made L3 non-evaluable and L4 compared with L2.
    An impossible BMD is flagged as a misread and leaves the evaluability rules alone."""
    specs = {"L1": (0.80, -2.1), "L2": (0.85, -1.8), "L3": (0.88, -1.5), "L4": (0.90, -1.4)}
    specs[level] = (bmd, specs[level][1])
    printed = spine_exam(specs)
    e = apply_all(printed.with_regions([dataclasses.replace(r, method=Method.OCR) for r in printed.regions]))
    assert e.region(L[level]).evaluable is None  # undecided: not evaluated, never "not evaluable"
    assert all(e.region(L[v]).evaluable is True for v in specs if v != level)
    assert "vertebra_out_of_range" not in codes(e)
    misread = [f for f in e.flags if f.code.value == "out_of_range" and f.region == level]
    assert misread and misread[0].measure == "bmd" and "misread" in misread[0].message
    assert not any(f.code.value in ("vertebra_t_discordant", "total_recomputed") for f in e.flags)
    assert e.status is Status.FLAGGED


@pytest.mark.parametrize("level,bmd,area", [("L2", 0.85, 40.0)])
def test_out_of_range_vertebra_is_not_evaluable(level: str, bmd: float, area: float) -> None:
    specs = {"L1": (0.80, -2.1), "L2": (0.85, -1.8), "L3": (0.88, -1.5), "L4": (0.90, -1.4)}
    specs[level] = (bmd, specs[level][1])
    areas = {"L1": 13.8, "L2": 15.0, "L3": 16.3, "L4": 17.9, level: area}
    e = apply_all(spine_exam(specs, areas=areas))
    assert e.region(L[level]).evaluable is False
    assert "vertebra_out_of_range" in codes(e, level)
    assert level not in [v.value for v in computed(e).vertebrae]
    assert e.status is Status.FLAGGED


def _t_spine(ts: dict[str, float]) -> Exam:
    specs = {"L1": (0.80, ts["L1"]), "L2": (0.85, ts["L2"]), "L3": (0.88, ts["L3"]), "L4": (0.90, ts["L4"])}
    return spine_exam(specs)


@pytest.mark.parametrize("t1,t2", [(-2.5, -1.5), (-2.3, -1.3), (-0.7, 0.3), (-1.9, -2.9)])
def test_difference_of_exactly_one_is_not_discordant(t1: float, t2: float) -> None:
    e = apply_all(_t_spine({"L1": t1, "L2": t2, "L3": t2, "L4": t2}))
    assert "vertebra_t_discordant" not in codes(e)


def test_difference_above_one_flags_end_vertebra_for_review_but_keeps_it() -> None:
    e = apply_all(_t_spine({"L1": -2.4, "L2": -1.3, "L3": -1.2, "L4": -1.1}))
    assert codes(e, "L1").count("vertebra_t_discordant") == 1
    assert "vertebra_t_discordant" not in codes(e, "L2")  # L2 is close to L3
    assert e.region(L["L1"]).evaluable is True  # flag, not exclusion (Hansen 2005)
    msg = next(f.message for f in e.flags if f.code is FlagCode.VERTEBRA_T_DISCORDANT)
    assert "without it, L2-L4" in msg
    assert e.status is Status.FLAGGED


def test_middle_vertebra_must_differ_from_both_neighbours() -> None:
    e = apply_all(_t_spine({"L1": -1.0, "L2": -2.5, "L3": -2.0, "L4": -2.0}))
    assert "vertebra_t_discordant" not in codes(e, "L2")  # 1.5 from L1 but 0.5 from L3
    e = apply_all(_t_spine({"L1": -1.0, "L2": -2.5, "L3": -1.2, "L4": -1.1}))
    assert "vertebra_t_discordant" in codes(e, "L2")


def test_discordance_can_be_configured_to_exclude() -> None:
    s = default_settings().with_(discordance_excludes=True)
    e = apply_all(_t_spine({"L1": -2.4, "L2": -1.3, "L3": -1.2, "L4": -1.1}), s)
    assert e.region(L["L1"]).evaluable is False
    assert computed(e).label == "L2-L4"


def test_area_order_flags_non_adjacent_inversion_only() -> None:
    adj = apply_all(spine_exam(areas={"L1": 13.8, "L2": 15.0, "L3": 18.2, "L4": 17.9}))
    assert "vertebra_area_order" not in codes(adj)
    bad = apply_all(spine_exam(areas={"L1": 17.0, "L2": 15.0, "L3": 16.3, "L4": 17.9}))
    assert "vertebra_area_order" in codes(bad, "L1")
    assert bad.region(L["L1"]).evaluable is True  # review by default


def test_one_evaluable_vertebra_is_too_few_and_gets_no_total() -> None:
    e = apply_all(spine_exam(excluded=("L1", "L2", "L3"), total_levels=None))
    assert "too_few_vertebrae" in codes(e, "L1-L4")
    assert computed(e) is None
    assert [v for v in L.values() if e.region(v).evaluable] == [L["L4"]]


def test_two_evaluable_vertebrae_are_enough() -> None:
    e = apply_all(spine_exam(excluded=("L1", "L2"), total_levels=None))
    assert "too_few_vertebrae" not in codes(e)
    assert computed(e).label == "L3-L4"


def test_non_contiguous_vertebrae_label() -> None:
    e = apply_all(spine_exam(excluded=("L2",)))
    assert computed(e).label == "L1,L3,L4"


def test_missing_bmc_and_area_flags_instead_of_averaging() -> None:
    specs = {"L1": (0.80, -2.1), "L2": (0.85, -1.8), "L3": (0.88, -1.5), "L4": (0.90, -1.4)}
    e = spine_exam(specs, excluded=("L1",), total_levels=None)
    e = e.with_regions([r.replace(bmc=None, area=None) for r in e.regions])
    e = apply_all(e)
    assert computed(e) is None
    assert "total_not_recomputable" in codes(e, "L1-L4")


def test_t_score_of_recomputed_total_only_with_known_reference() -> None:
    pop = "China multicenter women"
    e = spine_exam(total_levels=None)
    e = e.with_regions([r.replace(reference=pop) for r in e.regions])
    four = computed(apply_all(e))
    assert four.label == "L1-L4" and four.reference == pop
    assert four.t_score == round((four.bmd - 1.116) / 0.12, 1)  # reference_populations.csv L1-L4 female row
    e3 = e.with_regions([r.replace(evaluable=False) if r.region is Region.L1 else r for r in e.regions])
    three = apply_all(e3)
    assert computed(three).t_score is None  # no L2-L4 reference in the table
    assert "reference_unknown" in codes(three, "L1-L4")
    male = apply_all(spine_exam(total_levels=None, sex="M").with_regions(
        [r.replace(reference=pop) for r in e.regions]))
    assert computed(male).t_score is None  # women's reference not borrowed for a man


def test_apply_all_is_idempotent_and_contract_valid(contract) -> None:
    e1 = apply_all(spine_exam({"L1": (0.80, -2.6), "L2": (2.5, -1.3), "L3": (0.88, -1.2), "L4": (0.90, -1.1)},
                              excluded=("L4",)))
    e2 = apply_all(e1)
    assert e2 == e1
    d = exam_to_dict(e2)
    assert_valid(contract, d)
    back = apply_all(exam_from_dict(d))
    assert exam_to_dict(back) == d
    comp = [r for r in d["regions"] if r["method"] == "computed"]
    assert len(comp) == 1 and comp[0]["vertebrae"] == ["L1", "L3"] and comp[0]["label"] == "L1,L3"


def test_failed_exam_passes_through_unchanged() -> None:
    e = Exam(source=source("failed"))
    assert apply_all(e) is e


def test_generated_exams_keep_their_scanner_exclusions_and_raise_no_consistency_flags() -> None:
    rng = random.Random(5)
    g = TruthGenerator(2026)
    consistency = {"bmd_bmc_area_mismatch", "total_mismatch", "t_score_inconsistent", "sides_inconsistent"}
    for _ in range(150):
        exclude = rng.choice([[], [], ["L1"], ["L4"], ["L2"], ["L1", "L2"]])
        truth = g.exam(scan_type="spine", exclude=exclude)
        e = apply_all(exam_from_truth(truth))
        assert not consistency & set(codes(e)), [f.message for f in e.flags]
        for v in L.values():
            assert e.region(v).evaluable is (v.value not in exclude)
        assert computed(e) is None  # the printed total covers the evaluable vertebrae


@pytest.mark.parametrize("label,levels", [
    ("L1-L4", "L1 L2 L3 L4"), ("L2 - L4", "L2 L3 L4"), ("L2-4", "L2 L3 L4"), ("L1,L3,L4", "L1 L3 L4"),
    ("L1-L2,L4", "L1 L2 L4"), ("腰椎 L2-L4", "L2 L3 L4"), ("L1–L3", "L1 L2 L3"),
    ("Total", None), ("T12-L4", None), ("L1-L5", None), ("", None),
])
def test_total_labels(label: str, levels: str | None) -> None:
    from bmdkit.checks.spine import parse_label
    got = parse_label(label)
    assert (None if got is None else " ".join(v.value for v in got)) == levels


def test_unread_row_under_printed_total_is_not_an_exclusion() -> None:
    full = spine_exam()
    missed = full.with_regions([r for r in full.regions if r.region is not Region.L1])  # OCR lost the L1 row
    e = apply_all(missed)
    assert computed(e) is None and "vertebra_excluded" not in codes(e)
    assert "missing_value" in codes(e, "L1")
    only_l4 = apply_all(full.with_regions([r for r in full.regions if r.region in (Region.L4, Region.SPINE_TOTAL)]))
    assert "too_few_vertebrae" not in codes(only_l4)  # the scanner's total covers four levels
    from bmdkit.checks.evaluability import evaluable_levels
    assert evaluable_levels(only_l4) == (L["L1"], L["L2"], L["L3"], L["L4"])


def test_recompute_needing_an_unread_row_is_not_possible() -> None:
    specs = {"L1": (0.80, -2.1), "L2": (2.60, -1.8), "L3": (0.88, -1.5), "L4": (0.90, -1.4)}
    full = spine_exam(specs)
    e = apply_all(full.with_regions([r for r in full.regions if r.region is not Region.L1]))
    assert e.region(L["L2"]).evaluable is False
    assert "total_not_recomputable" in codes(e, "L1-L4") and computed(e) is None
