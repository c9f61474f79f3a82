"""Text lines photographed at a tilt, told from the OCR boxes themselves (issue 22).

An OCR engine reads a tilted line of print as one segment and gives it the
upright box around it: the line's text height plus its width times the tilt.
On a page of prose, where each segment is a whole line, those boxes of
neighbouring lines overlap by most of their height, and words grouped into
lines by their centres interleave the sentences (a photo of a report held at a
slant, or seen in perspective). Neighbouring words' pairs cannot tell the tilt
there (``lines.residual_skew``): the words split from one segment share its box.

The boxes still tell it. A box's height grows with its width at the tilt the
lines lie at (:func:`measure`: the median growth over pairs of boxes, Theil–Sen);
which way they tilt is told by the page's layout: lines that overlap left to
right lie apart top to bottom, so the tilt is the one (down to the right, up to
the right, or level: boxes swept by a tilt the page was since turned by) under
which no two such boxes fall on one line (:func:`_collisions`). Where neither
direction is told apart, nothing is changed.

With the tilt known, a segment's words are each given the box they have on the
tilted line (:func:`rebox`), and words are followed into lines word by word
along it (:func:`follow`). A page whose boxes show no tilt is left as it was:
``lines`` asks only where boxes read upright stand over one another within a
line's distance (:func:`crowded`, :func:`stacked`) or neighbouring words lie at
a tilt of :data:`MIN_GROWTH` or more.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import NamedTuple

from bmdkit.report.tokens import Token

#: the least growth of box height per pixel of width taken for a tilt (about 1.1 degrees):
#: below it a page's boxes are read as upright, as they were before tilts were told
MIN_GROWTH = 0.02

#: the steepest tilt told (about 14 degrees); a page turned further is a page turned, not tilted
MAX_GROWTH = 0.25

#: boxes swept by the tilt (their height grown by half a text height or more) needed to tell it
MIN_SWEPT = 3

#: two boxes whose centre lines lie nearer than this many text heights at a place both span
#: fall on one line: for boxes that overlap left to right, a tilt under which they do is wrong
_SAME_LINE = 0.8

#: at most this many boxes are compared pairwise (a page of prose has tens of segments)
_MAX_BOXES = 600

#: centres nearer than this many box heights are one line to ``lines.group_lines``
_UPRIGHT_LINE = 0.55


class Sweep(NamedTuple):
    """How a page's text lines lie as its boxes tell it."""

    #: dy/dx of the lines (0.0: level, boxes swept by a tilt the page was since turned by)
    slope: float
    #: how much a box's height grows per pixel of its width
    growth: float
    #: the text height of the page's lines (a box's height less its growth)
    height: float


def _width(t: Token) -> int:
    return max(t.box[2] - t.box[0], 1)


def _growth(tokens: Sequence[Token]) -> tuple[float, float]:
    """The growth of box height with width (Theil–Sen: the median over pairs of boxes of
    different widths) and the text height it leaves (the median box height less it)."""
    h0 = statistics.median(max(t.height, 1) for t in tokens)
    pairs = [(a.height - b.height) / (_width(a) - _width(b))
             for i, a in enumerate(tokens) for b in tokens[i + 1:] if abs(_width(a) - _width(b)) >= 2 * h0]
    if not pairs:
        return 0.0, h0
    g = float(statistics.median(pairs))
    return g, float(statistics.median(max(t.height - g * _width(t), 1.0) for t in tokens))


def own_slope(t: Token, sw: Sweep) -> float:
    """The growth of ``t``'s own box (its line may lie steeper or flatter than the page's:
    a photo's keystone), taken for a box long enough to show it, else the page's."""
    w = _width(t)
    if w < 4 * sw.height:
        return sw.growth
    return min(max((t.height - sw.height) / w, 0.0), 2 * sw.growth)


def tilt_of(t: Token, sw: Sweep, slope: float) -> float:
    """dy/dx of ``t``'s own line if the page's lines lie at ``slope`` (its own growth, that sign)."""
    return 0.0 if not slope else math.copysign(own_slope(t, sw), slope)


def _collisions(tokens: Sequence[Token], slope: float, sw: Sweep) -> int:
    """Pairs of boxes that overlap left to right by a text height or more yet fall on one
    line if the lines lie at ``slope`` (each box's centre line at the middle of the overlap)."""
    n = 0
    for i, a in enumerate(tokens):
        sa = tilt_of(a, sw, slope)
        for b in tokens[i + 1:]:
            lo, hi = max(a.box[0], b.box[0]), min(a.box[2], b.box[2])
            if hi - lo < sw.height:
                continue
            x = (lo + hi) / 2
            sb = tilt_of(b, sw, slope)
            if abs(a.yc + sa * (x - a.xc) - b.yc - sb * (x - b.xc)) < _SAME_LINE * sw.height:
                n += 1
    return n


