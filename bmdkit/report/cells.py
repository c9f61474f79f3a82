"""The types every layout stage shares: columns, cells, rows, tables, body lines.

The bottom of the layout stages (:mod:`~bmdkit.report.lines`,
:mod:`~bmdkit.report.headers`, :mod:`~bmdkit.report.columns`,
:mod:`~bmdkit.report.rows`, :mod:`~bmdkit.report.layout`): each imports these
and none of them, so the stages can be read, and tested, one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from bmdkit.model import Region, Side
from bmdkit.report.numbers import parse_number
from bmdkit.report.tokens import Box, Token

#: the measures a results table holds values of (``region`` names the label column)
DATA_MEASURES = ("bmd", "bmc", "area", "t_score", "z_score")

#: numbers a table row needs before its unreadable label is reported (a footnote "1 - ..." has one)
UNREAD_ROW_MIN_NUMBERS = 2

#: what a row label names: a region or vertebra levels, and a side (or "diff" for a change row)
Meaning = tuple[Region | tuple[Region, ...] | None, Side | str | None]


class CropReader(Protocol):
    """Reads boxes of the page again, on their own crops (every engine; see
    :class:`bmdkit.report.rereading.PageRereader`): the service the layout stages are
    handed to re-read a misread row label or column header. No stage calls back
    into the driver."""

    def read_boxes(self, boxes: list[Box]) -> list[list[str]]:
        """The texts read in each box, one per engine (empty where nothing was read)."""
        ...


class Column(NamedTuple):
    """A table column: the measure its header names and its span across the page (pixels)."""

    measure: str
    x0: float
    x1: float


@dataclass
class Cell:
    """The token(s) read in one table cell."""

    measure: str
    tokens: list[Token]

    @property
    def text(self) -> str:
        """The cell's words joined left to right."""
        return "".join(t.text for t in sorted(self.tokens, key=lambda t: t.box[0]))

    @property
    def box(self) -> Box:
        """The box around the cell's words."""
        return (min(t.box[0] for t in self.tokens), min(t.box[1] for t in self.tokens),
                max(t.box[2] for t in self.tokens), max(t.box[3] for t in self.tokens))

    @property
    def conf(self) -> float:
        """The lowest confidence of the cell's words."""
        return min(t.conf for t in self.tokens)


@dataclass
class Row:
    """One table row: what its label names and its cells by measure."""

    label: str
    region: Region | None
    side: Side | None
    levels: tuple[Region, ...] | None
    excluded: bool
    cells: dict[str, Cell] = field(default_factory=dict)
    box: Box | None = None
    #: how the label was read: "page" (the page's own reading), "reread" (a second
    #: reading of the label's crop named a region), "agreed" (two engines' readings of the
    #: crop both nearest the same label word), "paired" (a misread side word, the side the table's
    #: other rows of the region leave: rows._side_by_table), "approximate" (nearest label word)
    label_read: str = "page"
    #: columns of the row's table with no word in this row that hold no value on the page:
    #: measure -> "blank" (nothing printed) or "dash" (a placeholder mark); see bmdkit.report.ink
    unprinted: dict[str, str] = field(default_factory=dict)


@dataclass
class Table:
    """A results table: its header's columns, its rows, and what was guessed while reading it."""

    header_y: float
    columns: list[Column]
    rows: list[Row]
    heading_side: Side | None = None
    unplaced: int = 0  # numbers in labelled rows that fit no recognized column
    #: label text of body rows that hold numbers but whose label names no region or side
    #: (a misread "Mean", a row the vocabulary lacks): values that would otherwise vanish
    unread_rows: list[str] = field(default_factory=list)
    #: where each unread row sits, in words safe to print (its place among the rows read; the
    #: label text itself stays out of messages, as page text may hold anything)
    unread_where: list[str] = field(default_factory=list)
    #: the heading's side came from the nearest heading words, not an exact reading
    heading_approx: bool = False
    #: columns whose header word the page's reading lost, named by a second reading of the
    #: header: measure -> "reread" (named exactly) or "approximate" (nearest header word)
    reread_columns: dict[str, str] = field(default_factory=dict)

    @property
    def is_spine(self) -> bool:
        """A spine table: some row names vertebra levels."""
        return any(r.levels for r in self.rows)

    @property
    def measures(self) -> set[str]:
        """The measures the table has a column for."""
        return {c.measure for c in self.columns}


def blank(t: Token) -> bool:
    """The token is a placeholder ('-', '--'): a cell printed empty."""
    p = parse_number(t.text)
    return p is not None and p.blank


def is_numeric(t: Token) -> bool:
    """The token reads as a number or a placeholder."""
    p = parse_number(t.text)
    return p is not None and (p.blank or p.value is not None)


@dataclass
class Line:
    """One body line of a table: its label, values and what the label means."""

    label: str
    lab_toks: list[Token]
    vals: list[Token]
    meaning: Meaning
    how: str = "page"

    @property
    def placed(self) -> bool:
        """The label names a region, levels or a side."""
        return any(x is not None for x in self.meaning)

    @property
    def n_numbers(self) -> int:
        """Numbers on the line (placeholders not counted)."""
        return sum(1 for v in self.vals if not blank(v))
