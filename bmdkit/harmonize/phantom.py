"""Phantom scans per scanner: reading the CSV and the calibration factor they give.

The CSV has one phantom scan per row with columns ``scanner_id``, ``date``
(ISO), ``bmd`` (g/cm²) and ``phantom_id``. A scanner's calibration factor
maps its readings onto the reference: the phantom's nominal value (from the
site configuration) or the mean of a reference scanner on the same phantom,
``factor = reference / scanner mean`` over the scanner's baseline scans.
The factor is applied to spine BMD only (the phantoms in use are spine
phantoms; shared/domain/crosscal.md section 3).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from bmdkit.errors import ConfigError
from bmdkit.harmonize.drift import default_baseline_n
from bmdkit.harmonize.sites import SiteConfig

MAX_PHANTOM_ROWS = 200_000
REQUIRED = ("scanner_id", "date", "bmd", "phantom_id")


@dataclass(frozen=True)
class PhantomSeries:
    """One scanner's scans of one phantom, in date order."""

    scanner_id: str
    phantom_id: str
    dates: tuple[dt.date, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class CalibrationFactor:
    """Multiply this scanner's spine BMD by ``factor`` to put it on the reference's scale."""

    scanner_id: str
    phantom_id: str
    factor: float
    se: float
    n: int
    reference: str

    @property
    def label(self) -> str:
        return f"phantom {self.phantom_id} vs {self.reference} (n={self.n})"


def read_phantom_csv(path: Path) -> list[PhantomSeries]:
    """All series in a phantom CSV, grouped by scanner and phantom and sorted by date."""
    groups: dict[tuple[str, str], list[tuple[dt.date, float]]] = {}
    path = Path(path)
    try:
        fh = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"cannot open phantom CSV: {exc}", str(path)) from exc
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"phantom CSV lacks columns {missing}", str(path))
        for lineno, row in enumerate(reader, start=2):
            if lineno > MAX_PHANTOM_ROWS:
                raise ConfigError(f"more than {MAX_PHANTOM_ROWS} rows", str(path))
            try:
                day = dt.date.fromisoformat((row["date"] or "").strip()[:10])
                value = float(row["bmd"])
            except ValueError as exc:
                raise ConfigError(f"row {lineno}: bad date or bmd", str(path)) from exc
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"row {lineno}: bmd must be a positive number", str(path))
            key = ((row["scanner_id"] or "").strip(), (row["phantom_id"] or "").strip())
            if not key[0] or not key[1]:
                raise ConfigError(f"row {lineno}: scanner_id and phantom_id are required", str(path))
            groups.setdefault(key, []).append((day, value))
    out = []
    for (sid, pid), pts in sorted(groups.items()):
        pts.sort(key=lambda p: p[0])
        out.append(PhantomSeries(sid, pid, tuple(d for d, _ in pts), tuple(v for _, v in pts)))
    return out


def _mean_se(values: tuple[float, ...]) -> tuple[float, float]:
    m = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return m, sd / math.sqrt(len(values))


def split_at(series: PhantomSeries, cuts: tuple[dt.date, ...]) -> list[PhantomSeries]:
    """``series`` cut at each date in ``cuts`` (a scan on a cut date opens the new piece).

    Returns one piece per interval, empty pieces included, so piece ``i``
    always covers ``[cuts[i-1], cuts[i])``.
    """
    pieces = []
    bounds = [None, *sorted(cuts), None]
    for lo, hi in itertools.pairwise(bounds):
        idx = [i for i, d in enumerate(series.dates) if (lo is None or d >= lo) and (hi is None or d < hi)]
        pieces.append(PhantomSeries(series.scanner_id, series.phantom_id,
                                    tuple(series.dates[i] for i in idx), tuple(series.values[i] for i in idx)))
    return pieces


def calibration_factors(
    series: list[PhantomSeries], config: SiteConfig, baseline_n: int | None = None,
    reference_series: list[PhantomSeries] | None = None,
) -> dict[str, CalibrationFactor]:
    """A factor per scanner from its first ``baseline_n`` phantom scans (default: drift_rules.csv's).

    Against ``config.calibration_reference``: ``nominal`` uses the phantom's
    nominal BMD from the configuration; a scanner id uses that scanner's
    baseline mean on the same phantom (the reference scanner gets 1.0).
    Scanners with no usable reference get no factor (and are reported so by
    the caller). ``reference_series`` (default: ``series``) is where the
    reference scanner's scans are looked up, e.g. its first service period.
    """
    if baseline_n is None:
        baseline_n = default_baseline_n()
    by_key = {(s.scanner_id, s.phantom_id): s for s in (series if reference_series is None else reference_series)}
    ref = config.calibration_reference
    out: dict[str, CalibrationFactor] = {}
    for s in sorted(series, key=lambda s: -len(s)):  # most-scanned phantom first
        if s.scanner_id in out or len(s) < 2:
            continue
        base = s.values[:baseline_n]
        mean, se_mean = _mean_se(base)
        if ref == "nominal":
            nominal = config.phantom_nominal.get(s.phantom_id)
            if nominal is None:
                continue
            factor = nominal / mean
            se = factor * se_mean / mean
            label = f"nominal {nominal:g} g/cm2"
        else:
            rs = by_key.get((ref, s.phantom_id))
            if rs is None or len(rs) < 2:
                continue
            rmean, rse = _mean_se(rs.values[:baseline_n])
            factor = rmean / mean
            same = rs.scanner_id == s.scanner_id and rs.dates[:baseline_n] == s.dates[:baseline_n]
            se = 0.0 if same else factor * math.hypot(se_mean / mean, rse / rmean)
            label = f"reference scanner {ref}"
        out[s.scanner_id] = CalibrationFactor(s.scanner_id, s.phantom_id, factor, se, len(base), label)
    return out
