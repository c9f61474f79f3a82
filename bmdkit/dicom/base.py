"""Safe access to a parsed DICOM dataset: text in any character set, capped element values.

DXA vendors put results in private elements whose VR may come back as LT,
UT, UN or OB bytes and whose character set may not be the declared one.
Everything here works on any dataset without raising: a missing or
malformed element is ``None``, never an exception, and no element larger
than a cap is ever loaded.
"""

from __future__ import annotations

import codecs
import functools
import math
import re
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag
from pydicom.values import converters

T = TypeVar("T")

#: VRs whose value may hold text (a script, XML or a label) worth reading.
TEXT_VRS = frozenset({"LT", "UT", "ST", "LO", "SH", "UN", "OB", "UC", "OW"})


def tag_str(tag: BaseTag | int) -> str:
    """``(gggg,eeee)`` as DICOM writes it."""
    t = Tag(tag)
    return f"({t.group:04X},{t.element:04X})"


def charsets(ds: Dataset) -> list[str]:
    """The dataset's declared character set terms, as a list (may be empty; read once per dataset)."""
    cached = ds.__dict__.get("_bmdkit_charsets")
    if cached is None:
        cached = ds.__dict__["_bmdkit_charsets"] = _charsets(ds)
    return list(cached)


def _charsets(ds: Dataset) -> list[str]:
    try:
        raw = value_of(ds, "SpecificCharacterSet")
    except Exception:  # noqa: BLE001 - a malformed charset element counts as absent
        return []
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    return [str(x) for x in raw]


def decode_text(raw: bytes, declared: list[str]) -> str:
    """Bytes as text: the declared character set, then UTF-8, GB18030, latin-1.

    A declared set is used only if it decodes the bytes without error, so a
    file whose header says ISO_IR 100 but whose private text is UTF-8 or
    GB18030 still decodes correctly. latin-1 never fails, so this always
    returns text.
    """
    raw = raw.rstrip(b"\x00")
    if not raw:
        return ""
    if raw.isascii() and b"\x1b" not in raw:
        # every declared set and every fallback decodes 7-bit bytes without escapes as ASCII
        # (tests/test_dicom_fastread.py checks each term pydicom knows): the common case, cheaply
        return raw.decode("ascii")
    if declared and any(d.strip() for d in declared):
        encodings = _encodings(tuple(d.strip() for d in declared))
        if encodings and b"\x1b" in raw:
            # ISO 2022 code extensions: drop the designation escapes; G0 is ASCII and the
            # declared multi-byte set (e.g. IR 58 = GB2312) holds the high bytes
            stripped = _ESCAPES.sub(b"", raw)
            for enc in encodings:
                if enc not in ("iso8859", "iso_ir_6", "ascii") and _known(enc):
                    try:
                        return stripped.decode(_codec(enc), "strict")
                    except UnicodeDecodeError:
                        continue
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    return str(decode_bytes(raw, encodings, {0x5E, 0x3D, 0x5C}))
                except Exception:  # noqa: BLE001
                    raw = stripped
        single_byte = all(_codec(e) in _SINGLE_BYTE for e in encodings if _known(e))  # cached
        if single_byte and any(b > 0x7F for b in raw):
            try:  # a Latin set cannot tell us it is wrong; well-formed UTF-8 almost never is Latin text
                return raw.decode("utf-8", "strict")
            except UnicodeDecodeError:
                pass
        for enc in encodings:
            if enc in ("iso8859", "iso_ir_6", "ascii") and any(b > 0x7F for b in raw):
                continue  # the default repertoire cannot hold these bytes: not this one
            try:
                return raw.decode(_codec(enc), "strict")
            except (UnicodeDecodeError, LookupError):
                continue
    for enc in ("utf-8", "gb18030", "latin-1"):
        try:
            return raw.decode(enc, "strict")
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # pragma: no cover - latin-1 never fails


#: ISO 2022 designation escapes: ESC, 1-2 intermediate bytes, a final byte
_ESCAPES = re.compile(rb"\x1b[\x20-\x2f]{1,2}[\x40-\x7e]")
_SINGLE_BYTE = frozenset({"latin-1", "latin_1", "ascii", "iso8859_2", "iso8859_3", "iso8859_4",
                          "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_8", "iso8859_9",
                          "iso8859_15", "cp1252"})


