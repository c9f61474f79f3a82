"""Recomputed T-scores: named reference, scale and region checks, refusals."""

from __future__ import annotations

from bmdkit import reference
from bmdkit.harmonize.tscore import populations, recompute_t
from bmdkit.model import Method, Region, RegionResult, Side


def _row(pop: str, sex: str, region: str) -> dict:
    return next(r for r in reference.table("reference_populations")
                if r["population"] == pop and r["sex"] == sex and r["region"] == region)


def test_nhanes_total_hip_from_table() -> None:
    ref = _row("NHANES III", "female", "total_hip")
    r = RegionResult(Region.TOTAL_HIP, Method.DICOM_PRIVATE, side=Side.LEFT, bmd=0.700)
    h = recompute_t(0.700, "hologic", r, "NHANES III", "female")
    assert h.value == round((0.700 - float(ref["mean"])) / float(ref["sd"]), 1)
    assert "NHANES III" in h.equation_set and "hologic" in h.equation_set and "Looker" in h.source


def test_scale_must_match() -> None:
    r = RegionResult(Region.FEMORAL_NECK, Method.OCR, side=Side.RIGHT, bmd=0.7)
    h = recompute_t(0.7, "ge_lunar", r, "NHANES III", "female")
    assert not h.ok and "hologic scale" in h.reason


def test_unknown_scale_needs_consent_and_is_labelled() -> None:
    r = RegionResult(Region.SPINE_TOTAL, Method.OCR, bmd=0.9, label="L1-L4")
    assert not recompute_t(0.9, "ge_lunar", r, "China multicenter women", "female").ok
    h = recompute_t(0.9, "ge_lunar", r, "China multicenter women", "female", allow_unknown_scale=True)
    assert h.ok and "not stated" in h.note and "China multicenter women" in h.equation_set


def test_spine_subset_and_vertebra_refused() -> None:
    r = RegionResult(Region.SPINE_TOTAL, Method.OCR, bmd=0.9, label="L2-L4",
                     vertebrae=(Region.L2, Region.L3, Region.L4))
    h = recompute_t(0.9, "ge_lunar", r, "China multicenter women", "female", allow_unknown_scale=True)
    assert not h.ok and "L2-L4" in h.reason
    v = RegionResult(Region.L2, Method.OCR, bmd=0.9)
    assert not recompute_t(0.9, "hologic", v, "NHANES III", "female").ok


def test_missing_sex_or_row_refused() -> None:
    r = RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.LEFT, bmd=0.9)
    assert not recompute_t(0.9, "hologic", r, "NHANES III", None).ok
    h = recompute_t(0.9, "hologic", r, "NHANES III", "male")  # men's NHANES values not verified: not in table
    assert not h.ok and "no 'NHANES III' reference" in h.reason
    assert "NHANES III" in populations()
