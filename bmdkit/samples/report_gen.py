"""Printed DXA report pages rendered from a :class:`~bmdkit.samples.truth.TruthExam` (facade).

A page is first built as a list of drawing instructions in PDF points
(1/72 inch, origin top left, text placed on its baseline). The same list is
then rasterized with Pillow (:func:`render_report`) or written as a text
PDF with real, extractable words by :mod:`bmdkit.samples.pdfs`. Keeping one
description for both means the image and the PDF always show the same page,
and every table value carries a :class:`Cell` tag that says which truth value
it prints, so tests and the OCR reader can check where each number was drawn.

Layouts follow vendor printouts as described in ``shared/domain/reports.md``:
``hologic`` (APEX "DXA Results Summary"), ``ge_lunar`` (enCORE, borderless),
``chinese`` (a hospital template, 骨密度检测报告) and ``norland``. Each page
varies its font, sizes, ruling, minus glyph, date format, paper size and
optional columns from a seed derived from the sample id, so a set of pages
does not share one look. This is synthetic development data; the held-out
evaluation set should be made differently (other fonts, other hands).

The code lives in :mod:`bmdkit.samples.report_page`, one job per module; this
module re-exports its public names so existing imports keep working.

Pages that imitate real vendor screenshots (72-100 ppi, JPEG, slide
re-renders, blank score columns) are in :mod:`bmdkit.samples.real_like`:
:data:`REAL_LIKE_LAYOUTS` sits beside :data:`LAYOUTS` but apart from it, so
that the page sets built from :data:`LAYOUTS` do not change.
"""

from __future__ import annotations

# re-exported for existing callers (``from bmdkit.samples import report_gen as rg``); the private
# helpers once re-exported here had no caller outside report_page/ (issue 21) and are imported from
# their own modules now
from bmdkit.samples.real_like import (
    REAL_LIKE_LAYOUTS,
    REAL_LIKE_RENDERINGS,
    RealLikePage,
    ScreenOptions,
    make_real_like_pages,
    render_real_like,
)
from bmdkit.samples.report_page.fonts import (
    CJK_FONTS,
    FONT_FILES,
    LATIN_FONTS,
    font_file,
    font_has,
    pil_font,
    text_box_pt,
    text_width,
)
from bmdkit.samples.report_page.ops import Cell, Dot, Line, Op, Page, Picture, Poly, Rect, Text
from bmdkit.samples.report_page.pictures import scan_picture
from bmdkit.samples.report_page.raster import CellBox, RenderedPage, rasterize
from bmdkit.samples.report_page.render import LAYOUTS, build_page, render_report, render_report_page
from bmdkit.samples.report_page.style import PAPER, Style, choose_style
from bmdkit.samples.report_page.words import fmt, fmt_date, who_category

__all__ = [
    "CJK_FONTS",
    "FONT_FILES",
    "LATIN_FONTS",
    "LAYOUTS",
    "PAPER",
    "REAL_LIKE_LAYOUTS",
    "REAL_LIKE_RENDERINGS",
    "Cell",
    "CellBox",
    "Dot",
    "Line",
    "Op",
    "Page",
    "Picture",
    "Poly",
    "RealLikePage",
    "Rect",
    "RenderedPage",
    "ScreenOptions",
    "Style",
    "Text",
    "build_page",
    "choose_style",
    "fmt",
    "fmt_date",
    "font_file",
    "font_has",
    "make_real_like_pages",
    "pil_font",
    "rasterize",
    "render_real_like",
    "render_report",
    "render_report_page",
    "scan_picture",
    "text_box_pt",
    "text_width",
    "who_category",
]
