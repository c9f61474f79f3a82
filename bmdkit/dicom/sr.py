"""Results in a structured report (Enhanced / Comprehensive SR), read by meaning.

No bone densitometry SR template exists (vendor_dicom.md §3) and neither
vendor's SR content is public, so nothing here assumes a tree shape. The
content tree is walked depth-first; every NUM item is placed from:

- its concept name (meaning text, and LOINC codes from edc.md where the
  coding scheme is LN), e.g. "L2 BMD", "Left Femoral Neck T-score", "骨密度";
- the names of its enclosing containers ("Left Femur" > "Neck", "腰椎" > "L1");
- its unit (g/cm2, g, cm2, {T-score}) where the name gives no measure.

Items saying a vertebra is excluded (or not included) mark it; a total named
by a range ("L2-L4") covers those levels. A NUM that looks like a result but
cannot be placed is reported, never guessed.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from bmdkit.dicom import srtree, words
from bmdkit.dicom.base import charsets, decode_text, memo, parse_number, value_of
from bmdkit.dicom.collect import Collector
from bmdkit.dicom.srplace import PLACED, Placement, code_value_meaning, name_meaning, placement
from bmdkit.flags import FlagCode
from bmdkit.model import Flag, Method, Side

SR_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR",
    "1.2.840.10008.5.1.4.1.1.88.35": "Extensible SR",
}

_MAX_DEPTH = 32
_MAX_ITEMS = 20000


def _content_path(path: str) -> str:
    """The content path as a flag names it (the root when empty)."""
    return path.rstrip(".") or "content"


def is_sr(ds: Dataset) -> bool:
    return memo(ds, "is_sr", lambda: _is_sr(ds))


def _is_sr(ds: Dataset) -> bool:
    return str(value_of(ds, "SOPClassUID", "")) in SR_SOP_CLASSES or (
        str(value_of(ds, "Modality", "")).upper() == "SR" and "ContentSequence" in ds)


# tags read from every content item (looked up by number: keyword lookups cost more)
_VALUE_TYPE, _CONTENT, _CONCEPT_NAME, _CONCEPT_CODE = 0x0040A040, 0x0040A730, 0x0040A043, 0x0040A168
_MEASURED, _UNITS, _NUMERIC, _TEXT_VALUE = 0x0040A300, 0x004008EA, 0x0040A30A, 0x0040A160
_CODE_VALUE, _SCHEME, _CODE_MEANING = 0x00080100, 0x00080102, 0x00080104
_RELATIONSHIP = 0x0040A010
#: relationships by which a child qualifies its parent NUM (PS3.3 C.17.3.2.4)
_MODIFIER_RELATIONSHIPS = frozenset({"HAS CONCEPT MOD", "HAS OBS CONTEXT", "HAS PROPERTIES"})
#: the text values the walker reads (:meth:`_SRWalker.s`): the lean tree holds them decoded
_TEXTS = frozenset({_VALUE_TYPE, _NUMERIC, _TEXT_VALUE, _CODE_VALUE, _SCHEME, _CODE_MEANING, _RELATIONSHIP})
#: code sequences already parsed, per (character sets, implicit VR): see :class:`.srtree.Memo`
_MEMOS: dict[tuple[tuple[str, ...], bool], srtree.Memo] = {}


def _memo(cs: list[str], implicit: bool) -> srtree.Memo:
    key = (tuple(cs), implicit)
    memo = _MEMOS.get(key)
    if memo is None:
        if len(_MEMOS) >= 64:
            _MEMOS.clear()
        memo = _MEMOS[key] = srtree.Memo()
    return memo


def _seq(item: Dataset | dict, tag: int) -> Sequence | list:  # type: ignore[type-arg]
    if type(item) is dict:  # an item of the lean content tree (srtree): followed sequences are lists
        value = item.get(tag)
        return value if isinstance(value, list) else []  # a list, or the memo's srtree.Shared
    try:
        return item[tag].value if tag in item else []
    except Exception:  # noqa: BLE001
        return []


def read_sr(ds: Dataset, context: words.Meaning) -> Collector:
    """Every placeable NUM item of the SR content tree; ``context`` is the file's scan meaning."""
    return _SRWalker(ds).run(context)


