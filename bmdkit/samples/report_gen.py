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
module re-exports its names (public and the private helpers callers used) so
existing imports keep working.
"""

from __future__ import annotations

# re-exported for existing callers (``from bmdkit.samples import report_gen as rg``)
from bmdkit.samples.report_page.builder import _Builder, _cell, _Col, _Row  # noqa: F401
from bmdkit.samples.report_page.chinese import _ZH_HIP, _ZH_SCAN, _ZH_SIDE, _build_chinese  # noqa: F401
from bmdkit.samples.report_page.fonts import (  # noqa: F401
    _FONT_DIRS,
    CJK_FONTS,
    FONT_FILES,
    LATIN_FONTS,
    font_file,
    font_has,
    pil_font,
    text_box_pt,
    text_width,
)
from bmdkit.samples.report_page.ge_lunar import _build_ge, _ge_row, _ge_trend, _spine_combos  # noqa: F401
from bmdkit.samples.report_page.hologic import (  # noqa: F401
    _HIP_ORDER,
    _HOLOGIC_LABEL,
    _SCAN_TITLE,
    _build_hologic,
    _hologic_values,
)
from bmdkit.samples.report_page.norland import _build_norland  # noqa: F401
from bmdkit.samples.report_page.ops import (  # noqa: F401
    Cell,
    Dot,
    Line,
    Op,
    Page,
    Picture,
    Poly,
    Rect,
    Text,
    _op_bottom,
)
from bmdkit.samples.report_page.pictures import _figures, _graph, scan_picture  # noqa: F401
from bmdkit.samples.report_page.raster import _ANCHOR, CellBox, RenderedPage, rasterize  # noqa: F401
from bmdkit.samples.report_page.render import (  # noqa: F401
    _BUILDERS,
    LAYOUTS,
    build_page,
    render_report,
    render_report_page,
)
from bmdkit.samples.report_page.sections import _footer, _header_en, _who_lines_en  # noqa: F401
from bmdkit.samples.report_page.style import PAPER, Style, _seed, choose_style  # noqa: F401
from bmdkit.samples.report_page.truth_values import (  # noqa: F401
    _main_region,
    _main_ts,
    _name_en,
    _percents,
    _ref,
    _ref_region,
)
from bmdkit.samples.report_page.words import (  # noqa: F401
    _WHO_EN,
    _WHO_ZH,
    _ZH_WORDS,
    _is_cjk,
    fmt,
    fmt_date,
    who_category,
)

__all__ = [
    "LAYOUTS",
    "Cell",
    "CellBox",
    "Page",
    "RenderedPage",
    "Style",
    "build_page",
    "choose_style",
    "fmt",
    "fmt_date",
    "rasterize",
    "render_report",
    "render_report_page",
    "text_box_pt",
    "who_category",
]
