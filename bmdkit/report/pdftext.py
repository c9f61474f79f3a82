"""Words and their positions from a PDF's text layer (no OCR).

pdfplumber gives each word with its box in PDF points; boxes are scaled to
the pixels of the page as rendered, so that a value's location points into
the same image whatever the route. Text from a text layer is exact, so its
tokens carry confidence 1.0 and engine ``pdf-text``.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zlib
from collections.abc import Iterator

from bmdkit.errors import ResourceLimit
from bmdkit.options import ReadOptions
from bmdkit.report.tokens import Token

ENGINE = "pdf-text"

#: the ``stream`` keyword that opens a stream's data (not the tail of ``endstream``)
_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_IMAGE = re.compile(rb"/Subtype\s*/Image")
_SIZE = re.compile(rb"/(Width|Height)\s+(\d+)(?!\s+\d+\s+R)")
#: the most a byte can become through each expanding filter: deflate's limit is 1032:1, LZW's
#: about 2,700:1 (used only where the stream cannot be decoded here: an encrypted PDF)
_WORST_RATIO = {b"FlateDecode": 1032, b"Fl": 1032, b"LZWDecode": 2700, b"LZW": 2700, b"RunLengthDecode": 128,
                b"RL": 128}
_STEP = 1 << 20


def check_pdf_streams(data: bytes, options: ReadOptions, shown: str) -> None:
    """Fail a PDF whose streams would inflate past ``options.max_pdf_stream_bytes``, or that holds
    an image larger than ``options.max_pixels``, before any PDF library decodes it.

    Every stream's data (found between ``stream`` and ``endstream``) goes
    through its filters here in bounded steps, counting bytes and keeping
    none it does not need: 890 KB of Flate that would become 300 MB of page
    operators stops at the cap instead of filling memory in pdfminer.
    Images are not counted (they are decoded at render size); their
    declared size is checked against the pixel cap. In an encrypted PDF the
    data cannot be decoded here, so each stream counts at its filters'
    worst expansion.
    """
    cap = options.max_pdf_stream_bytes
    encrypted = re.search(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)", data) is not None
    total = 0
    for head, body in _streams(data):
        if _IMAGE.search(head):
            sizes = dict((k, int(v)) for k, v in _SIZE.findall(head))
            w, h = sizes.get(b"Width", 0), sizes.get(b"Height", 0)
            if w * h > options.max_pixels:
                raise ResourceLimit(f"PDF image of {w}x{h} pixels exceeds the {options.max_pixels}-pixel cap",
                                    shown)
            continue
        filters = _filters(head)
        if encrypted:
            worst = len(body)
            for f in filters:
                worst *= _WORST_RATIO.get(f, 1)
            total += worst
        else:
            total += decoded_size(body, filters, cap - total + 1)
        if total > cap:
            what = "could inflate" if encrypted else "inflate"
            raise ResourceLimit(f"PDF content streams {what} past the {cap}-byte cap (content-stream bomb "
                                "guard)", shown)


def _streams(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(object dictionary text, raw data) of every stream in a PDF, found by its keywords."""
    for m in _STREAM.finditer(data):
        start = m.end()
        obj = data.rfind(b"obj", max(0, m.start() - 8192), m.start())
        head = data[obj if obj >= 0 else max(0, m.start() - 1024): m.start()]
        end = data.find(b"endstream", start)
        yield head, data[start: end if end >= 0 else len(data)]


def _filters(head: bytes) -> list[bytes]:
    m = _FILTER.search(head)
    return _NAME.findall(m.group(1)) if m else []


def decoded_size(body: bytes, filters: list[bytes], limit: int) -> int:
    """How many bytes ``body`` becomes through ``filters``, counting at most ``limit`` (then stop).

    Only the last expanding step is counted without being kept; earlier
    steps (e.g. ASCII85 before Flate) keep at most ``limit`` bytes. A filter
    that cannot be decoded here (images' codecs, damaged data) ends the
    count with what there is.
    """
    data = body
    for i, name in enumerate(filters):
        last = i == len(filters) - 1
        if name in (b"FlateDecode", b"Fl"):
            n, kept = _inflate(data, limit, keep=not last)
            if last or kept is None:
                return n
            data = kept
        elif name in (b"LZWDecode", b"LZW"):
            n, kept = _unlzw(data, limit, keep=not last)
            if last or kept is None:
                return n
            data = kept
        elif name in (b"ASCIIHexDecode", b"AHx"):
            try:
                text = re.sub(rb"\s", b"", data).split(b">")[0]
                data = binascii.unhexlify(text + b"0" * (len(text) % 2))
            except (binascii.Error, ValueError):
                return len(data)
        elif name in (b"ASCII85Decode", b"A85"):
            try:
                data = base64.a85decode(re.sub(rb"\s", b"", data).split(b"~>")[0])
            except ValueError:
                return len(data)
        elif name in (b"RunLengthDecode", b"RL"):
            return len(data) * 128 if last else len(data)
        else:
            return len(data)
    return len(data)


def _inflate(data: bytes, limit: int, keep: bool) -> tuple[int, bytes | None]:
    """Inflate ``data`` one block at a time up to ``limit`` bytes: (bytes counted, bytes if kept)."""
    d = zlib.decompressobj()
    n, parts = 0, []
    try:
        tail = data
        while n <= limit:
            out = d.decompress(tail, _STEP)
            n += len(out)
            if keep:
                parts.append(out)
            tail = d.unconsumed_tail
            if not tail and len(out) < _STEP:
                break
    except zlib.error:
        if not keep:
            return n, None
    return n, b"".join(parts) if keep else None


def _unlzw(data: bytes, limit: int, keep: bool) -> tuple[int, bytes | None]:
    """LZW-decode ``data`` (pdfminer's decoder, one code at a time) up to ``limit`` bytes."""
    from pdfminer.lzw import LZWDecoder

    n, parts = 0, []
    try:
        for chunk in LZWDecoder(io.BytesIO(data)).run():
            n += len(chunk)
            if keep:
                parts.append(chunk)
            if n > limit:
                break
    except Exception:  # noqa: BLE001 - damaged LZW data: count what decoded
        pass
    return n, b"".join(parts) if keep else None


def pdf_words(data: bytes, index: int, scale: float) -> list[Token]:
    """Words of page ``index`` (0-based), boxes in pixels at ``scale`` px/pt."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            page = pdf.pages[index]
            words = page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5)
    except (PDFSyntaxError, PSException, PdfminerException, MalformedPDFException, ValueError, KeyError,
            IndexError, TypeError, AttributeError, AssertionError):
        # a damaged text layer (pdfplumber wraps pdfminer's parse errors in PdfminerException;
        # pdfminer asserts on some broken objects): no words, the rendered page is read instead
        return []
    out: list[Token] = []
    for w in words:
        text = w["text"].strip()
        if not text:
            continue
        box = (int(w["x0"] * scale), int(w["top"] * scale), int(w["x1"] * scale) + 1, int(w["bottom"] * scale) + 1)
        out.append(Token(text, box, 1.0, ENGINE))
    return out
