"""Stage 2 output: a word read on a page, with its box, confidence and engine.

Every stage after the page works on :class:`Token`: the OCR engines
(:mod:`bmdkit.report.ocr`) and a PDF text layer (:mod:`bmdkit.report.pdftext`)
both make them, so the layout stages never know where a word came from.
"""

from __future__ import annotations

from dataclasses import dataclass

#: a box on a page image: (x0, y0, x1, y1) in pixels
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Token:
    """A piece of text read on a page."""

    text: str
    box: Box
    conf: float
    engine: str

    @property
    def xc(self) -> float:
        """Horizontal centre."""
        return (self.box[0] + self.box[2]) / 2

    @property
    def yc(self) -> float:
        """Vertical centre."""
        return (self.box[1] + self.box[3]) / 2

    @property
    def height(self) -> int:
        """Box height in pixels."""
        return self.box[3] - self.box[1]
