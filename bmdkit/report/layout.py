"""Stage 4: a page's tokens into its results tables (headers, columns, rows).

The driver of the layout stages: tokens become lines
(:mod:`~bmdkit.report.lines`); a header line (:mod:`~bmdkit.report.headers`)
opens a table whose body lines are cut into labels and values
(:mod:`~bmdkit.report.rows`); the values are matched to the header's columns
(:mod:`~bmdkit.report.columns`). A table ends at a line that holds neither
numbers nor a region/side label, or at the next header. Whatever was guessed
(a label or header read again or taken from the nearest word, a side from the
page) is marked on the :class:`~bmdkit.report.cells.Table` for the reader to flag.
"""

from __future__ import annotations

import statistics
from typing import NamedTuple

from bmdkit.model import Region, Side
from bmdkit.report import labels, settings, words
from bmdkit.report.cells import (
    DATA_MEASURES,
    UNREAD_ROW_MIN_NUMBERS,
    Cell,
    Column,
    CropReader,
    Line,
    Row,
    Table,
    blank,
)
from bmdkit.report.columns import columns_of
from bmdkit.report.headers import Header, header_at, heading, reread_headers
from bmdkit.report.lines import group_lines, split_tokens
from bmdkit.report.rows import (
    find_lost_headings,
    label_meaning,
    resolve_labels,
    row_label,
    side_from_page,
    wrapped_label,
)
from bmdkit.report.tokens import Token


class PageLayout(NamedTuple):
    """Every results table found on a page, and the page's text lines."""

    tables: list[Table]
    lines: list[list[Token]]


class _Body(NamedTuple):
    """A table's body lines, the line after them, and the last line that held numbers."""

    lines: list[Line]
    end: int
    last_row: int


class _TableRows(NamedTuple):
    """A table's rows, and the labels of rows with numbers that name no region."""

    rows: list[Row]
    unread: list[str]
    where: list[str]


def find_tables(tokens: list[Token], reader: CropReader | None = None, guess: bool = True) -> PageLayout:
    """Every results table on a page, and the page's text lines.

    Rows whose label, as the page's reading has it, names no region are
    given one when ``guess`` (OCR pages: a misread word; off for a PDF text
    layer, whose words are exact): ``reader`` reads the label box again, and
    the nearest label word is the last resort (see :func:`rows.resolve_labels`,
    :func:`rows.find_lost_headings`).
    """
    lines = group_lines(split_tokens(tokens))
    heads = [header_at(lines, i, guess) for i in range(len(lines))]  # each line's header, found once
    split = _side_by_side(heads)
    halves = [] if split is None else [[t for t in tokens if (t.xc < split) == left] for left in (True, False)]
    if all(halves) and halves:
        # two tables side by side (Norland: right hip | left hip): each half is read on its own,
        # so a cell never joins the same column of the other table. The cut is found on the
        # words (split_tokens) but made on the tokens as read: a line read whole (a sentence
        # naming BMD and T twice) can leave one half empty, which is no cut (it would recurse forever)
        found = [find_tables(h, reader, guess) for h in halves]
        return PageLayout(found[0].tables + found[1].tables, lines)
    tables: list[Table] = []
    i = prev_end = 0
    while i < len(lines):
        head = heads[i]
        if head.columns is None:
            i += 1
            continue
        first_data_x = min((c.x0 for c in head.columns if c.measure != "region"), default=0.0)
        body = _body(lines, heads, i + head.n_lines, first_data_x, guess)
        table = _table(lines, i, prev_end, head, body.lines, first_data_x, guess, reader)
        if table is not None:
            tables.append(table)
            prev_end = body.last_row + 1  # a heading line the body loop took in belongs to the next table
        j = body.end
        i = j if j > i else i + 1
    if guess:
        side_from_page(tables, lines)
    return PageLayout(tables, lines)


def _side_by_side(heads: list[Header]) -> float | None:
    """The x between two tables printed side by side, if a header line (``heads``: each line's
    header, :func:`headers.header_at`) names its data columns twice over (BMD, T, Z, then BMD,
    T, Z again): the end of the column before the repeat."""
    for head in heads:
        cols = head.columns
        if not cols:
            continue
        data = [c for c in cols if c.measure in DATA_MEASURES]
        for k in range(2, len(data) - 1):
            # the second block repeats the first one's first two columns, and each has two or more
            if data[k].measure == data[0].measure and data[k + 1].measure == data[1].measure != data[0].measure:
                return data[k - 1].x1 + 1.0
    return None


