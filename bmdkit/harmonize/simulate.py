"""Simulated phantom series for measuring drift detection (tests and ``bench/bench_drift.py``).

A series is daily scans of one phantom: a true value times (1 + noise),
the noise Gaussian or Student-t (heavier tails, as real QC data often show)
with a given coefficient of variation, plus an optional step shift or a
linear drift starting at a given scan. These are simulation parameters,
not reference numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from bmdkit.harmonize.drift import DriftSettings, detect


def phantom_series(
    n: int, rng: np.random.Generator, true_bmd: float = 1.0, cv_pct: float = 0.5,
    change_at: int | None = None, step_pct: float = 0.0, slope_pct_per_scan: float = 0.0,
    t_df: float | None = None, ar1: float = 0.0,
) -> np.ndarray:
    """``n`` phantom readings; from scan ``change_at`` on, a step and/or a linear drift.

    ``ar1`` makes day-to-day noise autocorrelated (AR(1) coefficient, unit
    marginal variance), as room temperature or daily warm-up may do.
    """
    if t_df is None:
        noise = rng.standard_normal(n)
    else:  # scale Student-t to unit variance
        noise = rng.standard_t(t_df, n) * np.sqrt((t_df - 2) / t_df)
    if ar1:
        if not -1 < ar1 < 1:
            raise ValueError("ar1 must lie in (-1, 1)")
        out = np.empty(n)
        out[0] = noise[0]
        scale = np.sqrt(1 - ar1 * ar1)
        for i in range(1, n):
            out[i] = ar1 * out[i - 1] + scale * noise[i]
        noise = out
    x = true_bmd * (1.0 + cv_pct / 100.0 * noise)
    if change_at is not None:
        k = np.arange(n - change_at)
        x[change_at:] *= 1.0 + (step_pct + slope_pct_per_scan * (k + 1)) / 100.0
    return x


def daily_dates(n: int, start: dt.date = dt.date(2025, 1, 1)) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


@dataclass(frozen=True)
class DriftFigures:
    """What a simulation measured for one setting."""

    detected_fraction: float
    median_delay: float
    p90_delay: float
    onset_error_median: float
    false_alarms_per_year_shift: float
    false_alarms_per_year_any: float


def measure(
    settings: DriftSettings, runs: int, rng: np.random.Generator, cv_pct: float = 0.5,
    step_pct: float = 2.0, horizon: int = 30, year: int = 365, t_df: float | None = None,
    slope_pct_per_scan: float = 0.0, ar1: float = 0.0,
) -> DriftFigures:
    """Detection delay of a step (in scans after it) and false alarms per year of daily scans.

    Delay counts scans from the first shifted scan (delay 0 = that scan
    raised the alarm); a run not detected within ``horizon`` scans counts as
    ``horizon``. False alarms: alarms on noise-only series of ``baseline_n``
    + ``year`` scans, per year.
    """
    b = settings.baseline_n
    delays, onset_err = [], []
    for _ in range(runs):
        x = phantom_series(b + 10 + horizon, rng, cv_pct=cv_pct, change_at=b + 10, step_pct=step_pct,
                           slope_pct_per_scan=slope_pct_per_scan, t_df=t_df, ar1=ar1)
        res = detect(x, settings=settings)
        after = [e for e in res.shifts if e.alarm_index >= b + 10]
        before = [e for e in res.shifts if e.alarm_index < b + 10]
        if after and not before:
            first = min(after, key=lambda e: e.alarm_index)
            delays.append(first.alarm_index - (b + 10))
            onset_err.append(abs(first.onset_index - (b + 10)))
        else:
            delays.append(horizon)
    fa_shift = fa_any = 0
    for _ in range(runs):
        x = phantom_series(b + year, rng, cv_pct=cv_pct, t_df=t_df, ar1=ar1)
        res = detect(x, settings=settings)
        fa_shift += len(res.shifts)
        fa_any += len(res.events)
    d = np.array(delays)
    return DriftFigures(
        detected_fraction=float(np.mean(d < horizon)),
        median_delay=float(np.median(d)),
        p90_delay=float(np.percentile(d, 90)),
        onset_error_median=float(np.median(onset_err)) if onset_err else float("nan"),
        false_alarms_per_year_shift=fa_shift / runs,
        false_alarms_per_year_any=fa_any / runs,
    )
