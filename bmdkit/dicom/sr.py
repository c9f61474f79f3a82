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
from dataclasses import dataclass

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from bmdkit.dicom import srtree, words
from bmdkit.dicom.base import charsets, decode_text, memo, parse_number, value_of
from bmdkit.dicom.collect import Collector
from bmdkit.flags import FlagCode
from bmdkit.model import Flag, Method, Region, Side

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
        return value if type(value) is list else []
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
        self.decoded: dict[bytes, str] = {}
        self.col = Collector(Method.DICOM_SR, "structured report")
        self.count = 0

    def run(self, context: words.Meaning) -> Collector:
        root_m = self.name_meaning(self.ds)[0] if _CONCEPT_NAME in self.ds else words.nothing()
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
                return items
        return _seq(self.ds, _CONTENT)

    # -- value access ---------------------------------------------------------
    def decode(self, raw: bytes) -> str:
        """The text of a value's raw bytes, as :meth:`s` reads it (the lean tree decodes with this)."""
        out = self.decoded.get(raw)
        if out is None:  # decode_text is a pure function of the bytes and the character sets
            out = self.decoded[raw] = decode_text(raw, self.cs).strip()
        return out

    def s(self, item: Dataset | dict, tag: int) -> str:
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
            return "", "", ""
        if type(item) is dict:  # lean content tree: its texts are str, decoded as :meth:`s` gives them
            get = item.get
            return (get(_CODE_MEANING, ""), get(_CODE_VALUE, ""),  # type: ignore[return-value]
                    get(_SCHEME, ""))
        return self.s(item, _CODE_MEANING), self.s(item, _CODE_VALUE), self.s(item, _SCHEME)

    def name_meaning(self, item: Dataset) -> tuple[words.Meaning, str]:
        return _name_meaning(*self.code(_seq(item, _CONCEPT_NAME)))

    # -- the walk -------------------------------------------------------------
    def walk(self, node: Dataset, ctx: words.Meaning, path: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            self.col.unplaced_value(f"{path or 'content'} (nested deeper than {_MAX_DEPTH})")
            return
        seq = self.root_content() if node is self.ds else _seq(node, _CONTENT)
        if not seq:
            return
        types = [self.s(item, _VALUE_TYPE).upper() for item in seq]
        ctx = self.site_context(seq, types).merged_under(ctx)
        for i, (item, vt) in enumerate(zip(seq, types)):
            self.count += 1
            if self.count > _MAX_ITEMS:
                if self.count == _MAX_ITEMS + 1:  # said once: a cut-off tree must not read as complete
                    self.col.unplaced_value(f"{_content_path(path)} (more than {_MAX_ITEMS} content items: "
                                            "the rest was not read)")
                return
            here = f"{path}ContentSequence[{i}]"
            m, label = self.name_meaning(item)
            if vt == "CONTAINER":
                self.walk(item, m.merged_under(ctx), here + ".", depth + 1)
                continue
            if vt == "NUM":
                self.num(item, m, label, ctx, here)
            elif vt in ("TEXT", "CODE"):
                self.exclusion(item, m, vt, ctx, here)
            if _CONTENT in item:
                self.walk(item, m.merged_under(ctx), here + ".", depth + 1)

    def num(self, item: Dataset, m: words.Meaning, label: str, ctx: words.Meaning, path: str) -> None:
        """Place one NUM: region and side from its name, then its modifiers, then its context.

        Where it goes is a pure function of the concept name, the unit, the
        modifiers and the context (:func:`_placement`), remembered for the
        next NUM that says the same (the same names recur in every SR).
        """
        mvs = _seq(item, _MEASURED)
        if not mvs:
            return
        mv = mvs[0]
        raw = self.s(mv, _NUMERIC) or None
        value = parse_number(raw)
        unit_text, unit_code, _ = self.code(_seq(mv, _UNITS))
        mods, mod_texts = self.modifiers(item)
        key = (self.code(_seq(item, _CONCEPT_NAME)), unit_code, unit_text, mods, tuple(mod_texts), ctx)
        placed = _PLACED.get(key)
        if placed is None:
            if len(_PLACED) >= _PLACED_ENTRIES:
                _PLACED.clear()  # bounded: hostile files cannot make it grow
            placed = _PLACED[key] = _placement(m, label, key[0], unit_code, unit_text, mods, mod_texts, ctx)
        region, side, measure, note, extra = placed
        if region is None:
            if note is not None:
                self.col.unplaced_value(f"{path} '{label}' ({note})")
            return
        if note:  # the unit named the measure against the name
            self.col.flags.append(Flag(FlagCode.SOURCES_DISAGREE,
                                       f"{extra.name}: SR item {path} '{label}': {note}", region=extra.name))
        self.col.add(region, side, measure, value, path, raw=raw, label=extra.label,  # type: ignore[arg-type]
                     vertebrae=extra.vertebrae)

    def modifiers(self, item: Dataset) -> tuple[words.Meaning, list[str]]:
        """What HAS CONCEPT MOD / HAS OBS CONTEXT children say (Finding Site, Laterality), and their texts."""
        found = words.nothing()
        texts: list[str] = []
        for child in _seq(item, _CONTENT):
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
        return found, texts

    def site_context(self, seq: object, types: list[str]) -> words.Meaning:
        """Region and side that CODE/TEXT siblings name for a whole group (TID 1501 style).

        A measurement group says where its numbers were measured with items
        such as "Finding Site" = "Neck of femur" (with a "Laterality" = "Left"
        modifier beneath it); those apply to every sibling NUM. ``types``: the items' value types.
        """
        found = words.nothing()
        for item, vt in zip(seq, types):  # type: ignore[call-overload]
            if vt not in ("CODE", "TEXT"):
                continue
            name = self.code(_seq(item, _CONCEPT_NAME))[0]
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
        return _code_value_meaning(*self.code(_seq(item, _CONCEPT_CODE)))

    def exclusion(self, item: Dataset, m: words.Meaning, vt: str, ctx: words.Meaning,
                  path: str) -> None:
        """TEXT/CODE items that say a vertebra is excluded or included."""
        if vt == "TEXT":
            value_text = self.s(item, _TEXT_VALUE)
        else:
            value_text = self.code(_seq(item, _CONCEPT_CODE))[0]
        full = m.merged_under(ctx)
        vertebra = full.region if full.region is not None and full.region.is_vertebra else None
        if vertebra is None:
            return
        value_m = words.meaning(value_text)
        flag = words.boolean(value_text)
        if m.excluded is not None and flag is not None:
            excluded = m.excluded if flag else not m.excluded
        elif value_m.excluded is not None:
            excluded = value_m.excluded
        else:
            return
        self.col.mark(vertebra, excluded, path)


#: (region, side, measure, conflict or why not placed, what the value is recorded with)
_Placement = tuple["Region | None", "Side | None", "str | None", "str | None", "_Placed | None"]
#: where NUMs were placed (:func:`_placement`), by what decides it: see :meth:`_SRWalker.num`
_PLACED: dict[tuple[object, ...], _Placement] = {}
_PLACED_ENTRIES = 8192


@dataclass(frozen=True)
class _Placed:
    """What a placed NUM's value is recorded with: the result's name (for a flag), label, vertebrae."""

    name: str
    label: str | None
    vertebrae: tuple[Region, ...] | None


def _placement(m: words.Meaning, label: str, concept: tuple[str, str, str], unit_code: str, unit_text: str,
               mods: words.Meaning, mod_texts: list[str], ctx: words.Meaning) -> _Placement:
    """Where a NUM goes: (region, side, measure, conflict, what it is recorded with), or with no
    region, why it is not placed (None: dropped without a word).

    ``m`` and ``label`` are the meaning and label of the ``concept`` name
    (:func:`_name_meaning`); ``mods`` and ``mod_texts`` what its modifiers
    say; ``ctx`` the meaning of its context.
    """
    own = m.merged_under(mods)
    full = own.merged_under(ctx)
    verdict = words.weigh_unit(own.measure or full.measure, unit_code, unit_text)
    if verdict.measure is None:
        why = f"{verdict.why}" if own.region or own.total or own.context or full.measure else None
        return None, None, None, why, None
    if verdict.measure == "percent":
        return None, None, None, None, None
    region = words.resolve_region(full)
    if region is None and not full.diff:
        region = _whole_site(concept, label, mod_texts)
    if region is None or full.diff:
        if full.diff:
            return None, None, None, None, None
        return None, None, None, ("no region" + (": a femur value with no finding site"
                                                 if full.context == "hip" else "")), None
    side = full.side if region.is_hip else None
    name = region.value + (f"/{side.value}" if side else "")
    return region, side, verdict.measure, verdict.conflict, _Placed(name, _label(full), full.vertebrae)


def _whole_site(concept: tuple[str, str, str], label: str, mod_texts: list[str]) -> Region | None:
    """The region of a whole-site measurement ('DXA Lumbar spine [...]' -> L1-L4 total)."""
    _, code, scheme = concept
    if scheme.upper() in ("LN", "LOINC") and code in words.loinc_site_regions():
        return words.loinc_site_regions()[code]
    for t in (label, *mod_texts):
        region = words.whole_site(t)
        if region is not None:
            return region
    return None


@functools.lru_cache(maxsize=4096)
def _name_meaning(meaning_text: str, code: str, scheme: str) -> tuple[words.Meaning, str]:
    """The meaning of a concept name (its text, and a LOINC code, which decides), and its label."""
    m = words.meaning(meaning_text)
    if scheme.upper() in ("LN", "LOINC") and code in words.loinc_codes():
        ctx, side, measure = words.loinc_codes()[code]
        m = words.Meaning(region=m.region, total=m.total, vertebrae=m.vertebrae,
                          side=m.side or side, diff=m.diff, context=m.context or ctx,
                          measure=measure or m.measure, excluded=m.excluded)  # the code decides
    return words.shared(m), meaning_text or code


@functools.lru_cache(maxsize=4096)
def _code_value_meaning(meaning_text: str, code: str, scheme: str) -> tuple[words.Meaning, str]:
    """The meaning of a CODE item's value (SNOMED codes known in reference_data), and its text."""
    m = words.meaning(meaning_text)
    if scheme.upper() in ("SCT", "SRT", "SNM3") and code in words.snomed_codes():
        m = m.merged_under(words.snomed_codes()[code])
        meaning_text = meaning_text or words.snomed_display(code)
    return words.shared(m), meaning_text


def _label(m: words.Meaning) -> str | None:
    if m.vertebrae:
        idx = [int(v.value[1]) for v in m.vertebrae]
        if idx == list(range(idx[0], idx[0] + len(idx))):
            return f"{m.vertebrae[0].value}-{m.vertebrae[-1].value}"
        return ",".join(v.value for v in m.vertebrae)
    return None


__all__ = ["SR_SOP_CLASSES", "Side", "is_sr", "read_sr"]
