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

A page of prose read by OCR is read by both engines where both are at hand
(:func:`bmdkit.report.prose.ocr_sentence_lines`); their readings are joined value by value
(:mod:`bmdkit.report.sentence_engines`: a value both read alike is confirmed).

Flags are :class:`Flag` records naming region, side and measure where known;
messages say in plain words what was ambiguous and hold numbers and region
names only (never the sentence, which may name the patient). Plausibility is
left to :mod:`bmdkit.checks`.

The input is plain strings (:class:`TextLine`: text, optional confidence,
page, box and engine), so this module does not depend on the OCR engines.
Vocabulary comes from the ``sentence_*`` rows of ``reference_data/vocabulary.csv``;
lumbar level text is parsed by :func:`bmdkit.vocabulary.parse_vertebrae`.

The work is in six modules: :mod:`bmdkit.report.sentence_text` (vocabulary,
text folding, sentences, tokens, their measures), :mod:`bmdkit.report.sentence_mentions`
(the regions a sentence names), this one (what one sentence states),
:mod:`bmdkit.report.sentence_results` (the line and reading types, assembly into region
results, combining with a table's), :mod:`bmdkit.report.sentence_engines` (two engines
joined, words into lines) and :mod:`bmdkit.report.sentence_scope` (a flag on a sentence
naming no region narrowed to the values of its line); the public names are importable from here.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable, Sequence

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Region, Side
from bmdkit.report import words
from bmdkit.report.sentence_engines import (
    WordLike,
    group_words,
    join_engines,
    lines_from_words,
    lines_in_order,
    near,
)
from bmdkit.report.sentence_measures import Measured, measure_numbers
from bmdkit.report.sentence_mentions import (
    Mention,
    drop_unstated,
    group_mentions,
    mentions,
    partial_total_hip,
)
from bmdkit.report.sentence_results import (
    LOW_CONFIDENCE,
    NOT_RESULT,
    TEXT_ENGINE,
    Box,
    ReadNumber,
    SentenceRead,
    SentenceReading,
    Statement,
    TextLine,
    assemble,
    combine,
    flag,
)
from bmdkit.report.sentence_scope import CRITERIA_THRESHOLDS, Unplaced, scope_unplaced
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
    "fold", "group_words", "lines_from_words", "lines_in_order", "read_sentence_page",
    "read_sentences", "read_text",
]

# --- one sentence -----------------------------------------------------------------------------------

def _read_sentence(s: Sentence, lines: Sequence[TextLine]) -> SentenceRead:
    """What one sentence states (see :class:`SentenceRead`)."""
    text = s.text
    toks = tokens(text)
    first = s.starts[0][1]
    page = lines[first].page if first < len(lines) else None
    where = (f"Page {page}, line {first + 1}" if page else f"Line {first + 1}")
    nums = [t for t in toks if t.kind == "number" and t.skip is None]
    history = any(t.kind == "history" for t in toks)
    others = [ReadNumber(t.value, t.text, s.line_at(t.start)) for t in toks
              if t.kind == "number" and t.value is not None
              and (t.skip in NOT_RESULT or history)]
    if not nums:
        return SentenceRead(others=others)
    measured = measure_numbers(toks, text)
    if not any(n.measure for n in measured) and not any(t.kind == "measure" for t in toks):
        return SentenceRead(others=others)  # numbers, but no measure named: not a result statement ('age 65')
    got = SentenceRead(said=True, others=others, numbers=[
        ReadNumber(n.tok.value, n.tok.text, s.line_at(n.tok.start), n.intent, n.tok.sign_doubt)
        for n in measured if n.tok.value is not None and not n.tok.fragment])
    if history:
        got.flags.append(flag(f"{where}: a sentence about an earlier exam states values; they were "
                              "not used", severity=Severity.INFO))
        return got
    named = mentions(toks, text)
    cut = None if any(m.region is Region.TOTAL_HIP for m in named) else partial_total_hip(toks, text)
    partial = Mention(Region.TOTAL_HIP, None, cut[2], cut[0], cut[1]) if cut else None
    groups = group_mentions(sorted(named + [partial] if partial else named, key=lambda m: m.start), measured)
    got.named_on = [s.line_at(g.start) for g in groups]
    if not groups:
        _no_region(toks, measured, where, got)
        return got
    orphans, intents = _place_numbers(groups, measured, where, got)
    if len(groups) > 1 and not orphans:
        kept = drop_unstated(groups, toks, text)
        intents = [i for g, i in zip(groups, intents) if any(g is x for x in kept)]
        groups = kept
    if len(groups) > 1 and (orphans or any(not g.numbers for g in groups)):
        names = " and ".join(dict.fromkeys(words.place(g.region, None, g.label) for g in groups))
        msg = (f"{where}: a sentence names {names} but which value belongs to which cannot be told "
               f"({', '.join(n.tok.text for n in measured)}): not used")
        got.flags = [flag(msg, r) for r in dict.fromkeys(g.region for g in groups)]
        got.lacking = []
        return got
    _sides(toks, groups, text)
    _scope_doubts(got)
    got.stated = _statements(s, groups, intents, where, got)
    if partial is not None and any(st.region is Region.TOTAL_HIP for st in got.stated):
        _partial_flag(s, partial, where, got)
    return got


