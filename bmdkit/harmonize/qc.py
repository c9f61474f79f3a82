"""Per-scanner quality control from phantom series: drift and calibration per service period.

A scanner's phantom history is cut at its service dates (site
configuration ``service_dates``: repairs, recalibrations): each period gets
its own baseline, drift judgement and calibration factor, and a drift found
in one period ends at the next service. A patient scan is judged against
the period its exam date falls in.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from bmdkit.harmonize.drift import DriftResult, DriftSettings, detect
from bmdkit.harmonize.phantom import CalibrationFactor, PhantomSeries, calibration_factors, split_at
from bmdkit.harmonize.sites import SiteConfig


@dataclass(frozen=True)
class QCPeriod:
    """One service period of one scanner: ``[start, end)``, None meaning open-ended."""

    scanner_id: str
    start: dt.date | None
    end: dt.date | None
    drift: dict[str, DriftResult]  # by phantom id; phantoms too short to judge are absent
    factor: CalibrationFactor | None
    series: tuple[PhantomSeries, ...] = ()

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)

    @property
    def onset(self) -> tuple[dt.date, str] | None:
        """When drift began in this period (earliest over its phantoms) and the rule that found it."""
        found = [(e.onset_date, e.rule) for r in self.drift.values()
                 for e in [r.first_shift] if e is not None and e.onset_date is not None]
        return min(found) if found else None


@dataclass(frozen=True)
class ScannerQC:
    """All service periods of one scanner, in date order."""

    scanner_id: str
    periods: tuple[QCPeriod, ...]

    def period_for(self, day: dt.date | None) -> QCPeriod | None:
        """The period ``day`` falls in; an undated scan only fits a scanner with one period."""
        if day is None:
            return self.periods[0] if len(self.periods) == 1 else None
        return next((p for p in self.periods if p.covers(day)), None)

    @property
    def judged(self) -> bool:
        return any(p.drift for p in self.periods)

    @property
    def drift_intervals(self) -> list[tuple[dt.date, dt.date | None, str]]:
        """``(onset, end, rule)`` per period that drifted; ``end`` is the next service date."""
        return [(p.onset[0], p.end, p.onset[1]) for p in self.periods if p.onset is not None]

    @property
    def onset(self) -> tuple[dt.date, str] | None:
        """The earliest drift onset of any period (for summaries)."""
        iv = self.drift_intervals
        return (iv[0][0], iv[0][2]) if iv else None

    def drifted_on(self, day: dt.date) -> tuple[dt.date, str] | None:
        """The drift interval ``day`` falls in, as (onset, rule), or None."""
        for onset, end, rule in self.drift_intervals:
            if day >= onset and (end is None or day < end):
                return onset, rule
        return None


def scanner_qc(series: list[PhantomSeries], config: SiteConfig, settings: DriftSettings) -> dict[str, ScannerQC]:
    """Drift results and calibration factors per scanner and service period."""
    by_scanner: dict[str, list[PhantomSeries]] = {}
    for s in series:
        by_scanner.setdefault(s.scanner_id, []).append(s)
    ref_id = config.calibration_reference
    ref_pool: list[PhantomSeries] | None = None
    if ref_id != "nominal" and ref_id in by_scanner:
        sc = config.scanner(ref_id)
        cuts = sc.service_dates if sc else ()
        ref_pool = [split_at(s, cuts)[0] for s in by_scanner[ref_id]]
    out: dict[str, ScannerQC] = {}
    for sid, group in sorted(by_scanner.items()):
        sc = config.scanner(sid)
        cuts = sc.service_dates if sc else ()
        pieces = [split_at(s, cuts) for s in group]
        bounds = [None, *cuts, None]
        periods = []
        for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            seg = [p[k] for p in pieces if len(p[k]) >= 2]
            drift = {s.phantom_id: detect(s.values, s.dates, settings) for s in seg if len(s) >= settings.baseline_n}
            factor = calibration_factors(seg, config, settings.baseline_n,
                                         reference_series=ref_pool if ref_pool is not None else seg).get(sid)
            periods.append(QCPeriod(sid, lo, hi, drift, factor, tuple(seg)))
        out[sid] = ScannerQC(sid, tuple(periods))
    return out
