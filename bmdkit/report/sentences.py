"""Results written as sentences: region, side, measure and value where a sentence joins them.

Hospitals and radiology information systems often give DXA results in prose
("The BMD measured at AP Spine L1-L4 is 0.823 g/cm² with a T-score of -3.0";
"腰椎L1-L4骨密度0.823 g/cm²，T值-3.0，Z值-1.2"; "左侧股骨颈 BMD 0.861，T值 -1.3"),
as plain text exported from a RIS/HIS, as PDFs and as photos or scans of
printed reports. This module reads such text into :class:`RegionResult`
records with the same provenance as the table reader (method, confidence,
raw text, page, box, engine).

The rule is that a value is taken only where the sentence itself joins it
to its region, side and measure:

- a number's measure is the measure word before it (``BMD``, ``T值``) or
  its unit (``g/cm²`` is a BMD); two measure words waiting for one number,
  a unit that contradicts the word, or a number with neither is flagged;
- a sentence naming one region gives it all its values; a sentence naming
  several gives each the values that follow it, and is flagged when any
  region is left without a value (two regions and one value) or a value
  comes before every region;
- a hip region takes the side the sentence names for it (or for "the left
  hip" it speaks of); no side, or two, is flagged;
- numbers that are not results are skipped: dates and times, years,
  numbers with another unit (``2 years``, ``25 ng/mL``, ``12%``),
  thresholds (``T-score ≤ -2.5``, ``-1.0 to -2.5``); a sentence about an
  earlier exam ("compared with the previous scan") gives no values;
- one region and measure stated twice with different values (an English
  and a Chinese sentence that disagree) is flagged and neither is used.

Flags are :class:`Flag` records naming region, side and measure where known;
messages say in plain words what was ambiguous and hold numbers and region
names only (never the sentence, which may name the patient). Plausibility is
left to :mod:`bmdkit.checks`.

The input is plain strings (:class:`TextLine`: text, optional confidence,
page, box and engine), so this module does not depend on the OCR engines.
Vocabulary comes from the ``sentence_*`` rows of ``reference_data/vocabulary.csv``;
lumbar level text is parsed by :func:`bmdkit.report.labels.levels`.

The work is in three modules: :mod:`bmdkit.report.sentence_text` (vocabulary,
text folding, sentences, tokens), this one (what one sentence states) and
:mod:`bmdkit.report.sentence_results` (the line and reading types, assembly
into region results, combining with a table's); the public names of all
three are importable from here.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bmdkit.flags import Severity
from bmdkit.model import Flag, Region, Side
from bmdkit.report import labels, words
from bmdkit.report.sentence_results import (
    LOW_CONFIDENCE,
    TEXT_ENGINE,
    Box,
    SentenceReading,
    Statement,
    TextLine,
    assemble,
    combine,
    flag,
)
from bmdkit.report.sentence_text import (
    RUN_TOGETHER_MIN,
    Sentence,
    SentenceToken,
    fold,
    split_sentences,
    tokens,
)

__all__ = [
    "LOW_CONFIDENCE", "RUN_TOGETHER_MIN", "TEXT_ENGINE", "Box", "SentenceReading", "TextLine", "WordLike", "combine",
    "fold", "group_words", "lines_from_words", "read_sentence_page", "read_sentences", "read_text",
]

#: measures that cannot be negative: a doubtful minus before one does not matter
_NEVER_NEGATIVE = ("bmd", "bmc", "area")
#: measures always printed with decimals: a whole number given for one is a misread
_DECIMAL_MEASURES = ("bmd", "t_score", "z_score")
_SEPARATORS = re.compile(r"[,;、:]")


class WordLike(Protocol):
    """What :func:`lines_from_words` needs of an OCR or text-layer word (``report.ocr.Token`` fits)."""

    text: str
    box: Box
    conf: float
    engine: str


# --- one sentence -----------------------------------------------------------------------------------

@dataclass
class _Mention:
    """One naming of a region in a sentence, and the numbers and side given to it."""

    region: Region
    vertebrae: tuple[Region, ...] | None
    label: str
    start: int
    end: int
    numbers: list[tuple[SentenceToken, str]] = field(default_factory=list)  # (number, measure)
    side: Side | None = None
    two_sides: bool = False


def _mentions(toks: list[SentenceToken], text: str) -> list[_Mention]:
    """Each naming of a region; a spine word right before lumbar levels names those levels."""
    out: list[_Mention] = []
    for t in toks:
        if t.kind == "region":
            out.append(_Mention(Region(t.key), None, t.text, t.start, t.end))
        elif t.kind == "spine":
            out.append(_Mention(Region.SPINE_TOTAL, None, t.text, t.start, t.end))
        elif t.kind == "level":
            lv = labels.levels(re.sub(r"\s+", "", t.text).replace("~", "-").replace("至", "-").replace("到", "-"))
            if not lv:
                continue
            region, vert = (lv[0], None) if len(lv) == 1 else (Region.SPINE_TOTAL, lv)
            label = "L" + "-L".join(v.value[1] for v in (lv[0], lv[-1])) if len(lv) > 1 else lv[0].value
            prev = out[-1] if out else None
            if prev is not None and prev.region is Region.SPINE_TOTAL and prev.vertebrae is None \
                    and not text[prev.end:t.start].strip(" ():"):
                out[-1] = _Mention(region, vert, label, prev.start, t.end)  # 'AP Spine L1-L4', '腰椎L1'
                continue
            out.append(_Mention(region, vert, label, t.start, t.end))
    return out


def _same(a: _Mention, b: _Mention) -> bool:
    """The same region (vertebrae unknown on one side, or equal)."""
    if a.region is not b.region:
        return False
    return a.vertebrae is None or b.vertebrae is None or a.vertebrae == b.vertebrae


@dataclass(frozen=True)
class _Measured:
    """A number and the measure the sentence gives it (None with a ``problem`` when it cannot be
    told); ``intent`` is the measure it was meant for, even when doubtful ('T值-13')."""

    tok: SentenceToken
    measure: str | None
    problem: str | None
    intent: str | None


def _measure_numbers(toks: list[SentenceToken], text: str) -> list[_Measured]:
    """Each result number's measure: the measure word waiting for it, or its unit.

    Measure words wait for the next number; a separator (comma, semicolon,
    colon) or a region word between two measure words drops the first (a
    title's 骨密度 before a sentence's T值), otherwise both wait and the number
    after them is ambiguous.
    """
    out: list[_Measured] = []
    pending: set[str] = set()
    reset = False
    last = 0
    for t in toks:
        gap = text[last:t.start]
        last = t.end
        if _SEPARATORS.search(gap):
            reset = True
        if t.kind in ("region", "spine", "level"):
            reset = True
        elif t.kind == "measure":
            pending = {t.key} if reset else pending | {t.key}
            reset = False
        elif t.kind == "number" and t.skip is None:
            intent = next(iter(pending)) if len(pending) == 1 else t.unit if not pending else None
            problem = None
            if t.doubt and not (t.sign_doubt and intent in _NEVER_NEGATIVE):
                problem = t.doubt
            elif len(pending) > 1:
                named = ", ".join(sorted(words.measure_word(m) for m in pending))
                problem = f"{t.text} follows {len(pending)} measure words ({named})"
            elif pending and t.unit and t.unit not in pending:
                problem = (f"{t.text} follows the word {words.measure_word(intent or '')} but its unit is that "
                           f"of a {words.measure_word(t.unit)}")
            elif intent in _DECIMAL_MEASURES and "." not in t.text:
                problem = (f"{t.text} is given as the {words.measure_word(intent or '')} without a decimal point "
                           "(one lost in reading?)")
            elif intent is None:
                problem = f"no measure (BMD, T-score, ...) is named for {t.text}"
            out.append(_Measured(t, None if problem else intent, problem, intent))
            pending, reset = set(), False
    return out


def _read_sentence(s: Sentence, lines: Sequence[TextLine]) -> tuple[list[Statement], list[Flag], bool]:
    """(values stated, flags, whether the sentence stated any result)."""
    text = s.text
    toks = tokens(text)
    first = s.starts[0][1]
    page = lines[first].page if first < len(lines) else None
    where = (f"Page {page}, line {first + 1}" if page else f"Line {first + 1}")
    nums = [t for t in toks if t.kind == "number" and t.skip is None]
    if not nums:
        return [], [], False
    measured = _measure_numbers(toks, text)
    if not any(n.measure for n in measured) and not any(t.kind == "measure" for t in toks):
        return [], [], False  # numbers, but no measure named: not a result statement ('age 65')
    if any(t.kind == "history" for t in toks):
        return [], [flag(f"{where}: a sentence about an earlier exam states values; they were "
                         "not used", severity=Severity.INFO)], True
    groups = _group_mentions(_mentions(toks, text), measured)
    flags: list[Flag] = []
    if not groups:
        hip = any(t.kind == "hip" for t in toks)
        what = "names the hip but not which part of it (femoral neck, total hip)" if hip else "names no region"
        vals = ", ".join(n.tok.text for n in measured)
        return [], [flag(f"{where}: a sentence states {vals} but {what}: not used")], True
    orphans, intents = _place_numbers(groups, measured, where, flags)
    if len(groups) > 1 and (orphans or any(not g.numbers for g in groups)):
        names = " and ".join(dict.fromkeys(words.place(g.region, None, g.label) for g in groups))
        msg = (f"{where}: a sentence names {names} but which value belongs to which cannot be told "
               f"({', '.join(n.tok.text for n in measured)}): not used")
        return [], [flag(msg, r) for r in dict.fromkeys(g.region for g in groups)], True
    _sides(toks, groups)
    return _statements(s, groups, intents, where, flags), flags, True


def _group_mentions(mentions: list[_Mention], measured: list[_Measured]) -> list[_Mention]:
    """Consecutive mentions of the same region (no number between them) as one."""
    groups: list[_Mention] = []
    for mnt in mentions:
        if groups and _same(groups[-1], mnt) and not any(groups[-1].end <= n.tok.start < mnt.start for n in measured):
            g = groups[-1]
            if g.vertebrae is None and mnt.vertebrae is not None:
                g.vertebrae, g.label = mnt.vertebrae, mnt.label
            g.end = mnt.end
            continue
        groups.append(mnt)
    return groups


def _place_numbers(groups: list[_Mention], measured: list[_Measured], where: str,
                   flags: list[Flag]) -> tuple[list[str], list[dict[str, set[float]]]]:
    """Each number to the region named last before it (the first, when only one is named).

    Returns the numbers before every region and, per group, the values meant for each measure;
    a number whose measure is doubtful gets a flag on ``flags``.
    """
    starts = [g.start for g in groups]
    orphans = []
    intents: list[dict[str, set[float]]] = [{} for _ in groups]
    for n in measured:
        k = bisect.bisect_right(starts, n.tok.start) - 1
        if k < 0 and len(groups) == 1:
            k = 0
        if k < 0:
            orphans.append(n.tok.text)
            continue
        groups[k].numbers.append((n.tok, n.measure or ""))
        if n.intent and n.tok.value is not None:
            intents[k].setdefault(n.intent, set()).add(n.tok.value)
        if n.problem:
            g = groups[k]
            flags.append(flag(f"{where}: about {words.place(g.region, None, g.label)}, {n.problem}: "
                              "the value was not used", g.region))
    return orphans, intents


def _statements(s: Sentence, groups: list[_Mention], intents: list[dict[str, set[float]]], where: str,
                flags: list[Flag]) -> list[Statement]:
    """The values of each group with its side known and no measure given two values; flags for the rest."""
    stated: list[Statement] = []
    for g, given in zip(groups, intents):
        twice = sorted(words.measure_word(m) for m, vals in given.items() if len(vals) > 1)
        if twice:
            flags.append(flag(f"{where}: a sentence gives {words.place(g.region, g.side, g.label)} two different "
                              f"values of {', '.join(twice)} (a region's name may be missing or misread): "
                              "none of its values were used", g.region, g.side))
            continue
        if not g.region.is_spine and g.side is None:
            flags.append(flag(f"{where}: values of {words.place(g.region)} are stated "
                              f"{'with two sides' if g.two_sides else 'without a side'}: not used", g.region))
            continue
        for t, m in g.numbers:
            if m and t.value is not None:
                stated.append(Statement(g.region, g.side if not g.region.is_spine else None, g.vertebrae, g.label,
                                        m, t.value, t.text, s.line_at(t.start)))
    return stated


def _sides(toks: list[SentenceToken], groups: list[_Mention]) -> None:
    """Each hip group's side: the side words in its stretch of the sentence, else the side the
    sentence gives the hip as a whole ('left hip: ...'); none or two leave it None."""
    text_sides = [t for t in toks if t.kind == "side"]
    hips = [t for t in toks if t.kind == "hip"]
    context = {Side(t.key) for t in text_sides
               if any(min(abs(t.start - h.end), abs(h.start - t.end)) <= 2 for h in hips)}
    bounds = [0]
    for g in groups[:-1]:
        bounds.append(max((t.end for t, _ in g.numbers), default=g.end))
    bounds.append(10 ** 9)
    for k, g in enumerate(groups):
        if g.region.is_spine:
            continue
        own = {Side(t.key) for t in text_sides if bounds[k] <= t.start < bounds[k + 1]}
        if len(groups) == 1:
            own = {Side(t.key) for t in text_sides}
        use = own or (context if len(context) == 1 else set())
        if len(use) == 1:
            g.side = use.pop()
        elif len(use) > 1:
            g.two_sides = True


# --- the whole text -----------------------------------------------------------------------------------

def read_sentences(lines: Sequence[TextLine]) -> SentenceReading:
    """Read every result sentence of ``lines`` (one page or a whole text file, in reading order).

    Returns the regions the sentences state, with provenance (page, line box,
    confidence, engine, raw text), and flags for every sentence whose
    region, side or measure cannot be told, and for values stated twice with
    different numbers.
    """
    flags: list[Flag] = []
    stated: list[Statement] = []
    statements = 0
    for s in split_sentences([ln.text for ln in lines]):
        got, fl, said = _read_sentence(s, lines)
        stated += got
        flags += fl
        statements += said
    regions, more = assemble(stated, lines)
    return SentenceReading(tuple(regions), tuple(flags + more), statements)


#: the name the issue and the report reader use for the same call
read_sentence_page = read_sentences


def read_text(text: str, page: int | None = None, engine: str = TEXT_ENGINE) -> SentenceReading:
    """:func:`read_sentences` over plain text (exact: no confidence)."""
    return read_sentences([TextLine(t, None, page, None, engine) for t in text.splitlines()])


def lines_from_words(lines: Iterable[Sequence[WordLike]], page: int | None = None) -> list[TextLine]:
    """Text lines from lines of words (OCR tokens or text-layer words, left to right): the words
    joined by spaces, the line's confidence the lowest of its words', its box around them all."""
    out: list[TextLine] = []
    for ws in lines:
        ws = [w for w in ws if w.text.strip()]
        if not ws:
            continue
        box = (min(w.box[0] for w in ws), min(w.box[1] for w in ws), max(w.box[2] for w in ws),
               max(w.box[3] for w in ws))
        engines = sorted({w.engine for w in ws})
        exact = all(w.conf >= 1.0 for w in ws)
        out.append(TextLine(" ".join(w.text for w in ws), None if exact else min(w.conf for w in ws), page, box,
                            "+".join(engines)))
    return out


def group_words(words: Sequence[WordLike]) -> list[list[WordLike]]:
    """Words into text lines (a word joins the line whose vertical middle is within half a median
    word height of its own), each left to right: for callers that have words but no lines."""
    if not words:
        return []
    heights = sorted(max(w.box[3] - w.box[1], 1) for w in words)
    half = heights[len(heights) // 2] / 2
    lines: list[list[WordLike]] = []
    mids: list[float] = []
    for w in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        mid = (w.box[1] + w.box[3]) / 2
        if lines and abs(mids[-1] - mid) <= half:
            lines[-1].append(w)
            mids[-1] = sum((x.box[1] + x.box[3]) / 2 for x in lines[-1]) / len(lines[-1])
        else:
            lines.append([w])
            mids.append(mid)
    return [sorted(line, key=lambda w: w.box[0]) for line in lines]
