"""Ruling lines come off the page; small bold words beside them stay whole (preprocess.remove_lines).

At screen resolution (about 90 ppi, 9 px type) the letters of a bold word
touch, and the top and foot of the word are runs of ink as long as a short
rule. Taking them off cut GE's header labels in half ('Total Rught',
'Measured:' read as dashes), so that a row's side or the exam date was lost.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bmdkit.options import ReadOptions
from bmdkit.report import ocr, preprocess

BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
REGULAR = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _tight(d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: ImageFont.FreeTypeFont) -> tuple:
    """Bold screen type: letters set close enough to touch, as a console's small bold font."""
    x, y = xy
    x0 = x
    for ch in text:
        d.text((x, y), ch, font=font, fill=0)
        x += font.getlength(ch) - 2
    return (int(x0) - 2, int(y) - 2, int(x) + 2, int(y) + 14)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple], list[int]]:
    """A screenshot-like page: bold labels, a thin-ruled table, regular values; saved and read back."""
    img = Image.new("L", (612, 220), 255)
    d = ImageDraw.Draw(img)
    bold, regular = ImageFont.truetype(BOLD, 9), ImageFont.truetype(REGULAR, 9)
    words = [_tight(d, (40, 30), "Measured:", bold), _tight(d, (40, 140), "Total Right", bold)]
    d.text((120, 30), "01/14/2019", font=regular, fill=0)
    rules = [110, 132, 160]
    for y in rules:
        d.line((30, y, 580, y), fill=0, width=1)
    d.text((130, 140), "0.800      -1.6      0.3", font=regular, fill=0)
    path = tmp_path_factory.mktemp("rules") / "page.png"
    img.filter(ImageFilter.GaussianBlur(0.5)).save(path)
    return path, words, rules


def _prepared(path: Path) -> preprocess.Prepared:
    return preprocess.prepare(np.asarray(Image.open(path).convert("L")), max_pixels=ReadOptions().max_pixels)


def test_rules_are_taken_off(page: tuple[Path, list[tuple], list[int]]) -> None:
    path, _, rules = page
    prep = _prepared(path)
    s = prep.scale
    for y in rules:
        band = slice(int((y - 1) * s), int((y + 2) * s))
        span = slice(int(30 * s), int(580 * s))
        assert (prep.with_lines[band, span] < 128).sum() > 400 * s  # the rule is on the page ...
        assert (prep.image[band, span] < 128).sum() == 0  # ... and gone from the image OCR reads


def test_small_bold_words_keep_all_their_ink(page: tuple[Path, list[tuple], list[int]]) -> None:
    path, words, _ = page
    prep = _prepared(path)
    s = prep.scale
    for x0, y0, x1, y1 in words:
        box = (slice(int(y0 * s), int(y1 * s)), slice(int(x0 * s), int(x1 * s)))
        before = int((prep.with_lines[box] < 128).sum())
        assert before > 0 and int((prep.image[box] < 128).sum()) == before


def test_values_between_rules_read_exactly(page: tuple[Path, list[tuple], list[int]]) -> None:
    path, _, _ = page
    texts = [t.text for t in ocr.rapid_page(_prepared(path).image)]
    assert any("0.800" in t for t in texts) and any("-1.6" in t for t in texts)
