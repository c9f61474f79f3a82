"""The words that name regions, sides, measures and answers, and the one vertebra-range parser.

All label words live in one table, ``reference_data/vocabulary.csv``, one
cited row per word (English and Chinese, with their variants)::

    kind,key,word,form,reader,lang,source
    region,femoral_neck,Neck,word,dicom,en,"reports.md (...)"
    sex,female,女,word,any,zh,"DICOM (0010;0040) PatientSex ...; reports.md (性别 女/男)"

- ``kind``: what the word names (``region``, ``side``, ``measure``, ``sex``,
  ``answer``, ``vertebra_dash``, ...); ``key``: the value it stands for
  (``femoral_neck``, ``female``, ``yes``);
- ``form``: ``word`` (a literal, compared after case folding) or
  ``pattern`` (a regular expression: the report reader's label patterns);
- ``reader``: who reads the row: ``report`` (the report reader's labels),
  ``dicom`` (the DICOM readers' words) or ``any`` (checks and every reader).
  Rows with ``reader`` report and dicom were ``report_labels.csv`` and
  ``dicom_vocabulary.csv``; :func:`bmdkit.reference.table` still serves
  those two names as views of this table, so code written against them
  works unchanged.

A new synonym is one row here. API (all cached per reference folder):

- :func:`terms` / :func:`words` / :func:`lookup`: rows, words or ``{word: key}``
  of a kind (optionally of one reader); :func:`key_of` for one text;
- :func:`region_for_key`, :func:`side_for_key`: a key as a model enum;
- :func:`parse_vertebrae`: the lumbar levels a label names (``L1-L4``,
  ``L2-4``, ``L1,L3``, ``L1-L2,L4``, ``腰1-4``, ``第一腰椎至第四腰椎``);
  ``within=True`` finds ranges inside longer text (DICOM labels) instead of
  reading the whole label; :func:`vertebra_label` is its inverse.

Wiring the report reader later (``bmdkit/report/labels.py`` and
``meta.py``): ``reference.table("report_labels")`` may stay as it is;
``levels(text)`` may become ``parse_vertebrae(text)`` once its OCR repairs
(``i``/``|`` read for ``1``) are applied before the call.

Examples
--------
>>> parse_vertebrae("L2-L4")
(<Region.L2: 'L2'>, <Region.L3: 'L3'>, <Region.L4: 'L4'>)
>>> vertebra_label(parse_vertebrae("L1,L3,L4"))
'L1,L3,L4'
>>> key_of("sex", "女")
'female'
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bmdkit import reference
from bmdkit.model import VERTEBRAE, Region, Side

TABLE = "vocabulary"
READERS = ("report", "dicom", "any")


@dataclass(frozen=True)
class Term:
    """One row of the vocabulary: ``word`` names ``key`` of ``kind``."""

    kind: str
    key: str
    word: str
    form: str
    reader: str
    lang: str
    source: str


@functools.lru_cache(maxsize=4)
def _terms(directory: str) -> tuple[Term, ...]:
    return tuple(Term(r["kind"], r["key"], r["word"], r.get("form") or "word", r.get("reader") or "any",
                      r.get("lang", ""), r["source"]) for r in reference.table(TABLE))


def terms(kind: str | None = None, *, reader: str | None = None) -> tuple[Term, ...]:
    """Rows of ``kind`` (all kinds if None), in file order; with ``reader``, that reader's rows only."""
    return tuple(t for t in _terms(str(reference.reference_dir()))
                 if (kind is None or t.kind == kind) and (reader is None or t.reader == reader))


def words(kind: str, *, reader: str | None = None) -> tuple[str, ...]:
    """The words of ``kind``, in file order."""
    return tuple(t.word for t in terms(kind, reader=reader))


def lookup(kind: str, *, reader: str | None = None) -> dict[str, str]:
    """``{case-folded word: key}`` for ``kind`` (the first row wins for a word listed twice)."""
    out: dict[str, str] = {}
    for t in terms(kind, reader=reader):
        out.setdefault(t.word.casefold(), t.key)
    return out


def key_of(kind: str, text: str | None, *, reader: str | None = None) -> str | None:
    """The key ``text`` names as a whole word of ``kind`` (spaces and case ignored at the ends), else None."""
    return lookup(kind, reader=reader).get((text or "").strip().casefold())


#: a region key as the model's enum: every region but the spine total, whose labels are ranges
REGION_BY_KEY: dict[str, Region] = {r.value: r for r in Region if r is not Region.SPINE_TOTAL}
#: a side key as the model's enum (``diff`` rows are not results and have none)
SIDE_BY_KEY: dict[str, Side] = {s.value: s for s in Side}


def region_for_key(key: str | None) -> Region | None:
    """:data:`REGION_BY_KEY` lookup; None for ``total`` and unknown keys."""
    return REGION_BY_KEY.get(key or "")


def side_for_key(key: str | None) -> Side | None:
    """:data:`SIDE_BY_KEY` lookup; None for ``diff`` and unknown keys."""
    return SIDE_BY_KEY.get(key or "")


