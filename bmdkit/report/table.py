"""Find results tables among a page's tokens and read them into rows.

Layout-free: no template per vendor. A *header line* is a text line with at
least two measure headers (BMD, T-score, 面积, ...; words in
reference_data/report_labels.csv). The numeric tokens beneath it are
clustered into columns by horizontal overlap (right-, left- or centre-
aligned numbers of one column overlap each other; numbers of different
columns do not), and the clusters are matched to the headers in order.
Row labels (text left of the numbers) give region, levels and side:
``L2-L4``, ``Neck Left``, ``左股骨颈``, or a side row beneath a region
heading (Hologic dual hip). A table ends at a line that holds neither
numbers nor a region/side label, or at the next header.

OCR misreads words as well as digits. On OCR pages a row whose label names
nothing is read again on its own crop (a callback the reader gives), and
failing that takes the nearest spelled-out label word within a small edit
distance (``labels.fuzzy_label``); such rows are marked so the reader can
flag them. A misread heading ('大#子', '右航') and a unit under a misread
header word ('(g/cm²)') are handled the same way. Vertebral levels are never
guessed: only an 'L' read as a one ('14') is repaired, and only between the
levels before and after it.

Headers: a two-line header is read stacked ('T-' over 'score'), keeping the
first line's columns the stacking lost; its units name the columns whose
words OCR garbled. A column of numbers under no recognized header has its
header lines read again on their crops, then takes the nearest header word
still free ('值' is T值 where Z值 is a column). Labels printed over two lines
are joined. A hip table with no side takes the other hip's beside it, or the
one side the rest of the page names. Whatever was guessed is marked for the
reader to flag.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from bmdkit.model import VERTEBRAE, Region, Side
from bmdkit.report import labels
from bmdkit.report.numbers import parse_number
from bmdkit.report.ocr import Token

DATA_MEASURES = ("bmd", "bmc", "area", "t_score", "z_score")


@dataclass
class Cell:
    """The token(s) read in one table cell."""

    measure: str
    tokens: list[Token]

    @property
    def text(self) -> str:
        return "".join(t.text for t in sorted(self.tokens, key=lambda t: t.box[0]))

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (min(t.box[0] for t in self.tokens), min(t.box[1] for t in self.tokens),
                max(t.box[2] for t in self.tokens), max(t.box[3] for t in self.tokens))

    @property
    def conf(self) -> float:
        return min(t.conf for t in self.tokens)


@dataclass
class Row:
    label: str
    region: Region | None
    side: Side | None
    levels: tuple[Region, ...] | None
    excluded: bool
    cells: dict[str, Cell] = field(default_factory=dict)
    box: tuple[int, int, int, int] | None = None
    #: how the label was read: "page" (the page's own reading), "reread" (a second
    #: reading of the label's crop named a region), "approximate" (nearest label word)
    label_read: str = "page"
    #: columns of the row's table with no word in this row that hold no value on the page:
    #: measure -> "blank" (nothing printed) or "dash" (a placeholder mark); see bmdkit.report.ink
    unprinted: dict[str, str] = field(default_factory=dict)


@dataclass
class Table:
    header_y: float
    columns: list[tuple[str, float, float]]
    rows: list[Row]
    heading_side: Side | None = None
    unplaced: int = 0  # numbers in labelled rows that fit no recognized column
    #: label text of body rows that hold numbers but whose label names no region or side
    #: (a misread "Mean", a row the vocabulary lacks): values that would otherwise vanish
    unread_rows: list[str] = field(default_factory=list)
    #: the heading's side came from the nearest heading words, not an exact reading
    heading_approx: bool = False
    #: columns whose header word the page's reading lost, named by a second reading of the
    #: header: measure -> "reread" (named exactly) or "approximate" (nearest header word)
    reread_columns: dict[str, str] = field(default_factory=dict)

    @property
    def is_spine(self) -> bool:
        return any(r.levels for r in self.rows)


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
    """Split multi-word segments on spaces, boxes shared by character count."""
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
                out.append(Token(p, (int(a), y0, max(int(a) + 1, int(b)), y1), t.conf, t.engine))
            pos += len(p)
    return out


def _split_header_token(t: Token) -> list[Token]:
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
    """Tokens grouped into text lines by vertical centre, each sorted left to right."""
    if not tokens:
        return []
    med_h = statistics.median(max(t.height, 1) for t in tokens)
    lines: list[list[Token]] = []
    for t in sorted(tokens, key=lambda t: t.yc):
        if lines and abs(statistics.fmean(x.yc for x in lines[-1]) - t.yc) < 0.55 * med_h:
            lines[-1].append(t)
        else:
            lines.append([t])
    return [_join_minus(sorted(line, key=lambda t: t.box[0])) for line in lines]


def line_text(line: list[Token]) -> str:
    return " ".join(t.text for t in line)


def _header_columns(line: list[Token], above: list[Token] | None, strict: bool = True,
                    stacked: bool = False, approx: set[str] | None = None) -> list[tuple[str, float, float]] | None:
    """Columns (measure, x0, x1) if ``line`` is a table header.

    A ``stacked`` line (two header lines joined) counts its units as named
    measures: under words OCR misread they are what names the columns. Words
    one misreading away from a header word ('乙值' for Z值) name a column, added
    to ``approx`` for the caller to flag, but never make a line a header.
    """
    cols: list[tuple[str, float, float]] = []
    own = 0  # measures named on this line itself (not only with the line above)
    for tok in line:
        for t in _split_header_token(tok):
            unit = labels.unit_measure(t.text)
            word = labels.header_measure(t.text)
            bracket = re.fullmatch(r"[\(\[（].*", t.text) is not None
            if _beside_last(cols, t) and (bracket and unit in (None, cols[-1][0]) or (word or unit) == cols[-1][0]):
                # units ('(g/cm²)', '(%)') or one column named twice ('骨密度 BMD', 'BMD g/cm2')
                cols[-1] = (cols[-1][0], cols[-1][1], t.box[2])
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
            if key is None and approx is not None:
                key = labels.fuzzy_measure(t.text, {k for k, _, _ in cols})
                if key is not None:
                    approx.add(key)
            if key is None:
                # units on their own ('(g/cm²)') or unknown words: merge into a previous column just before
                if bracket and _beside_last(cols, t):
                    cols[-1] = (cols[-1][0], cols[-1][1], t.box[2])
                continue
            cols.append((key, t.box[0], t.box[2]))
    if not strict:
        return cols
    if own < 2 or sum(1 for k, _, _ in cols if k in DATA_MEASURES) < 2:
        return None
    if not any(k in ("bmd", "t_score") for k, _, _ in cols):
        return None
    return cols


def _stack(top: list[Token], bottom: list[Token]) -> list[Token]:
    """Two header lines as one: tokens overlapping horizontally are joined top-to-bottom."""
    top = [p for t in top for p in _split_header_token(t)]
    bottom = [p for t in bottom for p in _split_header_token(t)]

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


def _beside_last(cols: list[tuple[str, float, float]], t: Token) -> bool:
    """``t`` starts within two text heights of the last column's end."""
    return bool(cols) and t.box[0] - cols[-1][2] < 2 * max(t.height, 1)


