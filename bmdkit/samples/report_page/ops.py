"""Drawing instructions for a report page, in PDF points (1/72 inch, origin top left).

A page is a list of these instructions so that the same description can be
rasterized with Pillow (:mod:`.raster`) or written as a text PDF
(:mod:`bmdkit.samples.pdfs`): image and PDF then always show the same page.
Every printed table value carries a :class:`Cell` tag saying which truth
value it prints, so tests and the OCR reader can check where it was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Cell:
    """What a drawn table value is: truth ``region``/``side`` and ``measure``, as printed.

    ``in_truth`` is False for values the page shows that the truth exam does
    not hold (combinations such as L2-L3, a left-right difference, PR/AM %).
    Header fields use ``region=None`` and a ``measure`` such as ``exam_date``.
    """

    region: str | None
    side: str | None
    measure: str
    text: str
    label: str = ""
    in_truth: bool = True


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    font: str
    size: float
    bold: bool = False
    align: str = "left"  # left | right | center
    gray: int = 0
    cell: Cell | None = None


@dataclass(frozen=True)
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    width: float = 0.5
    gray: int = 0


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    fill: int | tuple[int, int, int] | None = None  # grey level or RGB
    stroke: int | None = 0
    width: float = 0.5


@dataclass(frozen=True)
class Poly:
    points: tuple[tuple[float, float], ...]
    width: float = 1.0
    gray: int = 0


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    gray: int = 0


@dataclass(frozen=True)
class Picture:
    x0: float
    y0: float
    x1: float
    y1: float
    pixels: np.ndarray = field(compare=False)  # uint8 grey, rows x cols


Op = Text | Line | Rect | Poly | Dot | Picture


@dataclass
class Page:
    """One report page as drawing instructions, in points from the top-left corner."""

    width: float
    height: float
    ops: list[Op] = field(default_factory=list)
    content_bottom: float = 0.0  # lowest point drawn above the footer

    def cells(self) -> list[tuple[Cell, Text]]:
        return [(op.cell, op) for op in self.ops if isinstance(op, Text) and op.cell is not None]


def _op_bottom(op: Op) -> float:
    if isinstance(op, Text):
        return op.y + op.size * 0.25
    if isinstance(op, (Line, Rect, Picture)):
        return max(op.y0, op.y1)
    if isinstance(op, Dot):
        return op.y + op.r
    return max(p[1] for p in op.points)