# -- vertebra ranges -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Grammar:
    prefixes: tuple[str, ...]
    numerals: dict[str, str]
    whole_range: re.Pattern[str]
    whole_single: re.Pattern[str]
    within_range: re.Pattern[str]
    within_single: re.Pattern[str]
    parts: re.Pattern[str]


def _alternatives(items: tuple[str, ...]) -> str:
    """A regex alternation of literal words, longest first; an ASCII word is matched as a word."""
    return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))


@functools.lru_cache(maxsize=4)
def _grammar(directory: str) -> _Grammar:
    """The range grammar built from the vocabulary's dash, separator, numeral and prefix words."""
    numerals = {t.word: t.key for t in terms("numeral")}
    zh = "".join(numerals)
    dashes = _alternatives(words("vertebra_dash"))
    seps = words("vertebra_separator")
    symbols = tuple(s for s in seps if not s.isalpha())
    spelled = tuple(s for s in seps if s.isalpha())
    parts = r"\s*(?:" + _alternatives(symbols) + r")\s*"
    if spelled:
        parts += r"|\s+(?:" + _alternatives(spelled) + r")\s+"
    zh_forms = r"|腰椎?\s*L?\s*([1-5])|第\s*([1-5" + zh + r"])\s*腰椎"
    whole = r"(?:L?([1-5])" + zh_forms + ")"   # a label read whole: 'L2-4', '2-4' after 'Total'
    within = r"(?:L\s*([1-5])" + zh_forms + ")"   # inside longer text: a bare digit is not a vertebra
    end = r"\s*(?:" + dashes + r")\s*(?:L|腰)?\s*([1-5])"
    flags = re.IGNORECASE
    return _Grammar(
        prefixes=words("spine_total_prefix"), numerals=numerals,
        whole_range=re.compile(whole + end, flags), whole_single=re.compile(whole, flags),
        within_range=re.compile(within + end, flags), within_single=re.compile(r"\s*" + within + r"\s*", flags),
        parts=re.compile(parts, flags),
    )


def _first_level(g: _Grammar, m: re.Match[str]) -> int:
    text = next(x for x in m.groups()[:3] if x)
    return int(g.numerals.get(text, text))


def parse_vertebrae(text: str | None, *, within: bool = False) -> tuple[Region, ...] | None:
    """The lumbar vertebrae (L1-L4) a label names, in order, else ``None``.

    ``within=False`` (a printed total's label, read whole): spine-total words
    in front (``Total``, ``腰椎``) are dropped, then every comma/plus/``and``
    part must be one level or one range (``L1-L4``, ``L2 - L4``, ``L2-4``,
    ``L1-L2,L4``); a level outside L1-L4, a range running backwards, or any
    other text makes the whole label unknown rather than guessed.

    ``within=True`` (a DICOM label such as ``Spine L2-L4 BMD``): a range is
    found anywhere in a part, single levels count only in a list, levels past
    L4 are dropped, and fewer than two levels is not a range (``None``).
    """
    if not text:
        return None
    g = _grammar(str(reference.reference_dir()))
    return _find_within(g, text) if within else _read_whole(g, text)


def _read_whole(g: _Grammar, label: str) -> tuple[Region, ...] | None:
    text = label.strip()
    for prefix in g.prefixes:
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):].strip(" :")
    levels: set[int] = set()
    for part in g.parts.split(text):
        if not part:
            continue
        m = g.whole_range.fullmatch(part)
        if m:
            a, b = _first_level(g, m), int(m.group(4))
            if not (1 <= a <= b <= 4):
                return None
            levels.update(range(a, b + 1))
            continue
        m = g.whole_single.fullmatch(part)
        if not m or not 1 <= _first_level(g, m) <= 4:
            return None
        levels.add(_first_level(g, m))
    return tuple(VERTEBRAE[i - 1] for i in sorted(levels)) if levels else None


def _find_within(g: _Grammar, text: str) -> tuple[Region, ...] | None:
    found: list[int] = []
    parts = g.parts.split(text)
    for part in parts:
        m = g.within_range.search(part)
        if m:
            a, b = _first_level(g, m), int(m.group(4))
            if a < b:
                found.extend(range(a, b + 1))
                continue
        single = g.within_single.fullmatch(part)
        if single and len(parts) > 1:
            found.append(_first_level(g, single))
    levels = sorted({v for v in found if 1 <= v <= 4})
    if len(levels) < 2:
        return None
    return tuple(VERTEBRAE[v - 1] for v in levels)


def vertebra_label(vertebrae: tuple[Region, ...]) -> str:
    """``L2-L4`` for contiguous levels, ``L1,L3,L4`` otherwise (the inverse of :func:`parse_vertebrae`)."""
    idx = [VERTEBRAE.index(v) for v in vertebrae]
    if idx == list(range(idx[0], idx[0] + len(idx))) and len(idx) > 1:
        return f"{vertebrae[0].value}-{vertebrae[-1].value}"
    return ",".join(v.value for v in vertebrae)
