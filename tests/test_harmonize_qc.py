"""Per-scanner QC across service periods: a drift ends at the next service; factors per period."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from bmdkit.harmonize.drift import DriftSettings
from bmdkit.harmonize.phantom import PhantomSeries, split_at
from bmdkit.harmonize.qc import scanner_qc
from bmdkit.harmonize.simulate import daily_dates, phantom_series
from bmdkit.harmonize.sites import parse_sites

DATES = daily_dates(160, dt.date(2026, 1, 1))
SERVICE = DATES[100]


def config(reference: str = "nominal"):
    return parse_sites({
        "centers": [{"id": "c", "scanners": [
            {"id": "s1", "vendor": "hologic", "service_dates": [SERVICE.isoformat()]},
            {"id": "s2", "vendor": "ge_lunar"}]}],
        "phantoms": [{"id": "P", "nominal_bmd": 1.0}],
        "calibration": {"reference": reference}})


def series() -> list[PhantomSeries]:
    rng = np.random.default_rng(17)
    first = phantom_series(100, rng, true_bmd=1.0, cv_pct=0.4, change_at=60, step_pct=2.0)
    second = phantom_series(60, rng, true_bmd=1.012, cv_pct=0.4)  # after service: new level, stable
    s1 = np.concatenate([first, second])
    s2 = phantom_series(160, rng, true_bmd=1.05, cv_pct=0.4)
    return [PhantomSeries("s1", "P", tuple(DATES), tuple(map(float, s1))),
            PhantomSeries("s2", "P", tuple(DATES), tuple(map(float, s2)))]


def test_split_at_keeps_every_interval() -> None:
    s = series()[0]
    pieces = split_at(s, (DATES[10], DATES[10], DATES[100]))
    assert [len(p) for p in pieces] == [10, 0, 90, 60]
    assert pieces[2].dates[0] == DATES[10] and pieces[3].dates[0] == DATES[100]


def test_drift_ends_at_service_and_factors_per_period() -> None:
    qc = scanner_qc(series(), config(), DriftSettings())
    s1 = qc["s1"]
    assert [p.start for p in s1.periods] == [None, SERVICE]
    (onset, end, _rule), = s1.drift_intervals
    assert abs((onset - DATES[60]).days) <= 1 and end == SERVICE
    assert s1.drifted_on(DATES[70]) is not None
    assert s1.drifted_on(DATES[50]) is None and s1.drifted_on(DATES[130]) is None
    f1, f2 = (p.factor for p in s1.periods)
    assert f1.factor == pytest.approx(1.0, abs=0.004) and f2.factor == pytest.approx(1 / 1.012, abs=0.004)
    assert s1.period_for(None) is None  # undated scan: which period is unknown
    assert qc["s2"].period_for(None) is qc["s2"].periods[0] and not qc["s2"].drift_intervals


def test_reference_scanner_uses_its_first_period() -> None:
    qc = scanner_qc(series(), config(reference="s1"), DriftSettings())
    assert qc["s1"].periods[0].factor.factor == 1.0
    assert qc["s1"].periods[1].factor.factor == pytest.approx(1.0 / 1.012, abs=0.005)
    assert qc["s2"].periods[0].factor.factor == pytest.approx(1.0 / 1.05, abs=0.005)
