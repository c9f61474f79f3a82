"""Builders of constructed exams for the checks' tests (and a test that they are sound).

Two sources: hand-made vertebra tables for exact boundary cases, and
:class:`bmdkit.samples.truth.TruthGenerator` exams (internally consistent as a
scanner prints them) turned into :class:`Exam` objects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from bmdkit.model import (
    Exam,
    InputKind,
    Method,
    PatientIdentity,
    Region,
    RegionResult,
    ScanType,
    Side,
    Source,
    Vendor,
)
from bmdkit.samples.truth import TruthExam, TruthGenerator

_N = [0]


def source(tag: str | None = None) -> Source:
    _N[0] += 1
    tag = tag or f"exam-{_N[0]}"
    return Source(path=f"/data/{tag}.dcm", sha256=hashlib.sha256(tag.encode()).hexdigest(), kind=InputKind.DICOM)


def vertebra(level: str, bmd: float | None = None, t: float | None = None, bmc: float | None = None,
             area: float | None = None, evaluable: bool | None = None, reference: str | None = None) -> RegionResult:
    """A read vertebra; with only ``area`` and ``bmd``, BMC is derived as a scanner prints it."""
    if bmc is None and bmd is not None and area is not None:
        bmc = round(bmd * area, 2)
    return RegionResult(Region(level), Method.DICOM_PRIVATE, bmd=bmd, bmc=bmc, area=area, t_score=t,
                        evaluable=evaluable, reference=reference)


def total_of(rows: list[RegionResult], levels: tuple[str, ...] = ("L1", "L2", "L3", "L4"),
             t: float | None = None, reference: str | None = None) -> RegionResult:
    """The printed total over ``levels`` as a scanner computes it (ΣBMC/ΣArea, rounded)."""
    sel = [r for r in rows if r.region.value in levels]
    bmc = round(sum(r.bmc for r in sel), 2)  # type: ignore[misc]
    area = round(sum(r.area for r in sel), 2)  # type: ignore[misc]
    label = f"{levels[0]}-{levels[-1]}"
    return RegionResult(Region.SPINE_TOTAL, Method.DICOM_PRIVATE, bmd=round(bmc / area, 3), bmc=bmc, area=area,
                        t_score=t, label=label, reference=reference)


def spine_exam(specs: dict[str, tuple[float | None, float | None]] | None = None, *, areas: dict[str, float] | None = None,
               total_levels: tuple[str, ...] | None = ("L1", "L2", "L3", "L4"), total_t: float | None = None,
               excluded: tuple[str, ...] = (), tag: str | None = None, sex: str = "F",
               date: dt.date = dt.date(2026, 3, 1), vendor: Vendor = Vendor.HOLOGIC, **exam_kw: Any) -> Exam:
    """A spine exam from {level: (bmd, t)}; default areas grow L1->L4 as in real spines."""
    specs = specs or {"L1": (0.80, -2.1), "L2": (0.85, -1.8), "L3": (0.88, -1.5), "L4": (0.90, -1.4)}
    areas = areas or {"L1": 13.8, "L2": 15.0, "L3": 16.3, "L4": 17.9}
    rows = [vertebra(v, bmd, t, area=areas.get(v), evaluable=False if v in excluded else None)
            for v, (bmd, t) in specs.items()]
    regions = list(rows)
    if total_levels is not None:
        regions.append(total_of(rows, total_levels, total_t))
    return Exam(source=source(tag), vendor=vendor, exam_date=date, scan_types=(ScanType.SPINE,),
                patient=PatientIdentity(sex=sex, patient_id=exam_kw.pop("patient_id", None)),
                regions=tuple(regions), scanner_model=exam_kw.pop("scanner_model", "Horizon W"),
                scanner_serial=exam_kw.pop("scanner_serial", "123456"), **exam_kw)


def hip_exam(neck: dict[str, tuple[float, float, float | None]], total: dict[str, tuple[float, float, float | None]] | None = None,
             *, tag: str | None = None, date: dt.date = dt.date(2026, 3, 1), vendor: Vendor = Vendor.HOLOGIC,
             serial: str = "123456", **exam_kw: Any) -> Exam:
    """A hip exam from {side: (bmd, t, area)} for the neck and the total hip."""
    regions = []
    for region, vals in ((Region.FEMORAL_NECK, neck), (Region.TOTAL_HIP, total or {})):
        for side, (bmd, t, area) in vals.items():
            bmc = round(bmd * area, 2) if area else None
            regions.append(RegionResult(region, Method.DICOM_PRIVATE, side=Side(side), bmd=bmd, bmc=bmc,
                                        area=area, t_score=t))
    return Exam(source=source(tag), vendor=vendor, exam_date=date, scan_types=(ScanType.HIP_LEFT,),
                patient=PatientIdentity(sex="F"), regions=tuple(regions), scanner_serial=serial, **exam_kw)


def exam_from_truth(t: TruthExam) -> Exam:
    """The exam a perfect reader would produce from a generated truth."""
    regions = []
    for r in t.contract_regions():
        regions.append(RegionResult(
            Region(r.region), Method.DICOM_PRIVATE, side=Side(r.side) if r.side else None,
            bmd=r.bmd, bmc=r.bmc, area=r.area, t_score=r.t_score, z_score=r.z_score,
            evaluable=(False if r.evaluable is False else None) if r.region.startswith("L") and r.region != "L1-L4" else None,
            label=r.label, vertebrae=tuple(Region(v) for v in r.vertebrae) if r.vertebrae else None,
            reference=r.reference,
        ))
    return Exam(source=source(t.sample_id), vendor=Vendor(t.vendor), scanner_model=t.scanner_model,
                scanner_serial=t.scanner_serial, exam_date=dt.date.fromisoformat(t.exam_date),
                scan_types=(ScanType(t.scan_type),), patient=PatientIdentity(sex=t.patient.sex),
                regions=tuple(regions))


def test_truth_exams_build() -> None:
    g = TruthGenerator(7)
    ex = exam_from_truth(g.exam(scan_type="spine", exclude=["L1"]))
    assert ex.region(Region.L1).evaluable is False
    assert ex.region(Region.SPINE_TOTAL).vertebrae == (Region.L2, Region.L3, Region.L4)
