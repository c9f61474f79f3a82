"""Report pages that look like real vendor screenshots, at screen resolution, with their truth.

bmdkit reads its own print-like pages (:mod:`bmdkit.samples.report_gen`) almost
perfectly but real vendor pages badly: those are console screenshots of about
612x792 px (72-100 ppi) with antialiased small type, saved as PNG or JPEG, or
pasted into a slide deck and re-rendered at 150 dpi. This module renders a
:class:`~bmdkit.samples.truth.TruthExam` in layouts learnt from such pages
(:data:`REAL_LIKE_LAYOUTS`) and in those renderings (:data:`REAL_LIKE_RENDERINGS`).
It is kept apart from :data:`~bmdkit.samples.report_gen.LAYOUTS` so that the
existing page sets stay byte-identical.

A page may leave the T- or Z-score column (with its % column) blank or "-" on
every row, as for a patient too young for a T-score. The truth returned with
such a page has those scores set to None and says so in its notes
(:func:`bmdkit.samples.truth.mark_not_printed`, read back with
:func:`bmdkit.samples.truth.not_printed`): a reader that reports one has made a
silent error.

Layouts, fonts and sizes imitate pages seen; every value printed comes from
the truth exam (or follows from it: spine combinations, hip means and
differences, tagged ``in_truth=False``). No real page's numbers or patient
details are used.

Examples
--------
>>> from bmdkit.samples.truth import TruthGenerator
>>> t = TruthGenerator(3).exam(vendor="hologic", scan_type="spine")
>>> page = render_real_like(t, "hologic_apex", "png90", ScreenOptions(blank=("t_score",)))
>>> page.image.size, sorted(not_printed(page.truth))
((765, 990), ['t_score'])
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image, ImageFilter

from bmdkit.samples.report_page.apex import APEX_VARIANTS, SERIF, build_apex
from bmdkit.samples.report_page.encore import ENCORE_VARIANTS, build_encore
from bmdkit.samples.report_page.encore import FONT as ENCORE_FONT
from bmdkit.samples.report_page.fonts import pil_font
from bmdkit.samples.report_page.norland_screen import FONT as NORLAND_FONT
from bmdkit.samples.report_page.norland_screen import NORLAND_VARIANTS, build_norland_screen
from bmdkit.samples.report_page.ops import Page
from bmdkit.samples.report_page.raster import CellBox, rasterize
from bmdkit.samples.report_page.screen_table import ScreenOptions
from bmdkit.samples.report_page.style import Style
from bmdkit.samples.truth import PRINTABLE_SCORES, TruthExam, TruthGenerator, mark_not_printed, not_printed

__all__ = ["REAL_LIKE_LAYOUTS", "REAL_LIKE_RENDERINGS", "REAL_LIKE_VARIANTS", "RealLikePage", "ScreenOptions",
           "build_real_like_page", "make_real_like_pages", "not_printed", "render_real_like"]

REAL_LIKE_LAYOUTS: tuple[str, ...] = ("hologic_apex", "ge_encore", "norland_illuminatus")
# png90: a 90-ppi screenshot saved as PNG; jpeg: 72-100 ppi, JPEG quality 70-90; slide150: a
# 72-96 ppi screenshot pasted into a slide and the slide rendered at 150 dpi (upscaled, soft)
REAL_LIKE_RENDERINGS: tuple[str, ...] = ("png90", "jpeg", "slide150")
REAL_LIKE_VENDOR = {"hologic_apex": "hologic", "ge_encore": "ge_lunar", "norland_illuminatus": "norland"}
REAL_LIKE_VARIANTS: dict[str, tuple[str, ...]] = {
    "hologic_apex": tuple(dict.fromkeys(v for vs in APEX_VARIANTS.values() for v in vs)),
    "ge_encore": ENCORE_VARIANTS, "norland_illuminatus": NORLAND_VARIANTS}

_BUILD: dict[str, Callable[[TruthExam, Style, ScreenOptions], Page]] = {
    "hologic_apex": build_apex, "ge_encore": build_encore, "norland_illuminatus": build_norland_screen}
_TABLE_FONT = {"hologic_apex": SERIF, "ge_encore": ENCORE_FONT, "norland_illuminatus": NORLAND_FONT}
DIGIT_PX = (7.0, 8.5)  # digit height of table values on screen, as measured on real screenshots
SCREEN_PPI = (72, 100)
SLIDE_CAPTURE_PPI = (72, 96)
SLIDE_DPI = 150
SLIDE_INCHES = 10.0
JPEG_QUALITY = (70, 90)


@dataclass
class RealLikePage:
    """A rendered real-like page: the image as saved, where each value was drawn, and its truth."""

    image: Image.Image
    cells: list[CellBox]
    ppi: float  # pixels per inch of the saved image (150 for a slide)
    truth: TruthExam  # not-printed columns marked (:func:`not_printed`)
    layout: str
    rendering: str
    encoded: bytes = field(repr=False)  # the file's bytes (PNG or JPEG)
    suffix: str = ".png"

    def save(self, path: str | Path) -> Path:
        """Write the encoded image (the JPEG's own bytes, not a re-encoding)."""
        p = Path(path)
        p.write_bytes(self.encoded)
        return p


def _seed(*parts: object) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def _digit_ratio(font: str) -> float:
    """Height of a digit as a fraction of the font size (FreeType bbox of "0" at 100 px)."""
    box = pil_font(font, False, 100).getbbox("0")
    return (box[3] - box[1]) / 100.0


def build_real_like_page(truth: TruthExam, layout: str, options: ScreenOptions | None = None,
                         ppi: float = 90.0, digit_px: float = 7.5) -> tuple[Page, TruthExam]:
    """The page of ``truth`` in a real-like ``layout`` and the truth as that page prints it.

    Type is sized so that table digits are ``digit_px`` pixels high at ``ppi`` (real
    screenshots: 7-9 px); a page whose content would reach the footer is rebuilt smaller.
    """
    if layout not in REAL_LIKE_LAYOUTS:
        raise ValueError(f"unknown real-like layout {layout!r}; choose one of {', '.join(REAL_LIKE_LAYOUTS)}")
    o = options or ScreenOptions()
    bad = [m for m in o.blank if m not in PRINTABLE_SCORES]
    if bad or o.blank_mark not in ("", "-"):
        raise ValueError(f"blank columns must be among {PRINTABLE_SCORES} and shown as '' or '-'")
    size = digit_px / (_digit_ratio(_TABLE_FONT[layout]) * ppi / 72.0)
    st = Style(font=_TABLE_FONT[layout], size=size, ruled=False, paper="letter", color=layout == "ge_encore",
               seed=_seed(truth.sample_id, layout))
    page = _BUILD[layout](truth, st, o)
    for _ in range(8):
        if page.content_bottom <= page.height - 60:
            break
        st = replace(st, size=st.size * 0.93)
        page = _BUILD[layout](truth, st, o)
    shown = mark_not_printed(truth, list(o.blank), o.blank_mark) if o.blank else truth
    return page, shown


def _encode(img: Image.Image, fmt: str, ppi: float, quality: int = 90) -> tuple[bytes, Image.Image]:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=quality, dpi=(round(ppi), round(ppi)))
        data = buf.getvalue()
        out = Image.open(io.BytesIO(data))
        out.load()
        out = out.convert("RGB")
    else:
        img.save(buf, "PNG", dpi=(ppi, ppi))
        data, out = buf.getvalue(), img
    out.info["dpi"] = (ppi, ppi)
    return data, out


