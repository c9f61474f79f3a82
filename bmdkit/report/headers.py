"""Stage 4a: header lines, the columns they name, and the heading above a table.

A *header line* is a text line with at least two measure headers (BMD,
T-score, 面积, ...; words in reference_data/report_labels.csv). A two-line
header is read stacked ('T-' over 'score'), keeping the first line's columns
the stacking lost; its units name the columns whose words OCR garbled. A
column of numbers under no recognized header has its header lines read again
on their crops (the :class:`~bmdkit.report.cells.CropReader` handed in), then
takes the nearest header word still free ('值' is T值 where Z值 is a column).
A heading above the header may name the table's side (Norland: one table per hip).
"""

from __future__ import annotations

import itertools
import re
import statistics
from typing import NamedTuple

from bmdkit.model import Side
from bmdkit.report import labels
from bmdkit.report.cells import DATA_MEASURES, UNREAD_ROW_MIN_NUMBERS, Column, CropReader, Line, blank
from bmdkit.report.columns import clusters
from bmdkit.report.lines import line_text
from bmdkit.report.tokens import Token


class Header(NamedTuple):
    """A header found at a line: its columns (None: no header there), how many lines it
    takes (1 or 2), and the measures only the nearest header word named."""

    columns: list[Column] | None
    n_lines: int
    approx: set[str]


class Heading(NamedTuple):
    """The side a heading above a table names, and whether only the nearest heading words named it."""

    side: Side | None
    approx: bool


class RereadColumn(NamedTuple):
    """A column of numbers named by a second reading of its header: "reread" or "approximate"."""

    column: Column
    how: str


def split_header_token(t: Token) -> list[Token]:
    """'BMD (g/cm2)T-score' -> 'BMD (g/cm2)', 'T-score' at header-word starts."""
    pats = labels._patterns("header_split")
    if not pats:
        return [t]
    starts = sorted({m.start() for _, p in pats for m in p.finditer(t.text)})
    starts = [s for s in starts if s > 0]
    if not starts:
        return [t]
    n = max(len(t.text), 1)
    x0, y0, x1, y1 = t.box
    bounds = [0, *starts, len(t.text)]
    out = []
    for a, b in itertools.pairwise(bounds):
        piece = t.text[a:b].strip()
        if piece:
            out.append(Token(piece, (int(x0 + (x1 - x0) * a / n), y0, int(x0 + (x1 - x0) * b / n), y1),
                             t.conf, t.engine))
    return out


def _header_columns(line: list[Token], above: list[Token] | None, strict: bool = True,
                    stacked: bool = False, approx: set[str] | None = None) -> list[Column] | None:
    """Columns (measure, x0, x1) if ``line`` is a table header.

    A ``stacked`` line (two header lines joined) counts its units as named
    measures: under words OCR misread they are what names the columns. Words
    one misreading away from a header word ('乙值' for Z值) name a column, added
    to ``approx`` for the caller to flag, but never make a line a header.
    """
    cols: list[Column] = []
    by_unit: set[int] = set()  # columns named by their unit alone
    own = 0  # measures named on this line itself (not only with the line above)
    for tok in line:
        for t in split_header_token(tok):
            unit = labels.unit_measure(t.text)
            word = labels.header_measure(t.text)
            bracket = re.fullmatch(r"[\(\[（].*", t.text) is not None
            if _beside_last(cols, t) and (bracket and unit in (None, cols[-1][0]) or labels.same_column(word or unit, cols[-1][0])):
                # units ('(g/cm²)', '(%)', 'YA %') or one column named twice ('骨密度 BMD', 'BMD g/cm2')
                cols[-1] = Column(cols[-1][0], cols[-1][1], t.box[2])
                continue
            key = word
            if key in DATA_MEASURES:
                own += 1
            if key is None and above:
                over = [a for a in above if min(a.box[2], t.box[2]) - max(a.box[0], t.box[0]) > 0]
                if over:
                    key = labels.measure_of("".join(a.text for a in over) + t.text)
            if key is None:
                key = unit  # a misread or unknown header word over a known unit: 'Dichte (g/cm²)'
                own += stacked and key is not None
                if key is not None:
                    by_unit.add(len(cols))
            if key is None and approx is not None:
                key = labels.fuzzy_measure(t.text, {k for k, _, _ in cols})
                if key is not None:
                    approx.add(key)
            if key is None:
                # units on their own ('(g/cm²)') or unknown words: merge into a previous column just before
                if bracket and _beside_last(cols, t):
                    cols[-1] = Column(cols[-1][0], cols[-1][1], t.box[2])
                continue
            cols.append(Column(key, t.box[0], t.box[2]))
    cols = _one_column_per_measure(cols, by_unit)
    if not strict:
        return cols
    if own < 2 or sum(1 for k, _, _ in cols if k in DATA_MEASURES) < 2:
        return None
    if not any(k in ("bmd", "t_score") for k, _, _ in cols):
        return None
    return cols


