"""The harmonized table: one row per exam region (and side), harmonized columns beside the originals.

This is what ``bmdkit harmonize`` writes. Original values (``bmd``,
``t_score`` and its ``reference``) are copied unchanged; every harmonized
column has a companion naming the equation set (or calibration, or
reference population) that produced it, and a value that could not be
produced is blank with the reason in ``harmonize_notes`` and a flag code
in ``harmonize_flags`` (``no_equation``, ``scanner_unmatched``,
``after_drift``). No patient identifiers are copied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bmdkit.errors import ConfigError
from bmdkit.flags import FlagCode
from bmdkit.harmonize.crosscal import to_vendor
from bmdkit.harmonize.drift import DriftSettings
from bmdkit.harmonize.equations import DEFAULT_STATUSES
from bmdkit.harmonize.phantom import PhantomSeries
from bmdkit.harmonize.qc import ScannerQC, scanner_qc
from bmdkit.harmonize.sbmd import to_sbmd
from bmdkit.harmonize.sites import ScannerMatch, SiteConfig, match_scanner
from bmdkit.harmonize.tscore import recompute_t
from bmdkit.harmonize.values import Harmonized
from bmdkit.model import Exam, RegionResult, Vendor
from bmdkit.vocabulary import key_of

BASE_COLUMNS: tuple[str, ...] = (
    "path", "sha256", "status", "exam_date", "vendor", "scanner_model", "scanner_serial",
    "center_id", "scanner_id", "scanner_match", "region", "side", "label", "vertebrae", "method",
    "bmd", "t_score", "reference", "confidence",
)


@dataclass(frozen=True)
class HarmonizeSettings:
    """What to compute; see ``bmdkit harmonize --help`` for each option."""

    methods: tuple[str, ...] = ("sbmd",)
    sbmd_set: str | None = None
    pairwise_set: str | None = None
    statuses: frozenset[str] = DEFAULT_STATUSES
    via_sbmd: bool = False
    tscore_population: str | None = None
    tscore_sex: str = "patient"  # "patient", "female" or "male"
    allow_unknown_scale: bool = False
    center_hint: str | None = None
    drift: DriftSettings = field(default_factory=DriftSettings)

    def __post_init__(self) -> None:
        for m in self.methods:
            if m in ("sbmd", "site"):
                continue
            if m.startswith("to-vendor:"):
                known = [v.value for v in Vendor if v is not Vendor.UNKNOWN]
                if m.split(":", 1)[1] not in known:
                    raise ConfigError(f"unknown vendor in {m!r}; use one of {known}")
                continue
            raise ConfigError(f"unknown method {m!r}: use sbmd, to-vendor:NAME or site")
        if self.tscore_sex not in ("patient", "female", "male"):
            raise ConfigError("tscore_sex must be patient, female or male")

    @property
    def target_vendors(self) -> list[Vendor]:
        return [Vendor(m.split(":", 1)[1]) for m in self.methods if m.startswith("to-vendor:")]


def _sex(exam: Exam, mode: str) -> str | None:
    if mode != "patient":
        return mode
    raw = (exam.patient.sex if exam.patient else None) or ""
    return key_of("sex", raw)  # F/女/female..., words in reference_data/vocabulary.csv


class _Row:
    """Collects one row's columns, notes and flag codes."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.data = dict(base)
        self.notes: list[str] = []
        self.flags: list[str] = []

    def put(self, column: str, h: Harmonized, what: str, has_bmd: bool) -> None:
        self.data[column] = "" if h.value is None else round(h.value, 4)
        self.data[f"{column}_equation_set"] = h.equation_set
        if h.note:
            self.notes.append(f"{what}: {h.note}")
        if not h.ok and has_bmd:
            self.notes.append(f"{what}: {h.reason}")
            self.flag(FlagCode.NO_EQUATION)

    def flag(self, code: FlagCode) -> None:
        if code.value not in self.flags:
            self.flags.append(code.value)

    def finish(self) -> dict[str, Any]:
        self.data["harmonize_flags"] = ";".join(self.flags)
        self.data["harmonize_notes"] = " | ".join(dict.fromkeys(self.notes))
        return self.data


