"""What a label means: region, side, measure, context words in English and Chinese.

Every reader of DICOM results (SR concept names, script-table headers and
row labels, XML element and attribute names) asks this module what a piece
of text means, so that values are found by meaning and never by a fixed tag,
order or schema. The words are the ``dicom`` rows of ``reference_data/vocabulary.csv``
(one cited row each, :mod:`bmdkit.vocabulary`); LOINC codes in ``reference_data/dicom_loinc.csv``.

Matching rules, chosen to survive unseen spellings:

- text is normalised (HTML tags dropped, NFKC, ``²`` to ``2``) and split into
  tokens at non-alphanumerics, camelCase and digit/letter boundaries, so
  ``TScore``, ``T_Score`` and ``T-score`` are the same tokens;
- an ASCII word matches a contiguous run of tokens; a Chinese word matches
  as a substring; the longest match wins where words overlap;
- lumbar ranges (``L2-L4``, ``L1,L3``, ``L1-L2,L4``) are recognised before
  single vertebrae.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from bmdkit import reference, vocabulary
from bmdkit.model import Region, Side
from bmdkit.vocabulary import REGION_BY_KEY, SIDE_BY_KEY

_TAG = re.compile(r"<[^>]{0,200}>")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=\d)(?=[A-Za-z]{2})")
_SPLIT = re.compile(r"[^0-9a-z%\u4e00-\u9fff]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
#: region and side keys of the vocabulary as the model's enums (:mod:`bmdkit.vocabulary`)
_REGION_KEYS = REGION_BY_KEY
_SIDE_KEYS = SIDE_BY_KEY


def plain_text(text: str) -> str:
    """Drop HTML markup, fold widths and superscripts, collapse spaces."""
    text = _TAG.sub("", text)
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    return " ".join(text.split())


def tokens(text: str) -> tuple[str, ...]:
    """Lowercase tokens of ``text`` split at punctuation, camelCase and digit/letter joins."""
    text = _CAMEL.sub(" ", plain_text(text))
    return tuple(t for t in _SPLIT.split(text.lower()) if t)


@dataclass(frozen=True)
class _Word:
    kind: str
    key: str
    word: str
    toks: tuple[str, ...]
    cjk: bool


@functools.lru_cache(maxsize=1)
def _vocabulary() -> tuple[_Word, ...]:
    words = []
    for term in vocabulary.terms(reader="dicom"):
        w = term.word
        cjk = bool(_CJK.search(w))
        toks = tuple(t for t in _SPLIT.split(plain_text(w).lower()) if t) if not cjk else ()
        if not cjk and not toks:
            toks = (plain_text(w).lower(),)
        words.append(_Word(term.kind, term.key, w, toks, cjk))
    # longest first so that "Total Hip" beats "Total" and "Upper Neck" beats "Neck"
    return tuple(sorted(words, key=lambda x: -(len(x.toks) * 10 + len(x.word))))


@functools.lru_cache(maxsize=1)
def _by_kind() -> dict[str, tuple[_Word, ...]]:
    out: dict[str, list[_Word]] = {}
    for w in _vocabulary():
        out.setdefault(w.kind, []).append(w)
    return {k: tuple(v) for k, v in out.items()}


@functools.lru_cache(maxsize=1)
def loinc_codes() -> dict[str, tuple[str, Side | None, str]]:
    """LOINC code -> (context 'spine'/'hip', side, measure), from reference_data/dicom_loinc.csv."""
    out: dict[str, tuple[str, Side | None, str]] = {}
    for row in reference.table("dicom_loinc"):
        out[row["code"]] = (row["context"], _SIDE_KEYS.get(row["side"]), row["measure"])
    return out


@functools.lru_cache(maxsize=1)
def loinc_site_regions() -> dict[str, Region]:
    """LOINC codes of a whole site -> the region bmdkit reads them as (dicom_loinc.csv site_region)."""
    regions = {"L1-L4": Region.SPINE_TOTAL, **_REGION_KEYS}
    return {row["code"]: regions[row["site_region"]] for row in reference.table("dicom_loinc")
            if row.get("site_region")}


@functools.lru_cache(maxsize=1)
def _snomed_displays() -> dict[str, str]:
    return {row["code"]: row["display"] for row in reference.table("dicom_snomed")}


def snomed_display(code: str) -> str:
    """The display name of a SNOMED CT code in reference_data/dicom_snomed.csv ('' if unknown)."""
    return _snomed_displays().get(code, "")


@functools.lru_cache(maxsize=1)
def snomed_codes() -> dict[str, Meaning]:
    """SNOMED CT body-site codes (edc.md) -> the region, context or side they name."""
    out: dict[str, Meaning] = {}
    for row in reference.table("dicom_snomed"):
        kind, key = row["kind"], row["key"]
        if kind == "region":
            reg = _REGION_KEYS[key]
            out[row["code"]] = Meaning(region=reg, context="spine" if reg.is_spine else "hip")
        elif kind == "side":
            out[row["code"]] = Meaning(side=_SIDE_KEYS[key])
        else:
            out[row["code"]] = Meaning(context=key)
    return out


def find(text: str, kind: str) -> list[str]:
    """Keys of every ``kind`` word found in ``text``, longest matches first, no overlaps."""
    return list(_find(text, kind))


@functools.lru_cache(maxsize=8192)
def _find(text: str, kind: str) -> tuple[str, ...]:
    norm = plain_text(text)
    toks = list(tokens(text))
    cjk_text = norm.replace(" ", "")
    found: list[str] = []
    used = [False] * len(toks)
    for w in _by_kind().get(kind, ()):
        if w.cjk:
            if w.word in cjk_text:
                found.append(w.key)
                cjk_text = cjk_text.replace(w.word, " ")
            continue
        n = len(w.toks)
        for i in range(len(toks) - n + 1):
            if tuple(toks[i:i + n]) == w.toks and not any(used[i:i + n]):
                found.append(w.key)
                for j in range(i, i + n):
                    used[j] = True
    if kind == "measure" and "%" in norm:
        found.insert(0, "percent")
    return tuple(found)


def first(text: str, kind: str) -> str | None:
    hits = _find(text, kind)
    return hits[0] if hits else None


@dataclass(frozen=True)
class Meaning:
    """What one label says; any field may be unknown (None)."""

    region: Region | None = None
    total: bool = False
    vertebrae: tuple[Region, ...] | None = None
    side: Side | None = None
    diff: bool = False
    context: str | None = None
    measure: str | None = None
    excluded: bool | None = None

    def merged_under(self, parent: Meaning) -> Meaning:
        """This meaning, with unknown fields filled from an enclosing one."""
        if parent is _NOTHING and self.context != "" and self.measure != "":
            return self  # nothing to fill in: the very same meaning ("" would become None below)
        if self is _NOTHING:
            return parent
        return Meaning(
            region=self.region or (None if self.total else parent.region),
            total=self.total or (parent.total and self.region is None),
            vertebrae=self.vertebrae if self.vertebrae is not None else (
                parent.vertebrae if self.region is None else None),
            side=self.side or parent.side,
            diff=self.diff or parent.diff,
            context=self.context or parent.context,
            measure=self.measure or parent.measure,
            excluded=self.excluded if self.excluded is not None else parent.excluded,
        )


#: the meaning of a text that says nothing: one shared object, which :meth:`Meaning.merged_under`
#: knows by identity
_NOTHING = Meaning()


def nothing() -> Meaning:
    """The meaning of a text that says nothing (all fields unknown): one shared object."""
    return _NOTHING


def shared(m: Meaning) -> Meaning:
    """``m``, or the shared :func:`nothing` when it says nothing (equal either way)."""
    return _NOTHING if m == _NOTHING else m


def vertebra_set(text: str) -> tuple[Region, ...] | None:
    """The lumbar levels a label such as ``L2-L4``, ``L1,L3`` or ``腰1-4`` covers (2 or more).

    The one range parser, :func:`bmdkit.vocabulary.parse_vertebrae`, finding ranges within the label.
    """
    return vocabulary.parse_vertebrae(plain_text(text), within=True)


@functools.lru_cache(maxsize=8192)
def meaning(text: str) -> Meaning:
    """The region, side, context, measure and exclusion words in ``text``."""
    if not text or not text.strip():
        return Meaning()
    verts = vertebra_set(text)
    region: Region | None = None
    total = False
    regions = find(text, "region")
    if verts is not None:
        region, total = Region.SPINE_TOTAL, True
    else:
        for key in regions:
            if key == "total":
                total = True
                break
            if key in _REGION_KEYS:
                region = _REGION_KEYS[key]
                break
    sides = find(text, "side")
    side = None
    diff = "diff" in sides
    for s in sides:
        if s in _SIDE_KEYS:
            side = _SIDE_KEYS[s]
            break
    ctx_keys = find(text, "context")
    context = None
    if find(text, "dual"):
        context = "dual"
    elif ctx_keys:
        context = ctx_keys[0]
    if region is not None and context is None:
        context = "spine" if region.is_spine else "hip"
    measure = _measure_of(text)
    excl = find(text, "exclusion")
    excluded = None
    if excl:
        excluded = excl[0] == "excluded"
    return Meaning(region=region, total=total, vertebrae=verts, side=side, diff=diff,
                   context=context, measure=measure, excluded=excluded)


_BRACKET = re.compile(r"\[([^\]]{1,40})\]")


def _measure_of(text: str) -> str | None:
    """The measure a label names; in a LOINC-style name the bracketed property decides.

    "DXA Femur [T-score] Bone density" is a T-score: LOINC long names put the
    property (Mass/Area, T-score, Z-score) in brackets and end with the
    component ("Bone density"), which names no measure on its own. Outside
    brackets, a T- or Z-score word beside a density word makes a score.
    """
    for part in _BRACKET.findall(text):
        hits = find(part, "measure")
        if hits:
            return hits[0]
    measures = find(text, "measure")
    scores = [m for m in measures if m in SCORES]
    if scores and "bmd" in measures:  # "BMD T-score", "Bone density Z-score": a score *of* a density
        return scores[0]
    return measures[0] if measures else None


def resolve_region(m: Meaning) -> Region | None:
    """The region of a meaning once context is known ('Total' in a hip context is total hip)."""
    if m.region is not None:
        return m.region
    if m.total:
        if m.context in ("hip", "dual") or m.side is not None:
            return Region.TOTAL_HIP
        if m.context == "spine":
            return Region.SPINE_TOTAL
    return None


@functools.lru_cache(maxsize=4096)
def boolean(text: str) -> bool | None:
    """Yes/no words (English, Chinese, 1/0) as a bool, else None."""
    hits = find(text, "boolean")
    if len(tokens(text)) > 2 and not _CJK.search(text):
        return None
    return {"yes": True, "no": False}.get(hits[0]) if hits else None


@functools.lru_cache(maxsize=1)
def _units() -> dict[str, str]:
    return {t.word.lower(): t.key for t in vocabulary.terms("unit", reader="dicom")}


def unit_measure(unit: str) -> str | None:
    """What a unit says: bmd (g/cm2), bmc (g), area (cm2), t_score ({T-score}), z_score,
    ``score`` (a dimensionless 1: a T- or Z-score, not which), ``foreign`` (mg/cm2, %), or None."""
    return _units().get(plain_text(unit).replace(" ", "").lower())


#: the measures a dimensionless unit ('1', '{score}') fits
SCORES = frozenset({"t_score", "z_score"})


@dataclass(frozen=True)
class UnitVerdict:
    """The measure of a value once its unit is weighed against its name.

    ``measure`` None means the value is not to be taken; ``why`` then says
    why. ``conflict`` is set when the unit named the measure against the name
    (the unit decides, and a flag says so).
    """

    measure: str | None
    conflict: str | None = None
    why: str | None = None


@functools.lru_cache(maxsize=4096)
def weigh_unit(name_measure: str | None, unit_code: str, unit_text: str) -> UnitVerdict:
    """A unit that names the measure decides it; a unit that contradicts the name is a conflict.

    ``{T-score}`` makes a T-score even under a name that says BMD (flagged);
    ``1`` or no unit leaves the name's T or Z; a foreign unit (mg/cm2, %)
    means another quantity: not taken.
    """
    says = unit_measure(unit_code) if unit_code else None
    if says in (None, "score") and unit_text:
        says = unit_measure(unit_text) or says
        if says in (None, "score") and unit_text.strip() not in ("", "1"):
            in_text = first(unit_text, "measure")  # US Core style: code '1', text 'T-Score'
            says = in_text if in_text in SCORES else says
    shown = unit_code or unit_text
    if says == "foreign":
        return UnitVerdict(None, why=f"unit {shown!r} is another quantity than {name_measure or 'a result'}")
    if says == "score":
        if name_measure in SCORES:
            return UnitVerdict(name_measure)
        if name_measure is None:
            return UnitVerdict(None, why=f"unit {shown!r} says a score but not whether T or Z")
        return UnitVerdict(None, why=f"unit {shown!r} (a score) does not fit {name_measure}")
    if says is None:
        return UnitVerdict(name_measure, why=None if name_measure else "no measure in the name or unit")
    if name_measure is not None and name_measure != says and name_measure != "percent":
        return UnitVerdict(says, conflict=f"the name says {name_measure}, the unit {shown!r} says {says}; "
                                          f"read as {says}")
    if name_measure == "percent":
        return UnitVerdict(None, why=f"a percentage, not {says}")
    return UnitVerdict(says)


@functools.lru_cache(maxsize=1)
def _whole_sites() -> tuple[_Word, ...]:
    return tuple(w for w in _vocabulary() if w.kind == "whole_site")


def whole_site(text: str) -> Region | None:
    """The region a measurement of a whole site means ('Lumbar spine' -> L1-L4 total, 'Hip' -> total hip).

    For SR items named LOINC-style ("DXA Lumbar spine [Mass/Area] Bone
    density") that no finding site narrows down; 'Femur' is not a whole site
    (neck or total hip: ambiguous, edc.md), so it stays unplaced.
    """
    keys = find(text, "whole_site")
    return _REGION_OF_SITE.get(keys[0]) if keys else None


_REGION_OF_SITE = {"L1-L4": Region.SPINE_TOTAL, "total_hip": Region.TOTAL_HIP}
