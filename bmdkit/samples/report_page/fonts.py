"""Font files (Debian packages) and text measurement for report pages.

Pages are measured with FreeType through Pillow so that placement in points
matches both the raster and the PDF rendering of the same page.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import ImageFont

from bmdkit.samples.report_page.ops import Text

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
              "/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto")
# font key -> (regular file, bold file, index inside a .ttc); Debian package file names
FONT_FILES: dict[str, tuple[str, str, int]] = {
    "dejavu-sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", 0),
    "dejavu-sans-condensed": ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf", 0),
    "dejavu-serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", 0),
    "liberation-sans": ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", 0),
    "liberation-serif": ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf", 0),
    "liberation-mono": ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf", 0),
    "noto-sans-cjk": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", 2),  # index 2 = SC
    "noto-serif-cjk": ("NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc", 2),
}
CJK_FONTS = ("noto-sans-cjk", "noto-serif-cjk")
LATIN_FONTS = ("dejavu-sans", "dejavu-sans-condensed", "dejavu-serif", "liberation-sans",
               "liberation-serif", "liberation-mono")


def font_file(key: str, bold: bool = False) -> tuple[str, int]:
    """Path and .ttc index of a font key; raises FileNotFoundError naming the package."""
    regular, heavy, index = FONT_FILES[key]
    name = heavy if bold else regular
    for d in _FONT_DIRS:
        p = Path(d) / name
        if p.exists():
            return str(p), index
    raise FileNotFoundError(f"font {name} not found (Debian: fonts-dejavu-core, fonts-liberation, "
                            "fonts-noto-cjk)")


@functools.lru_cache(maxsize=256)
def pil_font(key: str, bold: bool, px: int) -> ImageFont.FreeTypeFont:
    path, index = font_file(key, bold)
    return ImageFont.truetype(path, size=max(4, px), index=index)


def text_width(text: str, font: str, size: float, bold: bool = False) -> float:
    """Width in points (measured with FreeType at 10x size for precision)."""
    return pil_font(font, bold, round(size * 10)).getlength(text) / 10.0


def text_box_pt(op: Text) -> tuple[float, float, float, float]:
    """Box of a drawn text in page points (top-left origin), from the font's ascent and descent."""
    f = pil_font(op.font, op.bold, round(op.size * 10))
    w = f.getlength(op.text) / 10.0
    ascent, descent = (v / 10.0 for v in f.getmetrics())
    x0 = {"left": op.x, "right": op.x - w, "center": op.x - w / 2}[op.align]
    return (x0, op.y - ascent, x0 + w, op.y + descent)


@functools.lru_cache(maxsize=64)
def font_has(key: str, char: str) -> bool:
    from fontTools.ttLib import TTFont

    path, index = font_file(key)
    return ord(char) in TTFont(path, fontNumber=index, lazy=True).getBestCmap()