@functools.lru_cache(maxsize=64)
def _encodings(declared: tuple[str, ...]) -> list[str]:
    """Python codec names for DICOM character set terms; unknown terms give []."""
    try:
        return list(convert_encodings(list(declared)))
    except Exception:  # noqa: BLE001 - unknown terms: fall through to the fallbacks
        return []


@functools.lru_cache(maxsize=64)
def _known(python_encoding: str) -> bool:
    try:
        _codec(python_encoding)
        return True
    except LookupError:
        return False


@functools.lru_cache(maxsize=64)
def _codec(python_encoding: str) -> str:
    alias = {"iso_ir_58": "gb2312", "iso8859": "latin-1", "iso_ir_6": "ascii"}
    name = alias.get(python_encoding, python_encoding)
    codecs.lookup(name)
    return name


def raw_value(ds: Dataset, tag: int) -> bytes | str | None:
    """The undecoded value of ``tag`` if still raw, else its converted value."""
    elem = ds._dict.get(tag)
    if type(elem) is RawDataElement and elem.value is not None:
        return elem.value  # what get_item gives for a raw, loaded value, without its checks
    try:
        elem = ds.get_item(tag)
    except Exception:  # noqa: BLE001
        return None
    if elem is None:
        return None
    if isinstance(elem, RawDataElement):
        return elem.value
    return elem.value  # type: ignore[no-any-return]


def text(ds: Dataset, keyword_or_tag: str | int) -> str | None:
    """A text attribute decoded with the file's character set and the fallback order.

    Reads the raw bytes where pydicom has not converted them yet, so a file
    that declares the wrong character set (or none) for Chinese text still
    decodes; returns ``None`` for absent or empty values.
    """
    cache = ds.__dict__.setdefault("_bmdkit_text", {})  # a parsed file is never changed: read once
    if keyword_or_tag in cache:
        return cache[keyword_or_tag]  # type: ignore[no-any-return]
    out = _text(ds, keyword_or_tag)
    cache[keyword_or_tag] = out
    return out


@functools.lru_cache(maxsize=4096)
def shared_tag(tag: int) -> BaseTag:
    """One :class:`BaseTag` object per tag number, shared by every dataset :mod:`.fastread` makes.

    A dataset's elements are keyed by ``BaseTag``, whose ``==`` is Python
    code: looking a tag up by another object runs it, looking it up by the
    very key object does not. Tags are immutable, so sharing them changes
    nothing else (bounded: hostile files with random tags only make new ones).
    """
    return BaseTag(tag)


@functools.lru_cache(maxsize=512)
def tag_of(keyword: str) -> BaseTag:
    """The tag of a standard keyword, e.g. ``"Rows"`` -> (0028,0010) (looked up once, a shared key)."""
    return shared_tag(int(Tag(keyword)))


@functools.lru_cache(maxsize=512)
def dictionary_vr(tag: int) -> str | None:
    """The VR the DICOM dictionary gives ``tag`` (e.g. ``"US or SS"``), or None when it has none."""
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None


#: raw values whose pydicom conversion is plain ASCII with trailing padding removed
_PLAIN = {"UI": re.compile(rb"[0-9.]+[\x00 ]*"), "CS": re.compile(rb"[0-9A-Z_ ]*[0-9A-Z_][\x00 ]*")}
_US = struct.Struct("<H").unpack
#: VRs pydicom converts without looking elsewhere: not a sequence, not UN, not ambiguous ("US or SS")
_PLAIN_VRS = frozenset(str(getattr(vr, "value", vr)) for vr in converters) - {"SQ", "UN"}
_PLAIN_VRS = frozenset(vr for vr in _PLAIN_VRS if " or " not in vr)