def _n_data(cols: list[tuple[str, float, float]] | None) -> int:
    return 0 if cols is None else sum(1 for k, _, _ in cols if k in DATA_MEASURES)


def header_at(lines: list[list[Token]], i: int,
              guess: bool = False) -> tuple[list[tuple[str, float, float]] | None, int, set[str]]:
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
                return pair, 2, approx2 | (approx & added)
    return single, 1, approx if single is not None else set()


def _wrapped_label(body: list[_Line], line: _Line, lines: list[list[Token]], j: int, first_data_x: float) -> bool:
    """A row label printed over two lines ('Femoral' / 'Neck', 'Total' / 'Hip'),
    its values beside either line: the words together name the row.

    Line ``j`` (``line``) may end the label of the row above (joined into it),
    begin the label of the row below (kept in ``body`` to be joined next), or
    hold the values of a row begun on the line above (``line`` takes that
    line's words). True when line ``j`` needs no more handling.
    """
    if not line.label:
        return False
    prev = body[-1] if body else None
    if prev is not None and _close(lines[j - 1], lines[j]):
        joined = _label_meaning(f"{prev.label} {line.label}")
        if joined != (None, None):
            if not line.vals and prev.vals and (not prev.placed or joined == prev.meaning):
                prev.label, prev.meaning, prev.lab_toks = f"{prev.label} {line.label}", joined, \
                    prev.lab_toks + line.lab_toks
                return True
            if line.vals and not prev.vals and not prev.placed and line.meaning in ((None, None), joined):
                body.pop()
                line.label, line.lab_toks, line.meaning = f"{prev.label} {line.label}", \
                    prev.lab_toks + line.lab_toks, joined
                return False
    if body and not line.vals and line.meaning == (None, None) and j + 1 < len(lines) \
            and _close(lines[j], lines[j + 1]):
        nxt_label, _, nxt_vals = _row_label(lines[j + 1], first_data_x)
        joined = _label_meaning(f"{line.label} {nxt_label}")
        if nxt_vals and nxt_label and joined != (None, None) and _label_meaning(nxt_label) in ((None, None), joined):
            body.append(line)
            return True
    return False


