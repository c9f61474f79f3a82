"""Drift detection on a scanner's phantom series: Shewhart limits, Westgard-style run rules and CUSUM.

The first ``baseline_n`` scans set the baseline mean and SD. Every later
scan is tested by the enabled rules:

============  ======================================================  =========
rule          alarm when                                              kind
============  ======================================================  =========
``pct``       a value lies outside ± ``pct_limit`` % of the mean      outlier
``1_ks``      a value lies beyond ± ``k_sd`` SD                       outlier
``2_pct``     two consecutive values outside ± ``pct_limit`` % on    shift
              the same side
``2_2s``      two consecutive values beyond 2 SD on the same side     shift
``4_1s``      four consecutive values beyond 1 SD on the same side    shift
``10_x``      ten consecutive values on the same side of the mean     shift
``cusum``     a tabular CUSUM (reference ``cusum_k``, limit           shift
              ``cusum_h``, both in SD; each step's z clipped at
              ``cusum_clip`` so one wild scan cannot raise it alone)
              crosses its limit
============  ======================================================  =========

Default rules are ``pct``, ``1_ks``, ``2_pct`` and ``cusum``. The Westgard
run rules ``2_2s``, ``4_1s`` and ``10_x`` are available but off by default:
with a baseline SD estimated from 25 scans they raise about one false
alarm per year of daily scans each (measured by ``bench/bench_drift.py``).

An *outlier* is one bad phantom scan: worth a look and a rescan, but it
says nothing about the patient scans around it. A *shift* means the
machine's readings moved; its ``onset`` is the first scan of the run that
triggered it (for CUSUM, the scan after the statistic last stood at zero),
and patient scans on that scanner from the onset date on are flagged.
After an alarm the run windows and the CUSUM restart, so one sustained
shift is reported once per restart, as a QC chart would show it.

Every default number is a row of ``reference_data/drift_rules.csv`` with
its source: the ±1.5 % limit (source not verified: keep it configurable),
the Westgard run rules (Westgard et al. 1981), and the operating choices
(``baseline_n``, CUSUM ``k``/``h``/clip) measured by ``bench/bench_drift.py``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bmdkit import reference

ALL_RULES: tuple[str, ...] = ("pct", "1_ks", "2_pct", "2_2s", "4_1s", "10_x", "cusum")
DEFAULT_RULES: tuple[str, ...] = ("pct", "1_ks", "2_pct", "cusum")
OUTLIER_RULES = frozenset({"pct", "1_ks"})
#: the Westgard-style run rules; each one's run length and SD multiple are rows of drift_rules.csv
RUN_RULES: tuple[str, ...] = ("2_2s", "4_1s", "10_x")


def drift_setting(name: str) -> float:
    """The number ``name`` of ``reference_data/drift_rules.csv`` (each row cites its source)."""
    for row in reference.table("drift_rules"):
        if row["name"] == name:
            return float(row["value"])
    raise LookupError(f"{name} missing from drift_rules.csv")


def default_pct_limit() -> float:
    """The ± percent Shewhart limit from ``reference_data/drift_rules.csv``."""
    return drift_setting("shewhart_pct_limit")


def default_baseline_n() -> int:
    """How many first phantom scans set a scanner's baseline (drift and calibration), from drift_rules.csv."""
    return int(drift_setting("baseline_n"))


def run_rules() -> dict[str, tuple[int, float]]:
    """``{rule: (run length, SD multiple)}`` of the Westgard-style run rules, from drift_rules.csv."""
    return {r: (int(drift_setting(f"run_{r}_length")), drift_setting(f"run_{r}_sd")) for r in RUN_RULES}


@dataclass(frozen=True)
class DriftSettings:
    """How a phantom series is judged; every threshold is a setting."""

    baseline_n: int = field(default_factory=default_baseline_n)
    pct_limit: float = field(default_factory=default_pct_limit)
    k_sd: float = field(default_factory=lambda: drift_setting("k_sd"))
    cusum_k: float = field(default_factory=lambda: drift_setting("cusum_k"))
    cusum_h: float = field(default_factory=lambda: drift_setting("cusum_h"))
    cusum_clip: float | None = field(default_factory=lambda: drift_setting("cusum_clip"))
    rules: tuple[str, ...] = DEFAULT_RULES

    def __post_init__(self) -> None:
        unknown = set(self.rules) - set(ALL_RULES)
        if unknown:
            raise ValueError(f"unknown drift rules {sorted(unknown)}; known: {ALL_RULES}")
        if self.baseline_n < 3:
            raise ValueError("baseline_n must be at least 3")