def _no_region(toks: list[SentenceToken], measured: list[Measured], where: str, got: SentenceRead) -> None:
    """Flag a sentence that states values but names no region (or only the hip); the flags are
    narrowed to the values of its line at the end (``sentence_scope``)."""
    hip = any(t.kind == "hip" for t in toks)
    what = "names the hip but not which part of it (femoral neck, total hip)" if hip else "names no region"
    vals = ", ".join(n.tok.text for n in measured)
    msg = f"{where}: a sentence states {vals} but {what}: not used"
    sides = {Side(t.key) for t in toks if t.kind == "side"}
    if len(sides) == 1:
        # one side named: values of that side's hip (the spine has no side), the flag says so there
        got.unplaced_side = sides.pop()
        got.flags += [flag(msg, r, got.unplaced_side) for r in (Region.FEMORAL_NECK, Region.TOTAL_HIP)]
    else:
        got.flags.append(flag(msg))
    got.lacking += got.flags
    got.unplaced += got.flags
    got.unplaced_criteria = sum(t.kind == "number" and t.skip == "threshold" for t in toks) >= CRITERIA_THRESHOLDS


def _partial_flag(s: Sentence, g: Mention, where: str, got: SentenceRead) -> None:
    """Flag values whose region was told from part of its word (LABEL_UNCERTAIN), and mark them."""
    got.flags.append(flag(f"{where}: the region is read only as '{g.label}' (a character of it not "
                          f"read); taken as {words.place(g.region, g.side)}, the one region so named "
                          "with a side: check it on the page", g.region, g.side, code=FlagCode.LABEL_UNCERTAIN))
    got.partial.append((got.flags[-1], g.region, g.side, s.line_at(g.start)))
    for st in got.stated:
        st.partial = st.partial or st.region is g.region


