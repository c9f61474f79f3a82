"""Thresholds the checks obey, loaded from ``reference_data`` and overridable.

Every number comes from ``constants.csv`` or ``plausible_ranges.csv`` (each
row cites its source); a study may override any of them, e.g. a stricter
area-change percent or its own plausible ranges, without editing code::

    s = CheckSettings.from_reference(area_change_pct=3.0)

Two ISCD rules are, by default, *flags for review* rather than automatic
exclusions (``discordance_excludes`` and ``area_order_excludes`` are False):
the ISCD text says a vertebra with a > 1.0 T-score difference "may be
excluded", and Hansen et al. (J Bone Miner Res 2005) found the criteria hard
to apply reproducibly (shared/domain/iscd_rules.md). A person decides; the
exam becomes ``flagged`` so the decision is not skipped.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from bmdkit import reference, rounding
from bmdkit.errors import ReferenceDataError

#: Spine settings for "any of L1-L4" in inclusion 5 (see ``eligibility``).
SPINE_SETTINGS: tuple[str, ...] = ("each_vertebra", "spine_total")


@dataclass(frozen=True)
class Range:
    """A plausible interval ``[low, high]`` for one measure, with its citation."""

    low: float
    high: float
    source: str


RangeKey = tuple[str, str]  # (region key, measure); region key: "vertebra", "L1-L4", "any", ...


def load_ranges(path: str | Path | None = None) -> dict[RangeKey, Range]:
    """Plausible ranges from ``plausible_ranges.csv`` (or a CSV of the same shape at ``path``).

    Columns: ``region, measure, low, high, source``; ``region`` is a region
    value (``L1-L4``, ``femoral_neck``), ``vertebra`` for any of L1-L4, or
    ``any``. A row without a source is refused, as in :mod:`bmdkit.reference`.
    """
    if path is None:
        rows = reference.table("plausible_ranges")
    else:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            rows = [{k: (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(fh)]
    out: dict[RangeKey, Range] = {}
    for i, row in enumerate(rows, start=2):
        if not row.get("source"):
            raise ReferenceDataError(f"plausible range row {i} has no source", str(path or "plausible_ranges.csv"))
        try:
            out[(row["region"], row["measure"])] = Range(float(row["low"]), float(row["high"]), row["source"])
        except (KeyError, ValueError) as exc:
            raise ReferenceDataError(f"plausible range row {i} is malformed: {exc}") from exc
    return out


@dataclass(frozen=True)
class CheckSettings:
    """All thresholds of :mod:`bmdkit.checks`; build with :meth:`from_reference`.

    Attributes
    ----------
    vertebra_t_discordance:
        A vertebra whose printed T-score differs by *more than* this from its
        adjacent vertebrae is discordant (exactly this value is not).
    discordance_excludes, area_order_excludes:
        Whether those two rules make a vertebra non-evaluable (default: flag
        for review only; see the module docstring).
    min_evaluable_vertebrae:
        Fewer evaluable vertebrae in L1-L4 make the spine unusable.
    bmd_bmc_area_rel_tol:
        Relative tolerance for BMD = BMC / area and for totals and means.
    bmd_rounding_check:
        Also require BMD = BMC / area within the rounding of the digits shown
        (no tuned number; turn off for sources that round coarser than they show).
    half_units:
        Half a unit of the last printed digit per measure, from
        ``print_rounding.csv`` (used where a value has no raw text).
    t_score_check_tol:
        Tolerance between a printed T-score and one recomputed from a known reference.
    t_score_decimals:
        T-scores are compared as printed, rounded to this many decimals.
    trial_t_threshold, trial_t_threshold_with_fracture:
        Inclusion 5: T strictly below these.
    area_change_pct, implausible_change_pct_per_year, lsc_factor:
        Follow-up thresholds.
    spine_setting:
        How inclusion 5 reads "any of L1-L4": ``each_vertebra`` (literal,
        default) or ``spine_total``.
    ranges:
        Plausible ranges keyed by (region key, measure).
    """

    vertebra_t_discordance: float
    min_evaluable_vertebrae: int
    bmd_bmc_area_rel_tol: float
    t_score_check_tol: float
    t_score_decimals: int
    trial_t_threshold: float
    trial_t_threshold_with_fracture: float
    area_change_pct: float
    implausible_change_pct_per_year: float
    lsc_factor: float
    ranges: Mapping[RangeKey, Range] = field(default_factory=dict)
    discordance_excludes: bool = False
    area_order_excludes: bool = False
    bmd_rounding_check: bool = True
    half_units: Mapping[str, float] = field(default_factory=dict)
    spine_setting: str = "each_vertebra"

    def __post_init__(self) -> None:
        if self.spine_setting not in SPINE_SETTINGS:
            raise ValueError(f"spine_setting must be one of {SPINE_SETTINGS}, got {self.spine_setting!r}")

    @classmethod
    def from_reference(cls, ranges_path: str | Path | None = None, **overrides: object) -> CheckSettings:
        """Settings from ``reference_data`` with ``overrides`` applied by field name."""
        c = reference.constant
        s = cls(
            vertebra_t_discordance=c("vertebra_t_discordance"),
            min_evaluable_vertebrae=int(c("min_evaluable_vertebrae")),
            bmd_bmc_area_rel_tol=c("bmd_bmc_area_rel_tol"),
            t_score_check_tol=c("t_score_check_tol"),
            t_score_decimals=int(c("t_score_decimals")),
            trial_t_threshold=c("trial_t_threshold"),
            trial_t_threshold_with_fracture=c("trial_t_threshold_with_fracture"),
            area_change_pct=c("area_change_pct"),
            implausible_change_pct_per_year=c("implausible_change_pct_per_year"),
            lsc_factor=c("lsc_factor"),
            ranges=load_ranges(ranges_path),
            half_units=rounding.half_units(),
        )
        return replace(s, **overrides) if overrides else s  # type: ignore[arg-type]

    @classmethod
    def from_toml(cls, path: str | Path) -> CheckSettings:
        """Settings from the ``[checks]`` table of a TOML file, over the reference defaults.

        Keys are field names (``area_change_pct = 3.0``, ``spine_setting =
        "spine_total"``); ``ranges = "my_ranges.csv"`` loads plausible ranges
        from a CSV (relative to the TOML file). Unknown keys are refused.
        """
        try:
            with Path(path).open("rb") as fh:
                table = dict(tomllib.load(fh).get("checks", {}))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ReferenceDataError(f"settings file cannot be read: {exc}", str(path)) from None
        ranges = table.pop("ranges", None)
        known = {f.name for f in fields(cls)} - {"ranges", "half_units"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ReferenceDataError(f"unknown check setting(s): {', '.join(unknown)}", str(path))
        ranges_path = (Path(path).parent / ranges) if ranges else None
        try:
            return cls.from_reference(ranges_path=ranges_path, **table)
        except (TypeError, ValueError) as exc:
            raise ReferenceDataError(f"bad check setting: {exc}", str(path)) from None

    def with_(self, **overrides: object) -> CheckSettings:
        """A copy with some fields changed."""
        return replace(self, **overrides)  # type: ignore[arg-type]

    def tenths(self, t: float) -> int:
        """``t`` as printed, in units of the last printed decimal (e.g. -2.0 -> -20).

        Comparing integers avoids float artefacts: -2.0 never counts as below -2.0.
        """
        return round(round(t, self.t_score_decimals) * 10**self.t_score_decimals)


_DEFAULT: CheckSettings | None = None


def default_settings() -> CheckSettings:
    """The settings from the shipped reference data (loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = CheckSettings.from_reference()
    return _DEFAULT
