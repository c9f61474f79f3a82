"""Phantom CSV reading and calibration factors against a nominal value or a reference scanner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bmdkit.errors import ConfigError
from bmdkit.harmonize.phantom import calibration_factors, read_phantom_csv
from bmdkit.harmonize.simulate import daily_dates, phantom_series
from bmdkit.harmonize.sites import parse_sites

SITES = {"centers": [{"id": "c1", "scanners": [{"id": "s1", "vendor": "hologic"}, {"id": "s2", "vendor": "ge_lunar"}]}],
         "phantoms": [{"id": "P1", "nominal_bmd": 1.0}]}


def write_csv(path: Path, rng: np.random.Generator) -> None:
    lines = ["scanner_id,date,bmd,phantom_id"]
    for sid, true in (("s1", 0.98), ("s2", 1.12)):
        x = phantom_series(40, rng, true_bmd=true, cv_pct=0.4)
        lines += [f"{sid},{d.isoformat()},{v:.4f},P1" for d, v in zip(daily_dates(40), x)]
    lines.reverse()  # out of order on purpose; header goes last, so restore it first
    lines.insert(0, lines.pop())
    path.write_text("\n".join(lines) + "\n")


def test_factor_against_nominal(tmp_path: Path) -> None:
    p = tmp_path / "ph.csv"
    write_csv(p, np.random.default_rng(1))
    series = read_phantom_csv(p)
    assert [(s.scanner_id, len(s)) for s in series] == [("s1", 40), ("s2", 40)]
    assert list(series[0].dates) == sorted(series[0].dates)
    f = calibration_factors(series, parse_sites(SITES))
    assert f["s1"].factor == pytest.approx(1.0 / 0.98, rel=0.004)
    assert f["s2"].factor == pytest.approx(1.0 / 1.12, rel=0.004)
    assert 0 < f["s1"].se < 0.002 and f["s1"].n == 25


def test_factor_against_reference_scanner(tmp_path: Path) -> None:
    p = tmp_path / "ph.csv"
    write_csv(p, np.random.default_rng(2))
    f = calibration_factors(read_phantom_csv(p), parse_sites({**SITES, "calibration": {"reference": "s1"}}))
    assert f["s1"].factor == 1.0 and f["s1"].se == 0.0
    assert f["s2"].factor == pytest.approx(0.98 / 1.12, rel=0.005)


def test_no_nominal_no_factor(tmp_path: Path) -> None:
    p = tmp_path / "ph.csv"
    write_csv(p, np.random.default_rng(3))
    assert calibration_factors(read_phantom_csv(p), parse_sites({"centers": SITES["centers"]})) == {}


@pytest.mark.parametrize("text", [
    "scanner_id,date,bmd\ns1,2026-01-01,1.0\n",
    "scanner_id,date,bmd,phantom_id\ns1,01/02/2026,1.0,P1\n",
    "scanner_id,date,bmd,phantom_id\ns1,2026-01-01,-1,P1\n",
    "scanner_id,date,bmd,phantom_id\n,2026-01-01,1.0,P1\n",
])
def test_bad_csv_refused(tmp_path: Path, text: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ConfigError):
        read_phantom_csv(p)