def _body(lines: list[list[Token]], heads: list[Header], start: int, first_data_x: float, guess: bool) -> _Body:
    """The body lines of the table whose header ends before line ``start`` (``heads``: each
    line's header); the next header line ends it."""
    body: list[Line] = []
    j = last_row = start
    while j < len(lines):
        if heads[j].columns is not None:
            break
        if body and _far_below(lines[last_row], lines[j]):
            break
        label, lab_toks, vals = row_label(lines[j], first_data_x)
        line = Line(label, lab_toks, vals, label_meaning(label))
        if wrapped_label(body, line, lines, j, first_data_x):
            j += 1
            continue
        label, lab_toks, meaning = line.label, line.lab_toks, line.meaning
        if not vals and meaning == (None, None):
            group_guess = labels.fuzzy_label(label) if body and label and guess else None
            if group_guess is not None and group_guess[0] is not None and group_guess[1] is None:
                # a misread region heading ('大#子' over Hologic's side rows) does not end the table
                body.append(Line(label, lab_toks, vals, group_guess, "approximate"))
                j += 1
                continue
            if body:
                break
            j += 1
            continue
        body.append(Line(label, lab_toks, vals, meaning))
        if vals:
            last_row = j
        j += 1
    return _Body(body, j, last_row)


def _far_below(above: list[Token], line: list[Token]) -> bool:
    """``line`` starts more than ``table_gap_heights`` text heights below the row ``above``."""
    h = statistics.median(max(t.height, 1) for t in above)
    top = min(t.box[1] for t in line)
    bottom = max(t.box[3] for t in above)
    return top - bottom > settings.SETTINGS.table_gap_heights * h


def _table(lines: list[list[Token]], i: int, prev_end: int, head: Header, body: list[Line], first_data_x: float,
           guess: bool, reader: CropReader | None) -> Table | None:
    """The table under the header at line ``i``: labels resolved, values placed in columns."""
    assert head.columns is not None
    cols: list[Column] = head.columns
    side = heading(lines, i, prev_end)
    reread_cols: dict[str, str] = dict.fromkeys(head.approx, "approximate")
    if guess:
        resolve_labels(body, first_data_x, reader)
        find_lost_headings(body, lines[i + head.n_lines - 1], first_data_x, reader)
    labelled = [b for b in body if b.label and b.placed]
    where = columns_of([b.vals for b in labelled], cols)
    if guess and reader is not None:
        more = reread_headers(body, labelled, cols, where, lines, i, reader)
        if more:
            cols = sorted(cols + [m.column for m in more], key=lambda c: c[1])
            reread_cols.update({m.column.measure: m.how for m in more})
            where = columns_of([b.vals for b in labelled], cols)
    rows, unread, unread_where = _rows(body, cols, where)
    if not rows:
        return None
    real = [v for b in labelled for v in b.vals if not blank(v)]
    n_vals, n_placed = len(real), sum(1 for v in real if id(v) in where)
    return Table(statistics.fmean(t.yc for t in lines[i]), cols, rows, side.side, n_vals - n_placed,
                 unread, unread_where, side.approx, reread_cols)


def _rows(body: list[Line], cols: list[Column], where: dict[int, int]) -> _TableRows:
    """Body lines into rows: side rows take the region heading above them; a change row is skipped."""
    rows: list[Row] = []
    unread: list[str] = []
    places: list[str] = []
    group: Region | None = None
    group_how = "page"
    group_side: Side | None = None
    for b in body:
        region, side = b.meaning
        how = b.how
        if side == "diff":
            continue
        levels_ = region if isinstance(region, tuple) else None
        reg = region if isinstance(region, Region) else None
        if reg is not None and not b.vals:
            group, group_how, group_side = reg, b.how, None
            continue
        if reg is None and levels_ is None and side in (Side.LEFT, Side.RIGHT) and not b.vals:
            # a side heading over its region rows (Hologic's Left / Neck, Troch, ... / Right block)
            group, group_side = None, side
            continue
        if reg is not None and side is None and group_side is not None:
            side = group_side
        if reg is None and levels_ is None and isinstance(side, Side) and group is not None:
            reg = group
            if group_how != "page" and how != "approximate":
                how = group_how  # a side row is as sure as the heading it sits under
        if reg is None and levels_ is None:
            # a row the vocabulary knows is no result of ours (T12, a whole-body or forearm
            # region) is accounted for; any other row with numbers is reported unread
            if b.n_numbers >= UNREAD_ROW_MIN_NUMBERS and labels.match("non_result", b.label) is None:
                unread.append(b.label or "(no label)")
                places.append(_position(rows))
            continue
        row = Row(label=b.label, region=reg, side=side if isinstance(side, Side) else None,
                  levels=levels_, excluded=labels.is_excluded_mark(b.label), label_read=how)
        _fill_cells(row, b, cols, where)
        rows.append(row)
    return _TableRows(rows, unread, places)


def _position(rows: list[Row]) -> str:
    """Where an unread row sits, named by the row read just above it (region words only)."""
    for r in reversed(rows):
        if r.region is not None:
            return f"the row below {words.place(r.region, r.side)}"
        if r.levels:
            return f"the row below {'-'.join(v.value for v in (r.levels[0], r.levels[-1]))}"
    return "the first row of the table"


def _fill_cells(row: Row, line: Line, cols: list[Column], where: dict[int, int]) -> None:
    """The row's cells from the line's values (by the column each was placed in), and its box."""
    for v in line.vals:
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
    allt = line.lab_toks + line.vals
    if allt:
        row.box = (min(t.box[0] for t in allt), min(t.box[1] for t in allt),
                   max(t.box[2] for t in allt), max(t.box[3] for t in allt))