def _slide(img: Image.Image, cells: list[CellBox], rng: random.Random) -> tuple[Image.Image, list[CellBox]]:
    """The screenshot pasted into a 10-inch slide rendered at 150 dpi: upscaled, softened, centred."""
    side = round(SLIDE_INCHES * SLIDE_DPI)
    k = side * rng.uniform(0.95, 0.985) / img.height
    size = (round(img.width * k), round(img.height * k))
    big = img.resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 0.9)))
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    ox, oy = (side - size[0]) // 2, (side - size[1]) // 2
    canvas.paste(big, (ox, oy))
    moved = [CellBox(c.cell, (int(c.box[0] * k) + ox, int(c.box[1] * k) + oy, int(c.box[2] * k + 0.999) + ox,
                              int(c.box[3] * k + 0.999) + oy)) for c in cells]
    return canvas, moved


def render_real_like(truth: TruthExam, layout: str, rendering: str = "png90", options: ScreenOptions | None = None,
                     seed: int = 0, ppi: float | None = None) -> RealLikePage:
    """``truth`` in a real-like ``layout`` and ``rendering``; ``seed`` picks ppi, size, JPEG quality.

    ``ppi`` overrides the screen resolution the rendering would pick (72-100).
    """
    if rendering not in REAL_LIKE_RENDERINGS:
        raise ValueError(f"unknown rendering {rendering!r}; choose one of {', '.join(REAL_LIKE_RENDERINGS)}")
    rng = random.Random(_seed(truth.sample_id, layout, rendering, seed))
    screen = ppi or {"png90": 90.0, "jpeg": float(rng.randint(*SCREEN_PPI)),
                     "slide150": float(rng.randint(*SLIDE_CAPTURE_PPI))}[rendering]
    page, shown = build_real_like_page(truth, layout, options, screen, rng.uniform(*DIGIT_PX))
    rp = rasterize(page, screen)  # type: ignore[arg-type]  # rasterize scales by dpi/72, a float works
    img, cells = rp.image, rp.cells
    if rendering == "slide150":
        img, cells = _slide(img, cells, rng)
        data, img = _encode(img, "PNG", SLIDE_DPI)
        return RealLikePage(img, cells, SLIDE_DPI, shown, layout, rendering, data, ".png")
    if rendering == "jpeg":
        data, img = _encode(img, "JPEG", screen, rng.randint(*JPEG_QUALITY))
        return RealLikePage(img, cells, screen, shown, layout, rendering, data, ".jpg")
    data, img = _encode(img, "PNG", screen)
    return RealLikePage(img, cells, screen, shown, layout, rendering, data, ".png")


