"""Follow-up change: BMD per site from baseline to each later visit, against the LSC.

For each subject and each visit after baseline (visits as given by the
subject mapping; see :mod:`.trial_inputs`), per site — spine, femoral neck
and total hip, each hip side separately — the absolute and percent change
of BMD, and whether it exceeds the least significant change (LSC =
``lsc_factor`` x precision; site precision from a configuration file when
given, the ISCD minima of ``precision_minima.csv`` otherwise; ``lsc_source``
says which). A change counts as significant only when strictly beyond the LSC.

Flags per change (review):

- ``scanner_changed``: vendor, serial or (serial unknown) model differs;
- ``vertebrae_changed``: the evaluable vertebrae differ; both visits are then
  recomputed over the vertebrae evaluable at both (ΣBMC/ΣArea, like with
  like), or no value is given if that is impossible (< 2 common, BMC/area missing);
- ``area_changed``: the region's area changed by more than ``area_change_pct``;
- ``implausible_change``: |%change| beyond ``implausible_change_pct_per_year``
  scaled by the interval (exam dates; the nominal visit months otherwise;
  unscaled when neither is known).

Only read values are used (harmonized or other computed regions are not);
the spine is taken from the vertebrae themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bmdkit.checks import apply_all, spine
from bmdkit.checks.evaluability import evaluable_levels
from bmdkit.checks.settings import CheckSettings, default_settings
from bmdkit.checks.trial_inputs import (
    LoadReport,
    Precision,
    group_by_subject,
    load_precision,
    load_trial_exams,
    ordered_visits,
    subjects_file,
    visit_months,
)
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Method, Region, Side, Status, Vendor

_DAYS_PER_MONTH = 365.25 / 12
HIP_REGIONS = (Region.FEMORAL_NECK, Region.TOTAL_HIP)


@dataclass(frozen=True)
class SiteValue:
    """One site's BMD (and area) at one visit, with the exam it came from."""

    bmd: float
    area: float | None
    exam: Exam
    vertebrae: tuple[Region, ...] | None = None


@dataclass
class ChangeRow:
    """Change of one site between baseline and one later visit."""

    subject_id: str
    site: str
    side: str | None
    baseline_visit: str
    visit: str
    label: str | None = None
    baseline_date: dt.date | None = None
    visit_date: dt.date | None = None
    interval_days: int | None = None
    bmd_baseline: float | None = None
    bmd_visit: float | None = None
    abs_change: float | None = None
    pct_change: float | None = None
    lsc: float | None = None
    lsc_unit: str | None = None
    lsc_source: str | None = None
    significant: bool | None = None
    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def flag_codes(self) -> list[str]:
        return list(dict.fromkeys(f.code.value for f in self.flags))


def _usable(exams: Sequence[Exam]) -> list[Exam]:
    return [e for e in exams if e.status is not Status.FAILED]


def _hip_value(exams: Sequence[Exam], region: Region, side: Side | None) -> SiteValue | None:
    for e in exams:
        for r in e.regions:
            if r.region is region and r.side is side and r.method is not Method.COMPUTED and r.bmd is not None:
                return SiteValue(r.bmd, r.area, e)
    return None


def _spine_exam(exams: Sequence[Exam]) -> Exam | None:
    for e in exams:
        if spine.read_vertebrae(e) or spine.printed_total(e):
            return e
    return None


def _evaluable(exam: Exam) -> tuple[Region, ...] | None:
    levels = evaluable_levels(exam)
    if levels is None:
        total = spine.printed_total(exam)
        return spine.total_coverage(total) if total is not None else None
    return levels


def _spine_value(exam: Exam, levels: tuple[Region, ...]) -> SiteValue | None:
    """BMD over ``levels``: the printed total if it covers exactly them, else ΣBMC/ΣArea."""
    total = spine.printed_total(exam)
    if total is not None and total.bmd is not None and spine.total_coverage(total) == levels:
        return SiteValue(total.bmd, total.area, exam, levels)
    sums = spine.sum_over(spine.read_vertebrae(exam), levels)
    return SiteValue(sums.bmd, sums.area, exam, levels) if sums else None


