"""``read_dicom``: everything one DICOM file says about a DXA exam.

Order of work:

1. parse the header without pixels, deferring large values (pydicom);
2. refuse what is not DXA (CT, MR, mammography ...) with the reason;
3. find results wherever they are: the SR content tree, a report script or
   XML in any element of any VR (found by content), and compare sources that
   hold the same value;
4. decide from the header alone what the object is (:mod:`.triage`): a scan
   image is never OCR'd; a possible page is OCR'd only if a fast
   text-density test (:mod:`.density`) finds printed text;
5. when the DICOM data gives the results, the burned-in page is not read
   (seconds of OCR for nothing) unless ``ReadOptions.cross_check_pixels``
   asks for it or the data is incomplete or inconsistent
   (:mod:`.sufficiency`); a page to read goes on as a
   :class:`~bmdkit.payload.PagePayload` for the report reader;
6. a DXA file without results keeps its header metadata (vendor, model,
   date) and ends with the real reason (:mod:`.reasons`): results found but
   not understood (with element paths), or a scan image with no results.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException, InvalidDicomError

from bmdkit.dicom import (
    density,
    fastread,
    header_facts,
    pages,
    reasons,
    script,
    sr,
    sufficiency,
    triage,
    words,
    xmlres,
)
from bmdkit.dicom.base import inert_empty, iter_text_elements, text, value_of
from bmdkit.dicom.collect import Collector
from bmdkit.dicom.compare import disagreement_flags
from bmdkit.errors import BmdkitError, NotDXA, ResourceLimit, UnreadableInput
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Region, RegionResult, ScanType, Side, Source, Vendor, scan_types_of
from bmdkit.options import ReadOptions
from bmdkit.payload import PagePayload

log = logging.getLogger(__name__)

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
    """The file's dataset, large values deferred; raises UnreadableInput when it cannot be parsed.

    A plain file is cut out of one buffer (:mod:`.fastread`, the very dataset
    ``dcmread`` gives); anything else is read by ``dcmread`` as before.
    Deferred values are read now, so that damage shows here, not later,
    except plain pixel data (:func:`_inert_pixels`), which nothing reads.
    """
    try:
        ds = fastread.read_plain(path, _DEFER_BYTES)
        plain = ds is not None
        if ds is None:
            ds = dcmread(path, defer_size=_DEFER_BYTES, force=True)
    except (*_DAMAGE, OSError) as exc:
        raise UnreadableInput(f"not a readable DICOM file ({type(exc).__name__}: {str(exc)[:120]})",
                              shown) from None
    try:
        keys = list(ds.keys())
        elems = []
        size = None
        for tag, elem in list(ds._dict.items()):  # force conversion now so damage shows here, not later
            if isinstance(elem, RawDataElement) and elem.value is None:
                if elem.length == 0:
                    if not inert_empty(elem):
                        elem = ds.get_item(tag)  # empty: get_item converts it
                else:
                    if size is None:
                        size = path.stat().st_size
                    if not _inert_pixels(ds, tag, elem, size):
                        elem = ds.get_item(tag)  # deferred: get_item reads and converts it
            elems.append((tag, elem))
    except Exception as exc:  # noqa: BLE001
        raise UnreadableInput(f"DICOM header is damaged ({type(exc).__name__})", shown) from None
    if not any(t >> 16 >= 0x0008 for t in keys):
        raise UnreadableInput("no DICOM data elements could be read (truncated or not DICOM)", shown)
    _check_not_truncated(path, ds, shown, elems, every_element_fits=plain)
    return ds


def _inert_pixels(ds: Dataset, tag: int, elem: RawDataElement, size: int) -> bool:
    """True for deferred pixel data whose reading cannot fail, so it is left unread.

    Reading it (megabytes of a scan image) would only give what nobody
    looks at: the triage decides from the header and a report page's pixels
    are decoded afresh. It could fail only where pydicom must guess its VR
    (explicit VR data with a VR other than OB/OW makes it ask for
    BitsAllocated) or its length is undefined; those are still read here,
    as before, so their damage is reported the same way.
    """
    if tag != 0x7FE00010 or elem.length in (0, 0xFFFFFFFF) or elem.value_tell is None \
            or elem.value_tell + elem.length > size:
        return False
    if elem.VR in ("OB", "OW"):
        return True
    return elem.VR is None and elem.is_implicit_VR and bool(ds.original_encoding[0])


def _check_not_truncated(path: Path, ds: Dataset, shown: str, elems: list,  # type: ignore[type-arg]
                         every_element_fits: bool = False) -> None:
    """A file cut inside an element: its declared value length runs past the end of the file.

    ``every_element_fits``: the dataset came from :mod:`.fastread`, which
    takes a file only when every element ends inside it, so only the pixel
    data's declared size is left to check.
    """
    size = path.stat().st_size
    for tag, elem in () if every_element_fits else elems:  # as get_item gave them when parsing
        start = getattr(elem, "value_tell", None)
        length = getattr(elem, "length", None)
        if start is not None and length not in (None, 0xFFFFFFFF) and start + length > size:
            raise UnreadableInput(f"file is truncated: element {tag} needs {length} bytes past "
                                  f"offset {start}, the file has {size}", shown)
    pixels = ds.get_item(0x7FE00010, keep_deferred=True) if 0x7FE00010 in ds else None
    tell = getattr(pixels, "file_tell", None) or getattr(pixels, "value_tell", None)
    if pixels is not None and tell is not None and not getattr(pixels, "is_undefined_length", True):
        try:
            need = 1
            for keyword, absent in (("Rows", 0), ("Columns", 0), ("SamplesPerPixel", 1),
                                    ("BitsAllocated", 8), ("NumberOfFrames", 1)):
                n = int(value_of(ds, keyword) or absent)  # type: ignore[call-overload]
                need *= (n + 7) // 8 if keyword == "BitsAllocated" else n
        except _DAMAGE:  # a damaged image attribute: reported where it is read, not here
            need = 0
        if need and tell + need > size:
            raise UnreadableInput(f"file is truncated: the pixel data needs {need} bytes from offset "
                                  f"{tell}, the file has {size}", shown)


def read_dicom(path: Path, source: Source, options: ReadOptions) -> DicomReading:
    """Read one DICOM file; raises UnreadableInput when it cannot be parsed at all.

    Once the header is parsed, every later failure (not DXA, pixels over the
    cap, damaged pixels) comes back as an exam that keeps the header's
    vendor, model, date and patient, with a flag naming the reason.
    """
    shown = source.path
    ds = _parse(Path(path), shown)
    header = _header_exam(ds, source)
    try:
        return _read(path, ds, source, options, header)
    except _DAMAGE as exc:
        reason = f"a DICOM element is damaged ({type(exc).__name__}: {str(exc)[:120]})"
        return DicomReading(exam=header.with_flags([Flag(FlagCode.UNREADABLE, reason)]),
                            no_results_reason=reason)
    except BmdkitError as exc:
        return DicomReading(exam=header.with_flags([Flag(exc.flag_code, exc.reason)]),
                            no_results_reason=exc.reason)


def _header_exam(ds: Dataset, source: Source) -> Exam:
    """What the header says about the exam, before any result is looked for."""
    def safe(keyword: str) -> str | None:
        try:
            return text(ds, keyword)
        except _DAMAGE:
            return None
    try:
        vendor, date, patient = header_facts.vendor(ds), header_facts.date_of(ds), header_facts.patient(ds)
    except _DAMAGE:
        vendor, date, patient = Vendor.UNKNOWN, None, None
    return Exam(source=source, vendor=vendor, scanner_model=safe("ManufacturerModelName"),
                scanner_serial=safe("DeviceSerialNumber"), scanner_software=safe("SoftwareVersions"),
                institution=safe("InstitutionName"), exam_date=date,
                study_instance_uid=safe("StudyInstanceUID"), patient=patient, reader=READER_NAME)


@dataclass
class _Found:
    """Results sources found in one file, and what could not be read or placed."""

    collectors: list[Collector]
    flags: list[Flag]
    has_script: bool
    skipped: list[str]
    not_understood: list[str]


def _find_results(ds: Dataset, ctx: words.Meaning, options: ReadOptions) -> _Found:
    """The SR content tree, and scripts and XML in any element of any VR (found by content)."""
    found = _Found([], [], False, [], [])
    if sr.is_sr(ds):
        found.collectors.append(sr.read_sr(ds, ctx))
    for el in iter_text_elements(ds, options.max_xml_bytes, skipped=found.skipped):
        if "ContentSequence" in el.path:
            continue
        body = el.text
        if script.looks_like_script(body):
            found.has_script = True
            found.collectors.append(script.read_script(body, el.path, ctx))
        elif xmlres.looks_like_xml(body):
            _read_xml(body, el.path, ctx, options, found)
    for col in found.collectors:
        if not col:
            found.not_understood.extend(f"{col.what}: {u}" for u in col.unplaced)
    return found


def _read_xml(body: str, where: str, ctx: words.Meaning, options: ReadOptions, found: _Found) -> None:
    try:
        root = xmlres.parse(body, options.max_xml_bytes, options.max_xml_depth)
    except (xmlres.XmlRejected, ResourceLimit) as exc:
        reason = exc.reason if isinstance(exc, ResourceLimit) else str(exc)
        found.flags.append(Flag(FlagCode.UNPLACED_DATA, f"XML in {where} was not read: {reason}"))
        return
    col = xmlres.read_xml(root, where, ctx)
    if col or col.unplaced:
        found.collectors.append(col)
        return
    numbers = xmlres.numeric_paths(root, where)
    if numbers:
        found.flags.append(Flag(FlagCode.UNPLACED_DATA,
                                f"XML in {where} holds numbers whose meaning could not be placed "
                                f"({'; '.join(numbers[:5])})"))
        found.not_understood.extend(f"vendor XML: {p}" for p in numbers)


def _read(path: Path, ds: Dataset, source: Source, options: ReadOptions, header: Exam) -> DicomReading:
    shown = source.path
    modality = (text(ds, "Modality") or "").upper()
    if modality in header_facts.NON_DXA_MODALITIES:
        raise NotDXA(f"Modality {modality} is not bone densitometry "
                     f"({text(ds, 'SeriesDescription') or text(ds, 'StudyDescription') or 'no description'})",
                     shown)
    ctx = header_facts.scan_context(ds)
    found = _find_results(ds, ctx, options)
    regions, combined = _combine(found.collectors)
    flags = found.flags + combined + _sideless_hips(regions)
    kind = triage.triage(ds, found.has_script, ctx)
    if header_facts.dxa_evidence(ds) is None and not regions and not (
            kind.kind is triage.ObjectKind.DOCUMENT and modality in ("DOC", "OT", "")):
        raise NotDXA("valid DICOM with nothing that marks it as bone densitometry "
                     f"(Modality {modality or 'absent'}, "
                     f"manufacturer {text(ds, 'Manufacturer') or 'absent'})", shown)
    if header.vendor is Vendor.UNKNOWN:
        flags.append(Flag(FlagCode.UNKNOWN_VENDOR, "Manufacturer does not name a known DXA vendor"))
    exam = header.replace(
        scan_types=_scan_types(regions, ctx), regions=tuple(regions), flags=tuple(flags),
        reader=READER_NAME + "".join(f"+{c.what.replace(' ', '-')}" for c in found.collectors if c))
    payload, note = None, None
    if kind.may_hold_page and (not regions or options.cross_check_pixels
                               or sufficiency.gaps(regions, flags)):
        try:
            payload, note = _page(Path(path), ds, kind, options)
        except BmdkitError as exc:
            if not regions:
                raise
            log.debug("page of %s not cross-checked: %s", source.sha256, exc.reason)
    if regions:
        return DicomReading(exam=exam, payload=payload)
    if found.not_understood:
        reason = reasons.not_understood(found.not_understood, "the file")
        # values were found but none could be placed: nothing usable, so an error (no_results) that
        # says why; the unplaced_data review flags beside it name what was seen
        return DicomReading(exam=exam.with_flags([Flag(FlagCode.NO_RESULTS, reason)]),
                            no_results_reason=reason, payload=payload)
    reason = reasons.no_results(ds, ctx, header.vendor, sr.is_sr(ds), found.skipped, note,
                                page=payload is not None and kind.kind is not triage.ObjectKind.CANDIDATE_PAGE)
    if payload is not None:  # the page decides; this is the reason if it holds no report
        return DicomReading(exam=exam, no_results_reason=reason, payload=payload)
    return DicomReading(exam=exam.with_flags([Flag(FlagCode.NO_RESULTS, reason)]),
                        no_results_reason=reason)


def _page(path: Path, ds: Dataset, kind: triage.Triage,
          options: ReadOptions) -> tuple[PagePayload | None, str | None]:
    """The report page to OCR, or None with a note when a candidate's pixels hold no text."""
    if kind.kind is triage.ObjectKind.DOCUMENT:
        return pages.pdf_payload(ds, str(path)), None
    payload = pages.image_payload(path, ds, options)
    if kind.kind is triage.ObjectKind.CANDIDATE_PAGE:
        dens = density.measure(payload.images[0])
        if not dens.has_text:
            return None, f"its pixels hold no printed text ({dens.describe()})"
    return payload, None


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


def _sideless_hips(regions: list[RegionResult]) -> list[Flag]:
    """A hip value with no side beside sided hip values: which femur (or the mean) is not stated."""
    if not any(r.region.is_hip and r.side is not None for r in regions):
        return []
    return [Flag(FlagCode.UNPLACED_DATA,
                 f"{r.region.value}: a hip value with no side beside left/right values; which femur "
                 "(or the mean) it belongs to is not stated", region=r.region.value)
            for r in regions if r.region.is_hip and r.side is None]


def _scan_types(regions: list[RegionResult], ctx: words.Meaning) -> tuple[ScanType, ...]:
    """The scans the results come from, else the ones the header names."""
    return scan_types_of(regions) or header_facts.scan_types(ctx)
