"""Tables and boxes as vendor consoles draw them on screen-captured report pages.

The print layouts (:mod:`.hologic`, :mod:`.ge_lunar`, :mod:`.norland`) share
:meth:`~.builder._Builder.table`. Screenshots of real pages look different:
Hologic APEX fills its boxes pale yellow with a heavy black border and a grey
drop shadow and prints in a Times-like face; GE enCORE draws a borderless or
boxed grid with one heavy rule under a two-line header and no row rules;
columns can be left blank or hold "-" on every row. This module draws those
looks, and the cells a page leaves blank on purpose (:data:`BLANK_MEASURES`).
Kept apart from the builder so that the existing layouts' output cannot change.
"""

from __future__ import annotations

from dataclasses import dataclass

from bmdkit.samples.report_page.builder import _Builder, _cell, _Row
from bmdkit.samples.report_page.ops import Cell, Rect

# the score each percentage column belongs to: a blank T-score column blanks its PR/YA %
BLANK_MEASURES = {"t_score": ("t_score", "pr_pct", "ya_pct", "t_diff", "ya_pct_diff"),
                  "z_score": ("z_score", "am_pct", "z_diff", "am_pct_diff")}


@dataclass(frozen=True)
class ScreenOptions:
    """What a real-like page leaves out, and how.

    ``blank`` names the score columns (``t_score``, ``z_score``) printed empty
    on every row, together with their % columns; ``blank_mark`` is what those
    cells show: ``""`` (nothing) or ``"-"``. ``variant`` picks a page kind
    within a layout (None: chosen from the page seed).
    """

    blank: tuple[str, ...] = ()
    blank_mark: str = ""
    variant: str | None = None

    def blanked(self, measure: str) -> bool:
        """Whether a cell of ``measure`` is printed empty on this page."""
        return any(measure in BLANK_MEASURES[m] for m in self.blank)


def pick_variant(b: _Builder, o: ScreenOptions, variants: tuple[str, ...], layout: str,
                 where: str = "") -> str:
    """The page kind ``o`` names, else one drawn from the page seed; ValueError (naming ``layout``,
    then ``where``, e.g. " for spine") if ``variants`` lacks it."""
    variant = o.variant or b.rng.choice(variants)
    if variant not in variants:
        raise ValueError(f"{layout} has no {variant!r} page{where}")
    return variant


@dataclass(frozen=True)
class SCol:
    """A column: header lines joined by newlines, width in points, alignment of values."""

    header: str
    width: float
    align: str = "right"  # right | center | left


@dataclass(frozen=True)
class TableLook:
    """How a table is drawn: font, fill, border, rules."""

    font: str
    fill: tuple[int, int, int] | None = None
    border: float = 0.0  # outline width in points (0: none)
    shadow: bool = False  # grey drop shadow below and right of the outline (Hologic)
    header_rule: float = 0.0  # rule under the header
    bottom_rule: float = 0.0  # rule under the last row (when there is no outline)
    top_rule: float = 0.0  # rule above the header (when there is no outline)
    row_h: float = 1.45  # row height in font sizes
    header_align_bottom: bool = True  # single-line headers sit on the last header line
    body_bold: bool = False  # small Tahoma hinted on screen looks bold (enCORE)


def value(b: _Builder, opts: ScreenOptions, region: str | None, side: str | None, measure: str, text: str,
          label: str, in_truth: bool = True) -> tuple[str, Cell | None]:
    """A table value, or the blank/dash its column shows on this page (untagged: nothing printed)."""
    if opts.blanked(measure):
        return opts.blank_mark, None
    return _cell(b, region, side, measure, text, label, in_truth)


def mean_cells(cells: list[tuple[str, Cell | None]], region: str, in_truth: bool) -> list[tuple[str, Cell | None]]:
    """Tags of a hip Mean row: BMD, T and Z are the truth's mean where it holds one; the
    printed mean area and BMC never are (the truth's mean has none). A mean the truth does
    not hold loses its side, so that it is never taken for one."""
    out: list[tuple[str, Cell | None]] = []
    for text, c in cells:
        if c is not None and (not in_truth or c.measure in ("area", "bmc")):
            c = Cell(region, "mean" if in_truth else None, c.measure, c.text, c.label, False)
        out.append((text, c))
    return out


