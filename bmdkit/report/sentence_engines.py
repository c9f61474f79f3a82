"""Two OCR engines' readings of a page of prose, joined value by value; words into text lines.

Part of the sentence reader (:mod:`bmdkit.report.sentences`, which re-exports the
public names here). A page of prose read by OCR is read by both engines where
both are at hand (``prose.ocr_sentence_lines``): the layout engine's lines,
and the second engine's words in its own reading order (:func:`lines_in_order`).
Each engine's sentences are read on their own and joined (:func:`join_engines`):
a value both read alike, in sentences giving it the same region, side and
measure, is confirmed and carries no review flag (the table vote's rule,
:func:`bmdkit.report.vote.backed_by_each_engine`); a region word one engine
lost is taken from the other where that engine's digits back the value; a
value one engine alone read, or the engines read differently, is flagged; an
ambiguity either engine finds stays flagged.

The rules of :func:`join_engines`:

- A value both engines read alike, in sentences that give it the same region, side and
  measure, at the same place of the page, is confirmed: it carries both engines and no
  low-confidence flag.
- A value one engine gives a region, side and measure where the other engine read the same
  number at the same place but lacked a word to place it (a region word it missed, as
  RapidOCR misses 髋), and used that number for nothing else, is confirmed too: the digits
  are backed by both, the words by the engine that read them. A minus lookalike before a
  number ('一 0.2') backs a minus the other engine read there.
- The same region, side and measure given different values at the same place is an engine
  disagreement: the value from the line read with more confidence is kept, flagged.
- A value only one engine read is flagged; where both engines read another value for the
  same region, side and measure elsewhere on the page, that one is kept; where the other
  engine read the same number there in a sentence it finds ambiguous, naming its regions on
  that line (not a sentence run into the line above for a full stop lost), none is used.

Flags: an ambiguity either engine finds in a sentence is kept (once, where both find it);
a flag about what one engine's reading lacks is dropped where the other engine read each
number of that sentence at the same place, as a value confirmed there or as no result (a
threshold, a unit's number), but for stray marks (:func:`_stray`), else kept.
A region told from part of its word keeps its flag unless the other engine read the whole word.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Flag, Region, Side
from bmdkit.report import words
from bmdkit.report.sentence_measures import DECIMAL_MEASURES
from bmdkit.report.sentence_results import Box, ReadNumber, SentenceRead, Statement, TextLine, flag

#: a Chinese character or full-width punctuation: words ending and starting with one are joined
#: without a space
_CJK_EDGE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


class WordLike(Protocol):
    """What :func:`lines_from_words` needs of an OCR or text-layer word (``report.ocr.Token`` fits)."""

    text: str
    box: Box
    conf: float
    engine: str


# --- two engines ------------------------------------------------------------------------------------

def near(lines: Sequence[TextLine], i: int, j: int) -> bool:
    """Lines ``i`` and ``j`` lie at the same place of the same page (their boxes share most of
    their height)."""
    a, b = lines[i], lines[j]
    if a.page != b.page or a.box is None or b.box is None:
        return False
    overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    return overlap >= 0.5 * min(a.box[3] - a.box[1], b.box[3] - b.box[1]) and \
        min(a.box[2], b.box[2]) > max(a.box[0], b.box[0])


def _conf(lines: Sequence[TextLine], i: int) -> float:
    c = lines[i].confidence
    return 1.0 if c is None else c


def _both_read(lines: Sequence[TextLine], x: tuple[str, int], y: tuple[str, int]) -> bool:
    """Two readings ((text, line) of each engine) of one value are the same number: each
    engine backs the digits and the sign, as a table cell both engines read
    (:func:`bmdkit.report.vote.backed_by_each_engine`)."""
    from bmdkit.report import vote
    from bmdkit.report.numbers import parse_number

    cands = [vote.Candidate(lines[i].engine, raw, _conf(lines, i), parse_number(raw)) for raw, i in (x, y)]
    best = cands[0].key
    if best is None or best[0] is None or cands[0].parsed is None:
        return False
    decimals = cands[0].parsed.decimals
    printed = f"{abs(best[0]):.{decimals}f}".replace(".", "")
    # the same number to the same decimals ('001' is not 1.0), or only the point lost ('03', not '3')
    backers = [c for c in cands if c.key == best and c.parsed is not None and c.parsed.decimals == decimals
               or vote.same_digits(c, best, decimals) and "".join(ch for ch in c.text if ch.isdigit()) == printed]
    return vote.backed_by_each_engine(cands, backers, best, decimals)


def _confirmed(st: Statement, lines: Sequence[TextLine], other_line: int) -> Statement:
    """``st`` as read by both engines: a value two engines agree on is strong evidence (the
    confidence the table vote gives a cell both engines read alike)."""
    from bmdkit.report import vote

    c1 = max(_conf(lines, st.line), _conf(lines, other_line))
    conf = round(min(0.99, max(vote.MIN_CONFIDENCE, 1 - (1 - c1) * 0.5)), 3)
    engines = tuple(sorted({lines[st.line].engine, lines[other_line].engine}))
    return dataclasses.replace(st, confirmed_by=engines, conf=conf)


def _key(st: Statement) -> tuple[object, ...]:
    return (st.region, st.side, st.measure, st.vertebrae if st.region is Region.SPINE_TOTAL else None)


def _covers_key(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """Key ``a`` names the value of key ``b``: the same, or the lumbar total named without its
    vertebrae ('位于腰椎', 'at the spine') where ``b`` names them."""
    return a == b or a[:3] == b[:3] and a[3] is None and a[0] is Region.SPINE_TOTAL


def join_engines(reads: dict[str, list[SentenceRead]],
                  lines: Sequence[TextLine]) -> tuple[list[Statement], list[Flag]]:
    """One page (or pages) read by two engines, joined value by value (the rules are the module's)."""
    engines = list(reads)
    joined: list[tuple[Statement, Flag | None]] = []
    done: set[int] = set()  # ids of statements already joined
    confirmed: list[tuple[int, str]] = []  # (line, text) of each engine's reading of a confirmed value
    named: list[tuple[Region, Side | None, int]] = []  # a region's whole word read where a value is confirmed
    stated = {e: [st for r in rs for st in r.stated] for e, rs in reads.items()}
    # a number backs the other engine's value only from a sentence that engine found no ambiguity in
    numbers = {e: [n for r in rs if not _ambiguous(r) for n in r.numbers] for e, rs in reads.items()}
    doubted = {e: [(n, r.named_on) for r in rs if _ambiguous(r) for n in r.numbers] for e, rs in reads.items()}
    for x, y in ((engines[0], engines[1]), (engines[1], engines[0])):
        for st in stated[x]:
            if id(st) in done:
                continue
            done.add(id(st))
            same = [t for t in stated[y]
                    if id(t) not in done and _key(t) == _key(st) and near(lines, t.line, st.line)]
            alike = [t for t in same if _both_read(lines, (st.raw, st.line), (t.raw, t.line))]
            where = f"the {words.measure_word(st.measure)} of {words.place(st.region, st.side, st.label)}"
            if alike:
                done.add(id(alike[0]))
                joined.append((_confirmed(st, lines, alike[0].line), None))
                if not (st.partial and alike[0].partial):
                    named.append((st.region, st.side, st.line))
                confirmed += [(st.line, st.raw), (alike[0].line, alike[0].raw)]
                continue
            if same:
                t = same[0]
                done.add(id(t))
                keep = st if _conf(lines, st.line) >= _conf(lines, t.line) else t
                msg = (f"{words.opening(where)} is read as {st.raw} by {x} and as {t.raw} by {y} at "
                       f"the same place: {keep.raw} was kept; check it on the page")
                joined.append((keep, flag(msg, st.region, st.side, st.measure,
                                          code=FlagCode.ENGINE_DISAGREEMENT)))
                continue
            got, backed_by = _alone(st, x, y, lines, numbers[y], stated[y], doubted[y])
            if got is not None:
                joined.append(got)
            if backed_by is not None:
                named += [] if st.partial else [(st.region, st.side, st.line)]
                confirmed += [(st.line, st.raw), backed_by]
    out, flags = _prefer_confirmed(joined)
    sure = {(_key(st), st.value) for st in out if st.confirmed_by and not st.partial}
    return out, flags + _engine_flags(reads, lines, confirmed, named, sure)


def _alone(st: Statement, x: str, y: str, lines: Sequence[TextLine], numbers: list[ReadNumber],
           stated: list[Statement], doubted: list[tuple[ReadNumber, list[int]]],
           ) -> tuple[tuple[Statement, Flag | None] | None, tuple[int, str] | None]:
    """A value engine ``x`` states that ``y`` gives no value for the same region, side and measure
    at that place: confirmed where ``y`` read the number there and used it for nothing else (then
    also the (line, text) of ``y``'s reading), dropped where ``y`` read the sentence as ambiguous,
    else kept with a flag (see :func:`join_engines`)."""
    backing = [(n.line, raw) for n in numbers if near(lines, n.line, st.line)
               and n.intent in (st.measure, None) for raw in n.readings()
               if _both_read(lines, (st.raw, st.line), (raw, n.line))]
    elsewhere = [t for t in stated if near(lines, t.line, st.line) and t.value == st.value and _key(t) != _key(st)]
    if backing and not elsewhere:
        return (_confirmed(st, lines, backing[0][0]), None), backing[0]
    if any(near(lines, n.line, st.line) and n.value == st.value and all(near(lines, ln, st.line) for ln in on)
           for n, on in doubted):
        return None, None  # the other engine reads the sentence as ambiguous: its flag stands, no value used
    what = "gives it to another region" if elsewhere else "did not read it there"
    where = f"the {words.measure_word(st.measure)} of {words.place(st.region, st.side, st.label)}"
    msg = f"{words.opening(where)} was read as {st.raw} by {x} only ({y} {what}): check it on the page"
    return (st, flag(msg, st.region, st.side, st.measure, code=FlagCode.LOW_CONFIDENCE)), None


def _stray(n: ReadNumber) -> bool:
    """A number no measure word or unit claims ('LI1-14'), or a whole number read for a measure always
    printed with decimals ('T-score 2 -1.0' for '≥ -1.0'): a mark misread, not a value of its own
    (as a malformed reading is no rival in the table vote, vote.backed_by_each_engine)."""
    return n.intent is None or n.intent in DECIMAL_MEASURES and "." not in n.raw


def _ambiguous(r: SentenceRead) -> bool:
    """The sentence has a flag about the sentence itself (two regions and one value, two sides, ...),
    not only about something this reading lacks."""
    return any(f.level is not Severity.INFO and not any(f is g for g in r.lacking)
               and not any(f is p[0] for p in r.partial) for f in r.flags)


def _prefer_confirmed(joined: list[tuple[Statement, Flag | None]]) -> tuple[list[Statement], list[Flag]]:
    """Drop a value one engine alone read where both engines read one other value for the same
    region, side and measure elsewhere on the page (its flag stays, saying so); where both read
    the same value there (a bilingual report, an impression repeating a T-score), the one-engine
    reading is that value stated again: it is dropped with its flag, the confirmed one stands."""
    sure: dict[tuple[object, ...], set[float]] = {}
    for st, _ in joined:
        if st.confirmed_by:
            sure.setdefault(_key(st), set()).add(st.value)
    out: list[Statement] = []
    flags: list[Flag] = []
    for st, fl in joined:
        vals = {v for k, vs in sure.items() if _covers_key(_key(st), k) for v in vs}
        if not st.confirmed_by and st.value in vals:
            continue  # the same value both engines read elsewhere on the page
        if not st.confirmed_by and len(vals) == 1 and st.value not in vals:
            assert fl is not None
            flags.append(dataclasses.replace(fl, message=fl.message.replace(
                ": check it on the page", f"; both engines read {next(iter(vals)):g} elsewhere on the page, "
                "which was kept: check it on the page")))
            continue
        out.append(st)
        if fl is not None:
            flags.append(fl)
    return out, flags


def _engine_flags(reads: dict[str, list[SentenceRead]], lines: Sequence[TextLine],
                  confirmed: list[tuple[int, str]],
                  named: list[tuple[Region, Side | None, int]],
                  sure: set[tuple[tuple[object, ...], float]]) -> list[Flag]:
    """The flags of each engine's sentences, an ambiguity once, a lack the other engine supplied dropped
    (see :func:`join_engines`); a region told from part of its word loses its flag where each value
    so placed is one both engines read for that region, side and measure elsewhere on the page
    (``sure``: (key, value) of each confirmed value read with its whole region word), as a
    bilingual report states it twice."""
    engines = list(reads)
    others = {e: [n for r in reads[e] for n in r.others] for e in engines}
    out: list[Flag] = []
    seen: set[tuple[object, ...]] = set()
    for k, e in enumerate(engines):
        y = engines[1 - k]

        def accounted(n: ReadNumber, theirs: Sequence[ReadNumber] = others[y]) -> bool:
            if any(near(lines, n.line, ln) and any(_both_read(lines, (raw, ln), (r, n.line))
                                                     for r in n.readings()) for ln, raw in confirmed):
                return True
            return any(o.value == n.value and near(lines, n.line, o.line) for o in theirs)

        for r in reads[e]:
            for f in r.flags:
                if any(f is g for g in r.lacking) and any(accounted(n) for n in r.numbers) and all(
                        accounted(n) or _stray(n) for n in r.numbers):
                    continue  # what this engine lacked the other supplied
                if any(f is g and any(n[:2] == (region, side) and near(lines, n[2], ln) for n in named)
                       for g, region, side, ln in r.partial):
                    continue  # the other engine read the whole word of the region
                if any(f is g for g, *_ in r.partial) and r.stated and all(
                        (_key(st), st.value) in sure for st in r.stated):
                    continue  # each value so placed is confirmed where the region's whole word stands
                if any(f is g and _partial_by_both(region, side, ln, reads[y], lines) for g, region, side, ln in r.partial):
                    f = dataclasses.replace(f, severity=Severity.INFO, message=f.message.replace(
                        ": check it on the page", ": both engines read the word so"))
                key = (f.code, f.region, f.side, f.measure, f.level, f.message.split(": ", 1)[-1])
                if key not in seen:
                    seen.add(key)
                    out.append(f)
    return out


def _partial_by_both(region: Region, side: Side | None, line: int, other: Sequence[SentenceRead],
                     lines: Sequence[TextLine]) -> bool:
    """The other engine also read part of the region's word ('全' with 髋 lost), with the same side, at the
    same place: the word as read is confirmed, and what it names follows from the vocabulary (the one
    region so named with a side), so the flag is a note, not a review item."""
    return any(rg is region and sd == side and near(lines, line, ln) for r in other for _, rg, sd, ln in r.partial)


# --- words into lines -------------------------------------------------------------------------------

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
        text = ""
        for w in ws:  # no space between two Chinese characters (tesseract sets each apart: '左 侧 全 髋')
            glued = not text or _CJK_EDGE.match(text[-1]) and _CJK_EDGE.match(w.text[0])
            text += ("" if glued else " ") + w.text
        out.append(TextLine(text, None if exact else min(w.conf for w in ws), page, box, "+".join(engines)))
    return out


def group_words(words: Sequence[WordLike]) -> list[list[WordLike]]:
    """Words into text lines, each left to right, lines top to bottom: for callers that have words
    but no lines (an OCR engine's words of a page of prose).

    A line is followed word by word from the left: a word joins the line whose last word
    shares most of its height with it and ends before it starts. Following the last word,
    not the line's mean height, keeps a line whole where it bends or slopes (a photo's
    keystone, paper curl), where single words' heights drift by more than a line's spacing
    across the page.
    """
    lines: list[list[WordLike]] = []
    for w in sorted((w for w in words if w.text.strip()), key=lambda w: (w.box[0], w.box[1])):
        h = max(w.box[3] - w.box[1], 1)
        best: tuple[float, float] | None = None
        at = -1
        for k, line in enumerate(lines):
            last = line[-1]
            lh = max(last.box[3] - last.box[1], 1)
            if last.box[2] > w.box[0] + 0.5 * min(h, lh):
                continue  # the line's last word reaches past this one's start: not its next word
            share = (min(last.box[3], w.box[3]) - max(last.box[1], w.box[1])) / min(h, lh)
            if share < 0.5:
                continue
            rank = (share, -(w.box[0] - last.box[2]))
            if best is None or rank > best:
                best, at = rank, k
        if at < 0:
            lines.append([w])
        else:
            lines[at].append(w)
    return sorted(lines, key=lambda ln: ((ln[0].box[1] + ln[0].box[3]) / 2, ln[0].box[0]))


def lines_in_order(words: Sequence[WordLike]) -> list[list[WordLike]]:
    """An engine's words, given in its own reading order (tesseract gives a page's words line by
    line), into text lines: a line ends where the next word starts back at the left or lies wholly
    below it. Tesseract's boxes of Chinese words overlap their neighbours' and a photo's lines
    slope, so its order says more than the boxes where a line ends."""
    lines: list[list[WordLike]] = []
    prev: WordLike | None = None
    for w in words:
        if not w.text.strip():
            continue
        if prev is not None:
            h = max(min(w.box[3] - w.box[1], prev.box[3] - prev.box[1]), 1)
            share = min(w.box[3], prev.box[3]) - max(w.box[1], prev.box[1])
            if w.box[0] < prev.box[0] - h or share < 0.3 * h:
                prev = None
        if prev is None:
            lines.append([w])
        else:
            lines[-1].append(w)
        prev = w
    return lines