def _close(a: list[Token], b: list[Token]) -> bool:
    """Line ``b`` follows line ``a`` within about a line's height (a wrapped label, not the next row)."""
    h = statistics.median(max(t.height, 1) for t in a + b)
    return statistics.fmean(t.yc for t in b) - statistics.fmean(t.yc for t in a) < 1.3 * h


def _has_header_word(line: list[Token]) -> bool:
    """The line names a column by a word (Region, BMD, 骨密度), not only by units:
    a line of units is the second line of a header, never its first."""
    return any(labels.header_measure(p.text) in (*DATA_MEASURES, "region")
               for t in line for p in _split_header_token(t))


def _union(pair: list[tuple[str, float, float]],
           single: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """Two-line header columns, plus the first line's columns the stacking lost
    (a word joined to a misread unit, a word over a unit OCR split in two)."""
    have = {k for k, _, _ in pair if k in DATA_MEASURES}
    extra = [c for c in single if c[0] in DATA_MEASURES and c[0] not in have
             and not any(min(c[2], b) - max(c[1], a) > 0.3 * min(c[2] - c[1], b - a) for _, a, b in pair)]
    return sorted(pair + extra, key=lambda c: c[1])


def _blank(t: Token) -> bool:
    p = parse_number(t.text)
    return p is not None and p.blank


def _is_numeric(t: Token) -> bool:
    p = parse_number(t.text)
    return p is not None and (p.blank or p.value is not None)


def _row_label(line: list[Token], first_data_x: float) -> tuple[str, list[Token], list[Token]]:
    """(label text, label tokens, value tokens) of a body line."""
    lab: list[Token] = []
    vals: list[Token] = []
    for t in line:
        if t.xc < first_data_x and not (_is_numeric(t) and parse_number(t.text).blank is False and lab):  # type: ignore[union-attr]
            lab.append(t)
        elif _is_numeric(t):
            vals.append(t)
        elif not vals and t.box[2] < first_data_x + 0.5 * t.height:
            lab.append(t)
    return " ".join(t.text for t in lab).strip(), lab, vals


def _clusters(tokens: list[Token]) -> list[list[Token]]:
    """Group numeric tokens into columns: connected by horizontal overlap."""
    spans: list[list[Token]] = []
    for t in sorted(tokens, key=lambda t: t.box[0]):
        if spans and t.box[0] <= max(x.box[2] for x in spans[-1]) - 1:
            spans[-1].append(t)
        else:
            spans.append([t])
    return spans


def _assign(clusters: list[list[Token]], cols: list[tuple[str, float, float]]) -> dict[int, int]:
    """Map cluster index -> column index, one cluster per column at most.

    Equal counts map in order; otherwise clusters and headers are paired
    greedily by horizontal overlap, then by distance; a cluster left over
    (a column whose header was not recognized) stays unplaced.
    """
    data_cols = [i for i, (k, _, _) in enumerate(cols) if k != "region"]
    if len(clusters) == len(data_cols):
        return {ci: data_cols[ci] for ci in range(len(clusters))}
    pairs = []
    for ci, cl in enumerate(clusters):
        a = min(t.box[0] for t in cl)
        b = max(t.box[2] for t in cl)
        for j in data_cols:
            _, h0, h1 = cols[j]
            ov = min(b, h1) - max(a, h0)
            gap = max(h0 - b, a - h1, 0)
            dist = abs((a + b) / 2 - (h0 + h1) / 2)
            pairs.append(((-max(ov, 0), gap, dist), ci, j))
    pairs.sort()
    out: dict[int, int] = {}
    used: set[int] = set()
    for (neg_ov, gap, _), ci, j in pairs:
        if ci in out or j in used:
            continue
        width = cols[j][2] - cols[j][1]
        if neg_ov == 0 and gap > 1.5 * max(width, 1):
            continue
        out[ci] = j
        used.add(j)
    return out


def _nearest_column(t: Token, cols: list[tuple[str, float, float]]) -> int | None:
    best, best_score = None, None
    for j, (k, h0, h1) in enumerate(cols):
        if k == "region":
            continue
        gap = max(h0 - t.box[2], t.box[0] - h1, 0)
        score = (gap, abs(t.xc - (h0 + h1) / 2))
        if best_score is None or score < best_score:
            best, best_score = j, score
    return best


def _columns_of(rows: list[list[Token]], cols: list[tuple[str, float, float]]) -> dict[int, int]:
    """token id -> column index, for the numeric tokens of the labelled rows.

    Clusters by overlap first; a cluster holding two tokens of one row is a
    merge of columns (a stray wide token bridged them), so its tokens fall
    back to the nearest header one by one.
    """
    row_of = {id(t): i for i, vals in enumerate(rows) for t in vals}
    clusters = _clusters([t for vals in rows for t in vals])
    good = [cl for cl in clusters if len({row_of[id(t)] for t in cl}) == len(cl)]
    bad = [t for cl in clusters if len({row_of[id(t)] for t in cl}) != len(cl) for t in cl]
    out: dict[int, int] = {}
    mapping = _assign(good, cols) if len(good) == len(clusters) else {}
    if mapping:
        for ci, cl in enumerate(good):
            if ci in mapping:
                for t in cl:
                    out[id(t)] = mapping[ci]
    else:
        for cl in good:
            j = _assign_one(cl, cols)
            if j is not None:
                for t in cl:
                    out[id(t)] = j
    for t in bad:
        j = _nearest_column(t, cols)
        if j is not None:
            out[id(t)] = j
    return out


def _assign_one(cl: list[Token], cols: list[tuple[str, float, float]]) -> int | None:
    return _assign([cl], cols).get(0)


def _label_meaning(label: str) -> tuple[Region | tuple[Region, ...] | None, Side | str | None]:
    if not label:
        return None, None
    return labels.split_label(label)


#: numbers a table row needs before its unreadable label is reported (a footnote "1 - ..." has one)
_UNREAD_ROW_MIN_NUMBERS = 2

#: reads the given label boxes again (another engine, the crop alone): texts per box
Relabel = Callable[[list[tuple[int, int, int, int]]], list[list[str]]]

Meaning = tuple[Region | tuple[Region, ...] | None, Side | str | None]


@dataclass
class _Line:
    """One body line of a table: its label, values and what the label means."""

    label: str
    lab_toks: list[Token]
    vals: list[Token]
    meaning: Meaning
    how: str = "page"

    @property
    def placed(self) -> bool:
        return any(x is not None for x in self.meaning)

    @property
    def n_numbers(self) -> int:
        return sum(1 for v in self.vals if not _blank(v))


def _label_box(line: _Line, label_x0: int | None, first_data_x: float) -> tuple[int, int, int, int] | None:
    if line.lab_toks:
        t = line.lab_toks
        return (min(x.box[0] for x in t), min(x.box[1] for x in t), max(x.box[2] for x in t), max(x.box[3] for x in t))
    if label_x0 is None or not line.vals:
        return None
    y0, y1 = min(v.box[1] for v in line.vals), max(v.box[3] for v in line.vals)
    x1 = int(first_data_x - 0.3 * (y1 - y0))
    return (label_x0, y0, x1, y1) if x1 - label_x0 > (y1 - y0) else None


def _resolve_labels(body: list[_Line], first_data_x: float, relabel: Relabel | None) -> None:
    """Give a meaning to rows with numbers whose label names nothing (misread or unseen).

    First a second reading of the label's crop (``relabel``): if the readings
    that name something all name the same region and side, that is kept
    ("reread"); readings that contradict each other keep the row unread. Else
    the nearest label word (:func:`labels.fuzzy_label`) within its allowed
    edits, kept as "approximate" for the caller to flag. A meaning another row
    of the table already has is refused: a table holds each region once.
    """
    todo = [b for b in body if not b.placed and b.n_numbers >= _UNREAD_ROW_MIN_NUMBERS]
    if not todo:
        return
    taken = {b.meaning for b in body if b.placed}
    side_only = any(isinstance(b.meaning[0], Region) and not b.vals for b in body)
    xs = [t.box[0] for b in body if b.placed for t in b.lab_toks]
    label_x0 = min(xs) if xs else None
    boxes = [_label_box(b, label_x0, first_data_x) for b in todo]
    asked = [k for k, bx in enumerate(boxes) if bx is not None]
    alts: list[list[str]] = [[] for _ in todo]
    if relabel is not None and asked:
        for k, texts in zip(asked, relabel([boxes[k] for k in asked])):  # type: ignore[misc]
            alts[k] = [t for t in texts if t.strip()]
    for b, more in zip(todo, alts):
        cands = ([b.label] if b.label else []) + more
        named = {m: c for c in reversed(cands) for m in [_label_meaning(c)] if any(x is not None for x in m)}
        if len(named) == 1:
            meaning, how = next(iter(named)), "reread"
            label = named[meaning]
        elif named:
            continue
        else:
            guesses = {m: c for c in reversed(cands) for m in [labels.fuzzy_label(c, side_only)] if m is not None}
            guesses.update({m: c for c in reversed(cands) for m in [_level_between(body, b, c)] if m is not None})
            if len(guesses) != 1:
                continue
            meaning, how = next(iter(guesses)), "approximate"
            label = guesses[meaning]
        if meaning in taken:
            continue
        taken.add(meaning)
        b.label, b.meaning, b.how = label, meaning, how


def _level_between(body: list[_Line], b: _Line, text: str) -> Meaning | None:
    """A vertebra row whose 'L' was read as a one ('14'), placed only when the
    single-vertebra row above it is the level before, or the one below the level after."""
    level = labels.confused_level(text)
    if level is None:
        return None
    n = VERTEBRAE.index(level)
    k = body.index(b)

    def single(line: _Line) -> int | None:
        lv = line.meaning[0]
        return VERTEBRAE.index(lv[0]) if isinstance(lv, tuple) and len(lv) == 1 and line.placed else None

    above = next((single(x) for x in reversed(body[:k]) if x.placed), None)
    below = next((single(x) for x in body[k + 1:] if x.placed), None)
    return ((level,), None) if above == n - 1 or below == n + 1 else None


#: lines above a header searched for a misread heading (an exact one is searched up to the table before)
_HEADING_LINES = 2


def _heading(lines: list[list[Token]], i: int, stop: int) -> tuple[Side | None, bool]:
    """The side a heading above the header at line ``i`` names (Norland: one table per hip),
    and whether it was only the nearest heading words. Headings above the previous table are not this one's."""
    for k in range(i - 1, stop - 1, -1):
        side = labels.heading_side(line_text(lines[k]))
        if side:
            return side, False
    for k in range(i - 1, max(stop, i - _HEADING_LINES) - 1, -1):
        side = labels.fuzzy_heading_side(line_text(lines[k]))
        if side:
            return side, True
    if i - 1 >= stop:
        # a side word alone on the line just above ('右' whose 髋 was lost)
        side = labels.side_word(line_text(lines[i - 1]))
        if side in (Side.LEFT, Side.RIGHT):
            return side, True
    return None, False


def _find_lost_headings(body: list[_Line], header: list[Token], first_data_x: float,
                        relabel: Relabel | None) -> None:
    """Side rows ('Left', 'Right', 'Mean') with no region heading above them: the
    heading line was lost by OCR. The band between the line before and the first
    side row is read again (``relabel``); a region named there becomes the heading."""
    if relabel is None:
        return
    xs = [t.box[0] for b in body for t in b.lab_toks]
    if not xs:
        return
    x0 = min(xs)
    group_seen = False
    sides: set[Side] = set()  # sides of the current run: a side seen again starts the next group
    asks: list[tuple[int, tuple[int, int, int, int]]] = []
    prev_bottom = max(t.box[3] for t in header)
    for k, b in enumerate(body):
        region, side = b.meaning
        toks = b.lab_toks + b.vals
        if region is None and isinstance(side, Side):
            if side in sides:
                group_seen, sides = False, set()
            sides.add(side)
        if isinstance(region, Region) and not b.vals:
            group_seen, sides = True, set()
        elif region is None and isinstance(side, Side) and not group_seen and toks:
            top = min(t.box[1] for t in toks)
            h = statistics.median(max(t.height, 1) for t in toks)
            if top - prev_bottom > 0.7 * h:
                asks.append((k, (x0, int(prev_bottom), int(first_data_x - 0.3 * h), int(top))))
            group_seen = True  # one band per run of side rows
        elif region is not None:
            group_seen = False
        if toks:
            prev_bottom = max(t.box[3] for t in toks)
    if not asks:
        return
    taken = {b.meaning for b in body if b.placed}
    for (k, _), texts in reversed(list(zip(asks, relabel([box for _, box in asks])))):
        named = {m for t in texts if t.strip() for m in [_label_meaning(t)] if isinstance(m[0], Region) and m[1] is None}
        how = "reread"
        if not named:
            named = {m for t in texts if t.strip() for m in [labels.fuzzy_label(t)]
                     if m is not None and m[0] is not None and m[1] is None}
            how = "approximate"
        if len(named) == 1 and next(iter(named)) not in taken:
            m = next(iter(named))
            body.insert(k, _Line(next(t for t in texts if t.strip()), [], [], m, how))


def find_tables(tokens: list[Token], relabel: Relabel | None = None,
                guess: bool = True) -> tuple[list[Table], list[list[Token]]]:
    """Every results table on a page, and the page's text lines.

    Rows whose label, as the page's reading has it, names no region are
    given one when ``guess`` (OCR pages: a misread word; off for a PDF text
    layer, whose words are exact): ``relabel`` reads the label box again, and
    the nearest label word is the last resort (see :func:`_resolve_labels`,
    :func:`_find_lost_headings`).
    """
    toks = split_tokens(tokens)
    lines = group_lines(toks)
    tables: list[Table] = []
    i = prev_end = 0
    while i < len(lines):
        cols, used, approx = header_at(lines, i, guess)
        if cols is None:
            i += 1
            continue
        heading, heading_approx = _heading(lines, i, prev_end)
        reread_cols: dict[str, str] = dict.fromkeys(approx, "approximate")
        first_data_x = min((a for k, a, _ in cols if k != "region"), default=0.0)
        body: list[_Line] = []
        j = last_row = i + used
        while j < len(lines):
            if header_at(lines, j, guess)[0] is not None:
                break
            label, lab_toks, vals = _row_label(lines[j], first_data_x)
            line = _Line(label, lab_toks, vals, _label_meaning(label))
            if _wrapped_label(body, line, lines, j, first_data_x):
                j += 1
                continue
            label, lab_toks, meaning = line.label, line.lab_toks, line.meaning
            if not vals and meaning == (None, None):
                group_guess = labels.fuzzy_label(label) if body and label and guess else None
                if group_guess is not None and group_guess[0] is not None and group_guess[1] is None:
                    # a misread region heading ('大#子' over Hologic's side rows) does not end the table
                    body.append(_Line(label, lab_toks, vals, group_guess, "approximate"))
                    j += 1
                    continue
                if body:
                    break
                j += 1
                continue
            body.append(_Line(label, lab_toks, vals, meaning))
            if vals:
                last_row = j
            j += 1
        if guess:
            _resolve_labels(body, first_data_x, relabel)
            _find_lost_headings(body, lines[i + used - 1], first_data_x, relabel)
        labelled = [b for b in body if b.label and b.placed]
        where = _columns_of([b.vals for b in labelled], cols)
        if guess and relabel is not None:
            more = _reread_headers(body, labelled, cols, where, lines, i, relabel)
            if more:
                cols = sorted(cols + [(k, a, b) for k, a, b, _ in more], key=lambda c: c[1])
                reread_cols.update({k: how for k, _, _, how in more})
                where = _columns_of([b.vals for b in labelled], cols)
        rows: list[Row] = []
        unread: list[str] = []
        group: Region | None = None
        group_how = "page"
        for b in body:
            region, side = b.meaning
            label, lab_toks, vals = b.label, b.lab_toks, b.vals
            how = b.how
            if side == "diff":
                continue
            levels_ = region if isinstance(region, tuple) else None
            reg = region if isinstance(region, Region) else None
            if reg is not None and not vals:
                group, group_how = reg, b.how
                continue
            if reg is None and levels_ is None and isinstance(side, Side) and group is not None:
                reg = group
                if group_how != "page" and how != "approximate":
                    how = group_how  # a side row is as sure as the heading it sits under
            if reg is None and levels_ is None:
                if b.n_numbers >= _UNREAD_ROW_MIN_NUMBERS:
                    unread.append(label or "(no label)")
                continue
            row = Row(label=label, region=reg, side=side if isinstance(side, Side) else None,
                      levels=levels_, excluded=labels.is_excluded_mark(label), label_read=how)
            for v in vals:
                col = where.get(id(v))
                if col is None:
                    continue
                key = cols[col][0]
                if key not in DATA_MEASURES:
                    continue
                if key in row.cells:
                    row.cells[key].tokens.append(v)
                else:
                    row.cells[key] = Cell(key, [v])
            allt = lab_toks + vals
            if allt:
                row.box = (min(t.box[0] for t in allt), min(t.box[1] for t in allt),
                           max(t.box[2] for t in allt), max(t.box[3] for t in allt))
            rows.append(row)
        if rows:
            real = [v for b in labelled for v in b.vals if not _blank(v)]
            n_vals, n_placed = len(real), sum(1 for v in real if id(v) in where)
            tables.append(Table(statistics.fmean(t.yc for t in lines[i]), cols, rows, heading, n_vals - n_placed,
                                unread, heading_approx, reread_cols))
            prev_end = last_row + 1  # a heading line the body loop took in belongs to the next table
        i = j if j > i else i + 1
    if guess:
        _side_from_page(tables, lines)
    return tables, lines


def _reread_headers(body: list[_Line], labelled: list[_Line], cols: list[tuple[str, float, float]],
                    where: dict[int, int], lines: list[list[Token]], i: int,
                    relabel: Relabel) -> list[tuple[str, float, float, str]]:
    """Columns of numbers under no recognized header ('T值' read as '值', 'Z值' lost):
    each header line above such a column is read again on its own crop, by every
    engine; a measure the readings name, and that no other column has, becomes
    the column's (how: "reread"); failing that, the one header word they are
    nearest to ("approximate", see labels.fuzzy_measure). Readings that name
    different measures name none."""
    loose = [t for b in labelled for t in b.vals if id(t) not in where and not _blank(t)]
    if not loose or not labelled:
        return []
    rows = [b for b in body if b.placed or b.n_numbers >= _UNREAD_ROW_MIN_NUMBERS] or body
    body_top = min(t.box[1] for b in rows for t in b.lab_toks + b.vals)  # a units line ('(9)') is no row
    head = [ln for ln in lines[i:] if statistics.fmean(t.yc for t in ln) < body_top][:3]
    h = statistics.median(max(t.height, 1) for ln in head for t in ln)
    have = {k for k, _, _ in cols}
    spans = _clusters(loose)
    asks: list[tuple[int, int, int, int]] = []
    for cl in spans:
        x0, x1 = min(t.box[0] for t in cl), max(t.box[2] for t in cl)
        for ln in head:
            y0, y1 = min(t.box[1] for t in ln), max(t.box[3] for t in ln)
            asks.append((int(x0 - 0.5 * h), y0, int(x1 + 0.3 * h), y1))
    texts = relabel(asks)
    readings: list[list[str]] = []  # per column: every engine's header text (lines joined, and each line)
    for n in range(len(spans)):
        per_line = texts[n * len(head):(n + 1) * len(head)]
        found: list[str] = []
        for e in range(max((len(r) for r in per_line), default=0)):
            words = [r[e] for r in per_line if e < len(r) and r[e].strip()]
            found += words + (["".join(words)] if len(words) > 1 else [])
        readings.append(found)
    out: list[tuple[str, float, float, str]] = []
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
                out.append((key, float(min(t.box[0] for t in cl)), float(max(t.box[2] for t in cl)), how))
    return out


def _side_from_page(tables: list[Table], lines: list[list[Token]]) -> None:
    """A hip table with no side in its heading or rows takes one from the page.

    Beside one other hip table of the same regions with a side, it is the
    other hip (Norland: a table per hip). Alone on the page, it takes the side
    the rest of the page names, if it names just one: the heading was misread
    too far above the table (a chart between them) or printed away from it (an
    image caption). Marked approximate: the reader flags it."""
    hips = [t for t in tables if not t.is_spine and any(r.region is not None for r in t.rows)]
    lost = [t for t in hips if t.heading_side is None and not any(r.side for r in t.rows)]
    if len(lost) != 1:
        return
    t = lost[0]
    others = [o for o in hips if o is not t]
    if others:
        # Norland prints each hip in a table of its own: a second table of the same regions
        # whose heading was lost is the other hip
        sides = ({o.heading_side for o in others} | {r.side for o in others for r in o.rows}) - {None}
        regions = {r.region for o in others for r in o.rows} & {r.region for r in t.rows}
        pair = {Side.LEFT: Side.RIGHT, Side.RIGHT: Side.LEFT}
        if len(others) == 1 and len(sides) == 1 and sides <= set(pair) and regions:
            t.heading_side, t.heading_approx = pair[next(iter(sides))], True  # type: ignore[index]
        return
    named = set()
    for line in lines:
        text = line_text(line)
        side = labels.heading_side(text) or labels.fuzzy_heading_side(text)
        if side is not None:
            named.add(side)
    if len(named) == 1:
        t.heading_side, t.heading_approx = named.pop(), True