@dataclass(frozen=True)
class DriftEvent:
    """One alarm: which rule, where it fired and where the change began."""

    rule: str
    kind: str  # "outlier" or "shift"
    alarm_index: int
    onset_index: int
    direction: int  # +1 readings high, -1 readings low
    alarm_date: dt.date | None = None
    onset_date: dt.date | None = None


@dataclass(frozen=True)
class DriftResult:
    """The baseline, the alarms and the CUSUM traces of one series."""

    baseline_mean: float
    baseline_sd: float
    settings: DriftSettings
    events: tuple[DriftEvent, ...]
    cusum_pos: tuple[float, ...]
    cusum_neg: tuple[float, ...]

    @property
    def shifts(self) -> tuple[DriftEvent, ...]:
        return tuple(e for e in self.events if e.kind == "shift")

    @property
    def first_shift(self) -> DriftEvent | None:
        """The earliest-onset shift, i.e. when the machine is judged to have begun drifting."""
        shifts = self.shifts
        return min(shifts, key=lambda e: (e.onset_index, e.alarm_index)) if shifts else None


def detect(
    values: Sequence[float] | np.ndarray, dates: Sequence[dt.date] | None = None,
    settings: DriftSettings | None = None,
) -> DriftResult:
    """Run the enabled rules over ``values`` (date order); the first ``baseline_n`` set the baseline."""
    st = settings or DriftSettings()
    n = len(values)
    if n < st.baseline_n:
        raise ValueError(f"{n} phantom scans; the baseline alone needs {st.baseline_n}")
    if dates is not None and len(dates) != n:
        raise ValueError("dates and values differ in length")
    base = list(values[: st.baseline_n])
    mean = statistics.fmean(base)
    sd = statistics.stdev(base)
    if sd <= 0 or mean <= 0:
        raise ValueError("baseline has no spread or a non-positive mean")
    rules = set(st.rules)
    runs = run_rules()
    events: list[DriftEvent] = []
    cpos = [0.0] * n
    cneg = [0.0] * n
    sp = sn = 0.0
    last_zero_p = last_zero_n = st.baseline_n - 1
    window_start = st.baseline_n  # run rules only look at scans after the last restart

    def when(i: int) -> dt.date | None:
        return dates[i] if dates is not None else None

    def fire(rule: str, i: int, onset: int, direction: int) -> None:
        kind = "outlier" if rule in OUTLIER_RULES else "shift"
        events.append(DriftEvent(rule, kind, i, onset, direction, when(i), when(onset)))

    for i in range(st.baseline_n, n):
        x = values[i]
        z = (x - mean) / sd
        fired_shift = False
        if "pct" in rules and abs(x - mean) > st.pct_limit / 100.0 * mean:
            fire("pct", i, i, 1 if x > mean else -1)
        if "1_ks" in rules and abs(z) > st.k_sd:
            fire("1_ks", i, i, 1 if z > 0 else -1)
        if "2_pct" in rules and i - 1 >= window_start:
            for sign in (1, -1):
                if all(sign * (values[j] - mean) > st.pct_limit / 100.0 * mean for j in (i - 1, i)):
                    fire("2_pct", i, i - 1, sign)
                    fired_shift = True
        for rule, (length, limit) in runs.items():
            if rule not in rules or i - length + 1 < window_start:
                continue
            zs = [(values[j] - mean) / sd for j in range(i - length + 1, i + 1)]
            for sign in (1, -1):
                if all(sign * zz > limit for zz in zs):
                    fire(rule, i, i - length + 1, sign)
                    fired_shift = True
        if "cusum" in rules:
            zc = z if st.cusum_clip is None else max(-st.cusum_clip, min(st.cusum_clip, z))
            sp = max(0.0, sp + zc - st.cusum_k)
            sn = max(0.0, sn - zc - st.cusum_k)
            if sp == 0.0:
                last_zero_p = i
            if sn == 0.0:
                last_zero_n = i
            cpos[i], cneg[i] = sp, sn
            for stat, last_zero, sign in ((sp, last_zero_p, 1), (sn, last_zero_n, -1)):
                if stat > st.cusum_h:
                    fire("cusum", i, last_zero + 1, sign)
                    fired_shift = True
        if fired_shift:
            window_start = i + 1
            sp = sn = 0.0
            last_zero_p = last_zero_n = i
    return DriftResult(mean, sd, st, tuple(events), tuple(cpos), tuple(cneg))


def scans_after(onset: dt.date, exam_dates: Sequence[dt.date | None]) -> list[int]:
    """Indexes of the patient scans dated on or after ``onset`` (undated scans are not placed)."""
    return [i for i, d in enumerate(exam_dates) if d is not None and d >= onset]