def _one_column_per_measure(cols: list[Column], by_unit: set[int]) -> list[Column]:
    """A measure a header word names is that column's alone: another column named only by its
    unit ('Height (cm)' whose word was misread: cm is not cm², and a length is no area) is some
    other quantity, so its numbers never join the named column's cells."""
    named = {c.measure for k, c in enumerate(cols) if k not in by_unit}
    return [Column("other", c.x0, c.x1) if k in by_unit and c.measure in named and c.measure in DATA_MEASURES
            else c for k, c in enumerate(cols)]


def _stack(top: list[Token], bottom: list[Token]) -> list[Token]:
    """Two header lines as one: tokens overlapping horizontally are joined top-to-bottom."""
    top = [p for t in top for p in split_header_token(t)]
    bottom = [p for t in bottom for p in split_header_token(t)]

    def ov(a: Token, b: Token) -> bool:
        return min(a.box[2], b.box[2]) - max(a.box[0], b.box[0]) > 0

    # a top word over two or more bottom words is a group title ('Age-Matched' over '(%)' and 'Z-score')
    top = [t for t in top if sum(ov(t, b) for b in bottom) < 2]
    groups: list[list[Token]] = []
    for t in sorted(top + bottom, key=lambda t: t.box[0]):
        for g in groups:
            if any(min(t.box[2], u.box[2]) - max(t.box[0], u.box[0]) > 0 for u in g):
                g.append(t)
                break
        else:
            groups.append([t])
    out = []
    for g in groups:
        g.sort(key=lambda t: (t.yc, t.box[0]))
        out.append(Token("".join(t.text for t in g), (min(t.box[0] for t in g), min(t.box[1] for t in g),
                         max(t.box[2] for t in g), max(t.box[3] for t in g)), min(t.conf for t in g), g[0].engine))
    return sorted(out, key=lambda t: t.box[0])


def _beside_last(cols: list[Column], t: Token) -> bool:
    """``t`` starts within two text heights of the last column's end."""
    return bool(cols) and t.box[0] - cols[-1][2] < 2 * max(t.height, 1)


def _n_data(cols: list[Column] | None) -> int:
    """How many data columns (BMD, T-score, ...) a header names."""
    return 0 if cols is None else sum(1 for k, _, _ in cols if k in DATA_MEASURES)


def header_at(lines: list[list[Token]], i: int, guess: bool = False) -> Header:
    """Columns of a header starting at line ``i``, how many lines it takes (1 or 2),
    and the measures only the nearest header word named (with ``guess``: OCR pages)."""
    approx: set[str] = set()
    single = _header_columns(lines[i], lines[i - 1] if i > 0 else None, approx=approx if guess else None)
    if i + 1 < len(lines):
        h = statistics.median(max(t.height, 1) for t in lines[i] + lines[i + 1])
        gap = statistics.fmean(t.yc for t in lines[i + 1]) - statistics.fmean(t.yc for t in lines[i])
        if gap < 2.2 * h and _has_header_word(lines[i]):
            approx2: set[str] = set()
            pair = _header_columns(_stack(lines[i], lines[i + 1]), None, stacked=True,
                                   approx=approx2 if guess else None)
            added: set[str] = set()
            if pair is not None and single is not None:
                before = {k for k, _, _ in pair}
                pair = _union(pair, single)
                added = {k for k, _, _ in pair} - before
            exact_pair = _n_data(pair) - len(approx2 | (approx & added))
            exact_single = _n_data(single) - len(approx)
            if _n_data(pair) > _n_data(single) or exact_pair > exact_single:
                return Header(pair, 2, approx2 | (approx & added))
    return Header(single, 1, approx if single is not None else set())


def _has_header_word(line: list[Token]) -> bool:
    """The line names a column by a word (Region, BMD, 骨密度), not only by units:
    a line of units is the second line of a header, never its first."""
    return any(labels.header_measure(p.text) in (*DATA_MEASURES, "region")
               for t in line for p in split_header_token(t))