def value_of(ds: Dataset, keyword: str, default: object = None) -> object:
    """``ds.get(keyword, default)`` (the value as pydicom converts it), cheaply where that is exact.

    Header checks ask a few attributes of every file (SOP class, modality,
    image size). pydicom converts an element on first access, which costs
    more than the rest of deciding a scan image. A raw, little-endian value
    of a standard US, UI or CS attribute, of the exact length and in plain
    characters, converts to a known value: an int from two bytes, or the
    ASCII text without trailing padding (for UI, compare it as ``str``). It
    is returned without converting, and the element stays raw: its
    characters (digits, capitals, dots, spaces) hold no script or XML
    marker, so the text search sees it the same either way. Anything else
    (absent, empty, deferred, converted, multi-valued, odd bytes) goes
    through ``ds.get`` as before, exceptions included.
    """
    tag = tag_of(keyword)
    elem = ds._dict.get(tag)
    if elem is None:
        return default
    if type(elem) is RawDataElement and elem.is_little_endian and type(elem.value) is bytes \
            and 0 < elem.length == len(elem.value):
        vr = elem.VR if elem.VR is not None else (dictionary_vr(tag) if elem.is_implicit_VR else None)
        if vr == "US" and elem.length == 2:
            return _US(elem.value)[0]
        plain = _PLAIN.get(vr or "")
        if plain is not None and plain.fullmatch(elem.value):
            return elem.value.decode("ascii").rstrip(" \x00")
    return ds.get(keyword, default)


def inert_empty(elem: RawDataElement) -> bool:
    """True for an empty standard element whose conversion cannot fail: it gives the VR's empty value.

    No private-creator lookup, no VR to correct from other elements, no
    sequence: such an element can be left raw, and whoever reads it later
    gets that same empty value.
    """
    if elem.length != 0 or elem.tag >> 16 & 1:  # private: its VR may come from the private dictionary
        return False
    vr = elem.VR
    if vr is None:
        if not elem.is_implicit_VR:
            return False
        vr = dictionary_vr(elem.tag)
    # a VR pydicom has no converter for (a damaged "XX", the dictionary's "NONE") raises on conversion
    return vr in _PLAIN_VRS


def _text(ds: Dataset, keyword_or_tag: str | int) -> str | None:
    tag = keyword_or_tag if isinstance(keyword_or_tag, int) else tag_of(keyword_or_tag)
    elem = ds._dict.get(tag)
    if elem is None:
        return None  # absent (what raw_value says too)
    if type(elem) is RawDataElement:
        value = elem.value
        if value is None:
            if inert_empty(elem):
                return None  # converting it would give an empty value
            value = raw_value(ds, int(tag))
        elif type(value) is bytes:  # the common case: raw bytes, decoded here
            out = decode_text(value, charsets(ds)).strip().strip("\x00").strip()
            return out or None
    else:
        value = raw_value(ds, int(tag))
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        out = decode_text(bytes(value), charsets(ds))
    elif isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        out = "\\".join(str(v) for v in value)
    else:
        out = str(value)
    out = out.strip().strip("\x00").strip()
    return out or None


@dataclass(frozen=True)
class TextElement:
    """One element (possibly nested) whose value may hold text."""

    path: str
    tag: int
    vr: str
    text: str
    private_creator: str | None


def iter_text_elements(ds: Dataset, max_bytes: int, min_len: int = 16,
                       skipped: list[str] | None = None,
                       _prefix: str = "", _depth: int = 0) -> Iterator[TextElement]:
    """Every text-like element (LT/UT/ST/LO/UN/OB...) under ``max_bytes``, recursing into sequences.

    Values larger than ``max_bytes`` are skipped without being read (their
    paths go to ``skipped``), so a 1 GB private blob costs nothing. Pixel
    data is never visited. Binary values are decoded only when they contain
    the markers of a script (``=`` and a quote) or of XML (``<``).
    """
    if _depth > 8:
        return
    declared = charsets(ds)
    for t, elem in list(ds._dict.items()):  # keys are BaseTags; raw elements as get_item gives them
        ti = int(t)
        if ti == 0x7FE00010 or ti >> 16 == 0x0002:
            continue
        if type(elem) is RawDataElement:
            raw = elem.value
            if raw is None:
                if elem.length == 0 and min_len > 0 and inert_empty(elem):
                    continue  # converting it gives an empty value: nothing to search
                try:  # a deferred value: get_item reads and converts it
                    elem = ds.get_item(t)
                except Exception:  # noqa: BLE001
                    continue
            elif type(raw) is bytes and len(raw) < min_len and elem.length == len(raw) and elem.VR != "SQ":
                continue  # too short to hold a script or XML (what the checks below would decide)
        tag = t
        if elem is None:
            continue
        if ti == 0x0040A730 and ds.__dict__.get("_bmdkit_content_read"):
            continue  # the SR reader read this content tree from its raw bytes (sr.py, srtree.py)
        vr = str(elem.VR) if elem.VR else "UN"
        length = getattr(elem, "length", None)
        if isinstance(elem, RawDataElement) and length is not None and length > max_bytes \
                and length != 0xFFFFFFFF:
            if skipped is not None and vr in TEXT_VRS:
                skipped.append(f"{_prefix}{tag_str(t)} ({length} bytes)")
            continue
        if vr == "SQ":
            if ti == 0x0040A730:  # an SR content tree: read by the SR reader, not searched here
                continue
            try:
                seq = ds[tag].value
            except Exception:  # noqa: BLE001
                continue
            for i, item in enumerate(seq or ()):
                yield from iter_text_elements(item, max_bytes, min_len, skipped,
                                              f"{_prefix}{tag_str(t)}[{i}].", _depth + 1)
            continue
        if vr not in TEXT_VRS:
            continue
        try:
            if isinstance(elem, RawDataElement):
                value = elem.value
                if value is None and elem.length:
                    value = _read_deferred(ds, elem)
            else:
                value = elem.value
        except Exception:  # noqa: BLE001
            continue
        if value is None:
            continue
        if isinstance(value, (bytes, bytearray)):
            if len(value) > max_bytes or len(value) < min_len:
                continue
            if not (b"<" in value or (b"=" in value and b'"' in value)):
                continue
            txt = decode_text(bytes(value), declared)
        elif isinstance(value, str):
            if len(value) < min_len:
                continue
            txt = value
        else:
            continue
        yield TextElement(f"{_prefix}{tag_str(t)}", int(t), vr, txt, _creator(ds, t))


