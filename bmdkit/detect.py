"""Decide what an input file is from its first bytes, never from its name.

Besides the formats bmdkit reads, it recognizes the files a site folder
holds beside its scans that are plainly not scans or reports: text (notes,
JSON, CSV, TOML, Markdown, HTML, RTF), office documents (OOXML, OpenDocument,
and the OLE2 container of Office 97-2003 and ``Thumbs.db``), a DICOMDIR (the
media directory, not an exam) and the folder metadata macOS leaves
(``.DS_Store``, ``._`` AppleDouble files). The batch lists those as
*skipped*, not *failed*: see :attr:`Format.not_a_scan`.

A text file is a DXA report written as sentences (``Format.TEXT_REPORT``,
exported from a RIS or HIS) when its content says so: one line names a
measure (BMD, T-score; 骨密度, T值), a region (femoral neck, L1-L4; 股骨颈,
腰椎) and a decimal number, with the words of
``reference_data/sentence_words.csv``. Structured text (JSON, XML/HTML,
CSV/TSV, TOML/INI, Markdown) stays ``Format.TEXT`` whatever words it holds,
so truth files, tables, configuration and READMEs are still skipped.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
import zipfile
from enum import Enum
from pathlib import Path

from bmdkit import reference
from bmdkit.model import InputKind

#: the signature a zip archive starts with (its first local file header, PKWARE APPNOTE 4.3.7)
ZIP_LOCAL_HEADER = b"PK\x03\x04"


class Format(str, Enum):
    """Finer than :class:`InputKind`: which container the bytes are."""

    DICOM = "dicom"
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    BMP = "bmp"
    ZIP = "zip"
    EMPTY = "empty"
    TEXT = "text"
    TEXT_REPORT = "text_report"
    OFFICE = "office"
    OLE2 = "ole2"
    DICOMDIR = "dicomdir"
    OS_METADATA = "os_metadata"
    UNKNOWN = "unknown"

    @property
    def not_a_scan(self) -> str | None:
        """Why a file of this format is skipped (plainly not a scan or report), or None."""
        return _NOT_A_SCAN.get(self)

    @property
    def kind(self) -> InputKind:
        if self is Format.DICOM:
            return InputKind.DICOM
        if self is Format.PDF:
            return InputKind.PDF
        if self in (Format.PNG, Format.JPEG, Format.TIFF, Format.BMP):
            return InputKind.IMAGE
        # TEXT_REPORT too: the contract's source kinds (dicom, image, pdf, unknown) have no "text" yet
        return InputKind.UNKNOWN


_NOT_A_SCAN: dict[Format, str] = {
    Format.TEXT: "a text file (notes, JSON, CSV, TOML, Markdown, HTML or similar), not a scan or report",
    Format.OFFICE: "an office document (Word, Excel, PowerPoint or OpenDocument), not a scan or report",
    Format.OLE2: "an Office 97-2003 document or a Windows thumbnail cache (Thumbs.db), not a scan or report",
    Format.DICOMDIR: "a DICOMDIR (the media's directory of files), not an exam",
    Format.OS_METADATA: "folder metadata left by macOS (.DS_Store or an AppleDouble '._' file)",
}

_HEAD = 1024
#: Media Storage Directory Storage, the SOP class of a DICOMDIR (PS3.4 Annex F), as it sits in the file meta
_DICOMDIR_UID = re.compile(rb"1\.2\.840\.10008\.1\.3\.10(?![.0-9])")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DS_STORE_MAGIC = b"\x00\x00\x00\x01Bud1"
_APPLEDOUBLE_MAGIC = b"\x00\x05\x16\x07"
#: control characters that do not occur in text files (tab, newlines, form feed and escape may)
_BINARY_BYTES = frozenset(range(0x00, 0x09)) | frozenset((0x0E, 0x0F)) | frozenset(range(0x10, 0x1B)) \
    | frozenset(range(0x1C, 0x20)) | frozenset((0x7F,))


def sniff_bytes(head: bytes) -> Format:
    """The format of a file whose first bytes (up to 1 KiB) are ``head``."""
    if not head:
        return Format.EMPTY
    if len(head) >= 132 and head[128:132] == b"DICM":
        return Format.DICOMDIR if _DICOMDIR_UID.search(head, 132) else Format.DICOM
    if head.lstrip(b"\x00\t\r\n ")[:5] == b"%PDF-":
        return Format.PDF
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return Format.PNG
    if head[:3] == b"\xff\xd8\xff":
        return Format.JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Format.TIFF
    if head[:2] == b"BM" and len(head) > 14:
        return Format.BMP
    if head[:4] == ZIP_LOCAL_HEADER:
        return Format.ZIP
    if _looks_like_raw_dicom(head):
        return Format.DICOM
    if head[:8] == _OLE2_MAGIC:
        return Format.OLE2
    if head[:8] == _DS_STORE_MAGIC or head[:4] == _APPLEDOUBLE_MAGIC:
        return Format.OS_METADATA
    # a PDF may have bytes before its header (readers look for it in the first KiB), but only after
    # every signature a file starts with: a zip that stores a PDF uncompressed near its start is a zip
    if b"%PDF-" in head[:1024]:
        return Format.PDF
    if _looks_like_text(head):
        return Format.TEXT
    return Format.UNKNOWN


def _looks_like_text(head: bytes) -> bool:
    """True when ``head`` decodes as text (UTF-8, UTF-16 with a BOM, or GB18030) with no
    binary control bytes; a multi-byte character cut at the end of ``head`` is allowed."""
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            text = codecs.getincrementaldecoder("utf-16")().decode(head, final=False)
        except UnicodeDecodeError:
            return False
        return not any(ord(c) in _BINARY_BYTES for c in text)
    if any(b in _BINARY_BYTES for b in head):
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _office_zip(path: str | Path) -> bool:
    """True when a zip archive is an OOXML or OpenDocument file (a document, not a delivery)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist()[:10_000])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "[Content_Types].xml" in names or "mimetype" in names and "META-INF/manifest.xml" in names


