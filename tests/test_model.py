from __future__ import annotations

import pytest

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import (
    Exam, Flag, InputKind, Location, Method, PatientIdentity, Region, RegionResult, Side, Source, Status,
)

SHA = "a" * 64


def _src() -> Source:
    return Source("x.dcm", SHA, InputKind.DICOM)


def test_side_on_vertebra_is_rejected() -> None:
    with pytest.raises(ValueError):
        RegionResult(Region.L1, Method.OCR, side=Side.LEFT)


def test_vertebrae_only_on_spine_total_and_sorted() -> None:
    with pytest.raises(ValueError):
        RegionResult(Region.FEMORAL_NECK, Method.OCR, vertebrae=(Region.L1,))
    r = RegionResult(Region.SPINE_TOTAL, Method.OCR, vertebrae=(Region.L4, Region.L2, Region.L3))
    assert r.vertebrae == (Region.L2, Region.L3, Region.L4)


def test_confidence_bounds_and_box_order() -> None:
    with pytest.raises(ValueError):
        RegionResult(Region.L1, Method.OCR, confidence=1.2)
    with pytest.raises(ValueError):
        Location(page=1, box=(10, 10, 5, 20))
    with pytest.raises(ValueError):
        Location(page=0)


def test_bad_sha_rejected() -> None:
    with pytest.raises(ValueError):
        Source("x", "XYZ", InputKind.PDF)


def test_status_is_derived() -> None:
    r = RegionResult(Region.L1, Method.DICOM_SR, bmd=0.9, t_score=-1.0)
    assert Exam(_src(), regions=(r,)).status is Status.EXTRACTED
    flagged = Exam(_src(), regions=(r,), flags=(Flag(FlagCode.LOW_CONFIDENCE, "x", "L1"),))
    assert flagged.status is Status.FLAGGED
    info = Exam(_src(), regions=(r,), flags=(Flag(FlagCode.VERTEBRA_EXCLUDED, "x", "L1"),))
    assert info.status is Status.EXTRACTED
    assert Exam(_src()).status is Status.FAILED
    err = Exam(_src(), regions=(r,), flags=(Flag(FlagCode.UNREADABLE, "x"),))
    assert err.status is Status.FAILED


def test_duplicate_region_from_same_method_rejected() -> None:
    r = RegionResult(Region.L1, Method.OCR, bmd=0.9)
    with pytest.raises(ValueError):
        Exam(_src(), regions=(r, r))


def test_region_lookup_prefers_read_values() -> None:
    read = RegionResult(Region.SPINE_TOTAL, Method.OCR, bmd=0.9)
    comp = RegionResult(Region.SPINE_TOTAL, Method.COMPUTED, bmd=0.95)
    ex = Exam(_src(), regions=(comp, read))
    assert ex.region(Region.SPINE_TOTAL) is read
    assert ex.region(Region.SPINE_TOTAL, method=Method.COMPUTED) is comp


def test_patient_identity_never_prints() -> None:
    p = PatientIdentity(name="张三", patient_id="H123")
    assert "张三" not in repr(p) and "H123" not in str(p)
    ex = Exam(_src(), patient=p)
    assert "张三" not in repr(ex)


def test_every_flag_code_has_meaning_and_severity() -> None:
    for code in FlagCode:
        assert code.meaning.endswith(".")
        assert isinstance(code.severity, Severity)
    assert len({c.value for c in FlagCode}) == len(FlagCode)
