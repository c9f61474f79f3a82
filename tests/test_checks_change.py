"""Follow-up change per site against the LSC, and its flags, on constructed exam series."""

from __future__ import annotations

import datetime as dt

import pytest
from test_checks_factory import hip_exam, spine_exam

from bmdkit import reference
from bmdkit.checks.change import compute_changes
from bmdkit.checks.settings import default_settings
from bmdkit.checks.trial_inputs import load_precision
from bmdkit.model import Exam, Vendor

D0, D6, D12 = dt.date(2026, 1, 10), dt.date(2026, 7, 10), dt.date(2027, 1, 10)
BASE = {"L1": 0.800, "L2": 0.850, "L3": 0.880, "L4": 0.900}


def spine_at(factor: float, date: dt.date, excluded: tuple[str, ...] = (), **kw) -> Exam:
    specs = {v: (round(b * factor, 3), -1.5) for v, b in BASE.items()}
    levels = tuple(v for v in BASE if v not in excluded)
    return spine_exam(specs, date=date, excluded=excluded, total_levels=levels, **kw)


def neck_at(bmd: float, date: dt.date, area: float = 5.10, **kw) -> Exam:
    return hip_exam({"left": (bmd, -1.5, area)}, date=date, **kw)


def rows_for(visits: dict[str, list[Exam]], **kw):
    return compute_changes({"S1": visits}, **kw)


def only(rows, site: str, visit: str = "month_12"):
    hits = [r for r in rows if r.site == site and r.visit == visit]
    assert len(hits) == 1, [(r.site, r.visit) for r in rows]
    return hits[0]


def test_spine_change_against_iscd_lsc() -> None:
    rows = rows_for({"baseline": [spine_at(1.0, D0)], "month_12": [spine_at(1.06, D12)]})
    r = only(rows, "L1-L4")
    assert r.pct_change == pytest.approx(6.0, abs=0.2)
    assert r.abs_change == pytest.approx(r.bmd_visit - r.bmd_baseline, abs=1e-4)
    minimum = float(next(x["precision_pct"] for x in reference.table("precision_minima") if x["region"] == "L1-L4"))
    assert r.lsc == pytest.approx(reference.constant("lsc_factor") * minimum)
    assert r.lsc_unit == "%" and "ISCD" in r.lsc_source
    assert r.significant is True
    assert r.interval_days == (D12 - D0).days
    assert not r.flags


def test_change_below_lsc_is_not_significant() -> None:
    r = only(rows_for({"baseline": [spine_at(1.0, D0)], "month_12": [spine_at(1.04, D12)]}), "L1-L4")
    assert r.significant is False


def test_site_precision_from_file_in_g_per_cm2(tmp_path) -> None:
    p = tmp_path / "precision.csv"
    p.write_text("region,precision_g_cm2\nfemoral_neck,0.010\n")
    prec = load_precision(p)
    rows = rows_for({"baseline": [neck_at(0.700, D0)], "month_12": [neck_at(0.720, D12)]}, precision=prec)
    r = only(rows, "femoral_neck")
    assert r.lsc == pytest.approx(0.0277) and r.lsc_unit == "g/cm2" and "precision.csv" in r.lsc_source
    assert r.significant is False  # 0.020 < 0.0277
    r2 = only(rows_for({"baseline": [neck_at(0.700, D0)], "month_12": [neck_at(0.730, D12)]}, precision=prec),
              "femoral_neck")
    assert r2.significant is True


def test_scanner_change_is_flagged() -> None:
    rows = rows_for({"baseline": [neck_at(0.700, D0)],
                     "month_12": [neck_at(0.710, D12, vendor=Vendor.GE_LUNAR, serial="999")]})
    assert "scanner_changed" in only(rows, "femoral_neck").flag_codes
    same = rows_for({"baseline": [neck_at(0.700, D0)], "month_12": [neck_at(0.710, D12)]})
    assert "scanner_changed" not in only(same, "femoral_neck").flag_codes


