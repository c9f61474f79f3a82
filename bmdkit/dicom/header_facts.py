"""Exam metadata from standard attributes: vendor, scanner, date, scan type, patient.

Tolerant by design (vendor_dicom.md §0, §2, §4): Manufacturer is spelled many
ways, Modality may be BMD/OT/CR/DX/SR/DOC, and the scan type may sit only in
ProtocolName, BodyPartExamined, Laterality or a localised description.
"""

from __future__ import annotations

import datetime as dt

from pydicom.dataset import Dataset

from bmdkit.dicom import words
from bmdkit.dicom.base import memo, private_creators, text
from bmdkit.model import PatientIdentity, ScanType, Side, Vendor

#: Modalities that are never a DXA exam or report (DICOM CID 29 terms).
NON_DXA_MODALITIES = frozenset({
    "CT", "MR", "PT", "NM", "US", "MG", "XA", "RF", "ES", "IO", "PX", "OP", "OPT", "IVUS",
    "ECG", "EPS", "HD", "RTIMAGE", "RTDOSE", "RTSTRUCT", "RTPLAN", "SEG", "BDUS", "XC", "GM", "SM",
})
#: Modalities a DXA file may carry (vendor_dicom.md §0, §3).
DXA_MODALITIES = frozenset({"BMD"})

_DESCRIPTIVE = ("ProtocolName", "BodyPartExamined", "SeriesDescription", "StudyDescription",
                "PerformedProcedureStepDescription", "ImageComments", "DocumentTitle",
                "ImageType")


def vendor(ds: Dataset) -> Vendor:
    """Vendor from Manufacturer, then model name, then private creators."""
    for source in (text(ds, "Manufacturer"), text(ds, "ManufacturerModelName")):
        if source:
            v = words.first(source, "vendor") or words.first(source, "dxa_model")
            if v:
                return Vendor(v)
    for creator in private_creators(ds).values():
        v = words.first(creator.replace("_", " "), "vendor")
        if v:
            return Vendor(v)
    return Vendor.UNKNOWN


def description_text(ds: Dataset) -> str:
    """The descriptive attributes joined, for word search."""
    return memo(ds, "description", lambda: _description_text(ds))


def _description_text(ds: Dataset) -> str:
    parts = [text(ds, k) or "" for k in _DESCRIPTIVE]
    return " | ".join(p for p in parts if p)


def dxa_evidence(ds: Dataset) -> str | None:
    """Why this file looks like DXA (a short phrase), or None."""
    modality = (text(ds, "Modality") or "").upper()
    if modality in DXA_MODALITIES:
        return f"Modality {modality}"
    model = text(ds, "ManufacturerModelName") or ""
    if words.first(model, "dxa_model"):
        return f"scanner model {model!r}"
    desc = description_text(ds)
    if words.first(desc, "dxa"):
        return "DXA words in the descriptions"
    manu = text(ds, "Manufacturer") or ""
    if words.first(manu, "vendor") in ("hologic", "norland"):
        return f"manufacturer {manu!r}"
    for creator in private_creators(ds).values():
        if "LUNAR" in creator.upper():
            return f"private creator {creator!r}"
    ctx = words.meaning(desc)
    if ctx.context in ("spine", "hip", "dual") and (modality in ("OT", "CR", "DX", "") or
                                                    words.first(manu, "vendor")):
        return "a DXA scan site in the descriptions"
    return None


def scan_context(ds: Dataset) -> words.Meaning:
    """Scan site and side the file's descriptive attributes give (Laterality included)."""
    m = words.meaning(description_text(ds))
    lat = (text(ds, "Laterality") or text(ds, "ImageLaterality") or "").upper()
    side = {"L": Side.LEFT, "R": Side.RIGHT}.get(lat)
    if lat == "B":
        m = words.Meaning(context="dual").merged_under(m)
    if side is not None and m.side is None:
        m = words.Meaning(side=side).merged_under(m)
    return words.Meaning(context=m.context, side=m.side)


def scan_types(ctx: words.Meaning) -> tuple[ScanType, ...]:
    """Scan types named by the descriptive attributes."""
    if ctx.context == "spine":
        return (ScanType.SPINE,)
    if ctx.context == "dual":
        return (ScanType.HIP_DUAL,)
    if ctx.context == "hip":
        if ctx.side is Side.LEFT:
            return (ScanType.HIP_LEFT,)
        if ctx.side is Side.RIGHT:
            return (ScanType.HIP_RIGHT,)
        return (ScanType.OTHER,)
    if ctx.context == "whole_body":
        return (ScanType.WHOLE_BODY,)
    if ctx.context == "forearm":
        return (ScanType.FOREARM,)
    if ctx.context in ("lateral", "other"):
        return (ScanType.OTHER,)
    return ()


def date_of(ds: Dataset) -> dt.date | None:
    """StudyDate, else AcquisitionDate, ContentDate, SeriesDate."""
    for key in ("StudyDate", "AcquisitionDate", "ContentDate", "SeriesDate"):
        d = parse_da(text(ds, key))
        if d is not None:
            return d
    return None


def parse_da(value: str | None) -> dt.date | None:
    """A DICOM DA (YYYYMMDD; tolerates YYYY.MM.DD and YYYY-MM-DD) or None."""
    if not value:
        return None
    digits = "".join(ch for ch in value.strip()[:10] if ch.isdigit())
    if len(digits) != 8:
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def patient(ds: Dataset) -> PatientIdentity | None:
    """Name, ID, birth date and sex decoded in the file's character set (with fallbacks)."""
    name = text(ds, "PatientName")
    if name:
        name = name.strip("^= ")
    pid = text(ds, "PatientID")
    birth = parse_da(text(ds, "PatientBirthDate"))
    sex = (text(ds, "PatientSex") or "").upper()[:1] or None
    ident = PatientIdentity(name=name or None, patient_id=pid, birth_date=birth, sex=sex)
    return None if ident.is_empty() else ident