def _page_options(rng: random.Random) -> ScreenOptions:
    """Blank columns as often as real sets show them: mostly none, sometimes T, Z or both."""
    blank = rng.choices([(), ("t_score",), ("z_score",), ("t_score", "z_score")], [0.55, 0.25, 0.12, 0.08])[0]
    return ScreenOptions(blank=blank, blank_mark=rng.choice(("", "-")))


def _truth_json(page: RealLikePage, path: Path) -> dict[str, object]:
    """What a bench needs beside the image: the truth, what is not printed, every printed value's box."""
    return {"file": path.name, "layout": page.layout, "rendering": page.rendering, "ppi": page.ppi,
            "not_printed": sorted(not_printed(page.truth)), "truth": page.truth.to_dict(),
            "cells": [{"region": c.cell.region, "side": c.cell.side, "measure": c.cell.measure, "text": c.cell.text,
                       "label": c.cell.label, "in_truth": c.cell.in_truth, "box": list(c.box)} for c in page.cells]}


def make_real_like_pages(n: int, out_dir: str | Path, seed: int) -> list[tuple[Path, TruthExam, str, str]]:
    """Write ``n`` real-like pages to ``out_dir`` for a bench: ``(path, truth, layout, rendering)`` each.

    Pages cycle through every layout and, within that, every rendering, so any
    ``n`` >= 9 covers all pairs; scan type, page variant and blank columns come
    from ``seed``. Beside each image, ``NAME.truth.json`` holds the truth (with
    :func:`not_printed` measures None), and every printed value's pixel box.
    The same ``seed`` writes the same bytes.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = TruthGenerator(seed)
    rng = random.Random(_seed("real_like", seed))
    written: list[tuple[Path, TruthExam, str, str]] = []
    nl, nr = len(REAL_LIKE_LAYOUTS), len(REAL_LIKE_RENDERINGS)
    for i in range(n):
        layout = REAL_LIKE_LAYOUTS[i % nl]
        rendering = REAL_LIKE_RENDERINGS[(i // nl) % nr]
        scan_type = rng.choices(("spine", "hip_dual", "hip_left", "hip_right"), (0.45, 0.35, 0.1, 0.1))[0]
        exclude = ["L1"] if scan_type == "spine" and rng.random() < 0.1 else None
        truth = gen.exam(vendor=REAL_LIKE_VENDOR[layout], scan_type=scan_type, exclude=exclude)
        page = render_real_like(truth, layout, rendering, _page_options(rng), seed)
        path = page.save(out / f"{truth.sample_id}_{layout}_{rendering}{page.suffix}")
        side = out / f"{path.stem}.truth.json"
        side.write_text(json.dumps(_truth_json(page, path), ensure_ascii=False, indent=1), encoding="utf-8")
        written.append((path, page.truth, layout, rendering))
    return written
