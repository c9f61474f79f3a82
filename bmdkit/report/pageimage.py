"""Stage 1 (for pages read by OCR): the page prepared, read by the layout engine, turned upright.

The page is prepared (:mod:`bmdkit.report.preprocess`: page detection,
perspective, illumination, deskew, upscale), read whole by the layout engine
(RapidOCR when enabled, else tesseract), turned by the slope its words still
lie at, and laid out (:func:`bmdkit.report.layout.find_tables`). A page with no
table whose words do not read as an upright DXA report is tried upside down
and sideways. A blurred page is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from bmdkit.errors import NoReader
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Flag
from bmdkit.options import ReadOptions
from bmdkit.report import labels, ocr, preprocess, settings
from bmdkit.report.layout import PageLayout, find_tables
from bmdkit.report.lines import residual_skew, split_tokens
from bmdkit.report.pagefiles import Page
from bmdkit.report.rereading import Budget, PageRereader
from bmdkit.report.tokens import Token


class Straightened(NamedTuple):
    """A page image turned straight, its words moved with it, and the map back to the page as given."""

    image: np.ndarray
    tokens: list[Token]
    to_page: np.ndarray


@dataclass
class OcrPage:
    """A page read by OCR: the image its layout was found on (``to_page`` maps it back to the
    page as given), the layout, the re-reader of that image, and the notes raised on the way."""

    image: np.ndarray
    to_page: np.ndarray
    layout: PageLayout
    rereader: PageRereader
    flags: list[Flag] = field(default_factory=list)
    #: the same image with its ruling lines kept, where it lines up with ``image`` (else None):
    #: line removal eats the top and bottom of small bold words (screen-resolution header labels)
    with_lines: np.ndarray | None = None

    def word_reader(self) -> PageRereader:
        """A re-reader for words outside the tables (labels beside a header's dates): of the image
        with its lines kept where there is one, else the layout's image."""
        if self.with_lines is None:
            return self.rereader
        r = self.rereader
        return PageRereader(self.with_lines, r.engines, r.options, r.budget)


def straighten(image: np.ndarray, tokens: list[Token], to_page: np.ndarray) -> Straightened:
    """Turn the page and its words by the slope the words still lie at (see lines.residual_skew).

    Page deskewing judges ink profiles, which charts and photos' keystone
    mislead; the words' own lines are the better witness. The words move with
    the page, so no second page OCR is needed and cell crops stay upright.
    ``to_page`` (turned image -> page image) is updated to match.
    """
    slope = residual_skew(split_tokens(tokens))
    if abs(slope) < settings.SETTINGS.residual_skew_min:
        return Straightened(image, tokens, to_page)
    angle = float(np.degrees(np.arctan(slope)))
    turned, boxes = preprocess.rotate_with_boxes(image, angle, [t.box for t in tokens])
    back = to_page @ np.linalg.inv(preprocess.rotation_matrix(image.shape, angle))
    return Straightened(turned, [Token(t.text, b, t.conf, t.engine) for t, b in zip(tokens, boxes)], back)


def read_image_page(page: Page, engines: list[str], options: ReadOptions, budget: Budget) -> OcrPage:
    """Prepare the page's image, read it with the layout engine and find its tables (turned if need be)."""
    if not engines:
        raise NoReader("no OCR engine is available (install tesseract or rapidocr_onnxruntime)")
    prep = preprocess.prepare(page.image, max_pixels=options.max_pixels)
    layout_engine = "rapidocr" if "rapidocr" in engines else engines[0]
    tokens = PageRereader(prep.image, engines, options, budget).page_tokens(layout_engine)
    image, tokens, to_page = straighten(prep.image, tokens, prep.to_page)
    rereader = PageRereader(image, engines, options, budget)
    read = OcrPage(image, to_page, find_tables(tokens, rereader), rereader,
                   with_lines=prep.with_lines if image is prep.image else None)
    upright = labels.is_dxa_text(" ".join(t.text for t in tokens)) >= 2
    if not read.layout.tables and not upright:
        # maybe upside down or sideways (DXA words read upright say it is not): let the recognizer judge
        read = _turned(prep, layout_engine, page.number, read)
    if prep.sharpness < settings.SETTINGS.blurred_sharpness:
        read.flags.append(Flag(FlagCode.PAGE_QUALITY, f"page {page.number} is blurred"))
    return read


def _turned(prep: preprocess.Prepared, layout_engine: str, page_no: int, upright: OcrPage) -> OcrPage:
    """The page turned by 180, 90 or 270 degrees where that orientation holds a table (``upright`` else).

    An optional pass: past the time budget the orientations left are not tried (noted).
    """
    engines, options, budget = upright.rereader.engines, upright.rereader.options, upright.rereader.budget
    for k in (2, 1, 3):
        tokens = None
        if not budget.soft_passed():
            rot = np.ascontiguousarray(np.rot90(prep.image, k))
            try:
                tokens = PageRereader(rot, engines, options, budget).page_tokens(layout_engine)
            except ocr.OCRTimeout:
                pass
        if tokens is None:
            upright.flags.append(Flag(FlagCode.PAGE_QUALITY, f"page {page_no}: other orientations "
                                      "not tried (time budget)", severity=Severity.INFO))
            return upright
        rot_back = prep.to_page @ np.linalg.inv(preprocess.rot90_matrix(prep.image.shape, k))
        rot, tokens, rot_back = straighten(rot, tokens, rot_back)
        rereader = PageRereader(rot, engines, options, budget)
        rotated = find_tables(tokens, rereader)
        if rotated.tables:
            note = Flag(FlagCode.PAGE_QUALITY, f"page {page_no} was rotated {90 * k} degrees",
                        severity=Severity.INFO)
            return OcrPage(rot, rot_back, rotated, rereader, [*upright.flags, note])
    return upright