def harmonize_exam(
    exam: Exam, settings: HarmonizeSettings, config: SiteConfig | None = None,
    qc: dict[str, ScannerQC] | None = None,
) -> list[dict[str, Any]]:
    """The harmonized rows of one exam (none if it has no region results)."""
    match = match_scanner(exam, config, settings.center_hint) if config is not None else ScannerMatch(None)
    vendor = exam.vendor
    vendor_note = ""
    if vendor is Vendor.UNKNOWN and match.scanner is not None:
        vendor = match.scanner.vendor
        vendor_note = f"vendor taken from the site configuration (scanner {match.scanner.id})"
    sqc = (qc or {}).get(match.scanner.id) if match.scanner is not None else None
    base = {
        "path": exam.source.path, "sha256": exam.source.sha256, "status": exam.status.value,
        "exam_date": exam.exam_date.isoformat() if exam.exam_date else "",
        "vendor": exam.vendor.value, "scanner_model": exam.scanner_model or "",
        "scanner_serial": exam.scanner_serial or "",
        "center_id": match.scanner.center_id if match.scanner else "",
        "scanner_id": match.scanner.id if match.scanner else "",
        "scanner_match": match.how if match.ok else ("" if config is None else "unmatched"),
    }
    rows = []
    for r in exam.regions:
        row = _Row({
            **base, "region": r.region.value, "side": r.side.value if r.side else "", "label": r.label or "",
            "vertebrae": "+".join(v.value for v in r.vertebrae) if r.vertebrae else "",
            "method": r.method.value, "bmd": "" if r.bmd is None else r.bmd,
            "t_score": "" if r.t_score is None else r.t_score, "reference": r.reference or "",
            "confidence": "" if r.confidence is None else r.confidence,
        })
        if match.scanner is not None:
            prec = match.scanner.precision_pct.get(r.region.value)
            row.data["site_precision_pct"] = "" if prec is None else prec
        if vendor_note:
            row.notes.append(vendor_note)
        if config is not None and not match.ok:
            row.flag(FlagCode.SCANNER_UNMATCHED)
            row.notes.append(f"scanner: {match.reason}")
        _fill(row, exam, r, vendor, settings, match, sqc, qc is not None)
        rows.append(row.finish())
    return rows


def _fill(
    row: _Row, exam: Exam, r: RegionResult, vendor: Vendor, st: HarmonizeSettings,
    match: ScannerMatch, sqc: ScannerQC | None, qc_given: bool,
) -> None:
    has_bmd = r.bmd is not None
    converted: dict[str, float] = {}
    for m in st.methods:
        if m == "sbmd":
            h = to_sbmd(r.bmd, vendor, r, st.sbmd_set, st.statuses, exam.scanner_model)
            row.put("sbmd_mg_cm2", h, "sbmd", has_bmd)
        elif m.startswith("to-vendor:"):
            target = Vendor(m.split(":", 1)[1])
            h = to_vendor(r.bmd, vendor, target, r, st.pairwise_set, st.statuses, st.via_sbmd, st.sbmd_set,
                          exam.scanner_model)
            row.put(f"bmd_as_{target.value}", h, m, has_bmd)
            if h.value is not None:
                converted[target.value] = h.value
        elif m == "site":
            row.put("bmd_site_calibrated", _site(r, exam, match, sqc), "site", has_bmd)
            period = sqc.period_for(exam.exam_date) if sqc else None
            f = period.factor if period else None
            row.data["calibration_factor"] = "" if f is None else round(f.factor, 5)
            row.data["calibration_se"] = "" if f is None else round(f.se, 5)
    if qc_given:
        _drift(row, exam, sqc)
    if st.tscore_population:
        _tscore(row, exam, r, vendor, converted, st)


