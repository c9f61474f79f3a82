"""Deming regression recovers a known slope where OLS does not; jackknife SE is honest; CSV fitting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bmdkit.errors import ConfigError
from bmdkit.harmonize.crosscal import fit_as_row, fit_pairs_csv
from bmdkit.harmonize.deming import deming
from bmdkit.model import Vendor


def _pairs(rng: np.random.Generator, n: int, slope: float, intercept: float, err: float) -> tuple:
    truth = rng.uniform(0.6, 1.4, n)
    x = truth + rng.normal(0, err, n)
    y = slope * truth + intercept + rng.normal(0, err, n)
    return x, y


def test_recovers_known_slope_with_error_in_both() -> None:
    rng = np.random.default_rng(11)
    slopes, ols = [], []
    for _ in range(60):
        x, y = _pairs(rng, 60, 1.074, 0.054, 0.05)
        slopes.append(deming(x, y).slope)
        ols.append(np.polyfit(x, y, 1)[0])
    assert np.mean(slopes) == pytest.approx(1.074, abs=0.01)
    # ordinary least squares is attenuated by the error in x; Deming is not
    assert np.mean(ols) < 1.074 - 0.02


def test_jackknife_interval_covers_the_true_slope() -> None:
    rng = np.random.default_rng(5)
    hits = 0
    runs = 80
    for _ in range(runs):
        x, y = _pairs(rng, 40, 0.906, -0.025, 0.03)
        lo, hi = deming(x, y).ci_slope()
        hits += lo <= 0.906 <= hi
    assert 0.85 <= hits / runs <= 1.0


def test_delta_changes_the_fit_and_bad_input_refused() -> None:
    rng = np.random.default_rng(3)
    x, y = _pairs(rng, 30, 1.1, 0.0, 0.04)
    assert deming(x, y, delta=1.0).slope != deming(x, y, delta=4.0).slope
    with pytest.raises(ValueError):
        deming([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        deming([1.0, 2.0, float("nan")], [1.0, 2.0, 3.0])


def test_fit_from_csv_and_as_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    x, y = _pairs(rng, 45, 0.95, 0.02, 0.02)
    p = tmp_path / "pairs.csv"
    lines = ["subject,old_scanner,new_scanner"] + [f"P{i},{a:.3f},{b:.3f}" for i, (a, b) in enumerate(zip(x, y))]
    lines.append("P99,,0.9")  # incomplete pair is skipped
    p.write_text("\n".join(lines) + "\n")
    fit = fit_pairs_csv(p, "old_scanner", "new_scanner")
    assert fit.n == 45 and fit.slope == pytest.approx(0.95, abs=0.05)
    row = fit_as_row(fit, "jx_2026", "1", Vendor.GE_LUNAR, Vendor.HOLOGIC, "spine", "jx-1 vs jx-2", "site study")
    assert row["status"] == "site_fit" and float(row["slope"]) == pytest.approx(fit.slope, rel=1e-5)
    with pytest.raises(ConfigError):
        fit_pairs_csv(p, "old_scanner", "new_scanner", min_pairs=100)
    with pytest.raises(ConfigError):
        fit_pairs_csv(p, "old_scanner", "missing")
