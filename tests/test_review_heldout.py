"""Held-out pages for the crops, made differently from the development set.

Development pages (tests/helpers/review.py) are 150 ppi PNGs in DejaVu Sans and
reportlab PDFs in Helvetica. These are made another way and were not used
while tuning the crop geometry: a 300 ppi phone-style JPEG stored sideways
with an EXIF orientation tag, in Liberation Serif with ruled cells and
Chinese labels; and a two-page TIFF whose table is on page 2.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from test_review_crops import _image, _shows

from bmdkit.model import (
    Exam,
    InputKind,
    Location,
    Method,
    Region,
    RegionResult,
    Side,
    Source,
    ValueSource,
)
from bmdkit.review.crops import Cropper, Strip

SERIF = "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
ROWS = (("股骨颈 Neck", "femoral_neck", {"bmd": 0.684, "t_score": -2.6}),
        ("全髋 Total", "total_hip", {"bmd": 0.801, "t_score": -1.7}))


def _page(width: int, height: int, top: int) -> tuple[Image.Image, dict[tuple[int, str], tuple[int, int, int, int]]]:
    im = Image.new("RGB", (width, height), (246, 244, 238))  # off-white paper
    d = ImageDraw.Draw(im)
    serif, cjk = ImageFont.truetype(SERIF, 54), ImageFont.truetype(CJK, 50)
    boxes = {}
    for i, (label, _, vals) in enumerate(ROWS):
        y = top + i * 110
        d.rectangle((150, y - 20, width - 150, y + 90), outline=(60, 60, 60), width=3)
        d.text((180, y), label, font=cjk, fill=(30, 30, 30))
        for x, m in ((1300, "bmd"), (1800, "t_score")):
            text = f"{vals[m]:.3f}" if m == "bmd" else f"{vals[m]:.1f}"
            d.text((x, y), text, font=serif, fill=(20, 20, 20))
            boxes[(i, m)] = tuple(int(v) for v in d.textbbox((x, y), text, font=serif))
            d.line((x - 40, y - 20, x - 40, y + 90), fill=(60, 60, 60), width=3)
    return im, boxes


def _exam(path: Path, root: Path, kind: InputKind, boxes, page: int) -> Exam:
    regions = []
    for i, (_, reg, vals) in enumerate(ROWS):
        sources = {m: ValueSource(0.9, Location(page=page, box=boxes[(i, m)]), f"{v}") for m, v in vals.items()}
        regions.append(RegionResult(Region(reg), Method.OCR, side=Side.LEFT, sources=sources, **vals))
    return Exam(source=Source(str(path.relative_to(root)), hashlib.sha256(path.read_bytes()).hexdigest(), kind),
                regions=tuple(regions))


def _check(exam: Exam, root: Path) -> None:
    crops = Cropper([root]).exam_crops(exam)
    for i, (_, _, vals) in enumerate(ROWS):
        strip = crops[i]
        assert isinstance(strip, Strip), strip
        img = _image(strip.uri)
        for m, v in vals.items():
            x, y, w, h, *_ = strip.windows[m]
            assert _shows(img.crop((x, y, x + w, y + h)), v) is True, (i, m)


def test_sideways_phone_jpeg_with_exif_orientation(tmp_path):
    upright, boxes = _page(2480, 3508, 900)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = tmp_path / "photo.jpg"
    stored.save(path, "JPEG", quality=88, exif=exif.tobytes())
    _check(_exam(path, tmp_path, InputKind.IMAGE, boxes, page=1), tmp_path)


def test_table_on_page_two_of_a_tiff(tmp_path):
    cover = Image.new("RGB", (1700, 2200), "white")
    table, boxes = _page(2550, 3300, 1200)
    path = tmp_path / "scan.tif"
    cover.save(path, save_all=True, append_images=[table], compression="tiff_lzw")
    _check(_exam(path, tmp_path, InputKind.IMAGE, boxes, page=2), tmp_path)


def test_wrong_page_number_is_said(tmp_path):
    table, boxes = _page(1200, 1600, 300)
    path = tmp_path / "one.png"
    table.save(path)
    crops = Cropper([tmp_path]).exam_crops(_exam(path, tmp_path, InputKind.IMAGE, boxes, page=2))
    assert {c.reason for d in crops.values() for c in d.values()} == {
        "the image has 1 page(s), the value is on page 2"}
