"""Trial eligibility from DXA: inclusion 5 and 6 of NCT07063797 (shared/domain/trial.md).

Inclusion 6: at least ``min_evaluable_vertebrae`` (2) evaluable vertebrae in
L1-L4, as decided by :mod:`.evaluability`.

Inclusion 5, any of: (5.1) a hip or vertebral fragility fracture; (5.2) another
fragility fracture and a T-score < -1.0; (5.3) a T-score < -2.0 — at femoral
neck, total hip (either side or the mean) or "any of L1-L4". That phrase is
read per ``settings.spine_setting``: ``each_vertebra`` (default, the
protocol's literal reading: any single evaluable vertebra) or
``spine_total`` (the total over the evaluable vertebrae). T-scores are
compared as printed (one decimal) and strictly: -2.0 does not meet "< -2.0".

Three-valued throughout: where fracture history is missing, or a site has no
usable T-score and the answer could still turn on it, the answer is
``undetermined``, never ``not met``. The site and value that met a
threshold are reported, and a value from an exam that needs review says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bmdkit.checks import apply_all, spine
from bmdkit.checks.evaluability import evaluable_levels, is_own_total, unread_levels
from bmdkit.checks.settings import CheckSettings, default_settings
from bmdkit.checks.trial_inputs import (
    FractureHistory,
    LoadReport,
    baseline_exams,
    group_by_subject,
    load_fractures,
    load_trial_exams,
    subjects_file,
)
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Exam, Method, Region, Status

MET, NOT_MET, UNDETERMINED = "met", "not met", "undetermined"
ELIGIBLE, NOT_ELIGIBLE = "eligible", "not eligible"

SITE_GROUPS = ("femoral_neck", "total_hip", "L1-L4")


@dataclass(frozen=True)
class SiteScore:
    """One T-score that can count for inclusion 5."""

    group: str  # femoral_neck, total_hip or L1-L4
    site: str  # region as shown: femoral_neck (left), L2, L1-L4 (L2-L4)
    t_score: float
    exam_sha256: str
    review: tuple[str, ...] = ()  # review flag codes on this value or its exam

    def describe(self) -> str:
        extra = f" [needs review: {', '.join(self.review)}]" if self.review else ""
        return f"{self.site} T {self.t_score:.1f} (file {self.exam_sha256[:12]}){extra}"


@dataclass
class EligibilityResult:
    """The answer for one subject, with the reasons behind each part."""

    subject_id: str
    outcome: str
    inclusion_5: str
    inclusion_6: str
    criterion: str | None = None  # 5.1, 5.2 or 5.3
    qualifying: SiteScore | None = None
    evaluable_vertebrae: tuple[str, ...] | None = None
    spine_setting: str = "each_vertebra"
    reasons: list[str] = field(default_factory=list)
    review: bool = False


def _review_codes(exam: Exam, region: str | None) -> tuple[str, ...]:
    codes = [f.code.value for f in exam.flags
             if f.level is Severity.REVIEW and (f.region is None or f.region == region)]
    return tuple(dict.fromkeys(codes))


def _spine_unusable(exam: Exam) -> bool:
    return any(f.code is FlagCode.TOO_FEW_VERTEBRAE for f in exam.flags)


def _spine_total_score(exam: Exam) -> tuple[str, float, str] | None:
    """(site, T, region) of the total over the evaluable vertebrae, if it has a T-score."""
    levels = evaluable_levels(exam)
    own = next((r for r in exam.regions if r.region is Region.SPINE_TOTAL and is_own_total(r)), None)
    printed = spine.printed_total(exam)
    if own is not None:
        return (f"L1-L4 ({own.label}, computed)", own.t_score, own.region.value) if own.t_score is not None else None
    if printed is None or printed.t_score is None:
        return None
    cover = spine.total_coverage(printed)
    if levels is not None and cover is not None and cover != levels:
        return None  # printed total covers vertebrae that are not evaluable
    return (f"L1-L4 ({printed.label or 'printed'})", printed.t_score, printed.region.value)


def site_scores(exams: Sequence[Exam], s: CheckSettings) -> list[SiteScore]:
    """Every T-score that can count for inclusion 5 under ``s.spine_setting``."""
    out: list[SiteScore] = []
    for e in exams:
        if e.status is Status.FAILED:
            continue
        for r in e.regions:
            if r.method is Method.COMPUTED or r.t_score is None or not math.isfinite(r.t_score):
                continue
            if r.region in (Region.FEMORAL_NECK, Region.TOTAL_HIP):
                site = r.region.value + (f" ({r.side.value})" if r.side else "")
                out.append(SiteScore(r.region.value, site, r.t_score, e.source.sha256,
                                     _review_codes(e, r.region.value)))
            elif (r.region.is_vertebra and s.spine_setting == "each_vertebra" and r.evaluable is True
                  and not _spine_unusable(e)):
                out.append(SiteScore("L1-L4", r.region.value, r.t_score, e.source.sha256,
                                     _review_codes(e, r.region.value)))
        if s.spine_setting == "spine_total" and not _spine_unusable(e):
            hit = _spine_total_score(e)
            if hit is not None and math.isfinite(hit[1]):
                out.append(SiteScore("L1-L4", hit[0], hit[1], e.source.sha256, _review_codes(e, hit[2])))
    return out


def _inclusion_6(exams: Sequence[Exam], s: CheckSettings, res: EligibilityResult) -> str:
    spine_exams = [e for e in exams if e.status is not Status.FAILED
                   and any(r.region.is_spine for r in e.regions)]
    if not spine_exams:
        res.reasons.append("inclusion 6 undetermined: no usable spine exam")
        return UNDETERMINED
    counted = [(lv, e) for e in spine_exams if (lv := evaluable_levels(e)) is not None]
    if not counted:
        res.reasons.append("inclusion 6 undetermined: spine total only, no per-vertebra values to check")
        return UNDETERMINED
    levels, exam = max(counted, key=lambda c: len(c[0]))
    if len({len(c[0]) for c in counted}) > 1:
        res.reasons.append("spine exams disagree on the number of evaluable vertebrae; the largest is used")
        res.review = True
    res.evaluable_vertebrae = tuple(v.value for v in levels)
    unread = unread_levels(exam)
    if unread:
        res.reasons.append(f"{', '.join(v.value for v in unread)} counted from the printed total's label "
                           "(row not read, unchecked)")
        res.review = True
    names = ",".join(res.evaluable_vertebrae) or "none"
    if len(levels) >= s.min_evaluable_vertebrae:
        res.reasons.append(f"inclusion 6 met: {len(levels)} evaluable vertebrae ({names})")
        if _review_codes(exam, None) or any(_review_codes(exam, v.value) for v in levels):
            res.review = True
        return MET
    res.reasons.append(f"inclusion 6 not met: {len(levels)} evaluable vertebra(e) ({names}), "
                       f"fewer than {s.min_evaluable_vertebrae}")
    return NOT_MET


def _below(s: CheckSettings, t: float, threshold: float) -> bool:
    return s.tenths(t) < s.tenths(threshold)


def _inclusion_5(exams: Sequence[Exam], fx: FractureHistory | None, s: CheckSettings,
                 res: EligibilityResult) -> str:
    scores = site_scores(exams, s)
    lowest = min(scores, key=lambda c: s.tenths(c.t_score)) if scores else None
    missing = [g for g in SITE_GROUPS if not any(c.group == g for c in scores)]
    fx = fx or FractureHistory()
    if lowest is not None and _below(s, lowest.t_score, s.trial_t_threshold):
        res.criterion, res.qualifying = "5.3", lowest
        res.review = res.review or bool(lowest.review)
        res.reasons.append(f"inclusion 5.3 met: {lowest.describe()} < {s.trial_t_threshold:.1f} (as printed)")
        return MET
    if fx.hip_or_vertebral is True:
        res.criterion = "5.1"
        res.reasons.append("inclusion 5.1 met: hip or vertebral fragility fracture (fracture history)")
        return MET
    low_enough = lowest is not None and _below(s, lowest.t_score, s.trial_t_threshold_with_fracture)
    if fx.other is True and low_enough:
        assert lowest is not None
        res.criterion, res.qualifying = "5.2", lowest
        res.review = res.review or bool(lowest.review)
        res.reasons.append(f"inclusion 5.2 met: other fragility fracture and {lowest.describe()} "
                           f"< {s.trial_t_threshold_with_fracture:.1f}")
        return MET
    # not met so far: say why, and whether missing data could still change it
    shown = lowest.describe() if lowest else "no usable T-score"
    open_questions: list[str] = []
    if missing:
        open_questions.append(f"no usable T-score at {', '.join(missing)}")
    if fx.hip_or_vertebral is None:
        open_questions.append("hip/vertebral fracture history missing")
    if fx.other is None and (low_enough or missing):
        open_questions.append("other fragility fracture history missing")
    if open_questions:
        res.reasons.append(f"inclusion 5 undetermined: lowest {shown}; " + "; ".join(open_questions))
        return UNDETERMINED
    res.reasons.append(f"inclusion 5 not met: lowest {shown} not < {s.trial_t_threshold:.1f}; "
                       f"no hip/vertebral fracture"
                       + ("" if fx.other is False else f"; other fracture but T not < {s.trial_t_threshold_with_fracture:.1f}"))
    return NOT_MET


def assess_subject(subject_id: str, exams: Sequence[Exam], fractures: FractureHistory | None,
                   settings: CheckSettings | None = None) -> EligibilityResult:
    """Inclusion 5 and 6 for one subject's baseline exams (checked again, idempotently)."""
    s = settings or default_settings()
    checked = [apply_all(e, s) for e in exams]
    res = EligibilityResult(subject_id, UNDETERMINED, UNDETERMINED, UNDETERMINED, spine_setting=s.spine_setting)
    res.inclusion_6 = _inclusion_6(checked, s, res)
    res.inclusion_5 = _inclusion_5(checked, fractures, s, res)
    parts = (res.inclusion_5, res.inclusion_6)
    res.outcome = NOT_ELIGIBLE if NOT_MET in parts else ELIGIBLE if parts == (MET, MET) else UNDETERMINED
    return res


