"""Consistency and plausibility checks, and their settings, on constructed exams."""

from __future__ import annotations

import pytest
from test_checks_factory import exam_from_truth, hip_exam, spine_exam

from bmdkit.checks import apply_all
from bmdkit.checks.consistency import check_consistency
from bmdkit.checks.plausibility import check_plausibility
from bmdkit.checks.settings import CheckSettings, default_settings, load_ranges
from bmdkit.errors import ReferenceDataError
from bmdkit.model import Exam, Method, PatientIdentity, Region, RegionResult, Side, ValueSource
from bmdkit.samples.truth import TruthGenerator

S = default_settings()


def codes(flags) -> list[str]:
    return [f.code.value for f in flags]


def with_region(exam: Exam, region: Region, **changes) -> Exam:
    return exam.with_regions([r.replace(**changes) if r.region is region and r.method is not Method.COMPUTED
                              else r for r in exam.regions])


def test_bmd_bmc_area_within_rounding_and_beyond() -> None:
    e = spine_exam()
    assert "bmd_bmc_area_mismatch" not in codes(check_consistency(e, S))
    # printed rounding: BMC and area to 2 decimals, BMD to 3
    e = with_region(e, Region.L2, bmd=0.853, bmc=12.80, area=15.00)
    assert "bmd_bmc_area_mismatch" not in codes(check_consistency(e, S))
    e = with_region(e, Region.L2, bmd=0.953)  # e.g. an OCR 8 -> 9
    flags = check_consistency(e, S)
    assert [f.region for f in flags if f.code.value == "bmd_bmc_area_mismatch"] == ["L2"]


def test_tolerance_is_a_setting() -> None:
    e = with_region(spine_exam(), Region.L2, bmd=0.868, bmc=12.75, area=15.00)  # 0.850 -> 2.1 % off
    assert "bmd_bmc_area_mismatch" in codes(check_consistency(e, S))
    loose = S.with_(bmd_bmc_area_rel_tol=0.05, bmd_rounding_check=False)
    assert "bmd_bmc_area_mismatch" not in codes(check_consistency(e, loose))


def test_misread_last_digit_is_caught_by_the_rounding_check() -> None:
    e = with_region(spine_exam(), Region.L2, bmd=0.853, bmc=12.80, area=15.00)
    assert "bmd_bmc_area_mismatch" not in codes(check_consistency(e, S))
    e = with_region(e, Region.L2, bmd=0.858)  # 0.6 % off: inside the 2 % tolerance
    assert "bmd_bmc_area_mismatch" in codes(check_consistency(e, S))
    assert "bmd_bmc_area_mismatch" not in codes(check_consistency(e, S.with_(bmd_rounding_check=False)))


def test_rounding_follows_the_digits_printed() -> None:
    # a template printing area with one decimal: true 14.96 shows as "15.0"
    e = with_region(spine_exam(), Region.L2, bmd=0.853, bmc=12.76, area=15.0)
    assert "bmd_bmc_area_mismatch" in codes(check_consistency(e, S))  # assumed 2 decimals: does not fit
    src = {"area": ValueSource(raw_text="15.0"), "bmd": ValueSource(raw_text="0.853"), "bmc": ValueSource(raw_text="12.76")}
    e = with_region(e, Region.L2, sources=src)
    assert "bmd_bmc_area_mismatch" not in codes(check_consistency(e, S))


def test_dual_femur_mean_is_not_bmc_over_area() -> None:
    e = hip_exam({"left": (0.700, -1.2, 5.1), "right": (0.650, -1.6, 5.5)})
    mean = RegionResult(Region.FEMORAL_NECK, Method.DICOM_PRIVATE, side=Side.MEAN, bmd=0.675, t_score=-1.4,
                        bmc=round((0.7 * 5.1 + 0.65 * 5.5) / 2, 2), area=5.3)
    e = e.with_regions([*e.regions, mean])
    assert "bmd_bmc_area_mismatch" not in codes(check_consistency(e, S))