def _read_deferred(ds: Dataset, elem: RawDataElement) -> bytes | None:
    """The raw bytes of a value pydicom deferred (not loaded when parsing)."""
    filename = getattr(ds, "filename", None)
    if not isinstance(filename, str) or elem.value_tell is None:
        return None
    with open(filename, "rb") as fh:
        fh.seek(elem.value_tell)
        return fh.read(elem.length)


def _creator(ds: Dataset, t: BaseTag) -> str | None:
    if not t.is_private or t.element < 0x1000:
        return None
    creator_tag = Tag(t.group, t.element >> 8)
    value = raw_value(ds, int(creator_tag))
    if isinstance(value, (bytes, bytearray)):
        return decode_text(bytes(value), []).strip() or None
    return str(value).strip() if value else None


def memo(ds: Dataset, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per dataset: derived facts asked for by several readers."""
    cache = ds.__dict__.setdefault("_bmdkit_memo", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]  # type: ignore[no-any-return]


def private_blocks(ds: Dataset) -> dict[tuple[int, int], str]:
    """Private creators by (group, block byte): (0023,0010) 'HOLOGIC' -> {(0x0023, 0x10): 'HOLOGIC'}."""
    return memo(ds, "blocks", lambda: _private_blocks(ds))


def private_creators(ds: Dataset) -> dict[int, str]:
    """Private creator strings by group (its first block's), e.g. ``{0x7003: 'GEMS_LUNAR_RAW'}``."""
    out: dict[int, str] = {}
    for (group, _block), creator in private_blocks(ds).items():
        out.setdefault(group, creator)
    return out


def _private_blocks(ds: Dataset) -> dict[tuple[int, int], str]:
    out: dict[tuple[int, int], str] = {}
    for tag in list(ds.keys()):  # keys only, no conversion; in tag order
        t = int(tag)
        group, element = t >> 16, t & 0xFFFF
        if group % 2 == 1 and 0x0010 <= element <= 0x00FF:  # a private creator
            value = raw_value(ds, t)
            if isinstance(value, (bytes, bytearray)):
                value = decode_text(bytes(value), [])
            if value:
                out[(group, element)] = str(value).strip()
    return out


def parse_number(textual: object) -> float | None:
    """A printed number as float (handles unicode minus, stray markers); None for blanks and dashes."""
    if textual is None:
        return None
    if isinstance(textual, (int, float)):
        return float(textual)
    s = str(textual).strip().replace("\u2212", "-").replace("\u2013", "-")
    s = s.replace(",", "") if "." in s else s.replace(",", ".")
    s = s.rstrip("*†#").strip()
    if not s or s in {"-", "--", "N/A", "n/a", "NA"}:
        return None
    try:
        value = float(s)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value + 0.0
