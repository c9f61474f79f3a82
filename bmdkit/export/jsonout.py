"""The exam as contract JSON (``bmdkit/contract/exam.schema.json``) and back.

What ``bmdkit check --format json`` prints and each line of a batch's
``results.jsonl`` holds. Fields in the contract keep their names and
meaning; bmdkit adds only optional fields (``scanner_serial``,
``scanner_software``, ``institution``, ``extra_regions``, ``sources`` per
region, ``software.reader``, ``side``, ``measure`` and ``measures`` on a
flag that names them, ``source.input_form`` for a text report). Hip
subregions outside the contract's region enum go to ``extra_regions`` so
that ``regions`` always validates.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bmdkit import __version__
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import (
    Exam,
    Flag,
    InputKind,
    Location,
    Method,
    PatientIdentity,
    Region,
    RegionResult,
    ScanType,
    Side,
    Source,
    ValueSource,
    Vendor,
)

SOFTWARE_NAME = "bmdkit"


def software_info(reader: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"name": SOFTWARE_NAME, "version": __version__}
    if reader:
        info["reader"] = reader
    return info


def _location(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    out: dict[str, Any] = {}
    if loc.element is not None:
        out["element"] = loc.element
    if loc.page is not None:
        out["page"] = loc.page
    if loc.box is not None:
        out["box"] = list(loc.box)
    if loc.detail is not None:
        out["detail"] = loc.detail
    return out


def _location_back(d: dict[str, Any] | None) -> Location | None:
    if not d:
        return None
    box = d.get("box")
    return Location(
        element=d.get("element"),
        page=d.get("page"),
        box=tuple(box) if box is not None else None,  # type: ignore[arg-type]
        detail=d.get("detail"),
    )


def region_to_dict(r: RegionResult) -> dict[str, Any]:
    d: dict[str, Any] = {
        "region": r.region.value,
        "side": r.side.value if r.side else None,
        "bmd": r.bmd,
        "bmc": r.bmc,
        "area": r.area,
        "t_score": r.t_score,
        "z_score": r.z_score,
        "evaluable": r.evaluable,
        "method": r.method.value,
        "confidence": r.confidence,
        "label": r.label,
        "vertebrae": [v.value for v in r.vertebrae] if r.vertebrae is not None else None,
        "reference": r.reference,
        "location": _location(r.location),
    }
    if r.sources:
        d["sources"] = {
            m: {
                "confidence": s.confidence,
                "location": _location(s.location),
                "raw_text": s.raw_text,
                "engines": list(s.engines),
            }
            for m, s in r.sources.items()
        }
    return d


def region_from_dict(d: dict[str, Any]) -> RegionResult:
    verts = d.get("vertebrae")
    return RegionResult(
        region=Region(d["region"]),
        side=Side(d["side"]) if d.get("side") else None,
        bmd=d.get("bmd"),
        bmc=d.get("bmc"),
        area=d.get("area"),
        t_score=d.get("t_score"),
        z_score=d.get("z_score"),
        evaluable=d.get("evaluable"),
        method=Method(d["method"]),
        confidence=d.get("confidence"),
        label=d.get("label"),
        vertebrae=tuple(Region(v) for v in verts) if verts is not None else None,
        reference=d.get("reference"),
        location=_location_back(d.get("location")),
        sources={
            m: ValueSource(
                confidence=s.get("confidence"),
                location=_location_back(s.get("location")),
                raw_text=s.get("raw_text"),
                engines=tuple(s.get("engines") or ()),
            )
            for m, s in (d.get("sources") or {}).items()
        },
    )


def _patient(p: PatientIdentity | None) -> dict[str, Any] | None:
    if p is None or p.is_empty():
        return None
    out: dict[str, Any] = {
        "name": p.name,
        "id": p.patient_id,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "sex": p.sex,
    }
    if p.other:
        out["other"] = dict(p.other)
    return out


def _patient_back(d: dict[str, Any] | None) -> PatientIdentity | None:
    if not d:
        return None
    bd = d.get("birth_date")
    return PatientIdentity(
        name=d.get("name"),
        patient_id=d.get("id"),
        birth_date=dt.date.fromisoformat(bd) if bd else None,
        sex=d.get("sex"),
        other=dict(d.get("other") or {}),
    )


def flag_to_dict(f: Flag) -> dict[str, Any]:
    """A flag as contract JSON; ``side``, ``measure`` and ``measures`` (optional fields) only where the flag names them."""
    d: dict[str, Any] = {"code": f.code.value, "message": f.message, "region": f.region, "severity": f.level.value}
    if f.side is not None:
        d["side"] = f.side.value
    if f.measure is not None:
        d["measure"] = f.measure
    if f.measures:
        d["measures"] = list(f.measures)
    return d


def flag_from_dict(f: dict[str, Any]) -> Flag:
    """A contract flag object back into a :class:`Flag`."""
    return Flag(FlagCode(f["code"]), f["message"], f.get("region"),
                Severity(f["severity"]) if f.get("severity") else None,
                side=Side(f["side"]) if f.get("side") else None, measure=f.get("measure") or None,
                measures=tuple(f.get("measures") or ()))


def in_contract_order(exam: Exam) -> Exam:
    """``exam`` with its regions in the order its contract object lists them (``regions``, then
    ``extra_regions``): the order an exam read back from its JSON has."""
    ordered = (*(r for r in exam.regions if r.region.in_contract),
               *(r for r in exam.regions if not r.region.in_contract))
    return exam if ordered == exam.regions else exam.replace(regions=ordered)


def exam_to_dict(exam: Exam, include_patient: bool = True) -> dict[str, Any]:
    """The contract object for one exam.

    ``include_patient=False`` drops identifiers (``patient`` becomes null) for
    outputs that must not carry them.
    """
    regions = [r for r in exam.regions if r.region.in_contract]
    extra = [r for r in exam.regions if not r.region.in_contract]
    out: dict[str, Any] = {
        "source": {
            "path": exam.source.path,
            "sha256": exam.source.sha256,
            "kind": exam.source.kind.value,
        },
        "status": exam.status.value,
        "outcome": exam.outcome.value,
        "vendor": exam.vendor.value,
        "scanner_model": exam.scanner_model,
        "scanner_serial": exam.scanner_serial,
        "scanner_software": exam.scanner_software,
        "institution": exam.institution,
        "exam_date": exam.exam_date.isoformat() if exam.exam_date else None,
        "study_instance_uid": exam.study_instance_uid,
        "scan_types": [s.value for s in exam.scan_types],
        "patient": _patient(exam.patient) if include_patient else None,
        "regions": [region_to_dict(r) for r in regions],
        "extra_regions": [region_to_dict(r) for r in extra],
        "flags": [flag_to_dict(f) for f in exam.flags],
        "software": software_info(exam.reader),
    }
    if exam.source.size is not None:
        out["source"]["size"] = exam.source.size
    if exam.source.input_form is not None:
        out["source"]["input_form"] = exam.source.input_form
    return out


def exam_from_dict(d: dict[str, Any]) -> Exam:
    """Rebuild an exam from its contract object (e.g. a results.jsonl line)."""
    src = d["source"]
    date = d.get("exam_date")
    return Exam(
        source=Source(
            path=src["path"], sha256=src["sha256"], kind=InputKind(src["kind"]), size=src.get("size"),
            input_form=src.get("input_form"),
        ),
        vendor=Vendor(d.get("vendor") or "unknown"),
        scanner_model=d.get("scanner_model"),
        scanner_serial=d.get("scanner_serial"),
        scanner_software=d.get("scanner_software"),
        institution=d.get("institution"),
        exam_date=dt.date.fromisoformat(date) if date else None,
        study_instance_uid=d.get("study_instance_uid"),
        scan_types=tuple(ScanType(s) for s in d.get("scan_types") or ()),
        patient=_patient_back(d.get("patient")),
        regions=tuple(region_from_dict(r) for r in [*d.get("regions", []), *d.get("extra_regions", [])]),
        flags=tuple(flag_from_dict(f) for f in d.get("flags", [])),
        reader=(d.get("software") or {}).get("reader"),
    )


def dumps(exam: Exam, include_patient: bool = True, indent: int | None = None) -> str:
    """Contract JSON text; stable key order so the same input gives the same bytes."""
    return json.dumps(exam_to_dict(exam, include_patient), ensure_ascii=False, indent=indent)