def assess_eligibility(exams_by_subject: Mapping[str, Sequence[Exam]],
                       fractures: Mapping[str, FractureHistory],
                       setting: str | None = None,
                       settings: CheckSettings | None = None) -> list[EligibilityResult]:
    """Eligibility per subject, sorted by subject ID.

    ``setting`` names how "any of L1-L4" is read (``each_vertebra`` or
    ``spine_total``) and overrides ``settings.spine_setting``. A subject
    missing from ``fractures`` has unknown fracture history.
    """
    s = settings or default_settings()
    if setting is not None:
        s = s.with_(spine_setting=setting)
    return [assess_subject(sid, exams_by_subject[sid], fractures.get(sid), s) for sid in sorted(exams_by_subject)]


CSV_COLUMNS: tuple[str, ...] = (
    "subject_id", "outcome", "inclusion_5", "criterion", "site", "t_score", "file_sha256",
    "inclusion_6", "evaluable_vertebrae", "spine_setting", "review", "reasons",
)


def result_row(r: EligibilityResult) -> dict[str, str]:
    """One CSV row per subject (no hospital identifiers: subject ID and file hash only)."""
    q = r.qualifying
    return {
        "subject_id": r.subject_id, "outcome": r.outcome, "inclusion_5": r.inclusion_5,
        "criterion": r.criterion or "", "site": q.site if q else "",
        "t_score": f"{q.t_score:.1f}" if q else "", "file_sha256": q.exam_sha256 if q else "",
        "inclusion_6": r.inclusion_6,
        "evaluable_vertebrae": ",".join(r.evaluable_vertebrae) if r.evaluable_vertebrae is not None else "",
        "spine_setting": r.spine_setting, "review": "yes" if r.review else "no",
        "reasons": " | ".join(r.reasons),
    }


def assess_files(results: str | Path, subjects_csv: str | Path | None, fractures_csv: str | Path | None,
                 setting: str | None = None, settings: CheckSettings | None = None
                 ) -> tuple[list[EligibilityResult], LoadReport]:
    """:func:`assess_eligibility` on a batch's results, the subject mapping and a fracture CSV.

    Each subject's baseline visit is used (see :func:`trial_inputs.baseline_exams`).
    Without ``fractures_csv`` every subject's fracture history is unknown.
    """
    report = LoadReport()
    grouped = group_by_subject(load_trial_exams(results, report), subjects_file(results, subjects_csv), report)
    baseline = {sid: baseline_exams(visits)[1] for sid, visits in grouped.items()}
    fractures = load_fractures(fractures_csv) if fractures_csv is not None else {}
    return assess_eligibility(baseline, fractures, setting, settings), report