def crowded(tokens: Sequence[Token]) -> bool:
    """Two boxes that overlap left to right by a box height or more have centres as near as
    ``lines.group_lines`` takes for one line (0.55 box heights): read upright, the boxes put
    two words that stand over one another on one line, which no tilt-free page does."""
    if len(tokens) < 2:
        return False
    med_h = statistics.median(max(t.height, 1) for t in tokens)
    order = sorted(tokens, key=lambda t: t.yc)
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            if b.yc - a.yc >= _UPRIGHT_LINE * med_h:
                break
            if min(a.box[2], b.box[2]) - max(a.box[0], b.box[0]) >= med_h:
                return True
    return False


def stacked(lines: Sequence[Sequence[Token]]) -> bool:
    """A line (of ``lines.group_lines``) holds two words that stand over one another: they
    overlap left to right by half the narrower one's width and half a text height or more."""
    med_h = statistics.median(max(t.height, 1) for ln in lines for t in ln)
    for ln in lines:
        order = sorted(ln, key=lambda t: t.box[0])
        for i, a in enumerate(order):
            for b in order[i + 1:]:
                if b.box[0] >= a.box[2]:
                    break
                lap = min(a.box[2], b.box[2]) - b.box[0]
                if lap >= 0.5 * max(min(_width(a), _width(b)), med_h):
                    return True
    return False


def along(tokens: Sequence[Token], slope: float) -> Sweep | None:
    """The sweep of words that lie at ``slope`` as their neighbours tell it (``lines.residual_skew``),
    each box its word's own; None below :data:`MIN_GROWTH`."""
    g = abs(slope)
    if not MIN_GROWTH <= g <= MAX_GROWTH:
        return None
    return Sweep(slope, g, float(statistics.median(max(t.height - g * _width(t), 1.0) for t in tokens)))


def measure(tokens: Sequence[Token]) -> Sweep | None:
    """The tilt of the page's lines as its boxes' heights tell it, or None: boxes that show no
    tilt (too few swept, growth below :data:`MIN_GROWTH`), or tilt in a direction that cannot
    be told. Callers ask only where the boxes read upright stand over one another
    (:func:`crowded`, :func:`stacked`): elsewhere a page is left as it was."""
    toks = [t for t in tokens if t.text.strip()]
    if len(toks) < MIN_SWEPT or len(toks) > _MAX_BOXES:
        return None
    g, h = _growth(toks)
    if not MIN_GROWTH <= g <= MAX_GROWTH:
        return None
    if sum(g * _width(t) >= 0.5 * h for t in toks) < MIN_SWEPT:
        return None
    sw = Sweep(0.0, g, h)
    score = {s: _collisions(toks, s, sw) for s in (0.0, -g, g)}
    best = min(score.values())
    if score[0.0] == best:
        return sw
    if score[-g] == score[g]:
        return None  # up or down to the right: not told
    return sw._replace(slope=-g if score[-g] < score[g] else g)


def rebox(t: Token, sw: Sweep, start: float, end: float) -> tuple[int, int, int, int]:
    """The box of the stretch ``start``..``end`` (x) of segment ``t`` on its tilted line: its
    centre on the segment's centre line, its height the text height plus the stretch's sweep."""
    g = own_slope(t, sw)
    slope = tilt_of(t, sw, sw.slope)
    text_h = max(t.height - g * _width(t), 1.0)
    yc = t.yc + slope * ((start + end) / 2 - t.xc)
    half = (text_h + g * (end - start)) / 2
    y0 = min(max(t.box[1], round(yc - half)), t.box[3] - 1)
    return int(start), y0, max(int(start) + 1, int(end)), max(min(t.box[3], round(yc + half)), y0 + 1)


def _gap(last: Token, w: Token, sw: Sweep) -> float | None:
    """How far (in text heights) ``w`` lies from the line ``last`` ends, followed along the
    page's tilt to ``w``'s centre; None where ``last`` reaches past ``w``'s start."""
    if last.box[2] > w.box[0] + 0.5 * sw.height:
        return None
    return abs(last.yc + sw.slope * (w.xc - last.xc) - w.yc) / sw.height


def follow(tokens: Sequence[Token], sw: Sweep) -> list[list[Token]]:
    """Words into lines along the tilt, each left to right, lines top to bottom.

    A line is followed word by word from the left: a word joins the line whose last
    word's centre line, carried along the tilt, passes nearest its centre (within half a
    text height) and ends before it starts. Following the last word, not the line's mean,
    keeps a line whole where its tilt differs from the page's (a keystone).
    """
    lines: list[list[Token]] = []
    for w in sorted(tokens, key=lambda t: (t.box[0], t.yc)):
        gaps = [(g, k) for k, line in enumerate(lines) if (g := _gap(line[-1], w, sw)) is not None and g < 0.5]
        if gaps:
            lines[min(gaps)[1]].append(w)
        else:
            lines.append([w])
    return sorted(lines, key=lambda ln: statistics.fmean(t.yc - sw.slope * t.xc for t in ln))
