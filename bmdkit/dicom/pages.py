"""Report pages inside DICOM: tell a report page from a scan image, and take its pixels or PDF out.

A Secondary Capture can be a report page (numbers burned into pixels) or a
scan display image (no numbers). Without OCR the reader decides from what the
file says: a report script beside the pixels, report words in the
descriptions ("Report", "Results", "FRAX", "报告"), or a page-shaped image
(portrait, letter/A4 proportions). Pixels are decoded only for report pages,
and only below the pixel cap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from bmdkit.dicom import words
from bmdkit.dicom.base import value_of
from bmdkit.dicom.header_facts import description_text
from bmdkit.errors import ResourceLimit, UnreadableInput
from bmdkit.options import ReadOptions
from bmdkit.payload import PagePayload

ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
SECONDARY_CAPTURE = {
    "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
    "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
}
#: Page shape: height/width of letter (1.29) and A4 (1.41) pages with margin for crops;
#: a heuristic for "this image is a printed page", not a clinical number.
_PAGE_ASPECT = (1.15, 1.6)
#: Smallest page height (pixels) seen on real exports: 792 px letter pages at ~90 ppi (reports.md).
_PAGE_MIN_ROWS = 700


def is_encapsulated_pdf(ds: Dataset) -> bool:
    return str(value_of(ds, "SOPClassUID", "")) == ENCAPSULATED_PDF or (
        "EncapsulatedDocument" in ds and "pdf" in str(ds.get("MIMETypeOfEncapsulatedDocument", "")).lower())


def looks_like_report_page(ds: Dataset, has_script: bool) -> bool:
    """True when a pixel image is probably a report page, not a scan image."""
    if "PixelData" not in ds and "Rows" not in ds:
        return False
    if has_script:
        return True
    if words.first(description_text(ds), "report_page"):
        return True
    try:
        rows, cols = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    except (TypeError, ValueError):
        return False
    return rows >= _PAGE_MIN_ROWS and cols > 0 and _PAGE_ASPECT[0] <= rows / cols <= _PAGE_ASPECT[1]


def pdf_payload(ds: Dataset, path: str) -> PagePayload:
    data = ds.get("EncapsulatedDocument")
    if not data:
        raise UnreadableInput("encapsulated PDF object without a document", path)
    data = bytes(data)
    end = data.rfind(b"%%EOF")
    if end > 0:
        data = data[: end + 5]
    return PagePayload(origin="dicom encapsulated pdf", pdf_bytes=data)


def image_payload(path: Path, header: Dataset, options: ReadOptions) -> PagePayload:
    """The report page pixels as uint8 arrays (grey or RGB), one per frame."""
    shown = str(path)
    try:
        rows, cols = int(header.get("Rows") or 0), int(header.get("Columns") or 0)
        frames = int(header.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        raise UnreadableInput("image size attributes are malformed", shown) from None
    if rows * cols * max(frames, 1) > options.max_pixels:
        raise ResourceLimit(f"report image of {rows}x{cols}x{frames} pixels exceeds the "
                            f"{options.max_pixels}-pixel cap", shown)
    arr = native_pixels(path, header, rows, cols)
    ds = header
    if arr is None:
        try:
            ds = dcmread(path, force=True)
            arr = ds.pixel_array
        except Exception as exc:  # noqa: BLE001 - pydicom/decoder errors on damaged pixel data
            raise UnreadableInput(f"report page pixels cannot be decoded ({type(exc).__name__})",
                                  shown) from None
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    if photometric.startswith("YBR"):
        from pydicom.pixels import convert_color_space
        arr = convert_color_space(arr, photometric, "RGB")
    spp = int(ds.get("SamplesPerPixel") or 1)
    if frames > 1 or (arr.ndim == 4) or (arr.ndim == 3 and spp == 1):
        pages = [arr[i] for i in range(min(arr.shape[0], options.max_pages))]
    else:
        pages = [arr]
    images = tuple(_to_uint8(p, photometric) for p in pages)
    return PagePayload(origin="dicom secondary capture", images=images)


#: uncompressed transfer syntaxes whose 8-bit pixels are the file's bytes as they stand
_NATIVE_SYNTAXES = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"})
_NATIVE_PHOTOMETRIC = {"MONOCHROME1": 1, "MONOCHROME2": 1, "RGB": 3}


def native_pixels(path: Path, header: Dataset, rows: int, cols: int) -> np.ndarray | None:
    """The pixels of a plain 8-bit single-frame image, read straight from the file, else None.

    What ``dcmread(path).pixel_array`` gives for such a file (the same
    values, shape and dtype, a writable array) without parsing the file
    again: little endian uncompressed, 8 bits allocated and stored, unsigned,
    grey or RGB with interleaved samples, one frame, the pixel data element
    left unread in ``header`` (:mod:`.fastread`) holding exactly the pixels
    (and at most one pad byte). Anything else is pydicom's to decode.
    """
    try:
        meta = getattr(header, "file_meta", None)
        syntax = str(value_of(meta, "TransferSyntaxUID", "")) if meta is not None else ""
        photometric = str(value_of(header, "PhotometricInterpretation", "")).strip().upper()
        spp = _NATIVE_PHOTOMETRIC.get(photometric)
        if syntax not in _NATIVE_SYNTAXES or spp is None or rows <= 0 or cols <= 0:
            return None
        for keyword, want in (("BitsAllocated", 8), ("BitsStored", 8), ("PixelRepresentation", 0),
                              ("SamplesPerPixel", spp)):
            if value_of(header, keyword) != want:
                return None
        if spp == 3 and value_of(header, "PlanarConfiguration", 0) != 0:
            return None
        if value_of(header, "NumberOfFrames") not in (None, "", 1, "1"):
            return None
        elem = header.get_item(0x7FE00010, keep_deferred=True)
        need = rows * cols * spp
        if type(elem) is not RawDataElement or elem.length not in (need, need + 1) \
                or elem.VR not in (None, "OB", "OW"):
            return None
        if type(elem.value) is bytes and len(elem.value) == elem.length:
            buf = bytearray(elem.value[:need])  # a small image: its value was read with the header
        elif elem.value is None and elem.value_tell is not None:  # deferred: read from the file
            buf = bytearray(need)
            with open(str(path), "rb") as fh:
                fh.seek(elem.value_tell)
                if fh.readinto(buf) != need:
                    return None
        else:
            return None
    except Exception:  # noqa: BLE001 - anything unusual: pydicom decodes it, as before
        return None
    arr = np.frombuffer(buf, dtype=np.uint8)
    return arr.reshape((rows, cols) if spp == 1 else (rows, cols, 3))


def _to_uint8(arr: np.ndarray, photometric: str) -> np.ndarray:
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        arr = a.round().astype(np.uint8)
    if photometric == "MONOCHROME1":
        arr = 255 - arr
    return np.ascontiguousarray(arr)