def _union(pair: list[Column],
           single: list[Column]) -> list[Column]:
    """Two-line header columns, plus the first line's columns the stacking lost
    (a word joined to a misread unit, a word over a unit OCR split in two)."""
    have = {k for k, _, _ in pair if k in DATA_MEASURES}
    extra = [c for c in single if c[0] in DATA_MEASURES and c[0] not in have
             and not any(min(c[2], b) - max(c[1], a) > 0.3 * min(c[2] - c[1], b - a) for _, a, b in pair)]
    return sorted(pair + extra, key=lambda c: c[1])


#: lines above a header searched for a misread heading (an exact one is searched up to the table before)
_HEADING_LINES = 2


def heading(lines: list[list[Token]], i: int, stop: int) -> Heading:
    """The side a heading above the header at line ``i`` names (Norland: one table per hip),
    and whether it was only the nearest heading words. Headings above the previous table are not this one's."""
    for k in range(i - 1, stop - 1, -1):
        side = labels.heading_side(line_text(lines[k]))
        if side:
            return Heading(side, False)
    for k in range(i - 1, max(stop, i - _HEADING_LINES) - 1, -1):
        side = labels.fuzzy_heading_side(line_text(lines[k]))
        if side:
            return Heading(side, True)
    if i - 1 >= stop:
        # a side word alone on the line just above ('右' whose 髋 was lost)
        side = labels.side_word(line_text(lines[i - 1]))
        if side in (Side.LEFT, Side.RIGHT):
            return Heading(side, True)
    return Heading(None, False)


def reread_headers(body: list[Line], labelled: list[Line], cols: list[Column],
                   where: dict[int, int], lines: list[list[Token]], i: int,
                   reader: CropReader) -> list[RereadColumn]:
    """Columns of numbers under no recognized header ('T值' read as '值', 'Z值' lost):
    each header line above such a column is read again on its own crop, by every
    engine; a measure the readings name, and that no other column has, becomes
    the column's (how: "reread"); failing that, the one header word they are
    nearest to ("approximate", see labels.fuzzy_measure). Readings that name
    different measures name none."""
    loose = [t for b in labelled for t in b.vals if id(t) not in where and not blank(t)]
    if not loose or not labelled:
        return []
    rows = [b for b in body if b.placed or b.n_numbers >= UNREAD_ROW_MIN_NUMBERS] or body
    body_top = min(t.box[1] for b in rows for t in b.lab_toks + b.vals)  # a units line ('(9)') is no row
    head = [ln for ln in lines[i:] if statistics.fmean(t.yc for t in ln) < body_top][:3]
    h = statistics.median(max(t.height, 1) for ln in head for t in ln)
    have = {k for k, _, _ in cols}
    spans = clusters(loose)
    asks: list[tuple[int, int, int, int]] = []
    for cl in spans:
        x0, x1 = min(t.box[0] for t in cl), max(t.box[2] for t in cl)
        for ln in head:
            y0, y1 = min(t.box[1] for t in ln), max(t.box[3] for t in ln)
            asks.append((int(x0 - 0.5 * h), y0, int(x1 + 0.3 * h), y1))
    texts = reader.read_boxes(asks)
    readings: list[list[str]] = []  # per column: every engine's header text (lines joined, and each line)
    for n in range(len(spans)):
        per_line = texts[n * len(head):(n + 1) * len(head)]
        found: list[str] = []
        for e in range(max((len(r) for r in per_line), default=0)):
            words = [r[e] for r in per_line if e < len(r) and r[e].strip()]
            found += words + (["".join(words)] if len(words) > 1 else [])
        readings.append(found)
    out: list[RereadColumn] = []
    todo = list(range(len(spans)))
    for how in ("reread", "approximate"):  # exact names first: they narrow what a misread one can be
        for n in list(todo):
            keys = set()
            for text in readings[n]:
                if how == "reread":
                    key = labels.header_measure(text.replace(" ", "")) or labels.unit_measure(text)
                else:
                    key = labels.fuzzy_measure(text, have)
                if key in DATA_MEASURES:
                    keys.add(key)
            if len(keys) == 1 and not keys & have:
                key = keys.pop()
                have.add(key)
                todo.remove(n)
                cl = spans[n]
                out.append(RereadColumn(Column(key, float(min(t.box[0] for t in cl)), float(max(t.box[2] for t in cl))), how))
    return out