def _scanner_change(a: Exam, b: Exam) -> str | None:
    if Vendor.UNKNOWN not in (a.vendor, b.vendor) and a.vendor is not b.vendor:
        return f"vendor {a.vendor.value} -> {b.vendor.value}"
    if a.scanner_serial and b.scanner_serial:
        return None if a.scanner_serial == b.scanner_serial else "scanner serial number differs"
    if a.scanner_model and b.scanner_model and a.scanner_model != b.scanner_model:
        return f"model {a.scanner_model} -> {b.scanner_model}"
    return None


def _scanner_known(e: Exam) -> bool:
    return e.vendor is not Vendor.UNKNOWN and bool(e.scanner_serial or e.scanner_model)


def _interval(row: ChangeRow, base_label: str, visit_label: str) -> float | None:
    """Interval in days: exam dates, else nominal visit months."""
    if row.baseline_date and row.visit_date:
        return float((row.visit_date - row.baseline_date).days)
    m0, m1 = visit_months(base_label), visit_months(visit_label)
    if m0 is not None and m1 is not None:
        row.notes.append("exam date missing: nominal visit interval used")
        return (m1 - m0) * _DAYS_PER_MONTH
    return None


def _compare(row: ChangeRow, b: SiteValue, v: SiteValue, precision: Precision, s: CheckSettings,
             base_label: str, visit_label: str) -> None:
    where = row.site + (f" ({row.side})" if row.side else "")
    row.baseline_date, row.visit_date = b.exam.exam_date, v.exam.exam_date
    row.bmd_baseline, row.bmd_visit = round(b.bmd, 4), round(v.bmd, 4)
    row.abs_change = round(v.bmd - b.bmd, 4)
    row.pct_change = round(100.0 * (v.bmd - b.bmd) / b.bmd, 2)
    prec = precision.values.get(row.site)
    if prec is not None:
        unit, p = prec
        row.lsc = round(s.lsc_factor * p, 4)
        row.lsc_unit = "%" if unit == "pct" else "g/cm2"
        row.lsc_source = precision.source
        measured = abs(row.pct_change) if unit == "pct" else abs(row.abs_change)
        row.significant = measured > row.lsc
        if row.site == Region.SPINE_TOTAL.value and row.label not in (None, "L1-L4"):
            row.notes.append(f"LSC of L1-L4 applied to {row.label}; ISCD: derive it from the site's own precision study")
    else:
        row.notes.append(f"no precision for {row.site}: significance not assessed")
    why = _scanner_change(b.exam, v.exam)
    if why:
        row.flags.append(Flag(FlagCode.SCANNER_CHANGED, f"{where}: {why}; cross-calibration needed", region=row.site))
    elif not _scanner_known(b.exam) or not _scanner_known(v.exam):
        row.notes.append("scanner identity unknown at one visit: a scanner change cannot be ruled out")
    if b.area and v.area:
        d_area = 100.0 * (v.area - b.area) / b.area
        if abs(d_area) > s.area_change_pct:
            row.flags.append(Flag(FlagCode.AREA_CHANGED, f"{where}: area {b.area:g} -> {v.area:g} cm² "
                                  f"({d_area:+.1f}%, limit {s.area_change_pct:g}%)", region=row.site))
    days = _interval(row, base_label, visit_label)
    row.interval_days = round(days) if days is not None else None
    limit = s.implausible_change_pct_per_year * (days / 365.25 if days and days > 0 else 1.0)
    if days is None:
        row.notes.append("interval unknown: implausible-change limit applied per year, unscaled")
    if abs(row.pct_change) > limit:
        row.flags.append(Flag(FlagCode.IMPLAUSIBLE_CHANGE, f"{where}: {row.pct_change:+.1f}% exceeds "
                              f"{limit:.1f}% for the interval", region=row.site))