class _SRWalker:
    """One walk over one SR's content tree (holds its character sets and the collector)."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.cs = charsets(ds)
        #: the content tree is :mod:`.srtree`'s (every item a dict, every sequence a list of them)
        self.lean = False
        self.tables: dict[int, tuple[words.Meaning, dict[tuple[object, ...], Placement]]] = {}
        self.merges: dict[tuple[int, int], tuple[words.Meaning, words.Meaning, words.Meaning]] = {}
        self.col = Collector(Method.DICOM_SR, "structured report")
        self.count = 0

    def run(self, context: words.Meaning) -> Collector:
        root_m = name_meaning(*self.concept(self.ds, _CONCEPT_NAME))[0] if _CONCEPT_NAME in self.ds else _NOTHING
        self.walk(self.ds, root_m.merged_under(context), "", 0)
        return self.col

    def root_content(self) -> Sequence | list:  # type: ignore[type-arg]
        """The root ContentSequence: read from its raw bytes by :mod:`.srtree` when they are plain.

        Anything the lean reader does not take (already converted, big
        endian, UN, damaged ...) is read by pydicom exactly as before.
        """
        try:
            elem = self.ds.get_item(_CONTENT)
        except Exception:  # noqa: BLE001
            elem = None
        if isinstance(elem, RawDataElement) and isinstance(elem.value, (bytes, bytearray)) and (
                elem.VR == "SQ" or (elem.VR is None and elem.is_implicit_VR)):
            try:
                items = srtree.parse_sequence(elem.value, elem.is_implicit_VR, elem.is_little_endian,
                                              self.decode, _TEXTS, _memo(self.cs, elem.is_implicit_VR))
            except (srtree.Unexpected, struct.error, IndexError):
                pass
            else:
                # what converting it would have made of the element: a sequence, not text to search
                self.ds.__dict__["_bmdkit_content_read"] = True
                self.lean = True
                return items
        return _seq(self.ds, _CONTENT)

    # -- value access ---------------------------------------------------------
    def decode(self, raw: bytes) -> str:
        """The text of a value's raw bytes, as :meth:`s` reads it (the lean tree decodes with this;
        :mod:`.srtree` keeps what it decoded, per character sets)."""
        return decode_text(raw, self.cs).strip()

    def s(self, item: Dataset | dict, tag: int) -> str:  # type: ignore[type-arg]
        """A text value decoded from raw bytes (declared set, then the fallbacks)."""
        if type(item) is dict:  # lean content tree: the _TEXTS values, decoded by :meth:`decode`
            value = item.get(tag)
            return value if type(value) is str else ""
        try:
            elem = item.get_item(tag)
        except Exception:  # noqa: BLE001
            return ""
        if elem is None:
            return ""
        value = elem.value
        if isinstance(value, (bytes, bytearray)):
            return decode_text(bytes(value), self.cs).strip()
        return str(value).strip() if value is not None else ""

    def code(self, seq: object) -> tuple[str, str, str]:
        """(meaning, value, scheme) of the first item of a code sequence, or blanks."""
        try:
            item = seq[0]  # type: ignore[index]
        except Exception:  # noqa: BLE001
            return _BLANK
        if type(item) is dict:  # lean content tree: its texts are str, decoded as :meth:`s` gives them
            get = item.get
            return (get(_CODE_MEANING, ""), get(_CODE_VALUE, ""),  # type: ignore[return-value]
                    get(_SCHEME, ""))
        return self.s(item, _CODE_MEANING), self.s(item, _CODE_VALUE), self.s(item, _SCHEME)

    def concept(self, item: Dataset | dict, tag: int) -> tuple[str, str, str]:  # type: ignore[type-arg]
        """:meth:`code` of an item's code sequence ``tag`` (a lean item's read at once)."""
        if type(item) is dict:  # lean: a followed sequence is a list of dicts, or absent
            seq = item.get(tag)
            if not seq:
                return _BLANK
            get = seq[0].get  # type: ignore[index]
            return get(_CODE_MEANING, ""), get(_CODE_VALUE, ""), get(_SCHEME, "")
        return self.code(_seq(item, tag))

    # -- the walk -------------------------------------------------------------
    def walk(self, node: Dataset, ctx: words.Meaning, path: str, depth: int) -> None:
        """Every item under ``node`` (its paths start with ``path``), placed under ``ctx``."""
        if depth > _MAX_DEPTH:
            self.col.unplaced_value(f"{path or 'content'} (nested deeper than {_MAX_DEPTH})")
            return
        if node is self.ds:
            seq = self.root_content()
        else:
            seq = node.get(_CONTENT) if self.lean else _seq(node, _CONTENT)  # type: ignore[attr-defined]
        if not seq:
            return
        # a shared list (srtree.Shared: a NUM's modifiers) says the same wherever it recurs
        rows, site = _said(seq, "group", self.group) if type(seq) is srtree.Shared else self.group(seq)
        ctx = self.merged(site, ctx)
        for i, (item, vt, name, m, label, verdict) in enumerate(rows):
            self.count += 1
            if self.count > _MAX_ITEMS:
                if self.count == _MAX_ITEMS + 1:  # said once: a cut-off tree must not read as complete
                    self.col.unplaced_value(f"{_content_path(path)} (more than {_MAX_ITEMS} content items: "
                                            "the rest was not read)")
                return
            if vt == "CONTAINER":
                self.walk(item, self.merged(m, ctx), f"{path}ContentSequence[{i}].", depth + 1)
                continue
            if vt == "NUM":
                self.num(item, m, label, name, ctx, path, i)
            elif verdict is not None:  # a TEXT/CODE item that says excluded or included: of a vertebra?
                # the region of m.merged_under(ctx) (words.Meaning.merged_under), without building it
                region = m.region or (None if m.total else ctx.region)
                if region is not None and region.is_vertebra:
                    self.col.mark(region, verdict, f"{path}ContentSequence[{i}]")
            if _CONTENT in item:
                self.walk(item, self.merged(m, ctx), f"{path}ContentSequence[{i}].", depth + 1)

    def group(self, seq: Sequence | list) -> tuple[list[_Row], words.Meaning]:  # type: ignore[type-arg]
        """What the walk reads of each item of a sequence (:data:`_Row`), and the site their
        CODE/TEXT items name (:meth:`site_context`)."""
        rows: list[_Row] = []
        for item in seq:
            vt = (item.get(_VALUE_TYPE, "") if self.lean else self.s(item, _VALUE_TYPE)).upper()
            name = self.concept(item, _CONCEPT_NAME)
            m, label = name_meaning(*name)
            rows.append((item, vt, name, m, label,
                         self.exclusion(item, m, vt) if vt in ("TEXT", "CODE") else None))
        return rows, self.site_context(seq, [row[1] for row in rows])

    def placements(self, ctx: words.Meaning) -> dict[tuple[object, ...], Placement]:
        """The placements remembered under ``ctx`` (:class:`.srplace.Placements`), found once per
        context in this walk (the context is kept with them, so its id stays its own)."""
        hit = self.tables.get(id(ctx))
        if hit is None:
            hit = self.tables[id(ctx)] = (ctx, PLACED.table(ctx))
        return hit[1]

    def merged(self, m: words.Meaning, ctx: words.Meaning) -> words.Meaning:
        """``m.merged_under(ctx)``, made once per pair in this walk (the pair is kept with it, so
        their ids stay theirs): siblings share their context, and so the placements of their NUMs."""
        key = (id(m), id(ctx))
        hit = self.merges.get(key)
        if hit is None:
            hit = self.merges[key] = (m, ctx, m.merged_under(ctx))
        return hit[2]

    def num(self, item: Dataset, m: words.Meaning, label: str, name: tuple[str, str, str],
            ctx: words.Meaning, path: str, i: int) -> None:
        """Place one NUM (``name``: its concept name; it is item ``i`` under ``path``): region and
        side from its name, then its modifiers, then its context.

        Where it goes is a pure function of the concept name, the unit, the
        modifiers and the context (:func:`.srplace.placement`), remembered for the
        next NUM that says the same (the same names recur in every SR).
        """
        if self.lean:
            mvs = item.get(_MEASURED)
            if not mvs:
                return
            mv = mvs[0]
            raw = mv.get(_NUMERIC) or None
        else:
            mvs = _seq(item, _MEASURED)
            if not mvs:
                return
            mv = mvs[0]
            raw = self.s(mv, _NUMERIC) or None
        unit_text, unit_code, _ = self.concept(mv, _UNITS)
        mods, mod_texts = self.modifiers(item)
        # the modifiers' meaning is in the key, None for the shared nothing (cheaper to hash; equal)
        key = (name, unit_code, unit_text, None if mods is _NOTHING else mods, mod_texts)
        placed = self.placements(ctx).get(key)
        if placed is None:
            placed = placement(m, label, name, unit_code, unit_text, mods, mod_texts, ctx)
            if PLACED.keep(ctx, key, placed):
                self.tables.clear()
        region, side, measure, note, extra = placed
        if region is None:
            if note is not None:
                self.col.unplaced_value(f"{path}ContentSequence[{i}] '{label}' ({note})")
            return
        here = f"{path}ContentSequence[{i}]"
        if note:  # the unit named the measure against the name
            self.col.flags.append(Flag(FlagCode.SOURCES_DISAGREE,
                                       f"{extra.name}: SR item {here} '{label}': {note}", region=extra.name))
        self.col.add(region, side, measure, _number(raw), here, raw=raw,  # type: ignore[arg-type]
                     label=extra.label, vertebrae=extra.vertebrae)  # type: ignore[union-attr]

    def modifiers(self, item: Dataset) -> tuple[words.Meaning, tuple[str, ...]]:
        """What HAS CONCEPT MOD / HAS OBS CONTEXT children say (Finding Site, Laterality), and their texts.

        A lean tree's modifier lists are shared (:mod:`.srtree` keeps them once), so what one says
        is remembered with the list (:func:`_said`).
        """
        seq = item.get(_CONTENT) if self.lean else _seq(item, _CONTENT)  # type: ignore[attr-defined]
        if not seq:
            return _NO_MODIFIERS
        if type(seq) is srtree.Shared:
            return _said(seq, "modifiers", self.read_modifiers)  # type: ignore[return-value]
        return self.read_modifiers(seq)

    def read_modifiers(self, seq: Sequence | list) -> tuple[words.Meaning, tuple[str, ...]]:  # type: ignore[type-arg]
        found = words.nothing()
        texts: list[str] = []
        for child in seq:
            rel = self.s(child, _RELATIONSHIP).upper()
            if rel not in _MODIFIER_RELATIONSHIPS or self.s(child, _VALUE_TYPE).upper() not in ("CODE", "TEXT"):
                continue
            value_m, value_text = self.site_value_text(child)
            found = value_m.merged_under(found)
            texts.append(value_text)
            for mod in _seq(child, _CONTENT):  # Laterality beneath Finding Site
                if self.s(mod, _VALUE_TYPE).upper() in ("CODE", "TEXT"):
                    sub_m, sub_text = self.site_value_text(mod)
                    found = sub_m.merged_under(found)
                    texts.append(sub_text)
        return found, tuple(texts)

    def site_context(self, seq: object, types: list[str]) -> words.Meaning:
        """Region and side that CODE/TEXT siblings name for a whole group (TID 1501 style).

        A measurement group says where its numbers were measured with items
        such as "Finding Site" = "Neck of femur" (with a "Laterality" = "Left"
        modifier beneath it); those apply to every sibling NUM. ``types``: the items' value types.
        """
        found = words.nothing()
        if "CODE" not in types and "TEXT" not in types:
            return found
        for item, vt in zip(seq, types):  # type: ignore[call-overload]
            if vt not in ("CODE", "TEXT"):
                continue
            name = self.concept(item, _CONCEPT_NAME)[0]
            if words.first(name, "header") not in ("site", "region"):
                continue
            found = self.site_value(item).merged_under(found)
            for mod in _seq(item, _CONTENT):  # modifiers such as Laterality
                if self.s(mod, _VALUE_TYPE).upper() in ("CODE", "TEXT"):
                    found = self.site_value(mod).merged_under(found)
        return found

    def site_value(self, item: Dataset) -> words.Meaning:
        return self.site_value_text(item)[0]

    def site_value_text(self, item: Dataset) -> tuple[words.Meaning, str]:
        """The meaning of a CODE/TEXT item's value (SNOMED codes known in reference_data), and its text."""
        if self.s(item, _VALUE_TYPE).upper() == "TEXT":
            value = self.s(item, _TEXT_VALUE)
            return words.meaning(value), value
        return code_value_meaning(*self.concept(item, _CONCEPT_CODE))

    def exclusion(self, item: Dataset, m: words.Meaning, vt: str) -> bool | None:
        """Whether a TEXT/CODE item named ``m`` says excluded (True) or included (False), or neither
        (None); the walk marks it where its name and context make it a vertebra's."""
        if vt == "TEXT":
            value_text = self.s(item, _TEXT_VALUE)
        else:
            value_text = self.concept(item, _CONCEPT_CODE)[0]
        value_m = words.meaning(value_text)
        flag = words.boolean(value_text)
        if m.excluded is not None and flag is not None:
            return m.excluded if flag else not m.excluded
        return value_m.excluded


#: what the walk reads of a content item: the item, its value type, concept name (meaning, value,
#: scheme), the name's meaning and label, and for TEXT/CODE whether it says excluded (:meth:`_SRWalker.exclusion`)
_Row = tuple[object, str, tuple[str, str, str], words.Meaning, str, "bool | None"]
_BLANK = ("", "", "")
_NOTHING = words.nothing()
_NO_MODIFIERS: tuple[words.Meaning, tuple[str, ...]] = (_NOTHING, ())


def _said(seq: srtree.Shared, what: str, read: Callable[[srtree.Shared], object]) -> object:
    """``read(seq)``, made once for the shared list ``seq`` and kept with it (as long as the memo
    keeps it: bounded there): a lean tree is read only, and its items' texts, decoded with the
    memo's character sets, are all the reading depends on."""
    out = seq.said.get(what, _UNSAID)
    if out is _UNSAID:
        out = seq.said[what] = read(seq)
    return out


_UNSAID = object()


#: a NUM's number from its text (:func:`.base.parse_number`, a pure function of the text), remembered
_number = functools.lru_cache(maxsize=4096)(parse_number)


__all__ = ["SR_SOP_CLASSES", "Side", "is_sr", "read_sr"]
