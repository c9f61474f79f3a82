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
  reading the whole label; ``ocr=True`` reads a printed report's label with
  its OCR misreadings repaired (``Ll-L4``, ``L|``, ``腰椎L1``), by the report
  reader's rows of the same grammar; :func:`vertebra_label` is its inverse;
  :func:`find_level` finds the first level named in a text;
- :func:`normalize`: printed-report text folded for matching (the report
  reader's ``labels.normalize``).

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
import unicodedata
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


# -- report text -----------------------------------------------------------------------------------

def normalize(text: str) -> str:
    """Printed-report text folded for matching: lower case, NFKC (full-width to ASCII), no spaces or
    colons, every dash and ``~`` read as ``-`` (``bmdkit.report.labels.normalize`` is this function)."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"[\u2010-\u2015\u2212~]", "-", t)
    return re.sub(r"[\s:：]+", "", t)


# -- vertebra ranges -------------------------------------------------------------------------------
#
# One grammar, built from the vocabulary's rows of one reader:
#
# - reader ``any`` (checks and DICOM): ``spine_total_prefix`` words before the label, ``vertebra_separator``
#   and ``vertebra_dash`` words, ``numeral`` words of the Chinese forms (``腰1-4``, ``第一腰椎至第四腰椎``);
# - reader ``report`` (printed reports, through OCR): the text is folded by ``normalize`` and its
#   ``vertebra_ocr_digit`` misreadings repaired (``Ll``/``LI``/``L|`` for ``L1``); then each part is a
#   ``vertebra_prefix`` word, the letter L and a level, an optional range end and an optional
#   ``vertebra_mark`` (``L1*``). The letter is required (``12-L4`` is a misread row, not L4), there are
#   no Chinese numeral forms, and an empty part makes the label unknown.

#: the reader whose rows make the OCR-tolerant grammar (``parse_vertebrae(..., ocr=True)``)
OCR_READER = "report"


@dataclass(frozen=True)
class _Grammar:
    prefixes: tuple[str, ...]
    level: re.Pattern[str]
    repairs: tuple[Term, ...]
    empty_parts: bool
    whole_range: re.Pattern[str]
    whole_single: re.Pattern[str]
    within_range: re.Pattern[str]
    within_single: re.Pattern[str]
    parts: re.Pattern[str]
    numerals: dict[str, str]


def _alternatives(items: tuple[str, ...]) -> str:
    """A regex alternation of literal words, longest first; an ASCII word is matched as a word."""
    return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))


def _regex(t: Term) -> str:
    """A row as a regular expression: a pattern as written, a word as the literal."""
    return t.word if t.form == "pattern" else re.escape(t.word)


def _separators(seps: tuple[str, ...]) -> str:
    symbols = tuple(s for s in seps if not s.isalpha())
    spelled = tuple(s for s in seps if s.isalpha())
    parts = r"\s*(?:" + _alternatives(symbols) + r")\s*"
    if spelled:
        parts += r"|\s+(?:" + _alternatives(spelled) + r")\s+"
    return parts


@functools.lru_cache(maxsize=8)
def _grammar(directory: str, reader: str) -> _Grammar:
    """The range grammar of ``reader``'s dash, separator, numeral, prefix, mark and misreading rows."""
    ocr = reader == OCR_READER
    numerals = {t.word: t.key for t in terms("numeral", reader=reader)}
    dashes = _alternatives(words("vertebra_dash", reader=reader))
    level = r"L\s*([1-5])"
    if ocr:
        lead = "(?:" + "|".join(_regex(t) for t in terms("vertebra_prefix", reader=reader)) + ")"
        mark = "(?:" + _alternatives(words("vertebra_mark", reader=reader)) + ")?"
        whole = within = lead + level
        end_letter = "L"
    else:
        mark = ""
        zh_forms = r"|腰椎?\s*L?\s*([1-5])|第\s*([1-5" + "".join(numerals) + r"])\s*腰椎"
        whole = r"(?:L?([1-5])" + zh_forms + ")"   # a label read whole: 'L2-4', '2-4' after 'Total'
        within = r"(?:" + level + zh_forms + ")"   # inside longer text: a bare digit is not a vertebra
        end_letter = "L|腰"
    end = r"\s*(?:" + dashes + r")\s*(?:" + end_letter + r")?\s*(?P<end>[1-5])"
    flags = re.IGNORECASE
    return _Grammar(
        prefixes=words("spine_total_prefix", reader=reader), level=re.compile(level, flags),
        repairs=terms("vertebra_ocr_digit", reader=reader), empty_parts=not ocr,
        whole_range=re.compile(whole + end + mark, flags), whole_single=re.compile(whole + mark, flags),
        within_range=re.compile(within + end, flags),
        within_single=re.compile(r"\s*" + within + r"\s*", flags),
        parts=re.compile(_separators(words("vertebra_separator", reader=reader)), flags),
        numerals=numerals,
    )


def _first_level(g: _Grammar, m: re.Match[str]) -> int:
    """The first level of a match: its first group that matched (the range end comes after it)."""
    text = next(x for x in m.groups() if x)
    return int(g.numerals.get(text, text))


def parse_vertebrae(text: str | None, *, within: bool = False,
                    ocr: bool = False) -> tuple[Region, ...] | None:
    """The lumbar vertebrae (L1-L4) a label names, in order, else ``None``.

    ``within=False`` (a printed total's label, read whole): spine-total words
    in front (``Total``, ``腰椎``) are dropped, then every comma/plus/``and``
    part must be one level or one range (``L1-L4``, ``L2 - L4``, ``L2-4``,
    ``L1-L2,L4``); a level outside L1-L4, a range running backwards, or any
    other text makes the whole label unknown rather than guessed.

    ``within=True`` (a DICOM label such as ``Spine L2-L4 BMD``): a range is
    found anywhere in a part, single levels count only in a list, levels past
    L4 are dropped, and fewer than two levels is not a range (``None``).

    ``ocr=True`` (a label of a printed report, read whole): the report
    reader's grammar (see above) on the text folded by :func:`normalize`, its
    OCR misreadings repaired: ``Ll-L4``, ``LI-L4``, ``腰椎L1-L4``, ``L1*``; never
    ``12-L4``, ``2-4`` or ``L2-L1``.
    """
    if not text:
        return None
    if ocr and within:
        raise ValueError("ocr=True reads a printed label whole")
    g = _grammar(str(reference.reference_dir()), OCR_READER if ocr else "any")
    if ocr:
        text = _repaired(g, normalize(text))
    return _find_within(g, text) if within else _read_whole(g, text)


def _repaired(g: _Grammar, text: str) -> str:
    """``text`` with each ``vertebra_ocr_digit`` misreading replaced by its digit, in row order."""
    for t in g.repairs:
        text = re.sub(t.word, t.key, text) if t.form == "pattern" else text.replace(t.word, t.key)
    return text


def find_level(text: str) -> re.Match[str] | None:
    """The first level named in ``text`` (the letter L and a digit 1-5, spaces between), else None."""
    return _grammar(str(reference.reference_dir()), "any").level.search(text)


def _read_whole(g: _Grammar, label: str) -> tuple[Region, ...] | None:
    text = label.strip()
    for prefix in g.prefixes:
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):].strip(" :")
    levels: set[int] = set()
    for part in g.parts.split(text):
        if not part:
            if g.empty_parts:
                continue
            return None
        m = g.whole_range.fullmatch(part)
        if m:
            a, b = _first_level(g, m), int(m.group("end"))
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
            a, b = _first_level(g, m), int(m.group("end"))
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
