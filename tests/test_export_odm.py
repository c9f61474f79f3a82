"""CDISC ODM 1.3.2 export: XSD validation (odmlib's schemas, local only) and our own OID/type checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import defusedxml.ElementTree as DET
import pytest
from test_export_common import build_assembly

from bmdkit.errors import ExportError
from bmdkit.export import odm

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
N = "{http://www.cdisc.org/ns/odm/v1.3}"


@pytest.fixture(scope="module")
def odm_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("odm")
    result, _, _, _ = build_assembly(tmp)
    tree, review = odm.build(result.subjects, now=NOW)
    path = tmp / "x.xml"
    path.write_bytes(odm.to_bytes(tree))
    return path, (result, review)


def test_validates_against_odm_132_xsd(odm_file) -> None:
    path, _ = odm_file
    assert odm.validate_xsd(path) == []


def test_audit_records_carry_source_sha256_and_units(odm_file) -> None:
    path, (result, review) = odm_file
    root = DET.parse(path).getroot()
    assert root.get("ODMVersion") == "1.3.2" and root.get("SourceSystem") == "bmdkit"
    shas = {sha for sx in result.subjects for _, sha in sx.sources}
    items = root.findall(f".//{N}ItemData")
    assert len(items) > 300
    for it in items:
        ar = it.find(f"{N}AuditRecord")
        assert [c.tag.replace(N, "") for c in ar] == ["UserRef", "LocationRef", "DateTimeStamp", "SourceID"]
        assert all(s.removeprefix("sha256:") in shas for s in ar.find(f"{N}SourceID").text.split())
    bmd = [it for it in items if it.get("ItemOID").endswith("_BMD")]
    assert bmd and all(it.find(f"{N}MeasurementUnitRef").get("MeasurementUnitOID") == "MU.G_CM2" for it in bmd)
    assert all(len(it.get("Value").split(".")[1]) == 3 for it in bmd)
    held = {(h.subject_id, h.field) for h in review}
    assert held  # the flagged value is not in the file
    for subj in root.findall(f".//{N}SubjectData"):
        oids = {i.get("ItemOID") for i in subj.iter(f"{N}ItemData")}
        for s, f in held:
            if s == subj.get("SubjectKey"):
                assert len(subj.findall(f".//{N}ItemData[@ItemOID='IT.{f.upper()}']")) < 3 or "IT." + f.upper() not in oids


def test_own_checks_catch_what_the_xsd_does_not(tmp_path: Path) -> None:
    result, _, _, _ = build_assembly(tmp_path)
    tree, _ = odm.build(result.subjects, now=NOW)
    item = next(tree.getroot().iter(f"{N}ItemData"))
    item.set("ItemOID", "IT.NOT_DEFINED")
    with pytest.raises(ExportError, match="refers to no ItemDef"):
        odm.check_document(tree)
    tree, _ = odm.build(result.subjects, now=NOW)
    bmd = next(i for i in tree.getroot().iter(f"{N}ItemData") if i.get("ItemOID").endswith("_BMD"))
    bmd.set("Value", "abc")
    with pytest.raises(ExportError, match="not a valid float"):
        odm.check_document(tree)
    # and the XSD itself still rejects a wrong AuditRecord order
    tree, _ = odm.build(result.subjects, now=NOW)
    ar = next(tree.getroot().iter(f"{N}AuditRecord"))
    first = ar[0]
    ar.remove(first)
    ar.append(first)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(odm.to_bytes(tree))
    assert odm.validate_xsd(bad)
