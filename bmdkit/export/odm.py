"""CDISC ODM 1.3.2: metadata, admin data and clinical data in one file.

Element order follows ODM1-3-2-foundation.xsd as summarised in
``shared/domain/edc.md``. Each value carries an ``AuditRecord`` (user
"bmdkit export", the site's location, the export time, and the source
file's SHA-256 in ``SourceID``), its ``MeasurementUnitRef`` and an
``Annotation`` naming the method, confidence and reader. bmdkit's version
is ``ODM/@SourceSystemVersion``.

The XSD does not check that OIDs resolve or that values fit their
``DataType``; :func:`check_document` does both and runs on every export.
:func:`validate_xsd` validates against the XSD shipped in odmlib (local
files only, no network).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from bmdkit import __version__
from bmdkit.errors import ExportError
from bmdkit.export.edc import ReviewItem, Value, field_name, measures, select_values, sites
from bmdkit.privacy import SubjectExam

NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_NS = "http://www.w3.org/XML/1998/namespace"
STUDY_OID = "ST.BMDKIT"
MDV_OID = "MDV.BMDKIT.1"
FORM_OID = "F.DXA"
IG_OID = "IG.DXA"
USER_OID = "USR.BMDKIT"
_UNITS = {"g/cm2": "MU.G_CM2", "g": "MU.G", "cm2": "MU.CM2"}
_ADMIN_ITEMS: tuple[tuple[str, str, str, None], ...] = (
    ("IT.DXA_DATE", "dxa_date", "date", None), ("IT.DXA_STATUS", "dxa_status", "text", None),
    ("IT.DXA_FLAGS", "dxa_flags", "text", None))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, _q(tag), {k: v for k, v in attrs.items()})


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = _sub(parent, tag)
    tt = _sub(el, "TranslatedText", **{f"{{{XML_NS}}}lang": "en"})
    tt.text = text
    return el


def oid_part(text: str) -> str:
    """An OID fragment from free text: ASCII letters, digits, '_', '-', '.'; else a short hash."""
    clean = re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    if clean.strip("_") and clean == text:
        return clean
    return (clean.strip("_")[:24] + "_" if clean.strip("_") else "") + hashlib.sha256(text.encode()).hexdigest()[:8]


def item_oid(name: str) -> str:
    return "IT." + name.upper()


def build(subject_exams: Iterable[SubjectExam], *, study_name: str = "DXA",
          now: dt.datetime | None = None,
          events: list[tuple[str, str]] | None = None) -> tuple[ET.ElementTree, list[ReviewItem]]:
    """The ODM document and the values held back for review.

    ``events`` lists ``(visit, event)`` in protocol order; by default the
    visits present in ``subject_exams``.
    """
    sxs = sorted(subject_exams, key=lambda s: (s.subject_id, s.visit))
    stamp = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    if events is None:
        events = list(dict.fromkeys((s.visit, s.event) for s in sxs))
    ET.register_namespace("", NS)
    root = ET.Element(_q("ODM"), {
        "FileType": "Snapshot", "FileOID": f"BMDKIT.{stamp}", "CreationDateTime": stamp,
        "ODMVersion": "1.3.2", "SourceSystem": "bmdkit", "SourceSystemVersion": __version__,
    })
    _study(root, study_name, events)
    _admin_data(root, sorted({s.center for s in sxs}), stamp)
    review = _clinical_data(root, sxs, stamp)
    tree = ET.ElementTree(root)
    check_document(tree)
    return tree, review


def _study(root: ET.Element, study_name: str, events: list[tuple[str, str]]) -> None:
    """``Study``: global variables, measurement units and the metadata version."""
    study = _sub(root, "Study", OID=STUDY_OID)
    gv = _sub(study, "GlobalVariables")
    _sub(gv, "StudyName").text = study_name
    _sub(gv, "StudyDescription").text = "DXA results extracted by bmdkit"
    _sub(gv, "ProtocolName").text = study_name
    bd = _sub(study, "BasicDefinitions")
    for unit, oid in _UNITS.items():
        mu = _sub(bd, "MeasurementUnit", OID=oid, Name=unit)
        _text(mu, "Symbol", unit)
    mdv = _sub(study, "MetaDataVersion", OID=MDV_OID, Name="bmdkit DXA results")
    proto = _sub(mdv, "Protocol")
    for n, (visit, _) in enumerate(events, start=1):
        _sub(proto, "StudyEventRef", StudyEventOID=f"SE.{oid_part(visit).upper()}", OrderNumber=str(n), Mandatory="No")
    for visit, event in events:
        se = _sub(mdv, "StudyEventDef", OID=f"SE.{oid_part(visit).upper()}", Name=visit, Repeating="No", Type="Scheduled")
        _sub(se, "FormRef", FormOID=FORM_OID, Mandatory="No")
    fd = _sub(mdv, "FormDef", OID=FORM_OID, Name="DXA", Repeating="No")
    _sub(fd, "ItemGroupRef", ItemGroupOID=IG_OID, Mandatory="No")
    _items(mdv)


#: an item definition: OID, name, DataType, significant digits, unit OID, description
_ItemDef = tuple[str, str, str, int | None, str | None, str]


def _item_defs() -> list[_ItemDef]:
    """The admin items, then one float item per site and measure."""
    defs: list[_ItemDef] = [(oid, name, dtype, None, None, name) for oid, name, dtype, _ in _ADMIN_ITEMS]
    for s in sites():
        for m in measures():
            name = field_name(s, m)
            defs.append((item_oid(name), name, "float", m.decimals, _UNITS.get(m.unit), f"{s.label}: {m.label}"))
    return defs


def _items(mdv: ET.Element) -> None:
    """The item group and its ``ItemDef`` elements."""
    ig = _sub(mdv, "ItemGroupDef", OID=IG_OID, Name="DXA results", Repeating="No", Domain="MK")
    defs = _item_defs()
    for n, d in enumerate(defs, start=1):
        _sub(ig, "ItemRef", ItemOID=d[0], OrderNumber=str(n), Mandatory="No")
    for oid, name, dtype, digits, mu_oid, label in defs:
        attrs: dict[str, str] = {"OID": oid, "Name": name, "DataType": dtype}
        if dtype == "float":
            attrs["Length"] = "8"
            attrs["SignificantDigits"] = str(digits)
        elif dtype == "text":
            attrs["Length"] = "2000"
        idef = _sub(mdv, "ItemDef", **attrs)
        _text(idef, "Description", label)
        if mu_oid:
            _sub(idef, "MeasurementUnitRef", MeasurementUnitOID=mu_oid)


def _admin_data(root: ET.Element, centers: list[str], stamp: str) -> None:
    """``AdminData``: the exporting user and one location per site."""
    admin = _sub(root, "AdminData", StudyOID=STUDY_OID)
    user = _sub(admin, "User", OID=USER_OID, UserType="Other")
    _sub(user, "FullName").text = "bmdkit export"
    for c in centers:
        loc = _sub(admin, "Location", OID=f"LOC.{oid_part(c)}", Name=c, LocationType="Site")
        _sub(loc, "MetaDataVersionRef", StudyOID=STUDY_OID, MetaDataVersionOID=MDV_OID,
             EffectiveDate=stamp[:10])


def _clinical_data(root: ET.Element, sxs: list[SubjectExam], stamp: str) -> list[ReviewItem]:
    """``ClinicalData``: one study event per subject exam; returns the values held back for review."""
    clinical = _sub(root, "ClinicalData", StudyOID=STUDY_OID, MetaDataVersionOID=MDV_OID)
    review: list[ReviewItem] = []
    subjects: dict[str, ET.Element] = {}
    for sx in sxs:
        values, held = select_values(sx)
        review.extend(held)
        loc_oid = f"LOC.{oid_part(sx.center)}"
        if sx.subject_id not in subjects:
            subjects[sx.subject_id] = _sub(clinical, "SubjectData", SubjectKey=sx.subject_id)
            _sub(subjects[sx.subject_id], "SiteRef", LocationOID=loc_oid)
        subj = subjects[sx.subject_id]
        sed = _sub(subj, "StudyEventData", StudyEventOID=f"SE.{oid_part(sx.visit).upper()}")
        igd = _sub(_sub(sed, "FormData", FormOID=FORM_OID), "ItemGroupData", ItemGroupOID=IG_OID)
        _admin_values(igd, sx, loc_oid, stamp)
        _result_values(igd, sx, values, loc_oid, stamp)
    return review


def _admin_values(igd: ET.Element, sx: SubjectExam, loc_oid: str, stamp: str) -> None:
    """The exam date, status and flag codes of one exam, where it has them."""
    source_ids = " ".join(f"sha256:{sha}" for _, sha in sx.sources)
    admin_values = (
        ("IT.DXA_DATE", sx.exam_date.isoformat() if sx.exam_date else ""),
        ("IT.DXA_STATUS", sx.status),
        ("IT.DXA_FLAGS", ";".join(sorted({f.code.value for f, _ in sx.flags}))),
    )
    for oid, text in admin_values:
        if text:
            it = _sub(igd, "ItemData", ItemOID=oid, Value=text)
            _audit(it, loc_oid, stamp, source_ids)


def _result_values(igd: ET.Element, sx: SubjectExam, values: list[Value], loc_oid: str,
                   stamp: str) -> None:
    """One ``ItemData`` per exported value, with its audit record, unit and method annotation."""
    for v in values:
        it = _sub(igd, "ItemData", ItemOID=item_oid(v.field), Value=v.text)
        _audit(it, loc_oid, stamp, f"sha256:{v.sha256}")
        unit_oid = _UNITS.get(v.measure.unit)
        if unit_oid:
            _sub(it, "MeasurementUnitRef", MeasurementUnitOID=unit_oid)
        ann = _sub(it, "Annotation", SeqNum="1")
        conf = "" if v.confidence is None else f"; confidence={v.confidence:.3f}"
        # no file path here: site folder names may carry patient names
        _sub(ann, "Comment").text = f"method={v.method}{conf}; reader={sx.reader or ''}"


def _audit(item: ET.Element, loc_oid: str, stamp: str, source_id: str) -> None:
    ar = _sub(item, "AuditRecord")
    _sub(ar, "UserRef", UserOID=USER_OID)
    _sub(ar, "LocationRef", LocationOID=loc_oid)
    _sub(ar, "DateTimeStamp").text = stamp
    _sub(ar, "SourceID").text = source_id


_DEFINERS = {
    "StudyEventOID": "StudyEventDef", "FormOID": "FormDef", "ItemGroupOID": "ItemGroupDef",
    "ItemOID": "ItemDef", "MeasurementUnitOID": "MeasurementUnit", "UserOID": "User",
    "LocationOID": "Location", "StudyOID": "Study", "MetaDataVersionOID": "MetaDataVersion",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _root(tree: ET.ElementTree) -> ET.Element:
    root = tree.getroot()
    if root is None:
        raise ExportError("empty ODM document")
    return root


def check_document(tree: ET.ElementTree) -> None:
    """Raise :class:`ExportError` on an undefined OID reference or a value that misfits its DataType."""
    root = _root(tree)
    defined: dict[str, set[str]] = {tag: set() for tag in _DEFINERS.values()}
    dtypes: dict[str, str] = {}
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag in defined and "OID" in el.attrib:
            if el.attrib["OID"] in defined[tag]:
                raise ExportError(f"OID {el.attrib['OID']} defined twice")
            defined[tag].add(el.attrib["OID"])
        if tag == "ItemDef":
            dtypes[el.attrib["OID"]] = el.attrib["DataType"]
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        for attr, definer in _DEFINERS.items():
            if attr in el.attrib and el.attrib[attr] not in defined[definer]:
                raise ExportError(f"{tag}/@{attr}={el.attrib[attr]} refers to no {definer}")
        if tag == "ItemData":
            _check_value(el.attrib["Value"], dtypes[el.attrib["ItemOID"]], el.attrib["ItemOID"])


def _check_value(value: str, dtype: str, oid: str) -> None:
    ok = True
    if dtype in ("float", "double"):
        try:
            float(value)
        except ValueError:
            ok = False
    elif dtype == "integer":
        ok = re.fullmatch(r"[+-]?\d+", value) is not None
    elif dtype == "date":
        ok = bool(_DATE.match(value))
        if ok:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                ok = False
    if not ok:
        raise ExportError(f"value {value!r} of {oid} is not a valid {dtype}")


def to_bytes(tree: ET.ElementTree) -> bytes:
    ET.indent(tree)
    return ET.tostring(_root(tree), encoding="utf-8", xml_declaration=True)


def validate_xsd(path: str | Path) -> list[str]:
    """Errors against the ODM 1.3.2 XSD shipped in odmlib (empty list = valid)."""
    import xmlschema
    from odmlib.schema_manager import get_schema_path

    schema = xmlschema.XMLSchema(str(get_schema_path("odm", "1.3.2")), allow="local")
    return [str(e.reason or e) for e in schema.iter_errors(str(path))]
