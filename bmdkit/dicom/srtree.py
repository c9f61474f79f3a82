"""A lean, bounded reader of an SR content tree's raw bytes (what :mod:`.sr` needs, nothing more).

pydicom expands a raw sequence into a :class:`~pydicom.dataset.Dataset` per
item and a converted element per access; for a content tree of a few
hundred items that costs some ten times the whole header read. The SR
walker reads only a handful of tags per item, so this module parses the
sequence bytes once into plain dicts: ``{tag: bytes}`` for values and
``{tag: [item, ...]}`` for the few sequences the walker follows
(:data:`SEQUENCES`). Values are the undecoded bytes pydicom's
``Dataset.get_item(tag).value`` gives for the same element; the walker asks
instead for only the texts it reads, decoded by its own decoder (so exactly
as before) once per :class:`Memo`, which also shares the items of code
sequences and of value-free content sequences it has seen ("L1", "BMD",
"g/cm2", a NUM's "Finding Site" modifiers recur in every SR): a reader may
keep what it made of such a shared list with it (:class:`Shared`).

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
#: same few bytes over and over in an SR ("L1" "BMD", "g/cm2")
CODE_SEQUENCES = frozenset({0x0040A043, 0x0040A168, 0x004008EA})
#: sequences whose items are parsed once per :class:`Memo` and shared (read only): the code
#: sequences, and content sequences that hold no measured value (a NUM's modifiers, "Finding
#: Site" = "First lumbar vertebra", recur in every SR of a kind; a group of values does not)
MEMO_SEQUENCES = CODE_SEQUENCES | {0x0040A730}
_MEASURED = 0x0040A300
#: a sequence longer than this is parsed every time (never kept)
_MEMO_BYTES = 1024
_MEMO_ENTRIES = 4096
#: decoded texts kept per :class:`Memo`
_TEXT_ENTRIES = 8192


class Shared(list):  # type: ignore[type-arg]
    """The items of a sequence kept in a :class:`Memo`: the same list wherever those bytes recur
    (equal to a plain list of the same items). Read only; ``said`` holds what a reader made of
    them (under its own keys), so that is made once too, and lives as long as the items."""

    __slots__ = ("said",)

    def __init__(self, items: list[dict[int, object]]) -> None:
        super().__init__(items)
        self.said: dict[str, object] = {}


class Memo:
    """What one decoder, one encoding already read: sequences' bytes -> (items, item count, depth
    below), and texts' bytes -> decoded text. Both bounded: hostile files cannot make them grow."""

    def __init__(self) -> None:
        self.seen: dict[bytes, tuple[Shared, int, int]] = {}
        self.texts: dict[bytes, str] = {}

    def keep(self, key: bytes, items: list[dict[int, object]], count: int) -> Shared:
        """Keep a parsed sequence: its items, how many items it holds in all, how deep it nests."""
        if len(self.seen) >= _MEMO_ENTRIES:
            self.seen.clear()
        shared = Shared(items)
        self.seen[key] = (shared, count, _levels(items))
        return shared


def _holds(items: list[dict[int, object]], tag: int) -> bool:
    """Whether any item of ``items``, or of a sequence within them, has ``tag``."""
    return any(tag in item or any(isinstance(v, list) and _holds(v, tag) for v in item.values())
               for item in items)


def _levels(items: list[dict[int, object]]) -> int:
    """How many sequence levels lie below a sequence with ``items`` (0: no nested sequence)."""
    return max((1 + _levels(v) for item in items for v in item.values() if isinstance(v, list)), default=0)


class _Parser:
    def __init__(self, buf: bytes, implicit: bool, decode: Callable[[bytes], str] | None = None,
                 texts: frozenset[int] = frozenset(), memo: Memo | None = None) -> None:
        self.buf = buf
        self.implicit = implicit
        self.items = 0
        self.decode = decode
        self.texts = texts
        self.memo = memo if memo is not None and decode is not None else None
        self.decoded = self.memo.texts if self.memo is not None else {}

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
        texts = self.texts
        decoded = self.decoded if self.decode is not None else None  # None: keep every value's bytes
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
                if self.memo is not None and tag in MEMO_SEQUENCES:
                    out[tag], pos = self.followed(vpos, stop, vlen, depth, tag in CODE_SEQUENCES)
                else:
                    out[tag], pos = self.sequence(vpos, stop, vlen, depth)
                continue
            if vlen == _UNDEFINED:
                raise Unexpected("undefined length outside a followed sequence")
            pos = vpos + vlen
            if pos > stop:
                raise Unexpected("value past its item")
            if decoded is not None:
                if tag in texts:  # what the caller reads, decoded once (per memo)
                    if vlen:
                        raw = buf[vpos:pos]
                        out[tag] = decoded.get(raw) or self.text(raw)
                    else:
                        out[tag] = ""
            else:  # an empty value as b"" (pydicom: b"" for text VRs, None for others; read alike)
                out[tag] = buf[vpos:pos]
        if length == _UNDEFINED:
            raise Unexpected("undefined-length item without its delimiter")
        return out, pos

    def followed(self, vpos: int, stop: int, vlen: int, depth: int,
                 code: bool) -> tuple[list[dict[int, object]], int]:
        """A :data:`MEMO_SEQUENCES` sequence's items (from the memo when its bytes were parsed
        before), and the position after it; ``code``: it is a code sequence."""
        memo = self.memo
        if memo is None or vlen > _MEMO_BYTES:
            return self.sequence(vpos, stop, vlen, depth)
        pos = vpos + vlen
        if pos > stop:
            raise Unexpected("sequence past its container")
        key = self.buf[vpos:pos]
        hit = memo.seen.get(key)
        if hit is not None:  # parsed before: the same items, counted and bounded the same
            if depth + hit[2] > MAX_DEPTH:
                raise Unexpected("nested too deep")
            self.items += hit[1]
            if self.items > MAX_ITEMS:
                raise Unexpected("too many items")
            return hit[0], pos
        before = self.items
        items, pos = self.sequence(vpos, stop, vlen, depth)
        if code or not _holds(items, _MEASURED):
            return memo.keep(key, items, self.items - before), pos
        return items, pos

    def text(self, raw: bytes) -> str:
        """``decode(raw)``, decoded once per memo."""
        decoded = self.decoded
        out = decoded.get(raw)
        if out is None:
            if len(decoded) >= _TEXT_ENTRIES:
                decoded.clear()
            out = decoded[raw] = self.decode(raw)  # type: ignore[misc]
        return out


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
