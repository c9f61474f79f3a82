"""Places text, label/value fields and results tables on a page in the page's style.

Shared by every layout so that localisation (Chinese wording) and cell
tagging happen in one place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from bmdkit.samples.report_page.fonts import text_width
from bmdkit.samples.report_page.ops import Cell, Line, Page, Rect, Text
from bmdkit.samples.report_page.style import PAPER, Style
from bmdkit.samples.report_page.words import _ZH_WORDS, _is_cjk


@dataclass
class _Col:
    header: str
    width: float
    align: str = "right"


@dataclass
class _Row:
    cells: list[tuple[str, Cell | None]]
    bold: bool = False
    gray: int = 0
    span: bool = False  # one label over the whole row (a group header)


class _Builder:
    """Collects drawing instructions with the page's style."""

    def __init__(self, st: Style, lang: str) -> None:
        self.st = st
        self.lang = lang
        self.page = Page(*PAPER[st.paper])
        self.m = 40.0  # margin
        self.rng = random.Random(st.seed)

    @property
    def right(self) -> float:
        return self.page.width - self.m

    def font(self, text: str, font: str | None = None) -> str:
        return font or (self.st.cjk_font if _is_cjk(text) else self.st.font)

    def tr(self, text: str) -> str:
        """The localized wording of a printed English string (vendor software set to Chinese)."""
        if self.lang != "zh" or not text:
            return text
        if text in _ZH_WORDS:
            return _ZH_WORDS[text]
        if " " in text and all(w in _ZH_WORDS for w in text.split(" ")):
            return " ".join(_ZH_WORDS[w] for w in text.split(" "))
        return text

    def text(self, x: float, y: float, text: str, size: float | None = None, bold: bool = False,
             align: str = "left", gray: int = 0, cell: Cell | None = None, font: str | None = None) -> None:
        shown = self.tr(text)
        if cell is not None and shown != text:
            cell = replace(cell, text=shown if cell.text == text else cell.text,
                           label=shown if cell.label == text else cell.label)
        if shown:
            self.page.ops.append(Text(x, y, shown, self.font(shown, font), size or self.st.size, bold,
                                      align, gray, cell))

    def width(self, text: str, size: float | None = None, bold: bool = False) -> float:
        shown = self.tr(text)
        return text_width(shown, self.font(shown), size or self.st.size, bold)

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.5, gray: int = 0) -> None:
        self.page.ops.append(Line(x0, y0, x1, y1, width, gray))

    def fields(self, x: float, y: float, pairs: list[tuple[str, str, Cell | None]],
               size: float | None = None) -> float:
        """``label value`` lines; returns the y below them."""
        size = size or self.st.size
        lead = size * 1.45
        for label, value, cell in pairs:
            self.text(x, y, label, size, bold=True)
            self.text(x + self.width(label, size, True) + self.width(" ", size, True), y, value, size,
                      cell=replace(cell, text=value) if cell else None)
            y += lead
        return y

    def table(self, x: float, y: float, cols: list[_Col], rows: list[_Row], ruled: bool,
              size: float | None = None) -> float:
        """A results table with its top edge at ``y``; returns its bottom edge."""
        size = size or self.st.size
        h = size * 1.75
        pad = size * 0.5
        width = sum(c.width for c in cols)
        n_head = max(self.tr(c.header).count("\n") + 1 for c in cols)
        head_h = h + (n_head - 1) * size * 1.15
        edges = [x]
        for c in cols:
            edges.append(edges[-1] + c.width)
        for i, c in enumerate(cols):
            for j, part in enumerate(self.tr(c.header).split("\n")):
                yy = y + size * 1.25 + j * size * 1.15
                if c.align == "left":
                    self.text(edges[i] + pad, yy, part, size, bold=True)
                else:
                    self.text((edges[i] + edges[i + 1]) / 2, yy, part, size, bold=True, align="center")
        top = y
        y += head_h
        self.line(x, y, x + width, y, 0.8 if ruled else 0.6)
        for row in rows:
            base = y + h * 0.68
            if row.span:
                self.text(edges[0] + pad, base, row.cells[0][0], size, bold=True, gray=row.gray)
            else:
                for i, (txt, cell) in enumerate(row.cells):
                    c = cols[i]
                    if c.align == "left":
                        self.text(edges[i] + pad, base, txt, size, row.bold, gray=row.gray, cell=cell)
                    else:
                        self.text(edges[i + 1] - pad * 1.6, base, txt, size, row.bold, "right", row.gray, cell)
            y += h
            if ruled:
                self.line(x, y, x + width, y, 0.4)
        if ruled:
            self.page.ops.append(Rect(x, top, x + width, y, None, 0, 0.8))
            for e in edges[1:-1]:
                self.line(e, top, e, y, 0.4)
        else:
            self.line(x, y, x + width, y, 0.6)
        return y


def _cell(b: _Builder, region: str | None, side: str | None, measure: str, text: str, label: str = "",
          in_truth: bool = True) -> tuple[str, Cell | None]:
    if text.strip("-\u2212") == "":  # blank or a dash: nothing computed, nothing to tag
        return text, None
    return text, Cell(region, side, measure, text, label, in_truth)