def test_vertebrae_changed_compares_like_with_like() -> None:
    base, later = spine_at(1.0, D0), spine_at(1.03, D12, excluded=("L1",))
    r = only(rows_for({"baseline": [base], "month_12": [later]}), "L1-L4")
    assert "vertebrae_changed" in r.flag_codes and r.label == "L2-L4"
    rows = [x for x in base.regions if x.region.value in ("L2", "L3", "L4")]
    expect = sum(x.bmc for x in rows) / sum(x.area for x in rows)
    assert r.bmd_baseline == pytest.approx(expect, abs=1e-4)
    printed = base.region(next(x.region for x in base.regions if x.label == "L1-L4"))
    assert abs(printed.bmd - expect) > 1e-3  # the printed L1-L4 was not used
    assert r.pct_change == pytest.approx(3.0, abs=0.2)


def test_vertebrae_changed_without_bmc_is_not_computed() -> None:
    base, later = spine_at(1.0, D0), spine_at(1.03, D12, excluded=("L1",))
    base = base.with_regions([x.replace(bmc=None, area=None) for x in base.regions])
    r = only(rows_for({"baseline": [base], "month_12": [later]}), "L1-L4")
    assert r.pct_change is None and any("not recomputable" in n for n in r.notes)


def test_fewer_than_two_common_vertebrae_gives_no_spine_change() -> None:
    base = spine_at(1.0, D0, excluded=("L3", "L4"))
    later = spine_at(1.0, D12, excluded=("L1", "L2"))
    r = only(rows_for({"baseline": [base], "month_12": [later]}), "L1-L4")
    assert r.pct_change is None and "vertebrae_changed" in r.flag_codes


@pytest.mark.parametrize("area,flagged", [(5.10 * 1.05, True), (5.10 * 1.01, False)])
def test_area_change(area: float, flagged: bool) -> None:
    rows = rows_for({"baseline": [neck_at(0.700, D0)], "month_12": [neck_at(0.710, D12, area=round(area, 2))]})
    assert ("area_changed" in only(rows, "femoral_neck").flag_codes) is flagged


def test_area_change_threshold_is_configurable() -> None:
    visits = {"baseline": [neck_at(0.700, D0)], "month_12": [neck_at(0.710, D12, area=5.36)]}
    s = default_settings().with_(area_change_pct=10.0)
    assert "area_changed" not in only(rows_for(visits, settings=s), "femoral_neck").flag_codes


@pytest.mark.parametrize("factor,date,visit,flagged", [
    (1.20, D12, "month_12", True),   # +20 % in a year
    (1.12, D12, "month_12", False),  # +12 % in a year: large, not implausible
    (1.09, D6, "month_6", True),     # +9 % in six months > 7.5 %
    (1.07, D6, "month_6", False),
])
def test_implausible_change_scaled_by_interval(factor: float, date: dt.date, visit: str, flagged: bool) -> None:
    rows = rows_for({"baseline": [neck_at(0.700, D0)], visit: [neck_at(round(0.700 * factor, 3), date)]})
    assert ("implausible_change" in only(rows, "femoral_neck", visit).flag_codes) is flagged


def test_missing_dates_use_nominal_visit_months() -> None:
    rows = rows_for({"baseline": [neck_at(0.700, D0).replace(exam_date=None)],
                     "6m": [neck_at(0.760, D6).replace(exam_date=None)]})
    r = only(rows, "femoral_neck", "6m")
    assert r.interval_days == round(6 * 365.25 / 12)
    assert "implausible_change" in r.flag_codes  # +8.6 % > 7.5 % for six months
    assert any("nominal" in n for n in r.notes)


def test_visits_ordered_and_each_compared_with_baseline() -> None:
    rows = rows_for({"month_12": [spine_at(1.06, D12)], "baseline": [spine_at(1.0, D0)],
                     "month_6": [spine_at(1.03, D6)]})
    spine_rows = [r for r in rows if r.site == "L1-L4"]
    assert [(r.baseline_visit, r.visit) for r in spine_rows] == [("baseline", "month_6"), ("baseline", "month_12")]


def test_single_visit_gives_no_rows() -> None:
    assert rows_for({"baseline": [spine_at(1.0, D0)]}) == []


def test_unknown_scanner_is_said_not_assumed_same() -> None:
    later = neck_at(0.710, D12, vendor=Vendor.UNKNOWN, serial="")
    r = only(rows_for({"baseline": [neck_at(0.700, D0)], "month_12": [later]}), "femoral_neck")
    assert "scanner_changed" not in r.flag_codes and any("cannot be ruled out" in n for n in r.notes)
