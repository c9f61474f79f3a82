"""A page of prose read by OCR: the lines of both engines, for the sentence reader.

On an OCR page where the layout engine finds no results table but its lines
state results, the page is one of prose (issue 22): the second engine reads
the same image and its lines are added, so that :func:`bmdkit.report.sentences.read_sentences`
confirms each value both engines read alike (``sentence_engines.join_engines``).
The second engine is not asked to lay out tables there: it finds false tables in prose.

A line whose values cannot all be placed (its region word lost or read in part: a photo's
'右侧部总体' for '右侧髋部总体', '全' for '全髋') is read again on its own crop by
each engine (:func:`reread_doubtful`). A re-reading replaces the line only where it
adds words and keeps every number as first read, and the line then states all it
stated before, the same, and more or with fewer doubts: a closer look adds the words
the first reading lost, never a value of its own.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter
from collections.abc import Callable, Sequence

from bmdkit.flags import FlagCode, Severity
from bmdkit.report.ocr import OCRTimeout
from bmdkit.report.sentence_text import fold, tokens
from bmdkit.report.sentences import Box, TextLine, WordLike, lines_from_words, lines_in_order, read_sentences

#: at most this many lines of a page are read again on their crops (each costs every engine one
#: crop; a page of prose states its results in a few lines, so more doubtful lines than this are
#: a page read badly all over, where a closer look at each line is no remedy worth the time)
MAX_REREAD_LINES = 12

#: what a re-reading may add to a line: anything but digits, signs and decimal points
_NO_NUMBER = re.compile(r"[^0-9.\-+−–—一]+")

#: a crop re-reader: boxes of the page image read again, each by every engine ('PageRereader.read_boxes')
Rereader = Callable[[list[Box]], list[list[str]]]


def ocr_sentence_lines(layout_lines: Sequence[Sequence[WordLike]], page: int,
                       other: Callable[[], Sequence[WordLike]] | None = None,
                       to_page: Callable[[Box], Box] | None = None,
                       reread: Rereader | None = None) -> list[TextLine]:
    """The lines of a page of prose read by OCR, for :func:`read_sentences`; empty where the layout
    engine's lines state no result that could be placed (then the page is not one of prose).

    ``layout_lines``: the layout engine's lines of words; ``other``: where a second engine is at
    hand, a call giving its words of the same page image, in its own reading order (see
    :func:`lines_in_order`); its lines are added, so that :func:`read_sentences` confirms each
    value both engines read alike (a time-out of that call leaves the first engine's lines
    alone, each value then unconfirmed); ``to_page`` maps a box on that image to the page as given;
    ``reread``: where at hand, reads boxes of that image again (see :func:`reread_doubtful`).
    """
    first = lines_from_words(layout_lines, page=page)
    if reread is not None:
        first = reread_doubtful(first, reread)
    if not read_sentences(first).regions:
        return []
    lines = list(first)
    if other is not None:
        try:
            lines += lines_from_words(lines_in_order(other()), page=page)
        except OCRTimeout:
            pass
    if to_page is None:
        return lines
    return [ln if ln.box is None else dataclasses.replace(ln, box=to_page(ln.box)) for ln in lines]


def reread_doubtful(lines: list[TextLine], reread: Rereader) -> list[TextLine]:
    """``lines`` with each line that states a number it cannot place, or places it on a region
    told from part of its word, read again on its crop (``reread``) and replaced by a re-reading
    that places more (see the module's rules, :func:`_better`); other lines as they were."""
    alone = {i: _reading(ln) for i, ln in enumerate(lines) if ln.box is not None and _numbers(ln.text)}
    doubtful = [i for i, (_, doubts) in alone.items() if doubts][:MAX_REREAD_LINES]
    if not doubtful:
        return lines
    out = list(lines)
    for i, texts in zip(doubtful, reread([lines[i].box for i in doubtful])):  # type: ignore[misc]
        for text in texts:
            got = _better(lines[i], text, alone[i])
            if got is not None:
                out[i] = dataclasses.replace(lines[i], text=got)
                break
    return out


def _numbers(text: str) -> list[str]:
    return [t.text for t in tokens(fold(text)) if t.kind == "number"]


def _words(text: str) -> Counter[tuple[str, str]]:
    """The vocabulary words of a text (kind and meaning), counted."""
    return Counter((t.kind, t.key) for t in tokens(fold(text)) if t.kind != "number")


def _reading(line: TextLine) -> tuple[dict[tuple[object, ...], float], int]:
    """What the line alone states ((region, side, measure) to value) and how many doubts it has:
    flags that are no page-wide note (a region told from part of its word counts twice: it is
    the doubt a re-reading removes). A line that states a number and has a doubt is read again."""
    got = read_sentences([line])
    values = {(r.region, r.side, m): v for r in got.regions
              for m in ("bmd", "t_score", "z_score", "bmc", "area") if (v := r.value(m)) is not None}
    doubts = sum(1 + (f.code is FlagCode.LABEL_UNCERTAIN) for f in got.flags if f.level is not Severity.INFO)
    return values, doubts


def _better(line: TextLine, text: str, first_reading: tuple[dict[tuple[object, ...], float], int]) -> str | None:
    """A text for ``line`` from its re-reading ``text``: the re-reading itself, or the first reading
    with only the words the re-reading adds; the first of these that keeps the line's numbers as
    first read, states each value the line stated (``first_reading``: :func:`_reading` of the line),
    the same, and states more or with fewer doubts."""
    first = re.sub(r"\s+", "", line.text)
    again = re.sub(r"\s+", "", text)
    if not again or again == first:
        return None
    was, doubts = first_reading
    for cand in (text, _added_words(first, again)):
        if cand is None or _numbers(cand) != _numbers(line.text) or _words(line.text) - _words(cand):
            continue  # a number read otherwise, or a word of the first reading lost (a side, a measure)
        now, fewer = _reading(dataclasses.replace(line, text=cand))
        if any(now.get(k) != v for k, v in was.items()):
            continue
        if len(now) > len(was) or len(now) == len(was) and now and fewer < doubts:
            return cand
    return None


def _added_words(first: str, again: str) -> str | None:
    """``first`` with the stretches of text ``again`` has there and ``first`` lacks (a character
    OCR dropped), but no digit, sign or point; None where ``again`` adds nothing of the kind."""
    out: list[str] = []
    added = False
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, first, again, autojunk=False).get_opcodes():
        out.append(first[a0:a1])
        if op == "insert" and _NO_NUMBER.fullmatch(again[b0:b1]):
            out.append(again[b0:b1])
            added = True
    return "".join(out) if added else None
