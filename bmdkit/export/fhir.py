"""HL7 FHIR R4: a collection Bundle with, per subject visit, a DiagnosticReport and its Observations.

Built as plain R4 JSON (no FHIR library at run time). Rules, from
``shared/domain/edc.md``:

- ``DiagnosticReport.code`` LOINC 83311-1, category LOINC LP29684-5, status
  ``final``, ``result`` referencing one Observation per site and measure;
- ``Observation.category`` imaging; ``code`` LOINC from
  ``reference_data/loinc_codes.csv`` where a verified code exists. There is
  no LOINC code for single vertebrae, BMC or area: those Observations carry
  ``code.text`` only (no coding), as the table says;
- ``valueQuantity`` in UCUM: ``g/cm2``, ``g``, ``cm2`` and ``1`` for T/Z
  (unit text ``T-Score``/``Z-Score``), system http://unitsofmeasure.org;
- ``bodySite`` SNOMED CT where verified (lumbar spine, femoral neck, total
  hip); side travels in the sided LOINC code;
- the Patient is the trial pseudonym only (an identifier with the subject
  ID), never a hospital ID or name;
- provenance: ``method.text`` and a ``note`` with the file's SHA-256,
  method and confidence.

Resources are referenced by deterministic ``urn:uuid`` full URLs.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable
from typing import Any

from bmdkit import reference
from bmdkit.export.edc import ReviewItem, Value, select_values
from bmdkit.privacy import SubjectExam

UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SUBJECT_SYSTEM = "urn:bmdkit:trial-subject-id"
_NAMESPACE = uuid.UUID("6f1e3c2a-9d57-4b8e-a1f0-5b0d2c7e8a41")
_UNIT_TEXT = {"t_score": "T-Score", "z_score": "Z-Score"}


@functools.lru_cache(maxsize=1)
def _codes() -> tuple[dict[str, str], ...]:
    return tuple(reference.table("loinc_codes"))


def _coding(kind: str, **match: str) -> dict[str, str] | None:
    for r in _codes():
        if r["kind"] == kind and r["verified"] == "yes" and all(r[k] == v for k, v in match.items()):
            return {"system": r["system"], "code": r["code"], "display": r["display"]}
    return None


def observation_code(v: Value) -> dict[str, Any]:
    side = v.site.side.value if v.site.side else ""
    coding = _coding("observation", region=v.site.region.value, side=side, measure=v.measure.attr)
    text = f"DXA {v.site.label} {v.measure.label}"
    return {"coding": [coding], "text": text} if coding else {"text": text}


def _urn(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '|'.join(parts))}"


def _quantity(v: Value) -> dict[str, Any]:
    unit = v.measure.unit
    return {
        "value": float(v.text),
        "unit": _UNIT_TEXT.get(v.measure.attr, unit),
        "system": UCUM,
        "code": unit,
    }


def observation(v: Value, sx: SubjectExam, patient_ref: str) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "imaging", "display": "Imaging"}]}],
        "code": observation_code(v),
        "subject": {"reference": patient_ref},
        "valueQuantity": _quantity(v),
        "method": {"text": f"bmdkit {v.method}"},
        "note": [{"text": f"source sha256:{v.sha256}; method={v.method}"
                          + ("" if v.confidence is None else f"; confidence={v.confidence:.3f}")}],
    }
    if sx.exam_date:
        obs["effectiveDateTime"] = sx.exam_date.isoformat()
    site = _coding("bodysite", region=v.site.region.value)
    if site:
        obs["bodySite"] = {"coding": [site]}
    return obs


def build(subject_exams: Iterable[SubjectExam], now: dt.datetime | None = None) -> tuple[dict[str, Any], list[ReviewItem]]:
    """A FHIR R4 Bundle (type collection) and the values held back for review."""
    stamp = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    entries: list[dict[str, Any]] = []
    review: list[ReviewItem] = []
    patients: set[str] = set()
    for sx in sorted(subject_exams, key=lambda s: (s.subject_id, s.visit)):
        values, held = select_values(sx)
        review.extend(held)
        pref = _urn("patient", sx.subject_id)
        if pref not in patients:
            patients.add(pref)
            entries.append({"fullUrl": pref, "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": SUBJECT_SYSTEM, "value": sx.subject_id}],
            }})
        obs_refs = []
        for v in values:
            ref = _urn("obs", sx.subject_id, sx.visit, v.field)
            obs_refs.append({"reference": ref})
            entries.append({"fullUrl": ref, "resource": observation(v, sx, pref)})
        report: dict[str, Any] = {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "category": [{"coding": [c for c in [_coding("category")] if c]}],
            "code": {"coding": [c for c in [_coding("report")] if c], "text": "DXA bone density"},
            "subject": {"reference": pref},
            "issued": stamp,
            "result": obs_refs,
            "conclusion": f"visit {sx.visit}; status {sx.status}; bmdkit values, {len(held)} held for review",
        }
        if sx.exam_date:
            report["effectiveDateTime"] = sx.exam_date.isoformat()
        if not obs_refs:
            del report["result"]
        entries.append({"fullUrl": _urn("report", sx.subject_id, sx.visit), "resource": report})
    return {"resourceType": "Bundle", "type": "collection", "timestamp": stamp, "entry": entries}, review
