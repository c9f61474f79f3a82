"""Rasterize a drawn :class:`~.ops.Page` with Pillow, keeping each tagged value's pixel box."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.samples.report_page.fonts import pil_font
from bmdkit.samples.report_page.ops import Cell, Dot, Line, Page, Picture, Poly, Rect, Text


@dataclass(frozen=True)
class CellBox:
    """A drawn value and its pixel box ``(x0, y0, x1, y1)`` in the rendered image."""

    cell: Cell
    box: tuple[int, int, int, int]


@dataclass
class RenderedPage:
    image: Image.Image
    cells: list[CellBox]
    dpi: int
    page: Page


_ANCHOR = {"left": "ls", "right": "rs", "center": "ms"}


def rasterize(page: Page, dpi: int = 200) -> RenderedPage:
    """Draw ``page`` at ``dpi`` with Pillow; returns the image and every tagged value's box."""
    k = dpi / 72.0
    if page.width * k * page.height * k > DEFAULT_OPTIONS.max_pixels:
        raise ValueError(f"{dpi} dpi makes a page larger than the {DEFAULT_OPTIONS.max_pixels} pixel cap")
    img = Image.new("RGB", (round(page.width * k), round(page.height * k)), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    boxes: list[CellBox] = []
    for op in page.ops:
        if isinstance(op, Text):
            f = pil_font(op.font, op.bold, round(op.size * k))
            xy = (op.x * k, op.y * k)
            draw.text(xy, op.text, font=f, fill=(op.gray,) * 3, anchor=_ANCHOR[op.align])
            if op.cell is not None:
                b = draw.textbbox(xy, op.text, font=f, anchor=_ANCHOR[op.align])
                boxes.append(CellBox(op.cell, (int(b[0]), int(b[1]), int(np.ceil(b[2])), int(np.ceil(b[3])))))
        elif isinstance(op, Line):
            draw.line([(op.x0 * k, op.y0 * k), (op.x1 * k, op.y1 * k)], fill=(op.gray,) * 3,
                      width=max(1, round(op.width * k)))
        elif isinstance(op, Rect):
            fill = (op.fill,) * 3 if isinstance(op.fill, int) else op.fill
            draw.rectangle([op.x0 * k, op.y0 * k, op.x1 * k, op.y1 * k], fill=fill,
                           outline=None if op.stroke is None else (op.stroke,) * 3, width=max(1, round(op.width * k)) if op.stroke is not None else 0)
        elif isinstance(op, Poly):
            draw.line([(x * k, y * k) for x, y in op.points], fill=(op.gray,) * 3,
                      width=max(1, round(op.width * k)), joint="curve")
        elif isinstance(op, Dot):
            draw.ellipse([(op.x - op.r) * k, (op.y - op.r) * k, (op.x + op.r) * k, (op.y + op.r) * k],
                         fill=(op.gray,) * 3)
        elif isinstance(op, Picture):
            size = (round((op.x1 - op.x0) * k), round((op.y1 - op.y0) * k))
            pic = Image.fromarray(op.pixels, "L").resize(size, Image.Resampling.BILINEAR)
            img.paste(pic, (round(op.x0 * k), round(op.y0 * k)))
    img.info["dpi"] = (dpi, dpi)  # degrade.scan reads it to resample to scanner resolution
    return RenderedPage(img, boxes, dpi, page)
