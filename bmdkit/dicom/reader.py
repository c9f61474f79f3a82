"""``read_dicom``: everything one DICOM file says about a DXA exam.

Order of work:

1. parse the header without pixels, deferring large values (pydicom);
2. refuse what is not DXA (CT, MR, mammography ...) with the reason;
3. find results wherever they are: the SR content tree, a report script or
   XML in any element of any VR (found by content), and compare sources that
   hold the same value;
4. report pages (Secondary Capture of a report, encapsulated PDF) are handed
   on as a :class:`~bmdkit.payload.PagePayload` for the report reader;
5. a DXA file without results keeps its metadata and ends with a
   ``no_results`` flag that says what the site should send instead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException, InvalidDicomError

from bmdkit.dicom import meta, pages, script, sr, words, xmlres
from bmdkit.dicom.base import iter_text_elements, private_creators, text
from bmdkit.dicom.collect import Collector
from bmdkit.dicom.compare import disagreement_flags
from bmdkit.errors import NotDXA, ResourceLimit, UnreadableInput
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Region, RegionResult, ScanType, Side, Source, Vendor
from bmdkit.options import ReadOptions
from bmdkit.payload import PagePayload

READER_NAME = "bmdkit.dicom"
#: Values above this size are not loaded when the header is parsed (read on demand).
_DEFER_BYTES = 64 * 1024


@dataclass(frozen=True)
class DicomReading:
    """What a DICOM file gave: an exam (or None), why no results, and report pages to OCR."""

    exam: Exam | None
    no_results_reason: str | None = None
    payload: PagePayload | None = None


#: what pydicom raises when an element's bytes are damaged (bad VR, bad length, bad value)
_DAMAGE = (NotImplementedError, ValueError, KeyError, TypeError, IndexError, OverflowError,
           UnicodeError, EOFError, struct.error, BytesLengthException, InvalidDicomError,
           AttributeError, RecursionError)


def _parse(path: Path, shown: str) -> Dataset:
    try:
        ds = dcmread(path, defer_size=_DEFER_BYTES, force=True)
    except (*_DAMAGE, OSError) as exc:
        raise UnreadableInput(f"not a readable DICOM file ({type(exc).__name__}: {str(exc)[:120]})",
                              shown) from None
    try:
        keys = list(ds.keys())
        for tag in keys:  # force conversion now so damage shows here, not later
            ds.get_item(tag)
    except Exception as exc:  # noqa: BLE001
        raise UnreadableInput(f"DICOM header is damaged ({type(exc).__name__})", shown) from None
    if not any(t.group >= 0x0008 for t in keys):
        raise UnreadableInput("no DICOM data elements could be read (truncated or not DICOM)", shown)
    _check_not_truncated(path, ds, shown)
    return ds


def _check_not_truncated(path: Path, ds: Dataset, shown: str) -> None:
    """A file cut inside an element: its declared value length runs past the end of the file."""
    size = path.stat().st_size
    for tag in ds.keys():  # noqa: SIM118 - iterating a Dataset converts every element
        elem = ds.get_item(tag)
        start = getattr(elem, "value_tell", None)
        length = getattr(elem, "length", None)
        if start is not None and length not in (None, 0xFFFFFFFF) and start + length > size:
            raise UnreadableInput(f"file is truncated: element {tag} needs {length} bytes past "
                                  f"offset {start}, the file has {size}", shown)
    pixels = ds.get_item(0x7FE00010) if 0x7FE00010 in ds else None
    tell = getattr(pixels, "file_tell", None) or getattr(pixels, "value_tell", None)
    if pixels is not None and tell is not None and not getattr(pixels, "is_undefined_length", True):
        try:
            need = (int(ds.get("Rows") or 0) * int(ds.get("Columns") or 0)
                    * int(ds.get("SamplesPerPixel") or 1) * ((int(ds.get("BitsAllocated") or 8) + 7) // 8)
                    * int(ds.get("NumberOfFrames") or 1))
        except _DAMAGE:  # a damaged image attribute: reported where it is read, not here
            need = 0
        if need and tell + need > size:
            raise UnreadableInput(f"file is truncated: the pixel data needs {need} bytes from offset "
                                  f"{tell}, the file has {size}", shown)


def read_dicom(path: Path, source: Source, options: ReadOptions) -> DicomReading:
    """Read one DICOM file; raises UnreadableInput / NotDXA / ResourceLimit for unusable files."""
    shown = source.path
    ds = _parse(Path(path), shown)
    try:
        return _read(path, ds, source, options)
    except _DAMAGE as exc:
        raise UnreadableInput(f"a DICOM element is damaged ({type(exc).__name__}: {str(exc)[:120]})",
                              shown) from None


def _read(path: Path, ds: Dataset, source: Source, options: ReadOptions) -> DicomReading:
    shown = source.path
    modality = (text(ds, "Modality") or "").upper()
    if modality in meta.NON_DXA_MODALITIES:
        raise NotDXA(f"Modality {modality} is not bone densitometry "
                     f"({text(ds, 'SeriesDescription') or text(ds, 'StudyDescription') or 'no description'})",
                     shown)
    ctx = meta.scan_context(ds)
    flags: list[Flag] = []
    collectors: list[Collector] = []
    has_script = False
    if sr.is_sr(ds):
        collectors.append(sr.read_sr(ds, ctx))
    skipped: list[str] = []
    for el in iter_text_elements(ds, options.max_xml_bytes, skipped=skipped):
        if "ContentSequence" in el.path:
            continue
        body = el.text
        if script.looks_like_script(body):
            has_script = True
            collectors.append(script.read_script(body, el.path, ctx))
        elif xmlres.looks_like_xml(body):
            try:
                root = xmlres.parse(body, options.max_xml_bytes, options.max_xml_depth)
            except (xmlres.XmlRejected, ResourceLimit) as exc:
                reason = exc.reason if isinstance(exc, ResourceLimit) else str(exc)
                flags.append(Flag(FlagCode.UNPLACED_DATA,
                                  f"XML in {el.path} was not read: {reason}"))
                continue
            col = xmlres.read_xml(root, el.path, ctx)
            if col or col.unplaced:
                collectors.append(col)
            elif _numbers_in(root):
                flags.append(Flag(FlagCode.UNPLACED_DATA,
                                  f"XML in {el.path} holds numbers whose meaning could not be placed"))
    regions, found_flags = _combine(collectors)
    flags.extend(found_flags)
    evidence = meta.dxa_evidence(ds)
    if evidence is None and not regions and not (
            pages.is_encapsulated_pdf(ds) and modality in ("DOC", "OT", "")):
        raise NotDXA("valid DICOM with nothing that marks it as bone densitometry "
                         f"(Modality {modality or 'absent'}, "
                         f"manufacturer {text(ds, 'Manufacturer') or 'absent'})", shown)
    payload = None
    if pages.is_encapsulated_pdf(ds):
        payload = pages.pdf_payload(ds, shown)
    elif not sr.is_sr(ds) and pages.looks_like_report_page(ds, has_script):
        payload = pages.image_payload(Path(path), ds, options)
    vendor = meta.vendor(ds)
    if vendor is Vendor.UNKNOWN:
        flags.append(Flag(FlagCode.UNKNOWN_VENDOR, "Manufacturer does not name a known DXA vendor"))
    exam = Exam(
        source=source,
        vendor=vendor,
        scanner_model=text(ds, "ManufacturerModelName"),
        scanner_serial=text(ds, "DeviceSerialNumber"),
        scanner_software=text(ds, "SoftwareVersions"),
        institution=text(ds, "InstitutionName"),
        exam_date=meta.date_of(ds),
        study_instance_uid=text(ds, "StudyInstanceUID"),
        scan_types=_scan_types(regions, ctx),
        patient=meta.patient(ds),
        regions=tuple(regions),
        flags=tuple(flags),
        reader=READER_NAME + "".join(f"+{c.what.replace(' ', '-')}" for c in collectors if c),
    )
    if regions or payload is not None:
        return DicomReading(exam=exam, payload=payload)
    reason = _no_results_reason(ds, ctx, vendor, collectors, skipped)
    return DicomReading(exam=exam.with_flags([Flag(FlagCode.NO_RESULTS, reason)]),
                        no_results_reason=reason)


def _numbers_in(root: object) -> bool:
    from bmdkit.dicom.base import parse_number
    for node in root.iter():  # type: ignore[attr-defined]
        if parse_number((node.text or "").strip()) is not None:
            return True
        if any(parse_number(v) is not None for v in node.attrib.values()):
            return True
    return False


def _combine(collectors: list[Collector]) -> tuple[list[RegionResult], list[Flag]]:
    """Results of the first source that has any; the others are compared with it."""
    kept: dict[tuple[Region, Side | None], RegionResult] = {}
    kept_from: dict[tuple[Region, Side | None], str] = {}
    flags: list[Flag] = []
    for col in collectors:
        results, col_flags = col.results()
        flags.extend(col_flags)
        for r in results:
            if r.key in kept:
                flags.extend(disagreement_flags(kept[r.key], r, f"{kept_from[r.key]} and {col.what}"))
            else:
                kept[r.key] = r
                kept_from[r.key] = col.what
    seen: set[tuple[object, str | None]] = set()
    unique = []
    for f in flags:  # two identical sources give identical exclusion flags once
        k = (f.code, f.region if f.code is FlagCode.VERTEBRA_EXCLUDED else f.message)
        if k not in seen:
            seen.add(k)
            unique.append(f)
    return list(kept.values()), unique


def _scan_types(regions: list[RegionResult], ctx: words.Meaning) -> tuple[ScanType, ...]:
    found: list[ScanType] = []
    if any(r.region.is_spine for r in regions):
        found.append(ScanType.SPINE)
    sides = {r.side for r in regions if r.region.is_hip}
    if Side.LEFT in sides and Side.RIGHT in sides:
        found.append(ScanType.HIP_DUAL)
    elif Side.LEFT in sides:
        found.append(ScanType.HIP_LEFT)
    elif Side.RIGHT in sides:
        found.append(ScanType.HIP_RIGHT)
    return tuple(found) or meta.scan_types(ctx)


def _no_results_reason(ds: Dataset, ctx: words.Meaning, vendor: Vendor,
                       collectors: list[Collector], skipped: list[str]) -> str:
    what = ", ".join(s.value for s in meta.scan_types(ctx)) or "scan type not stated"
    model = text(ds, "ManufacturerModelName") or "model not stated"
    creators = private_creators(ds)
    ask = "ask the site for the report page (PDF or DICOM) or the scanner's SR export"
    if sr.is_sr(ds):
        base = "a structured report with no bone density results that could be placed"
    elif any("LUNAR_RAW" in c.upper() for c in creators.values()):
        base = (f"a GE Lunar file ({model}, {what}) whose only data is an embedded enCORE raw "
                "file (GEMS_LUNAR_RAW), a proprietary format bmdkit cannot read")
    elif any(k in ds for k in [(g << 16) | 0x1002 for g, c in creators.items() if "HOLOGIC" in c.upper()]):
        base = (f"a Hologic archive object ({model}, {what}) whose data is embedded raw scan "
                "files (.P/.R), a proprietary format bmdkit cannot read")
    else:
        base = f"a DXA scan image ({vendor.value}, {model}, {what}) with no numeric results"
    if skipped:
        base += f"; {len(skipped)} private element(s) over the size cap were not read ({', '.join(skipped[:3])})"
    return f"{base}: {ask}"