def test_spine_total_against_its_vertebrae() -> None:
    e = spine_exam()
    assert "total_mismatch" not in codes(check_consistency(e, S))
    bad = with_region(e, Region.SPINE_TOTAL, bmd=0.95)
    assert "total_mismatch" in codes(check_consistency(bad, S))
    bad_area = with_region(e, Region.SPINE_TOTAL, area=70.0)
    assert any("area" in f.message for f in check_consistency(bad_area, S) if f.code.value == "total_mismatch")


def test_total_over_l2_l4_compared_with_l2_l4() -> None:
    e = spine_exam(total_levels=("L2", "L3", "L4"), excluded=("L1",))
    assert "total_mismatch" not in codes(check_consistency(e, S))


def test_total_without_bmc_must_lie_between_vertebrae() -> None:
    e = spine_exam()
    e = e.with_regions([r.replace(bmc=None, area=None) for r in e.regions])
    assert "total_mismatch" not in codes(check_consistency(e, S))
    assert "total_mismatch" in codes(check_consistency(with_region(e, Region.SPINE_TOTAL, bmd=0.70), S))


def _neck(bmd: float, t: float, side: str = "left", ref: str | None = "China multicenter women") -> RegionResult:
    return RegionResult(Region.FEMORAL_NECK, Method.DICOM_PRIVATE, side=Side(side), bmd=bmd, t_score=t, reference=ref)


def test_t_score_against_bmd_with_known_reference() -> None:
    base = hip_exam({"left": (0.687, -2.0, 5.1)})
    good = base.with_regions([_neck(0.687, -2.0)])  # (0.687 - 0.927) / 0.12 = -2.0
    assert "t_score_inconsistent" not in codes(check_consistency(good, S))
    assert "t_score_inconsistent" in codes(check_consistency(base.with_regions([_neck(0.687, 2.0)]), S))  # sign
    assert "t_score_inconsistent" in codes(check_consistency(base.with_regions([_neck(0.687, -2.6)]), S))  # size
    unknown = base.with_regions([_neck(0.687, 2.0, ref="vendor Chinese")])
    assert "t_score_inconsistent" not in codes(check_consistency(unknown, S))  # never guess a reference
    no_sex = base.replace(patient=PatientIdentity()).with_regions([_neck(0.687, 2.0)])
    assert "t_score_inconsistent" not in codes(check_consistency(no_sex, S))


def test_t_scores_across_sides_follow_bmd() -> None:
    e = hip_exam({"left": (0.700, -1.8, 5.1), "right": (0.650, -1.2, 5.0)})
    flags = check_consistency(e, S)
    assert any(f.code.value == "t_score_inconsistent" and "left" in f.message for f in flags)
    ok = hip_exam({"left": (0.700, -1.2, 5.1), "right": (0.650, -1.6, 5.0)})
    assert "t_score_inconsistent" not in codes(check_consistency(ok, S))


def test_mean_side_coherence() -> None:
    ok = hip_exam({"left": (0.700, -1.2, 5.1), "right": (0.650, -1.6, 5.0), "mean": (0.675, -1.4, None)})
    assert "sides_inconsistent" not in codes(check_consistency(ok, S))
    bad = hip_exam({"left": (0.700, -1.2, 5.1), "right": (0.650, -1.6, 5.0), "mean": (0.800, -1.4, None)})
    assert "sides_inconsistent" in codes(check_consistency(bad, S))
    bad_t = hip_exam({"left": (0.700, -1.2, 5.1), "right": (0.650, -1.6, 5.0), "mean": (0.675, -0.2, None)})
    assert "sides_inconsistent" in codes(check_consistency(bad_t, S))


