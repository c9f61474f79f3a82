"""Drift detection on simulated phantom series: detection delay, false alarms per year, onset, chart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bmdkit.harmonize.charts import control_chart
from bmdkit.harmonize.drift import DriftSettings, default_pct_limit, detect, scans_after
from bmdkit.harmonize.phantom import PhantomSeries
from bmdkit.harmonize.simulate import daily_dates, measure, phantom_series


def test_pct_limit_comes_from_reference_data() -> None:
    assert default_pct_limit() == 1.5
    assert DriftSettings().pct_limit == 1.5


def test_two_percent_step_detected_within_a_few_scans() -> None:
    f = measure(DriftSettings(), runs=150, rng=np.random.default_rng(2024), cv_pct=0.5, step_pct=2.0)
    assert f.detected_fraction >= 0.95
    assert f.median_delay <= 2
    assert f.p90_delay <= 4
    assert f.onset_error_median <= 1


def test_false_alarms_rare_on_noise_only() -> None:
    f = measure(DriftSettings(), runs=150, rng=np.random.default_rng(99), cv_pct=0.5, step_pct=2.0)
    # shift alarms flag patient scans: well under one per simulated year of daily scans
    assert f.false_alarms_per_year_shift < 0.6


def test_heavy_tailed_noise_still_rare() -> None:
    f = measure(DriftSettings(), runs=120, rng=np.random.default_rng(7), cv_pct=0.5, t_df=4.0)
    assert f.false_alarms_per_year_shift < 1.0


def test_westgard_run_rules_fire_on_a_small_sustained_shift() -> None:
    rng = np.random.default_rng(1)
    x = phantom_series(80, rng, cv_pct=0.5, change_at=40, step_pct=0.8)  # below the 1.5% limit
    res = detect(x, settings=DriftSettings(rules=("4_1s", "10_x")))
    assert res.first_shift is not None and res.first_shift.onset_index >= 35


def test_onset_date_and_patient_scans_after() -> None:
    rng = np.random.default_rng(3)
    dates = daily_dates(90)
    x = phantom_series(90, rng, cv_pct=0.4, change_at=60, step_pct=-2.0)
    res = detect(x, dates)
    first = res.first_shift
    assert first is not None and first.direction == -1
    assert abs(first.onset_index - 60) <= 1 and 60 <= first.alarm_index <= 63
    assert first.onset_date == dates[first.onset_index]
    exams = [dates[10], dates[59], dates[61], None, dates[89]]
    after = scans_after(first.onset_date, exams)
    assert after == [i for i, d in enumerate(exams) if d is not None and d >= first.onset_date]
    assert 2 in after and 4 in after and 0 not in after and 3 not in after


def test_slow_drift_is_caught() -> None:
    rng = np.random.default_rng(12)
    x = phantom_series(200, rng, cv_pct=0.5, change_at=40, slope_pct_per_scan=0.02)
    first = detect(x).first_shift
    # 0.02 %/scan reaches 1.5% after 75 scans; CUSUM should catch it well before 2% (100 scans)
    assert first is not None and first.alarm_index < 40 + 100


def test_bad_series_refused() -> None:
    with pytest.raises(ValueError):
        detect([1.0] * 10)
    with pytest.raises(ValueError):
        detect([1.0] * 30)  # no spread
    with pytest.raises(ValueError):
        DriftSettings(rules=("nonsense",))


def test_control_chart_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    dates = daily_dates(70, dt.date(2026, 1, 1))
    x = phantom_series(70, rng, cv_pct=0.5, change_at=50, step_pct=2.5)
    s = PhantomSeries("bj-1", "ESP-1", tuple(dates), tuple(float(v) for v in x))
    res = detect(s.values, s.dates)
    out = control_chart(s, res, tmp_path / "bj-1.png")
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (1000, 400)
        arr = np.asarray(im.convert("RGB"))
    # the red onset line and limits are drawn: many strongly red pixels
    red = (arr[..., 0] > 200) & (arr[..., 1] < 80) & (arr[..., 2] < 80)
    assert red.sum() > 300