def _place_numbers(groups: list[Mention], measured: list[Measured], where: str,
                   got: SentenceRead) -> tuple[list[str], list[dict[str, set[float]]]]:
    """Each number to the region named last before it (the first, when only one is named).

    Returns the numbers before every region and, per group, the values meant for each measure;
    a number whose measure is doubtful gets a flag on ``got``.
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
            got.flags.append(flag(f"{where}: about {words.place(g.region, None, g.label)}, {n.problem}: "
                                  "the value was not used", g.region))
            got.doubts.append((got.flags[-1], g, n.intent))
            if n.lacking:
                got.lacking.append(got.flags[-1])
    return orphans, intents


def _scope_doubts(got: SentenceRead) -> None:
    """Each flag on a doubtful number about the side its region was given and the measure the
    number was meant for (all its measures where that is not known), no longer the region's
    every side and measure: a doubtful T-score of the right total hip puts no left hip value in doubt."""
    for f, g, intent in got.doubts:
        new = dataclasses.replace(f, side=None if g.region.is_spine else g.side, measure=intent)
        got.flags = [new if x is f else x for x in got.flags]
        got.lacking = [new if x is f else x for x in got.lacking]
    got.doubts = []


def _statements(s: Sentence, groups: list[Mention], intents: list[dict[str, set[float]]], where: str,
                got: SentenceRead) -> list[Statement]:
    """The values of each group with its side known and no measure given two values; flags for the rest."""
    stated: list[Statement] = []
    for g, given in zip(groups, intents):
        twice = sorted(words.measure_word(m) for m, vals in given.items() if len(vals) > 1)
        if twice:
            got.flags.append(flag(f"{where}: a sentence gives {words.place(g.region, g.side, g.label)} two "
                                  f"different values of {', '.join(twice)} (a region's name may be missing "
                                  "or misread): none of its values were used", g.region, g.side))
            got.lacking.append(got.flags[-1])
            continue
        if g.broken:
            msg = (f"{where}: a range of vertebrae ending at {g.label} is read without its start "
                   "(a level misread): its values were not used")
            got.flags += [flag(msg, g.region), flag(msg, Region.SPINE_TOTAL)]
            got.lacking += got.flags[-2:]
            continue
        if not g.region.is_spine and g.side is None:
            how = "with two sides" if g.two_sides else "without a side"
            got.flags.append(flag(f"{where}: values of {words.place(g.region)} are stated {how}: not used",
                                  g.region))
            if not g.two_sides:
                got.lacking.append(got.flags[-1])
            continue
        for t, m in g.numbers:
            if m and t.value is not None:
                stated.append(Statement(g.region, g.side if not g.region.is_spine else None, g.vertebrae, g.label,
                                        m, t.value, t.text, s.line_at(t.start), span=s.span_in_line(t.start, t.end)))
    return stated


def _sides(toks: list[SentenceToken], groups: list[Mention], text: str) -> None:
    """Each hip group's side: the side words in its stretch of the sentence, else the side the
    sentence gives the hip as a whole ('left hip: ...', or a heading '左侧髋关节：' read without
    its hip word); none or two leave it None."""
    text_sides = [t for t in toks if t.kind == "side"]
    hips = [t for t in toks if t.kind == "hip"]
    context = {Side(t.key) for t in text_sides
               if any(min(abs(t.start - h.end), abs(h.start - t.end)) <= 2 for h in hips)}
    context |= _heading_side(toks, text)
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


def _heading_side(toks: list[SentenceToken], text: str) -> set[Side]:
    """The sides named in the sentence's heading: the text before its first colon, where no
    region and no number stands before that colon ('左侧髋关节：', '左侧关节：' with 髋 lost)."""
    colon = min((k for k in (text.find(":"), text.find("：")) if k >= 0), default=-1)
    head = [t for t in toks if t.end <= colon]
    if colon < 0 or any(t.kind in ("region", "spine", "level", "number") for t in head):
        return set()
    return {Side(t.key) for t in head if t.kind == "side"}


# --- the whole text -----------------------------------------------------------------------------------

def read_sentences(lines: Sequence[TextLine]) -> SentenceReading:
    """Read every result sentence of ``lines`` (one page or a whole text file, in reading order).

    Returns the regions the sentences state, with provenance (page, line box,
    confidence, engine, raw text), and flags for every sentence whose
    region, side or measure cannot be told, and for values stated twice with
    different numbers.

    ``lines`` may hold the same page read by two OCR engines (each engine's
    lines in reading order, told apart by :attr:`TextLine.engine`): each
    engine's sentences are then read on their own and the two readings are
    joined (see :func:`join_engines`).
    """
    by_engine: dict[str, list[int]] = {}
    for i, ln in enumerate(lines):
        by_engine.setdefault(ln.engine, []).append(i)
    if len(by_engine) == 2 and TEXT_ENGINE not in by_engine and all("+" not in e for e in by_engine):
        reads = {e: _read_lines(lines, idx) for e, idx in by_engine.items()}
        stated, flags = join_engines(reads, lines)
        statements = max(sum(r.said for r in rs) for rs in reads.values())
    else:
        reads = {"": _read_lines(lines, range(len(lines)))}
        stated = [st for r in reads[""] for st in r.stated]
        flags = [f for r in reads[""] for f in r.flags]
        statements = sum(r.said for r in reads[""])
    regions, more = assemble(stated, lines)
    unplaced = [Unplaced(f, tuple(r.numbers), r.unplaced_side, r.unplaced_criteria) for rs in reads.values() for r in rs
                for f in r.unplaced]
    flags = scope_unplaced(flags, unplaced, stated, regions, lambda i, j: i == j or near(lines, i, j))
    return SentenceReading(tuple(regions), tuple(flags + more), statements)


def _read_lines(lines: Sequence[TextLine], idx: Iterable[int]) -> list[SentenceRead]:
    """The sentences of the lines at ``idx`` (one engine's), read; line indexes are those of ``lines``."""
    idx = list(idx)
    sub = [lines[i] for i in idx]
    out = []
    for s in split_sentences([ln.text for ln in sub]):
        got = _read_sentence(s, sub)
        for st in got.stated:
            st.line = idx[st.line]
        got.numbers = [n._replace(line=idx[n.line]) for n in got.numbers]
        got.others = [n._replace(line=idx[n.line]) for n in got.others]
        got.named_on = [idx[ln] for ln in got.named_on]
        out.append(got)
    return out


#: the name the issue and the report reader use for the same call
read_sentence_page = read_sentences


def read_text(text: str, page: int | None = None, engine: str = TEXT_ENGINE) -> SentenceReading:
    """:func:`read_sentences` over plain text (exact: no confidence)."""
    return read_sentences([TextLine(t, None, page, None, engine) for t in text.splitlines()])
