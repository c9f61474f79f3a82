"""Stage 3: tokens into text lines.

Multi-word segments are split into words (boxes shared by character count), a
minus the engine set apart is joined to its number, and words are grouped into
lines by their vertical centres. The slope the words still lie at after page
straightening (``residual_skew``) is measured here too: it is a property of lines.
Where the lines lie at a tilt (a photo of a page of prose), words are given their
boxes on the tilted line and followed into lines along it (:mod:`bmdkit.report.sweep`).
"""

from __future__ import annotations

import re
import statistics

from bmdkit.report import sweep
from bmdkit.report.numbers import parse_number
from bmdkit.report.tokens import Token

_MINUS_GAP = re.compile(r"(?:(?<=\s)|^)([-\u2212\u2013\u2014])\s+(?=\d)")


def _join_minus(line: list[Token]) -> list[Token]:
    """Join a lone minus token to the number right after it ('-' '1.2' -> '-1.2')."""
    out: list[Token] = []
    for t in line:
        prev = out[-1] if out else None
        if (prev is not None and re.fullmatch(r"[-\u2212\u2013\u2014]", prev.text) and parse_number(t.text) is not None
                and not parse_number(t.text).blank and t.box[0] - prev.box[2] < 0.6 * max(t.height, 1)):  # type: ignore[union-attr]
            out[-1] = Token(prev.text + t.text, (prev.box[0], min(prev.box[1], t.box[1]), t.box[2],
                                                 max(prev.box[3], t.box[3])), min(prev.conf, t.conf), t.engine)
        else:
            out.append(t)
    return out


def split_tokens(tokens: list[Token]) -> list[Token]:
    """Split multi-word segments on spaces, boxes shared by character count.

    On a page whose lines lie at a tilt (:func:`sweep.measure`: a segment's upright box is
    the line's height plus its width times the tilt) each word is given its box on the
    tilted line, not the whole segment's height (:func:`sweep.rebox`).
    """
    sw = sweep.measure(tokens) if sweep.crowded(tokens) else None
    out: list[Token] = []
    for t in tokens:
        # a minus sign the engine set apart from its number stays with it
        t = Token(_MINUS_GAP.sub(r"\1", t.text), t.box, t.conf, t.engine)
        parts = [p for p in re.split(r"(\s+)", t.text)]
        words = [p for p in parts if p and not p.isspace()]
        if len(words) <= 1:
            out.append(t)
            continue
        n = max(len(t.text), 1)
        x0, y0, x1, y1 = t.box
        pos = 0
        for p in parts:
            if p and not p.isspace():
                a = x0 + (x1 - x0) * pos / n
                b = x0 + (x1 - x0) * (pos + len(p)) / n
                box = (int(a), y0, max(int(a) + 1, int(b)), y1) if sw is None else sweep.rebox(t, sw, a, b)
                out.append(Token(p, box, t.conf, t.engine))
            pos += len(p)
    return out


#: pairs of neighbouring words needed before their slope is trusted as the page's residual skew
_SKEW_MIN_PAIRS = 8


#: how far right (in text heights) a word's neighbour may be: table columns stand far apart
_SKEW_REACH = 12


#: steepest slope taken for a line (about 8.5 degrees); beyond it the pair is two lines
_SKEW_MAX_SLOPE = 0.15


def residual_skew(tokens: list[Token]) -> float:
    """The slope (dy/dx) of text lines as the words lie, 0.0 if it cannot be told.

    Each word is paired with the word of the next column to its right that
    lies nearest its own height (a table's columns are far apart, so "nearest"
    is taken within that column, not over the page); the median slope of the
    pairs is what a photo's keystone or an uneven scan left after page
    deskewing. Rows of a table tilted by a few degrees otherwise run into each other.
    """
    if len(tokens) < _SKEW_MIN_PAIRS:
        return 0.0
    med_h = statistics.median(max(t.height, 1) for t in tokens)
    slopes: list[float] = []
    for t in tokens:
        right = [u for u in tokens if u is not t and -0.2 * med_h <= u.box[0] - t.box[2] <= _SKEW_REACH * med_h
                 and 0.6 < max(u.height, 1) / max(t.height, 1) < 1.6]
        if not right:
            continue
        first = min(u.box[0] for u in right)
        column = [u for u in right if u.box[0] <= first + 2 * med_h]
        u = min(column, key=lambda u: abs(u.yc - t.yc))
        dx = u.xc - t.xc
        if dx > med_h and abs(u.yc - t.yc) < max(0.8 * med_h, _SKEW_MAX_SLOPE * dx):
            slopes.append((u.yc - t.yc) / dx)
    if len(slopes) < _SKEW_MIN_PAIRS:
        return 0.0
    return float(statistics.median(slopes))


def group_lines(tokens: list[Token]) -> list[list[Token]]:
    """Tokens grouped into text lines by vertical centre, each sorted left to right.

    Where the words lie at a tilt (:func:`residual_skew`, :data:`sweep.MIN_GROWTH` or more),
    or lines so grouped stack words that stand over one another (:func:`sweep.stacked`: the
    boxes of whole tilted lines overlap by most of their height), the centres of
    neighbouring lines interleave: words are followed into lines along the tilt instead
    (:func:`sweep.follow`), the tilt told by the boxes' heights (:func:`sweep.measure`, where
    the boxes stand over one another within a line's distance: :func:`sweep.crowded`) or by
    neighbouring words.
    """
    if not tokens:
        return []
    med_h = statistics.median(max(t.height, 1) for t in tokens)
    lines: list[list[Token]] = []
    for t in sorted(tokens, key=lambda t: t.yc):
        if lines and abs(statistics.fmean(x.yc for x in lines[-1]) - t.yc) < 0.55 * med_h:
            lines[-1].append(t)
        else:
            lines.append([t])
    lines = [_join_minus(sorted(line, key=lambda t: t.box[0])) for line in lines]
    slope = residual_skew(tokens)
    if abs(slope) < sweep.MIN_GROWTH and not sweep.stacked(lines):
        return lines
    sw = (sweep.measure(tokens) if sweep.crowded(tokens) else None) or sweep.along(tokens, slope)
    if sw is None:
        return lines
    return [_join_minus(sorted(line, key=lambda t: t.box[0])) for line in sweep.follow(tokens, sw)]


def line_text(line: list[Token]) -> str:
    """The words of a line, space-joined."""
    return " ".join(t.text for t in line)


def close(a: list[Token], b: list[Token]) -> bool:
    """Line ``b`` follows line ``a`` within about a line's height (a wrapped label, not the next row)."""
    h = statistics.median(max(t.height, 1) for t in a + b)
    return statistics.fmean(t.yc for t in b) - statistics.fmean(t.yc for t in a) < 1.3 * h