def test_plausibility_flags_but_never_drops() -> None:
    e = hip_exam({"left": (1.90, 6.5, 5.1)}, {"left": (0.80, -7.0, 30.0)})
    checked = apply_all(e)
    msgs = [f.message for f in checked.flags if f.code.value == "out_of_range"]
    assert any("bmd 1.9" in m for m in msgs) and any("t_score 6.5" in m for m in msgs)
    assert any("t_score -7" in m for m in msgs)
    assert checked.region(Region.FEMORAL_NECK, Side.LEFT).bmd == 1.90  # kept as read
    neg = with_region(e, Region.TOTAL_HIP, area=-3.0)
    assert any("area -3 is not positive" in f.message for f in check_plausibility(neg, S))


def test_vertebra_ranges_go_to_evaluability_not_plausibility() -> None:
    e = with_region(spine_exam(), Region.L3, bmd=2.5)
    assert "out_of_range" not in codes(check_plausibility(e, S))
    assert "vertebra_out_of_range" in codes(apply_all(e).flags)


def test_ranges_are_configurable(tmp_path) -> None:
    p = tmp_path / "ranges.csv"
    p.write_text("region,measure,low,high,source\nfemoral_neck,bmd,0.5,1.0,site policy\n")
    s = CheckSettings.from_reference(ranges_path=p)
    e = hip_exam({"left": (0.45, -3.9, 5.1)})
    assert "out_of_range" in codes(check_plausibility(e, s))
    assert "out_of_range" not in codes(check_plausibility(e, S))
    p.write_text("region,measure,low,high,source\nfemoral_neck,bmd,0.5,1.0,\n")
    with pytest.raises(ReferenceDataError):
        load_ranges(p)


def test_settings_come_from_reference_data_and_validate() -> None:
    assert S.vertebra_t_discordance == 1.0 and S.min_evaluable_vertebrae == 2
    assert S.with_(area_change_pct=5.0).area_change_pct == 5.0
    with pytest.raises(ValueError):
        S.with_(spine_setting="average")
    assert S.tenths(-2.0) == -20 and S.tenths(-1.9999999) == -20 and S.tenths(-2.04) == -20


def test_generated_hips_and_spines_are_consistent() -> None:
    g = TruthGenerator(99)
    for _ in range(200):
        e = apply_all(exam_from_truth(g.exam()))
        bad = {"bmd_bmc_area_mismatch", "total_mismatch", "t_score_inconsistent", "sides_inconsistent", "out_of_range"}
        assert not bad & set(codes(e.flags)), [f.message for f in e.flags]


def test_a_bug_in_a_check_becomes_a_review_flag(monkeypatch) -> None:
    from bmdkit import checks

    def boom(*a, **k):
        raise ZeroDivisionError("x")
    monkeypatch.setattr(checks, "evaluate", boom)
    e = checks.apply_all(spine_exam())
    assert [f.code.value for f in e.flags] == ["internal_error"] and e.flags[0].severity.value == "review"


def test_non_finite_values_are_flagged_not_fatal() -> None:
    e = with_region(with_region(spine_exam(), Region.L2, t_score=float("nan")), Region.L3, bmd=float("inf"))
    out = apply_all(e)
    assert "internal_error" not in codes(out.flags)
    assert out.region(Region.L3).evaluable is False
    from bmdkit.checks.eligibility import assess_subject
    r = assess_subject("S", [out], None)
    assert r.qualifying is not None and r.qualifying.site == "L1"  # the NaN T-score of L2 is never chosen


def test_settings_from_toml(tmp_path) -> None:
    (tmp_path / "r.csv").write_text("region,measure,low,high,source\nfemoral_neck,bmd,0.5,1.0,site policy\n")
    cfg = tmp_path / "bmdkit.toml"
    cfg.write_text('[checks]\narea_change_pct = 3.5\nspine_setting = "spine_total"\nranges = "r.csv"\n')
    s = CheckSettings.from_toml(cfg)
    assert s.area_change_pct == 3.5 and s.spine_setting == "spine_total"
    assert s.ranges[("femoral_neck", "bmd")].low == 0.5
    cfg.write_text("[checks]\narea_change = 3.5\n")
    with pytest.raises(ReferenceDataError):
        CheckSettings.from_toml(cfg)


