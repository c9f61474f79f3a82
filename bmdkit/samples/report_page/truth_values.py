"""Figures a page prints that follow from the truth exam (reference means, %, main region).

Reference means and SDs come from :mod:`bmdkit.samples.truth` (itself backed
by ``reference_data``), so a page's percentages agree with its scores.
"""

from __future__ import annotations

from bmdkit.samples.truth import TruthExam


def _ref(pop: str, region: str) -> tuple[float, float] | None:
    from bmdkit.samples.truth import _ref as truth_ref

    try:
        return truth_ref(pop, region)
    except KeyError:
        return None


def _ref_region(region: str) -> str | None:
    if region in ("L1", "L2", "L3", "L4", "L1-L4"):
        return "L1-L4"
    return region if region in ("femoral_neck", "total_hip") else None


def _percents(truth: TruthExam, region: str, bmd: float | None) -> tuple[int | None, int | None]:
    """(% of young-adult mean, % of age-matched mean) as vendors print beside T and Z."""
    from bmdkit.samples.truth import _z_shift

    rr = _ref_region(region)
    ref = _ref(truth.reference, rr) if rr else None
    if ref is None or bmd is None:
        return None, None
    mean = ref[0]
    return round(100 * bmd / mean), round(100 * bmd / (mean * (1 - _z_shift(truth.patient.age))))


def _name_en(truth: TruthExam) -> str:
    fam, _, given = truth.patient.name_pinyin.partition("^")
    return f"{fam}, {given}"


def _main_ts(truth: TruthExam) -> list[float | None]:
    return [r.t_score for r in truth.contract_regions() if r.region in ("L1-L4", "femoral_neck", "total_hip")]


def _main_region(truth: TruthExam) -> tuple[str, float | None]:
    want = "L1-L4" if truth.scan_type == "spine" else "total_hip"
    for r in truth.regions:
        if r.region == want and r.side in (None, "mean", "left", "right"):
            best = r
            if r.side in (None, "mean"):
                return want, r.bmd
    return want, best.bmd