def _site(r: RegionResult, exam: Exam, match: ScannerMatch, sqc: ScannerQC | None) -> Harmonized:
    if r.bmd is None:
        return Harmonized.refused("no BMD", "g/cm2")
    if not r.region.is_spine:
        return Harmonized.refused("phantom calibration applies to spine BMD only", "g/cm2")
    if match.scanner is None:
        return Harmonized.refused("scanner not matched: no calibration factor", "g/cm2")
    period = sqc.period_for(exam.exam_date) if sqc is not None else None
    if period is None or period.factor is None:
        why = "exam undated and the scanner has several service periods" if (
            sqc is not None and exam.exam_date is None) else "no phantom calibration"
        return Harmonized.refused(f"{why} for scanner {match.scanner.id}", "g/cm2")
    f = period.factor
    since = f" since {period.start}" if period.start else ""
    return Harmonized(value=r.bmd * f.factor, unit="g/cm2", equation_set=f.label + since, source="phantom CSV")


def _drift(row: _Row, exam: Exam, sqc: ScannerQC | None) -> None:
    onset = sqc.onset if sqc is not None else None
    row.data["drift_flag"] = ""
    row.data["drift_onset"] = ""
    row.data["drift_rule"] = ""
    if sqc is None or not sqc.judged:
        row.notes.append("drift: no phantom series long enough to judge this scanner")
        return
    if exam.exam_date is None:
        if onset is not None:
            row.notes.append(f"drift: scanner drifted from {onset[0]}; exam undated")
            row.flag(FlagCode.AFTER_DRIFT)
        return
    period = sqc.period_for(exam.exam_date)
    if period is None or not period.drift:
        row.notes.append("drift: no phantom series long enough for the service period of this exam")
        return
    hit = sqc.drifted_on(exam.exam_date)
    row.data["drift_flag"] = "true" if hit else "false"
    if hit:
        row.data["drift_onset"] = hit[0].isoformat()
        row.data["drift_rule"] = hit[1]
        row.flag(FlagCode.AFTER_DRIFT)
        row.notes.append(f"drift: scanner phantom series drifted from {hit[0]} ({hit[1]})")
    elif period.onset is not None:
        row.data["drift_onset"] = period.onset[0].isoformat()
        row.data["drift_rule"] = period.onset[1]


def _tscore(
    row: _Row, exam: Exam, r: RegionResult, vendor: Vendor, converted: dict[str, float],
    st: HarmonizeSettings,
) -> None:
    assert st.tscore_population is not None
    sex = _sex(exam, st.tscore_sex)
    h = recompute_t(r.bmd, vendor.value, r, st.tscore_population, sex, st.allow_unknown_scale)
    source_col = "bmd"
    if not h.ok:
        for scale, value in converted.items():
            h2 = recompute_t(value, scale, r, st.tscore_population, sex, st.allow_unknown_scale)
            if h2.ok:
                h, source_col = h2, f"bmd_as_{scale}"
                break
    row.data["t_score_recomputed"] = "" if h.value is None else h.value
    row.data["t_score_recomputed_reference"] = h.equation_set
    row.data["t_score_recomputed_from"] = source_col if h.ok else ""
    if h.note:
        row.notes.append(f"t-score: {h.note}")
    if not h.ok and r.bmd is not None:
        row.notes.append(f"t-score: {h.reason}")


def harmonize_exams(
    exams: Iterable[Exam], settings: HarmonizeSettings, config: SiteConfig | None = None,
    phantoms: list[PhantomSeries] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, ScannerQC]]:
    """All rows for ``exams`` and the per-scanner QC used for them."""
    if "site" in settings.methods and (config is None or phantoms is None):
        raise ConfigError("method 'site' needs a site configuration and a phantom CSV")
    qc = scanner_qc(phantoms, config, settings.drift) if (phantoms is not None and config is not None) else None
    rows: list[dict[str, Any]] = []
    for exam in exams:
        rows.extend(harmonize_exam(exam, settings, config, qc))
    return rows, qc or {}


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """Column order: the originals first, then harmonized columns in first-seen order, notes last."""
    seen = list(BASE_COLUMNS)
    for row in rows:
        for k in row:
            if k not in seen and k not in ("harmonize_flags", "harmonize_notes"):
                seen.append(k)
    return seen + ["harmonize_flags", "harmonize_notes"]
