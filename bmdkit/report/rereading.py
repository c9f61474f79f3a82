"""Re-reading a page's crops: the service the stages are handed, so no stage calls back into the driver.

A :class:`PageRereader` belongs to one prepared page image. The layout stages
use it to read a misread row label or column header again on its crop, by
every engine (:meth:`PageRereader.read_boxes`); the reader uses it to read
the whole page with one engine (:meth:`PageRereader.page_tokens`: the layout
engine, or the other engine where the first one's table lacks cells). It
keeps to the file's time :class:`Budget`. A value cell is read again alone,
enlarged, by each engine with :func:`cells_alone` (the reading stage uses it
for a BMD outside its plausible range and for disputed cells).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from bmdkit.options import ReadOptions
from bmdkit.report import cellcrop, ocr, settings, vote
from bmdkit.report.tokens import Box, Token


@dataclass(frozen=True)
class Budget:
    """When optional passes stop (``soft``) and when any OCR call must be done (``hard``), monotonic seconds."""

    soft: float | None = None
    hard: float | None = None

    @classmethod
    def for_options(cls, options: ReadOptions) -> Budget:
        """The budget of one file read now, from its time limit (none without one)."""
        if options.timeout_s <= 0:
            return cls()
        now = time.monotonic()
        s = settings.SETTINGS
        return cls(now + s.optional_pass_budget * options.timeout_s, now + s.ocr_budget * options.timeout_s)

    def soft_passed(self) -> bool:
        """Optional passes should not start any more."""
        return self.soft is not None and time.monotonic() > self.soft

    def left(self) -> float | None:
        """Seconds left for an OCR call (None: no limit)."""
        return None if self.hard is None else self.hard - time.monotonic()


_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def cells_alone(image: np.ndarray, boxes: list[Box], engines: list[str],
                budget: Budget | None = None) -> list[list[vote.Candidate]]:
    """Value cells read again, each alone on its crop, enlarged, by every engine given
    (vote.closer_look; tagged ``<engine>+alone``); nothing past the budget's soft limit."""
    if budget is not None and budget.soft_passed():
        return [[] for _ in boxes]
    return [vote.closer_look(cellcrop.value_crop(image, b), engines) for b in boxes]


@dataclass(frozen=True)
class PageRereader:
    """Reads one prepared page image, or crops of it, again with the enabled engines."""

    image: np.ndarray
    engines: list[str]
    options: ReadOptions
    budget: Budget

    def page_tokens(self, engine: str) -> list[Token]:
        """The whole page read by ``engine`` ("rapidocr", else tesseract within the budget)."""
        if engine == "rapidocr":
            return ocr.rapid_page(self.image)
        return ocr.tesseract_page(self.image, self.options.ocr_languages, timeout=self.budget.left())

    @property
    def box_engines(self) -> tuple[str, ...]:
        """The engines :meth:`read_boxes` reads with, in the order of each box's readings."""
        return tuple(e for e in ("rapidocr", "tesseract") if e in self.engines)

    def read_boxes(self, boxes: list[Box]) -> list[list[str]]:
        """Re-read row-label or header boxes on their own crops with every engine (nothing past the
        budget): each box's readings in the order of :attr:`box_engines`."""
        out: list[list[str]] = [[] for _ in boxes]
        if self.budget.soft_passed():
            return out
        crops = [cellcrop.crop(self.image, b, own_line=True) for b in boxes]
        for engine in self.box_engines:
            if engine == "rapidocr":
                texts = [text for text, _ in ocr.rapid_crops(crops)]
            else:
                texts = [_CJK_GAP.sub("", text) for text, _ in ocr.tesseract_crops(
                    crops, languages=self.options.ocr_languages, whitelist=None, joiner=" ")]
            for k, text in enumerate(texts):
                out[k].append(text)
        return out