def test_a_reader_flag_holds_back_the_checks_copy_only_for_the_values_it_names() -> None:
    """A checks flag is dropped as a duplicate only when a flag of the same code already names
    every value it is about; one naming fewer measures leaves the checks' flag in place."""
    from bmdkit.flags import FlagCode
    from bmdkit.model import Flag

    e = with_region(spine_exam(), Region.L2, bmd=0.953, bmc=12.80, area=15.00)
    whole = Flag(FlagCode.BMD_BMC_AREA_MISMATCH, "L2: read as mismatched", region="L2",
                 measures=("bmd", "bmc", "area"))
    narrow = Flag(FlagCode.BMD_BMC_AREA_MISMATCH, "L2: the BMD alone", region="L2", measures=("bmd",))

    def mismatch_flags(exam: Exam) -> list:
        return [f for f in apply_all(exam, S).flags if f.code is FlagCode.BMD_BMC_AREA_MISMATCH]

    assert len(mismatch_flags(e)) == 1  # the checks' own flag, on BMD, BMC and area
    assert mismatch_flags(e.with_flags([whole])) == [whole]  # covered: not written twice
    kept = mismatch_flags(e.with_flags([narrow]))
    assert narrow in kept and len(kept) == 2  # BMC and area are in doubt too: the checks' flag stays
    covered = {m for f in kept for m in f.measures}
    assert covered == {"bmd", "bmc", "area"}


def test_print_rounding_arithmetic_has_one_owner() -> None:
    """The reader's pick between readings and the exam check use the same BMD = BMC / area rule."""
    from bmdkit import rounding
    from bmdkit.report import crosscheck

    assert rounding.printed_half_unit("15.0") == 0.05 and rounding.printed_half_unit("0,812") == 0.0005
    assert rounding.printed_half_unit("n/a") is None
    # 12.80 / 15.00 = 0.8533: 0.853 fits, 0.855 does not, whichever side asks
    for bmd, fits in ((0.853, True), (0.855, False)):
        assert crosscheck.bmd_matches(bmd, 12.80, 15.00) is fits
        assert rounding.ratio_fits(bmd, 12.80, 15.00, 0.0005, 0.005, 0.005) is fits
    assert not crosscheck.bmd_matches(0.853, 12.80, 0.0)  # no area: nothing fits


def test_an_implausible_score_flags_itself_and_an_implausible_bmd_its_ratio() -> None:
    """An implausible T- or Z-score puts only that cell in doubt; an implausible BMD, BMC or area
    puts all three in doubt (BMD = BMC / area ties them), never the row's scores."""
    hip = hip_exam({"left": (0.80, -1.2, 5.0)}, {"left": (0.90, -0.9, 30.0)})
    e = with_region(hip, Region.TOTAL_HIP, z_score=17.0)  # a lost decimal point: 1.7
    (f,) = [f for f in check_plausibility(e, S) if f.region == "total_hip" and "z_score" in f.message]
    r = next(r for r in e.regions if r.region is Region.TOTAL_HIP and r.method is not Method.COMPUTED)
    assert f.covers("total_hip", r.side, "z_score")
    assert not any(f.covers("total_hip", r.side, m) for m in ("bmd", "bmc", "area", "t_score"))
    e = with_region(hip, Region.TOTAL_HIP, bmd=9.5)
    (f,) = [f for f in check_plausibility(e, S) if f.region == "total_hip" and "bmd" in f.message]
    assert all(f.covers("total_hip", r.side, m) for m in ("bmd", "bmc", "area"))
    assert not any(f.covers("total_hip", r.side, m) for m in ("t_score", "z_score"))
