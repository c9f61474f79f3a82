"""FHIR R4 export: validated with fhir.resources (R4B models, wire-identical for these resources) and own checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from test_export_common import build_assembly

from bmdkit import reference
from bmdkit.export import fhir

import fhir.resources.R4B.bundle as R4B  # noqa: E402  - a test extra

UCUM_BY_MEASURE = {"g/cm2", "g", "cm2", "1"}


def test_bundle_validates_and_follows_the_rules(tmp_path: Path) -> None:
    result, _, _, _ = build_assembly(tmp_path)
    bundle, review = fhir.build(result.subjects, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    R4B.Bundle.model_validate(bundle)
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport
    from fhir.resources.R4B.observation import Observation

    urls = {e["fullUrl"] for e in bundle["entry"]}
    verified = {(r["code"]) for r in reference.table("loinc_codes") if r["verified"] == "yes"}
    reports = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    obs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert len(reports) == 9 and len(obs) > 300
    for r in reports:
        DiagnosticReport.model_validate(r)
        assert r["code"]["coding"][0]["code"] == "83311-1"
        assert all(x["reference"] in urls for x in r["result"])
    for o in obs:
        Observation.model_validate(o)
        q = o["valueQuantity"]
        assert q["system"] == "http://unitsofmeasure.org" and q["code"] in UCUM_BY_MEASURE
        assert q["code"] != "g/cm-2"
        assert o["subject"]["reference"] in urls
        for c in o["code"].get("coding", []):
            assert c["code"] in verified
    # single vertebrae, BMC and area have no LOINC code: text only
    l2 = [o for o in obs if "L2 vertebra" in o["code"]["text"]]
    assert l2 and all("coding" not in o["code"] for o in l2)
    bmc = [o for o in obs if "BMC" in o["code"]["text"]]
    assert bmc and all("coding" not in o["code"] for o in bmc)
    neck_left_t = [o for o in obs if "Femoral neck, left T-score" in o["code"]["text"]]
    assert neck_left_t and all(o["code"]["coding"][0]["code"] == "80948-3" for o in neck_left_t)
    assert all(o["valueQuantity"]["unit"] == "T-Score" for o in neck_left_t)
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert sorted(p["identifier"][0]["value"] for p in patients) == ["S001", "S002", "S003"]
    assert review  # the flagged neck value is held back
