"""A lean, bounded reader of an SR content tree's raw bytes (what :mod:`.sr` needs, nothing more).

pydicom expands a raw sequence into a :class:`~pydicom.dataset.Dataset` per
item and a converted element per access; for a content tree of a few
hundred items that costs some ten times the whole header read. The SR
walker reads only a handful of tags per item, so this module parses the
sequence bytes once into plain dicts: ``{tag: bytes}`` for values and
``{tag: [item, ...]}`` for the few sequences the walker follows
(:data:`SEQUENCES`). Values are the undecoded bytes pydicom's
``Dataset.get_item(tag).value`` gives for the same element; the walker asks
instead for only the texts it reads, decoded once by its own decoder (so
exactly as before), and shares the items of code sequences it has seen
(:class:`Memo`: "L1", "BMD", "g/cm2" recur in every SR).

Hostile input: depth, item count and every length are bounded by the
buffer; anything not plainly well-formed (big endian, an element running
past its item, a delimiter where none belongs, a followed sequence with a
VR other than SQ, an undefined length outside a sequence ...) raises
:class:`Unexpected` and the caller falls back to pydicom, so the result is
never different from pydicom's reading, only faster.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

#: sequences the SR walker follows (ContentSequence, ConceptNameCodeSequence, ConceptCodeSequence,
#: MeasuredValueSequence, MeasurementUnitsCodeSequence)
SEQUENCES = frozenset({0x0040A730, 0x0040A043, 0x0040A168, 0x0040A300, 0x004008EA})
#: explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2)
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
                       b"UT", b"UV"})
#: every VR PS3.5 defines; two other bytes mean this is not explicit VR as pydicom reads it
_VRS = frozenset({b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
                  b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST",
                  b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV"})
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
MAX_DEPTH = 64
MAX_ITEMS = 200_000

_U32 = struct.Struct("<I")
_EXPLICIT_SHORT = struct.Struct("<HH2sH")
_IMPLICIT = struct.Struct("<HHI")


class Unexpected(Exception):
    """The bytes are not plainly well-formed: let pydicom read them."""


#: code sequences (ConceptNameCodeSequence, ConceptCodeSequence, MeasurementUnitsCodeSequence): the
#: same few bytes over and over in an SR ("L1" "BMD", "g/cm2"), so their items are parsed once per
#: :class:`Memo` and shared (read only)
CODE_SEQUENCES = frozenset({0x0040A043, 0x0040A168, 0x004008EA})
#: a code sequence longer than this is parsed every time (never kept)
_MEMO_BYTES = 1024
_MEMO_ENTRIES = 4096


class Memo:
    """Code sequences already parsed (with one decoder, one encoding): their bytes -> (items, item count)."""

    def __init__(self) -> None:
        self.seen: dict[bytes, tuple[list[dict[int, object]], int]] = {}

    def keep(self, key: bytes, items: list[dict[int, object]]) -> None:
        if len(self.seen) >= _MEMO_ENTRIES:
            self.seen.clear()  # bounded: hostile files cannot make it grow
        self.seen[key] = (items, len(items))


class _Parser:
    def __init__(self, buf: bytes, implicit: bool, decode: Callable[[bytes], str] | None = None,
                 texts: frozenset[int] = frozenset(), memo: Memo | None = None) -> None:
        self.buf = buf
        self.implicit = implicit
        self.items = 0
        self.decode = decode
        self.texts = texts
        self.keep = memo.keep if memo is not None and decode is not None else None
        self.memo = memo.seen if memo is not None and decode is not None else None

    def sequence(self, pos: int, end: int, length: int, depth: int) -> tuple[list[dict[int, object]], int]:
        """The items of a sequence whose value starts at ``pos``; and the position after it."""
        if depth > MAX_DEPTH:
            raise Unexpected("nested too deep")
        buf = self.buf
        items: list[dict[int, object]] = []
        if length != _UNDEFINED:
            stop = pos + length
            if stop > end:
                raise Unexpected("sequence past its container")
        else:
            stop = end
        while pos < stop:
            # an item or delimiter header: a tag and a 4-byte length, whatever the VR encoding
            if pos + 8 > stop:
                raise Unexpected("element header past the end")
            group, elem, ilen = _IMPLICIT.unpack_from(buf, pos)
            tag = (group << 16) | elem
            vpos = pos + 8
            if tag == _SEQ_END:
                if length != _UNDEFINED or ilen != 0:
                    raise Unexpected("sequence delimiter in a defined-length sequence")
                return items, vpos
            if tag != _ITEM:
                raise Unexpected("not an item")
            self.items += 1
            if self.items > MAX_ITEMS:
                raise Unexpected("too many items")
            item, pos = self.dataset(vpos, stop, ilen, depth + 1)
            items.append(item)
        if length == _UNDEFINED:
            raise Unexpected("undefined-length sequence without its delimiter")
        if pos != stop:
            raise Unexpected("item past its sequence")
        return items, pos

    def dataset(self, pos: int, end: int, length: int, depth: int) -> tuple[dict[int, object], int]:
        """One item's elements: followed sequences parsed, other values as bytes (or decoded text)."""
        buf = self.buf
        implicit = self.implicit
        decode = self.decode
        texts = self.texts
        out: dict[int, object] = {}
        if length != _UNDEFINED:
            stop = pos + length
            if stop > end:
                raise Unexpected("item past its sequence")
        else:
            stop = end
        while pos < stop:
            if pos + 8 > stop:
                raise Unexpected("element header past the end")
            group, elem, vr, vlen = _EXPLICIT_SHORT.unpack_from(buf, pos)
            tag = (group << 16) | elem
            if implicit or group == 0xFFFE:
                vr = None
                vlen = _U32.unpack_from(buf, pos + 4)[0]
                vpos = pos + 8
                if group == 0xFFFE:
                    if tag == _ITEM_END and length == _UNDEFINED and vlen == 0:
                        return out, vpos
                    raise Unexpected("delimiter inside an item")
            elif vr in _LONG_VRS:
                if pos + 12 > stop:
                    raise Unexpected("element header past the end")
                vlen = _U32.unpack_from(buf, pos + 8)[0]
                vpos = pos + 12
            elif vr in _VRS:
                vpos = pos + 8
            else:
                raise Unexpected("not an explicit VR")
            if tag in SEQUENCES:
                if vr is not None and vr != b"SQ":
                    raise Unexpected("a followed sequence with another VR")
                memo = self.memo
                if memo is not None and tag in CODE_SEQUENCES and vlen <= _MEMO_BYTES:
                    pos = vpos + vlen
                    if pos > stop:
                        raise Unexpected("sequence past its container")
                    key = buf[vpos:pos]
                    hit = memo.get(key)
                    if hit is not None:  # parsed before: the same items, counted and bounded the same
                        if depth > MAX_DEPTH:
                            raise Unexpected("nested too deep")
                        self.items += hit[1]
                        if self.items > MAX_ITEMS:
                            raise Unexpected("too many items")
                        out[tag] = hit[0]
                        continue
                    items, pos = self.sequence(vpos, stop, vlen, depth)
                    out[tag] = items
                    if all(type(v) is not list for item in items for v in item.values()):
                        self.keep(key, items)  # type: ignore[misc]
                    continue
                out[tag], pos = self.sequence(vpos, stop, vlen, depth)
                continue
            if vlen == _UNDEFINED:
                raise Unexpected("undefined length outside a followed sequence")
            pos = vpos + vlen
            if pos > stop:
                raise Unexpected("value past its item")
            if decode is not None:
                if tag in texts:  # what the caller reads, decoded once here
                    out[tag] = decode(buf[vpos:pos]) if vlen else ""
            elif vlen == 0:
                # what pydicom's raw element holds for an empty value: b"" for text VRs, None for
                # binary and unknown ones; the SR walker reads either as ""
                out[tag] = b""
            else:
                out[tag] = buf[vpos:pos]
        if length == _UNDEFINED:
            raise Unexpected("undefined-length item without its delimiter")
        return out, pos


def parse_sequence(value: bytes, implicit: bool, little_endian: bool,
                   decode: Callable[[bytes], str] | None = None, texts: frozenset[int] = frozenset(),
                   memo: Memo | None = None) -> list[dict[int, object]]:
    """The items of a raw sequence value (as pydicom's ``RawDataElement.value`` holds it).

    With ``decode``, only the followed sequences and the ``texts`` tags are
    kept, each text as ``decode(value bytes)`` ("" when empty): what the SR
    walker reads, decoded once. ``memo`` (with ``decode``; one memo per
    decoder and encoding) shares the items of code sequences already seen.

    Raises :class:`Unexpected` for anything this lean reader does not
    handle exactly like pydicom; the caller then uses pydicom.
    """
    if not little_endian:
        raise Unexpected("big endian")
    buf = bytes(value)
    items, pos = _Parser(buf, implicit, decode, texts, memo).sequence(0, len(buf), len(buf), 0)
    if pos != len(buf):
        raise Unexpected("bytes after the last item")
    return items