def draw_table(b: _Builder, x: float, y: float, cols: list[SCol], rows: list[_Row], look: TableLook,
               size: float) -> float:
    """Draw a table with its top edge at ``y``; returns the y of its bottom edge."""
    pad = size * 0.45
    h = size * look.row_h
    width = sum(c.width for c in cols)
    edges = [x]
    for c in cols:
        edges.append(edges[-1] + c.width)
    n_head = max(c.header.count("\n") + 1 for c in cols)
    head_h = size * 0.5 + n_head * size * 1.1
    n_body = len(rows)
    bottom = y + head_h + n_body * h + size * 0.35
    if look.shadow:
        off = max(2.0, look.border * 1.5)
        b.page.ops.append(Rect(x + off, y + off, x + width + off, bottom + off, 192, None))
    if look.fill is not None or look.border:
        b.page.ops.append(Rect(x, y, x + width, bottom, look.fill if look.fill is not None else 255,
                               0 if look.border else None, look.border or 0.5))
    if look.top_rule:
        b.line(x, y, x + width, y, look.top_rule)
    for i, c in enumerate(cols):
        parts = c.header.split("\n")
        first = n_head - len(parts) if look.header_align_bottom else 0
        for j, part in enumerate(parts):
            yy = y + size * 1.15 + (first + j) * size * 1.1
            if c.align == "left":
                b.text(edges[i] + pad, yy, part, size, bold=True, font=look.font)
            elif c.align == "center":
                b.text((edges[i] + edges[i + 1]) / 2, yy, part, size, bold=True, align="center", font=look.font)
            else:
                b.text(edges[i + 1] - pad, yy, part, size, bold=True, align="right", font=look.font)
    yb = y + head_h
    if look.header_rule:
        b.line(x, yb - size * 0.15, x + width, yb - size * 0.15, look.header_rule)
    for row in rows:
        base = yb + h * 0.78
        if row.span:
            b.text(edges[0] + pad, base, row.cells[0][0], size, bold=True, gray=row.gray, font=look.font)
        else:
            bold = row.bold or look.body_bold
            for i, (txt, cell) in enumerate(row.cells):
                c = cols[i]
                if c.align == "left":
                    b.text(edges[i] + pad, base, txt, size, bold, gray=row.gray, cell=cell, font=look.font)
                elif c.align == "center":
                    b.text((edges[i] + edges[i + 1]) / 2, base, txt, size, bold, "center", row.gray, cell,
                           font=look.font)
                else:
                    b.text(edges[i + 1] - pad, base, txt, size, bold, "right", row.gray, cell, font=look.font)
        yb += h
    if look.bottom_rule:
        b.line(x, bottom, x + width, bottom, look.bottom_rule)
    return bottom


def info_box(b: _Builder, x: float, y: float, w: float, columns: list[list[tuple[str, str, Cell | None]]],
             size: float, font: str, label_font: str | None, fill: tuple[int, int, int], border: float,
             shadow: bool, label_w: float | None = None, starts: tuple[float, ...] | None = None) -> float:
    """A filled, outlined box of ``label value`` columns (patient demographics); returns its bottom.

    ``starts`` places the columns at these fractions of the width (default: equal columns).
    """
    lead = size * 1.2
    n = max(len(c) for c in columns)
    bottom = y + size * 0.5 + n * lead
    if shadow:
        off = max(2.0, border * 1.5)
        b.page.ops.append(Rect(x + off, y + off, x + w + off, bottom + off, 192, None))
    b.page.ops.append(Rect(x, y, x + w, bottom, fill, 0, border))
    col_w = w / len(columns)
    bold = label_font is not None
    for k, col in enumerate(columns):
        cx = x + size * 0.4 + (starts[k] * w if starts else k * col_w)
        yy = y + size * 1.25
        widest = max(b.width(label, size, bold) for label, _, _ in col) + size * 0.6
        for label, val, cell in col:
            b.text(cx, yy, label, size, bold=bold, font=label_font or font)
            lw = max(label_w or 0.0, widest) if label_w is not None else b.width(label, size, bold) + size * 0.35
            if cell is not None:
                cell = Cell(cell.region, cell.side, cell.measure, val, cell.label, cell.in_truth)
            b.text(cx + lw, yy, val, size, cell=cell, font=font)
            yy += lead
    return bottom