def _looks_like_raw_dicom(head: bytes) -> bool:
    """A DICOM stream without the 128-byte preamble (some PACS exports).

    It starts with a group 0x0002 or 0x0008 element in little endian; the
    element number and a plausible explicit VR or implicit length are checked
    to keep random bytes out.
    """
    if len(head) < 8:
        return False
    group = int.from_bytes(head[0:2], "little")
    elem = int.from_bytes(head[2:4], "little")
    if group not in (0x0002, 0x0008) or elem > 0x0100:
        return False
    vr = head[4:6]
    if vr.isalpha() and vr.isupper():
        return True
    length = int.from_bytes(head[4:8], "little")
    return 0 < length < 256


def sniff(path: str | Path) -> Format:
    """The format of the file at ``path`` (reads at most 1 KiB, or :data:`TEXT_PROBE_BYTES` of a text file)."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
        fmt = sniff_bytes(head)
        if fmt is Format.TEXT:
            head += fh.read(TEXT_PROBE_BYTES - len(head))
    if fmt is Format.ZIP and _office_zip(path):
        return Format.OFFICE
    if fmt is Format.TEXT and is_text_report(head):
        return Format.TEXT_REPORT
    return fmt


#: bytes of a text file read to decide whether it is a report written as sentences
TEXT_PROBE_BYTES = 256 * 1024


def decode_text(data: bytes, final: bool = True) -> str | None:
    """``data`` as text: UTF-16 with a BOM, else UTF-8 (with or without a BOM), else GB18030,
    each tried strictly; None when none fits. ``final=False`` allows a character cut at the end."""
    tries = ("utf-16",) if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else ("utf-8-sig", "gb18030")
    for encoding in tries:
        try:
            return codecs.getincrementaldecoder(encoding)().decode(data, final=final)
        except UnicodeDecodeError:
            continue
    return None


def is_text_report(data: bytes) -> bool:
    """True when text bytes read as a DXA report in sentences (see the module docstring)."""
    text = decode_text(data, final=False)
    if text is None or _structured(text):
        return False
    return any(_dxa_line(line) for line in text.splitlines())


_CSV_SEPARATORS = (",", "\t", ";", "|")


def _structured(text: str) -> bool:
    """JSON, XML/HTML, RTF, Markdown, CSV/TSV or TOML/INI: text that is data or markup, not prose."""
    body = text.lstrip("\ufeff \t\r\n")
    if body[:1] in ("{", "[", "<"):
        return True
    lines = [ln for ln in body.splitlines() if ln.strip()][:200]
    if not lines:
        return True
    if any(re.match(r"\s*(#{1,6}\s|```|\|.*\|\s*$)", ln) for ln in lines):
        return True  # Markdown: headings, code fences, tables
    sections = any(re.fullmatch(r"\s*\[[\w.\-\" ]+\]\s*", ln) for ln in lines)
    assignments = sum(bool(re.match(r"\s*[\w.\-\"]+\s*=", ln)) for ln in lines)
    if sections and assignments * 2 >= len(lines):
        return True  # TOML / INI
    for sep in _CSV_SEPARATORS:
        counts = [ln.count(sep) for ln in lines]
        if len(lines) >= 3 and counts[0] >= 2 and not _DECIMAL.search(lines[0]) \
                and sum(c == counts[0] for c in counts) >= 0.8 * len(lines):
            return True  # a table with a header line
    return False


@functools.cache
def _report_words() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a measure word: BMD or T-score; a region word: hip region, spine, lumbar level)."""
    rows = reference.table("sentence_words")
    measure = "|".join(r["pattern"] for r in rows if r["kind"] == "measure" and r["key"] in ("bmd", "t_score"))
    region = "|".join(r["pattern"] for r in rows if r["kind"] in ("region", "spine", "level"))
    return re.compile(measure), re.compile(region)


_DECIMAL = re.compile(r"(?<![0-9.])\d\.\d")


def _dxa_line(line: str) -> bool:
    t = unicodedata.normalize("NFKC", line).lower()
    if not _DECIMAL.search(t):
        return False
    measure, region = _report_words()
    return bool(measure.search(t) and region.search(t))