def _spine_row(sid: str, base_label: str, visit_label: str, base: Sequence[Exam], later: Sequence[Exam],
               precision: Precision, s: CheckSettings) -> ChangeRow | None:
    eb, ev = _spine_exam(base), _spine_exam(later)
    if eb is None or ev is None:
        return None
    row = ChangeRow(sid, Region.SPINE_TOTAL.value, None, base_label, visit_label)
    lb, lv = _evaluable(eb), _evaluable(ev)
    if lb is None or lv is None:
        row.notes.append("vertebrae covered unknown at one visit: spine change not computed")
        return row
    common = tuple(v for v in lb if v in lv)
    row.label = spine.label_for(common) if common else None
    if lb != lv:
        row.flags.append(Flag(
            FlagCode.VERTEBRAE_CHANGED,
            f"spine: evaluable {spine.label_for(lb) if lb else 'none'} at {base_label}, "
            f"{spine.label_for(lv) if lv else 'none'} at {visit_label}; compared over {row.label or 'none'}",
            region=row.site,
        ))
    if len(common) < s.min_evaluable_vertebrae:
        row.notes.append(f"fewer than {s.min_evaluable_vertebrae} vertebrae evaluable at both visits: no spine change")
        return row
    b, v = _spine_value(eb, common), _spine_value(ev, common)
    if b is None or v is None:
        row.notes.append(f"BMC or area missing: spine over {row.label} not recomputable (BMDs are not averaged)")
        return row
    _compare(row, b, v, precision, s, base_label, visit_label)
    return row


def compute_changes(visits_by_subject: Mapping[str, Mapping[str, Sequence[Exam]]],
                    precision: Precision | None = None,
                    settings: CheckSettings | None = None) -> list[ChangeRow]:
    """Change rows for every subject, later visit and site (see module docstring)."""
    s = settings or default_settings()
    precision = precision or load_precision()
    rows: list[ChangeRow] = []
    for sid in sorted(visits_by_subject):
        visits = {k: _usable([apply_all(e, s) for e in v]) for k, v in visits_by_subject[sid].items()}
        order = ordered_visits(visits)  # type: ignore[arg-type]
        if len(order) < 2:
            continue
        base_label, base = order[0], visits[order[0]]
        for label in order[1:]:
            later = visits[label]
            r = _spine_row(sid, base_label, label, base, later, precision, s)
            if r is not None:
                rows.append(r)
            for region in HIP_REGIONS:
                for side in (Side.LEFT, Side.RIGHT, Side.MEAN, None):
                    b, v = _hip_value(base, region, side), _hip_value(later, region, side)
                    if b is None or v is None:
                        continue
                    row = ChangeRow(sid, region.value, side.value if side else None, base_label, label)
                    _compare(row, b, v, precision, s, base_label, label)
                    rows.append(row)
    return rows


CSV_COLUMNS: tuple[str, ...] = (
    "subject_id", "site", "side", "label", "baseline_visit", "visit", "baseline_date", "visit_date",
    "interval_days", "bmd_baseline", "bmd_visit", "abs_change", "pct_change", "lsc", "lsc_unit",
    "lsc_source", "significant", "flag_codes", "notes",
)


def change_row(r: ChangeRow) -> dict[str, str]:
    """One CSV row per change (subject ID only, no hospital identifiers)."""
    def fmt(v: object) -> str:
        return "" if v is None else str(v)
    return {
        "subject_id": r.subject_id, "site": r.site, "side": fmt(r.side), "label": fmt(r.label),
        "baseline_visit": r.baseline_visit, "visit": r.visit,
        "baseline_date": fmt(r.baseline_date), "visit_date": fmt(r.visit_date),
        "interval_days": fmt(r.interval_days), "bmd_baseline": fmt(r.bmd_baseline), "bmd_visit": fmt(r.bmd_visit),
        "abs_change": fmt(r.abs_change), "pct_change": fmt(r.pct_change), "lsc": fmt(r.lsc),
        "lsc_unit": fmt(r.lsc_unit), "lsc_source": fmt(r.lsc_source),
        "significant": "" if r.significant is None else ("yes" if r.significant else "no"),
        "flag_codes": ";".join(r.flag_codes),
        "notes": " | ".join([f.message for f in r.flags] + r.notes),
    }


def changes_from_files(results: str | Path, subjects_csv: str | Path | None, precision_csv: str | Path | None = None,
                       settings: CheckSettings | None = None) -> tuple[list[ChangeRow], LoadReport, Precision]:
    """:func:`compute_changes` on a batch's results and the subject mapping (visits from it)."""
    report = LoadReport()
    grouped = group_by_subject(load_trial_exams(results, report), subjects_file(results, subjects_csv), report)
    precision = load_precision(precision_csv)
    return compute_changes(grouped, precision, settings), report, precision
