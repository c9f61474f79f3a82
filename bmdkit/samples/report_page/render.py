"""Entry points: build a report page for a truth exam in a layout, and render it.

Each layout varies its look per sample (:func:`~.style.choose_style`); a page
whose table would run into the footer is rebuilt with smaller type.
"""

from __future__ import annotations

from dataclasses import replace

from PIL import Image

from bmdkit.samples.report_page.chinese import _build_chinese
from bmdkit.samples.report_page.fonts import font_has
from bmdkit.samples.report_page.ge_lunar import _build_ge
from bmdkit.samples.report_page.hologic import _build_hologic
from bmdkit.samples.report_page.norland import _build_norland
from bmdkit.samples.report_page.ops import Page
from bmdkit.samples.report_page.raster import RenderedPage, rasterize
from bmdkit.samples.report_page.style import Style, choose_style
from bmdkit.samples.truth import TruthExam

LAYOUTS: tuple[str, ...] = ("hologic", "ge_lunar", "chinese", "norland")


def build_page(truth: TruthExam, layout: str, lang: str = "en", style: Style | None = None) -> Page:
    """The page for ``truth`` in ``layout`` as drawing instructions (see :mod:`bmdkit.samples.pdfs`)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if lang not in ("en", "zh"):
        raise ValueError(f"unknown language {lang!r}; 'en' or 'zh'")
    st = style or choose_style(truth, layout, lang)
    if st.minus != "-" and not font_has(st.font, st.minus):
        st = replace(st, minus="-")
    builder = _BUILDERS[layout]
    lang = "zh" if layout == "chinese" else lang
    page = builder(truth, lang, st)
    for _ in range(6):  # a long table (both hips) must not run into the footer: shrink the type
        if page.content_bottom <= page.height - 50:
            break
        st = replace(st, size=st.size - 0.75, paper="a4")
        page = builder(truth, lang, st)
    return page


def render_report_page(truth: TruthExam, layout: str, lang: str = "en", dpi: int = 200,
                       style: Style | None = None) -> RenderedPage:
    """The rendered page with the pixel box of every printed value."""
    return rasterize(build_page(truth, layout, lang, style), dpi)


def render_report(truth: TruthExam, layout: str, lang: str = "en", dpi: int = 200,
                  style: Style | None = None) -> Image.Image:
    """A clean printed report page for ``truth`` as an RGB image at ``dpi``."""
    return render_report_page(truth, layout, lang, dpi, style).image


_BUILDERS = {"hologic": _build_hologic, "ge_lunar": _build_ge, "chinese": _build_chinese,
             "norland": _build_norland}
