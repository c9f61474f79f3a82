"""Printed DXA report pages rendered from a :class:`~bmdkit.samples.truth.TruthExam`.

A page is first built as a list of drawing instructions in PDF points
(1/72 inch, origin top left, text placed on its baseline). The same list is
then rasterized here with Pillow (:func:`render_report`) or written as a text
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
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bmdkit import reference
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.samples.truth import TruthExam

LAYOUTS: tuple[str, ...] = ("hologic", "ge_lunar", "chinese", "norland")
PAPER = {"letter": (612.0, 792.0), "a4": (595.0, 842.0)}

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


# -- drawing instructions -------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """What a drawn table value is: truth ``region``/``side`` and ``measure``, as printed.

    ``in_truth`` is False for values the page shows that the truth exam does
    not hold (combinations such as L2-L3, a left-right difference, PR/AM %).
    Header fields use ``region=None`` and a ``measure`` such as ``exam_date``.
    """

    region: str | None
    side: str | None
    measure: str
    text: str
    label: str = ""
    in_truth: bool = True


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    font: str
    size: float
    bold: bool = False
    align: str = "left"  # left | right | center
    gray: int = 0
    cell: Cell | None = None


@dataclass(frozen=True)
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    width: float = 0.5
    gray: int = 0


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    fill: int | tuple[int, int, int] | None = None  # grey level or RGB
    stroke: int | None = 0
    width: float = 0.5


@dataclass(frozen=True)
class Poly:
    points: tuple[tuple[float, float], ...]
    width: float = 1.0
    gray: int = 0


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    gray: int = 0


@dataclass(frozen=True)
class Picture:
    x0: float
    y0: float
    x1: float
    y1: float
    pixels: np.ndarray = field(compare=False)  # uint8 grey, rows x cols


Op = Text | Line | Rect | Poly | Dot | Picture


@dataclass
class Page:
    """One report page as drawing instructions, in points from the top-left corner."""

    width: float
    height: float
    ops: list[Op] = field(default_factory=list)
    content_bottom: float = 0.0  # lowest point drawn above the footer

    def cells(self) -> list[tuple[Cell, Text]]:
        return [(op.cell, op) for op in self.ops if isinstance(op, Text) and op.cell is not None]


@dataclass(frozen=True)
class Style:
    """The look of one page; chosen per sample by :func:`choose_style`, overridable."""

    font: str = "dejavu-sans"
    cjk_font: str = "noto-sans-cjk"
    size: float = 8.5
    ruled: bool = True
    minus: str = "-"
    show_z: bool = True
    detail: bool = False  # GE: add BMC and area columns
    paper: str = "letter"
    date_format: str = "%m/%d/%Y"
    excluded_mode: str = "asterisk"  # asterisk | omit | grey
    total_label: str = "label"  # hologic: "label" (L1-L4) or "Total"
    hip_total_zh: str = "全髋"
    column_order: int = 0  # chinese: 0 = area, BMC, BMD, T, Z; 1 = BMD, T, Z, BMC, area
    color: bool = False  # colour reference bands (colour printer) or greys
    seed: int = 0


def _seed(truth: TruthExam, layout: str, lang: str) -> int:
    return int(hashlib.sha256(f"{truth.sample_id}|{layout}|{lang}".encode()).hexdigest()[:12], 16)


def choose_style(truth: TruthExam, layout: str, lang: str = "en") -> Style:
    """A deterministic, varied style for this sample and layout."""
    seed = _seed(truth, layout, lang)
    r = random.Random(seed)
    zh = layout == "chinese" or lang == "zh"
    font = r.choice(LATIN_FONTS)
    date_formats = ["%Y年%-m月%-d日", "%Y-%m-%d", "%Y/%m/%d"] if zh else \
        ["%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%b-%Y", "%B %d, %Y"]
    return Style(
        font=font,
        cjk_font=r.choice(CJK_FONTS),
        size=r.choice((8.0, 8.5, 9.0, 9.5, 10.0)),
        ruled=layout in ("hologic", "chinese", "norland") and r.random() < 0.7,
        minus=r.choice(("-", "\u2212")),
        show_z=r.random() > 0.15,
        detail=layout == "ge_lunar" and r.random() < 0.5,
        paper=r.choice(("letter", "a4")),
        date_format=r.choice(date_formats),
        excluded_mode=r.choice(("asterisk", "omit", "grey")),
        total_label=r.choice(("label", "Total")),
        hip_total_zh=r.choice(("全髋", "髋部总体", "总髋")),
        column_order=r.choice((0, 0, 1)),
        color=r.random() < 0.4,
        seed=seed,
    )


# -- number formatting ------------------------------------------------------------
def fmt(value: float | None, decimals: int, minus: str = "-", blank: str = "") -> str:
    """A value as the vendor prints it; never a negative zero."""
    if value is None:
        return blank
    s = f"{value:.{decimals}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s.replace("-", minus)


def fmt_date(iso: str, pattern: str) -> str:
    d = dt.date.fromisoformat(iso)
    if "%-" in pattern:  # portable no-padding for the Chinese form
        return pattern.replace("%Y", str(d.year)).replace("%-m", str(d.month)).replace("%-d", str(d.day))
    return d.strftime(pattern)


# -- fonts ------------------------------------------------------------------------
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


# -- rasterizing --------------------------------------------------------------------
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


# -- public entry points ----------------------------------------------------------------
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


def who_category(t_scores: Sequence[float | None]) -> str:
    """'osteoporosis' | 'low_bone_mass' | 'normal' from the lowest T-score (WHO, thresholds cited)."""
    ts = [t for t in t_scores if t is not None]
    if not ts:
        return "unknown"
    low = min(ts)
    if low <= reference.constant("who_osteoporosis_t"):
        return "osteoporosis"
    if low < reference.constant("who_low_bone_mass_t"):
        return "low_bone_mass"
    return "normal"


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


# == page building =========================================================================
def _is_cjk(text: str) -> bool:
    return any(ord(c) >= 0x2E80 for c in text)


@dataclass
class _Col:
    header: str
    width: float
    align: str = "right"


@dataclass
class _Row:
    cells: list[tuple[str, Cell | None]]
    bold: bool = False
    gray: int = 0
    span: bool = False  # one label over the whole row (a group header)


class _Builder:
    """Collects drawing instructions with the page's style."""

    def __init__(self, st: Style, lang: str) -> None:
        self.st = st
        self.lang = lang
        self.page = Page(*PAPER[st.paper])
        self.m = 40.0  # margin
        self.rng = random.Random(st.seed)

    @property
    def right(self) -> float:
        return self.page.width - self.m

    def font(self, text: str, font: str | None = None) -> str:
        return font or (self.st.cjk_font if _is_cjk(text) else self.st.font)

    def tr(self, text: str) -> str:
        """The localized wording of a printed English string (vendor software set to Chinese)."""
        if self.lang != "zh" or not text:
            return text
        if text in _ZH_WORDS:
            return _ZH_WORDS[text]
        if " " in text and all(w in _ZH_WORDS for w in text.split(" ")):
            return " ".join(_ZH_WORDS[w] for w in text.split(" "))
        return text

    def text(self, x: float, y: float, text: str, size: float | None = None, bold: bool = False,
             align: str = "left", gray: int = 0, cell: Cell | None = None, font: str | None = None) -> None:
        shown = self.tr(text)
        if cell is not None and shown != text:
            cell = replace(cell, text=shown if cell.text == text else cell.text,
                           label=shown if cell.label == text else cell.label)
        if shown:
            self.page.ops.append(Text(x, y, shown, self.font(shown, font), size or self.st.size, bold,
                                      align, gray, cell))

    def width(self, text: str, size: float | None = None, bold: bool = False) -> float:
        shown = self.tr(text)
        return text_width(shown, self.font(shown), size or self.st.size, bold)

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.5, gray: int = 0) -> None:
        self.page.ops.append(Line(x0, y0, x1, y1, width, gray))

    def fields(self, x: float, y: float, pairs: list[tuple[str, str, Cell | None]],
               size: float | None = None) -> float:
        """``label value`` lines; returns the y below them."""
        size = size or self.st.size
        lead = size * 1.45
        for label, value, cell in pairs:
            self.text(x, y, label, size, bold=True)
            self.text(x + self.width(label, size, True) + self.width(" ", size, True), y, value, size,
                      cell=replace(cell, text=value) if cell else None)
            y += lead
        return y

    def table(self, x: float, y: float, cols: list[_Col], rows: list[_Row], ruled: bool,
              size: float | None = None) -> float:
        """A results table with its top edge at ``y``; returns its bottom edge."""
        size = size or self.st.size
        h = size * 1.75
        pad = size * 0.5
        width = sum(c.width for c in cols)
        n_head = max(self.tr(c.header).count("\n") + 1 for c in cols)
        head_h = h + (n_head - 1) * size * 1.15
        edges = [x]
        for c in cols:
            edges.append(edges[-1] + c.width)
        for i, c in enumerate(cols):
            for j, part in enumerate(self.tr(c.header).split("\n")):
                yy = y + size * 1.25 + j * size * 1.15
                if c.align == "left":
                    self.text(edges[i] + pad, yy, part, size, bold=True)
                else:
                    self.text((edges[i] + edges[i + 1]) / 2, yy, part, size, bold=True, align="center")
        top = y
        y += head_h
        self.line(x, y, x + width, y, 0.8 if ruled else 0.6)
        for row in rows:
            base = y + h * 0.68
            if row.span:
                self.text(edges[0] + pad, base, row.cells[0][0], size, bold=True, gray=row.gray)
            else:
                for i, (txt, cell) in enumerate(row.cells):
                    c = cols[i]
                    if c.align == "left":
                        self.text(edges[i] + pad, base, txt, size, row.bold, gray=row.gray, cell=cell)
                    else:
                        self.text(edges[i + 1] - pad * 1.6, base, txt, size, row.bold, "right", row.gray, cell)
            y += h
            if ruled:
                self.line(x, y, x + width, y, 0.4)
        if ruled:
            self.page.ops.append(Rect(x, top, x + width, y, None, 0, 0.8))
            for e in edges[1:-1]:
                self.line(e, top, e, y, 0.4)
        else:
            self.line(x, y, x + width, y, 0.6)
        return y


def _cell(b: _Builder, region: str | None, side: str | None, measure: str, text: str, label: str = "",
          in_truth: bool = True) -> tuple[str, Cell | None]:
    if text.strip("-\u2212") == "":  # blank or a dash: nothing computed, nothing to tag
        return text, None
    return text, Cell(region, side, measure, text, label, in_truth)


def _ref(pop: str, region: str) -> tuple[float, float] | None:
    from bmdkit.samples.truth import _ref as truth_ref

    try:
        return truth_ref(pop, region)
    except KeyError:
        return None


def _ref_region(region: str) -> str | None:
    if region in ("L1", "L2", "L3", "L4", "L1-L4"):
        return "L1-L4"
    return region if region in ("femoral_neck", "total_hip") else None


def _percents(truth: TruthExam, region: str, bmd: float | None) -> tuple[int | None, int | None]:
    """(% of young-adult mean, % of age-matched mean) as vendors print beside T and Z."""
    from bmdkit.samples.truth import _z_shift

    rr = _ref_region(region)
    ref = _ref(truth.reference, rr) if rr else None
    if ref is None or bmd is None:
        return None, None
    mean = ref[0]
    return round(100 * bmd / mean), round(100 * bmd / (mean * (1 - _z_shift(truth.patient.age))))


def _name_en(truth: TruthExam) -> str:
    fam, _, given = truth.patient.name_pinyin.partition("^")
    return f"{fam}, {given}"


def _main_ts(truth: TruthExam) -> list[float | None]:
    return [r.t_score for r in truth.contract_regions() if r.region in ("L1-L4", "femoral_neck", "total_hip")]


_SCAN_TITLE = {"spine": "AP Spine", "hip_left": "Left Hip", "hip_right": "Right Hip", "hip_dual": "Dual Hip"}
_WHO_EN = {"normal": "Normal", "low_bone_mass": "Osteopenia", "osteoporosis": "Osteoporosis", "unknown": ""}
_WHO_ZH = {"normal": "正常", "low_bone_mass": "骨量减少", "osteoporosis": "骨质疏松", "unknown": ""}
# wording of vendor software set to Chinese (terms from shared/domain/reports.md where it names them)
_ZH_WORDS = {
    "Name:": "姓名:", "Patient ID:": "患者ID:", "DOB:": "出生日期:", "Sex:": "性别:", "Height:": "身高:",
    "Weight:": "体重:", "Age:": "年龄:", "Scan Date:": "检查日期:", "Scanner:": "设备:", "Software:": "软件:",
    "Referring Physician:": "申请医生:", "Female": "女", "Male": "男", "DXA Results Summary:": "DXA结果摘要:",
    "WHO Classification:": "WHO分类:", "Fracture Risk:": "骨折风险:", "Normal": "正常",
    "Osteopenia": "骨量减少", "Osteoporosis": "骨质疏松", "Not Increased": "未增加", "Increased": "增加",
    "High": "高", "Physician's Comment:": "医生意见:", "Page 1 of 1": "第1页 共1页", "Region": "部位",
    "Area\n(cm²)": "面积\n(cm²)", "BMC\n(g)": "骨矿含量\n(g)", "BMD\n(g/cm²)": "骨密度\n(g/cm²)",
    "T -\nscore": "\nT值", "Z -\nscore": "\nZ值", "\nT-score": "\nT值", "\nZ-score": "\nZ值",
    "T-Score": "T值", "Z-Score": "Z值", "Young-Adult\n(%)": "青年人\n(%)", "Age-Matched\n(%)": "同龄人\n(%)",
    "Neck": "股骨颈", "Troch": "大转子", "Inter": "转子间", "Total": "总计", "Ward's": "Ward三角", "Wards": "Ward三角",
    "Left": "左", "Right": "右", "Mean": "平均", "|Diff.|": "|差值|", "Diff.": "差值",
    "Femoral Neck": "股骨颈", "Trochanter": "大转子", "Intertroch.": "转子间", "Total Hip": "全髋",
    "AP Spine": "腰椎正位", "Left Hip": "左髋", "Right Hip": "右髋", "Dual Hip": "双髋",
    "AP Spine  Bone Density": "腰椎正位 骨密度", "Left Hip  Bone Density": "左髋 骨密度",
    "Right Hip  Bone Density": "右髋 骨密度", "Dual Hip  Bone Density": "双髋 骨密度",
    "AP Spine Bone Density": "腰椎正位 骨密度", "Left Femur Bone Density": "左股骨 骨密度",
    "Right Femur Bone Density": "右股骨 骨密度", "DualFemur Bone Density": "双股骨 骨密度",
}
_HIP_ORDER = ("femoral_neck", "trochanter", "intertrochanter", "total_hip", "wards")


# -- pictures -------------------------------------------------------------------------------
def scan_picture(kind: str, seed: int, w: int = 260, h: int = 320) -> np.ndarray:
    """A grey synthetic DXA scan image (spine or proximal femur) with ROI lines, uint8."""
    import cv2

    g = np.random.default_rng(seed)
    img: np.ndarray = np.full((h, w), 18.0, np.float32)
    cx = w / 2 + g.uniform(-10, 10)
    img[:, int(cx - w * 0.32):int(cx + w * 0.32)] += 25  # soft tissue
    if kind == "spine":
        top = h * 0.06
        vh = h * 0.19
        for i in range(5):
            y0 = top + i * vh
            bw = w * (0.30 + 0.015 * i) * g.uniform(0.95, 1.05)
            cv2.rectangle(img, (int(cx - bw / 2), int(y0 + 5)), (int(cx + bw / 2), int(y0 + vh - 6)),
                          float(g.uniform(150, 185)), -1)
            for s in (-1, 1):
                cv2.ellipse(img, (int(cx + s * bw * 0.28), int(y0 + vh * 0.35)), (int(bw * 0.1), int(vh * 0.14)),
                            0, 0, 360, float(g.uniform(190, 215)), -1)
        img = cv2.GaussianBlur(img, (0, 0), 2.2)
        img += g.normal(0, 9, img.shape).astype(np.float32)
        img = np.clip(img, 0, 255).astype(np.uint8)
        for i in range(5):
            y = int(top + i * vh + 2)
            cv2.line(img, (int(cx - w * 0.3), y), (int(cx + w * 0.3), y), 255, 1)
            if i < 4:
                cv2.putText(img, f"L{i + 1}", (int(cx + w * 0.31), int(y + vh / 2)), cv2.FONT_HERSHEY_SIMPLEX,
                            0.45, 255, 1, cv2.LINE_AA)
    else:
        flip = -1 if kind == "hip_left" else 1
        shaft_x = cx + flip * w * 0.12
        cv2.rectangle(img, (int(shaft_x - w * 0.11), int(h * 0.5)), (int(shaft_x + w * 0.11), h), 165.0, -1)
        neck_end = (int(cx - flip * w * 0.22), int(h * 0.28))
        cv2.line(img, (int(shaft_x), int(h * 0.45)), neck_end, 160.0, int(w * 0.16))
        cv2.circle(img, neck_end, int(w * 0.14), 195.0, -1)
        cv2.ellipse(img, (int(shaft_x + flip * w * 0.1), int(h * 0.42)), (int(w * 0.12), int(h * 0.12)),
                    0, 0, 360, 150.0, -1)
        img = cv2.GaussianBlur(img, (0, 0), 2.5)
        img += g.normal(0, 9, img.shape).astype(np.float32)
        box = cv2.boxPoints(((cx - flip * w * 0.06, h * 0.36), (w * 0.12, w * 0.2), float(flip * 50)))
        cv2.polylines(img, [box.astype(np.int32)], True, 255.0, 1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _graph(b: _Builder, x: float, y: float, w: float, h: float, truth: TruthExam, region: str,
           bmd: float | None, zh: bool) -> None:
    """Reference curve (BMD against age) with WHO bands and the patient's point."""
    from bmdkit.samples.truth import _z_shift

    ref = _ref(truth.reference, region)
    if ref is None or bmd is None:
        return
    mean, sd = ref
    lo = np.floor((mean - 4 * sd) * 10) / 10
    hi = np.ceil((mean + 2 * sd) * 10) / 10
    a0, a1 = 20, 100
    size = b.st.size * 0.85

    def px(age: float, v: float) -> tuple[float, float]:
        return x + (age - a0) / (a1 - a0) * w, y + h - (v - lo) / (hi - lo) * h

    t_osteo = reference.constant("who_osteoporosis_t")
    t_low = reference.constant("who_low_bone_mass_t")
    y_osteo = px(a0, mean + t_osteo * sd)[1]
    y_low = px(a0, mean + t_low * sd)[1]
    colors = ((244, 190, 180), (250, 236, 170), (205, 232, 200)) if b.st.color else (200, 228, None)
    b.page.ops.append(Rect(x, y_osteo, x + w, y + h, colors[0], None))
    b.page.ops.append(Rect(x, y_low, x + w, y_osteo, colors[1], None))
    if colors[2] is not None:
        b.page.ops.append(Rect(x, y, x + w, y_low, colors[2], None))
    b.page.ops.append(Rect(x, y, x + w, y + h, None, 0, 0.7))
    curve = tuple(px(a, mean * (1 - _z_shift(a))) for a in range(a0, a1 + 1, 2))
    b.page.ops.append(Poly(curve, 1.2, 40))
    for a in range(a0, a1 + 1, 10):
        xx, yy = px(a, lo)
        b.line(xx, yy, xx, yy + 3, 0.5)
        b.text(xx, yy + size + 3, str(a), size, align="center")
    step = 0.1 if hi - lo <= 0.9 else 0.2
    v = lo
    while v <= hi + 1e-9:
        xx, yy = px(a0, v)
        b.line(xx - 3, yy, xx, yy, 0.5)
        b.text(xx - 4, yy + size * 0.35, f"{v:.1f}", size, align="right")
        v += step
    for t in range(-4, 3):
        xx, yy = px(a1, mean + t * sd)
        if y <= yy <= y + h:
            b.line(xx, yy, xx + 3, yy, 0.5)
            b.text(xx + 5, yy + size * 0.35, fmt(float(t), 0, b.st.minus), size)
    b.text(x + w / 2, y + h + 2 * size + 6, "年龄" if zh else "Age", size, align="center")
    b.text(x - 4, y - size - 4, "骨密度" if zh else "BMD", size, align="right")
    b.text(x + w + 4, y - size - 4, "T值" if zh else "T-score", size)
    cx, cy = px(min(truth.patient.age, a1), bmd)
    b.page.ops.append(Dot(cx, cy, 2.6, 0))
    b.line(cx - 5, cy, cx + 5, cy, 0.6)
    b.line(cx, cy - 5, cx, cy + 5, 0.6)


def _main_region(truth: TruthExam) -> tuple[str, float | None]:
    want = "L1-L4" if truth.scan_type == "spine" else "total_hip"
    for r in truth.regions:
        if r.region == want and r.side in (None, "mean", "left", "right"):
            best = r
            if r.side in (None, "mean"):
                return want, r.bmd
    return want, best.bmd


def _figures(b: _Builder, truth: TruthExam, y: float, zh: bool) -> float:
    """Scan picture on the left, reference graph on the right; returns the y below them."""
    kind = "spine" if truth.scan_type == "spine" else ("hip_left" if truth.scan_type != "hip_right" else "hip_right")
    pic_w, pic_h = 150.0, 185.0
    b.page.ops.append(Picture(b.m, y, b.m + pic_w, y + pic_h, scan_picture(kind, b.st.seed % 2**32)))
    region, bmd = _main_region(truth)
    gx = b.m + pic_w + 60
    _graph(b, gx, y + 12, b.right - gx - 40, pic_h - 40, truth, region, bmd, zh)
    return y + pic_h + 14


# -- header and footer ------------------------------------------------------------------------
def _op_bottom(op: Op) -> float:
    if isinstance(op, Text):
        return op.y + op.size * 0.25
    if isinstance(op, (Line, Rect, Picture)):
        return max(op.y0, op.y1)
    if isinstance(op, Dot):
        return op.y + op.r
    return max(p[1] for p in op.points)


def _header_en(b: _Builder, truth: TruthExam, y: float, vendor_line: str) -> float:
    p = truth.patient
    st = b.st
    b.text(b.page.width / 2, y, truth.institution, st.size + 4, bold=True, align="center")
    y += st.size * 2.6
    date = fmt_date(truth.exam_date, st.date_format)
    col = (b.right - b.m) / 3
    left = [("Name:", _name_en(truth), None),
            ("Patient ID:", p.patient_id, Cell(None, None, "patient_id", "")),
            ("DOB:", fmt_date(p.birth_date, st.date_format), Cell(None, None, "birth_date", ""))]
    mid = [("Sex:", "Female" if p.sex == "F" else "Male", Cell(None, None, "sex", "")),
           ("Height:", f"{p.height_cm:.1f} cm", None), ("Weight:", f"{p.weight_kg:.1f} kg", None),
           ("Age:", str(p.age), None)]
    right = [("Scan Date:", date, Cell(None, None, "exam_date", "")),
             ("Scanner:", f"{truth.scanner_model} (S/N {truth.scanner_serial})",
              Cell(None, None, "scanner_model", "")),
             (vendor_line, truth.scanner_software, Cell(None, None, "scanner_software", "")),
             ("Referring Physician:", "", None)]
    widest = max(b.width(k, st.size, True) + b.width(" " + v, st.size) for k, v, _ in right)
    xs = (b.m, b.m + col, min(b.m + 2 * col, b.right - widest))
    ys = [b.fields(xs[i], y, rows, st.size) for i, rows in enumerate((left, mid, right))]
    y = max(ys)
    b.line(b.m, y - st.size * 0.6, b.right, y - st.size * 0.6, 0.8)
    return y + st.size


def _who_lines_en(b: _Builder, truth: TruthExam, y: float, fracture: bool) -> float:
    cat = who_category(_main_ts(truth))
    b.text(b.m, y, "WHO Classification:", bold=True)
    b.text(b.m + b.width("WHO Classification:", bold=True) + b.width(" "), y, _WHO_EN[cat],
           cell=Cell(None, None, "who_class", _WHO_EN[cat]))
    y += b.st.size * 1.6
    if fracture:
        risk = {"normal": "Not Increased", "low_bone_mass": "Increased", "osteoporosis": "High"}.get(cat, "")
        b.text(b.m, y, "Fracture Risk:", bold=True)
        b.text(b.m + b.width("Fracture Risk:", bold=True) + b.width(" "), y, risk)
        y += b.st.size * 1.6
    m = b.st.minus
    lo = fmt(reference.constant("who_low_bone_mass_t"), 1, m)
    os_ = fmt(reference.constant("who_osteoporosis_t"), 1, m)
    small = b.st.size * 0.85
    for line in ("World Health Organization (WHO) criteria for post-menopausal, Caucasian Women:",
                 f"Normal: T-score at or above {lo} SD",
                 f"Osteopenia: T-score between {lo} and {os_} SD",
                 f"Osteoporosis: T-score at or below {os_} SD"):
        b.text(b.m, y, line, small)
        y += small * 1.4
    return y


def _footer(b: _Builder, left: str, right: str) -> None:
    b.page.content_bottom = max(_op_bottom(op) for op in b.page.ops)
    y = b.page.height - 30
    b.line(b.m, y - 12, b.right, y - 12, 0.5)
    b.text(b.m, y, left, b.st.size * 0.8)
    b.text(b.right, y, right, b.st.size * 0.8, align="right")


# -- Hologic APEX ------------------------------------------------------------------------------
_HOLOGIC_LABEL = {"femoral_neck": "Neck", "trochanter": "Troch", "intertrochanter": "Inter",
                  "total_hip": "Total", "wards": "Ward's"}


def _hologic_values(b: _Builder, truth: TruthExam, r: object, label: str) -> list[tuple[str, Cell | None]]:
    from bmdkit.samples.truth import TruthRegion

    assert isinstance(r, TruthRegion)
    m = b.st.minus
    pr, am = _percents(truth, r.region, r.bmd)
    cells = [(label, Cell(r.region, r.side, "label", label)),
             _cell(b, r.region, r.side, "area", fmt(r.area, 2), label),
             _cell(b, r.region, r.side, "bmc", fmt(r.bmc, 2), label),
             _cell(b, r.region, r.side, "bmd", fmt(r.bmd, 3), label),
             _cell(b, r.region, r.side, "t_score", fmt(r.t_score, 1, m), label),
             _cell(b, r.region, r.side, "pr_pct", fmt(pr, 0), label, False)]
    if b.st.show_z:
        cells += [_cell(b, r.region, r.side, "z_score", fmt(r.z_score, 1, m), label),
                  _cell(b, r.region, r.side, "am_pct", fmt(am, 0), label, False)]
    return cells


def _build_hologic(truth: TruthExam, lang: str, st: Style) -> Page:
    b = _Builder(st, lang)
    y = _header_en(b, truth, 52, "Software:")
    title = _SCAN_TITLE[truth.scan_type]
    b.text(b.m, y, f"{title}  Bone Density", st.size + 3, bold=True)
    y = _figures(b, truth, y + 10, lang == "zh")
    b.text(b.m, y, "DXA Results Summary:", st.size + 1, bold=True)
    y += 6
    s = st.size
    cols = [_Col("Region", s * 7, "left"), _Col("Area\n(cm²)", s * 5.2), _Col("BMC\n(g)", s * 5.2),
            _Col("BMD\n(g/cm²)", s * 5.6), _Col("T -\nscore", s * 4.6), _Col("PR\n(%)", s * 4)]
    if st.show_z:
        cols += [_Col("Z -\nscore", s * 4.6), _Col("AM\n(%)", s * 4)]
    rows: list[_Row] = []
    footnote = ""
    if truth.scan_type == "spine":
        for r in truth.regions:
            if r.region == "L1-L4":
                label = "Total" if (st.total_label == "Total" and not truth.excluded) else r.label
                rows.append(_Row(_hologic_values(b, truth, r, label), bold=True))
            elif r.region in truth.excluded:
                if st.excluded_mode == "omit":
                    continue
                grey = st.excluded_mode == "grey"
                rows.append(_Row(_hologic_values(b, truth, r, r.label + ("" if grey else "*")),
                                 gray=150 if grey else 0))
                footnote = "" if grey else "* Excluded from total"
            else:
                rows.append(_Row(_hologic_values(b, truth, r, r.label)))
    elif truth.scan_type == "hip_dual":
        for reg in _HIP_ORDER:
            rows.append(_Row([(_HOLOGIC_LABEL[reg], None)], span=True))
            by_side = {r.side: r for r in truth.regions if r.region == reg}
            for side in ("left", "right", "mean"):
                if side in by_side:
                    rows.append(_Row(_hologic_values(b, truth, by_side[side], side.capitalize())))
            if reg in ("femoral_neck", "total_hip"):
                d = abs((by_side["left"].bmd or 0) - (by_side["right"].bmd or 0))
                diff = [("|Diff.|", None), ("", None), ("", None),
                        _cell(b, reg, None, "bmd_diff", fmt(d, 3), "|Diff.|", False)]
                rows.append(_Row(diff + [("", None)] * (len(cols) - 4)))
    else:
        by_reg = {r.region: r for r in truth.regions}
        for reg in _HIP_ORDER:
            rows.append(_Row(_hologic_values(b, truth, by_reg[reg], _HOLOGIC_LABEL[reg]),
                             bold=reg == "total_hip"))
    y = b.table(b.m, y, cols, rows, st.ruled) + s * 1.6
    if footnote:
        b.text(b.m, y, footnote, s * 0.85)
        y += s * 1.4
    acf, bcf = b.rng.randint(20, 60), b.rng.randint(10, 50)
    th = f", TH = {b.rng.uniform(4.5, 7.5):.3f}" if truth.scan_type == "spine" and b.rng.random() < 0.5 else ""
    b.text(b.m, y, f"Total BMD CV 1.0%, ACF = 1.0{acf:02d}, BCF = 1.0{bcf:02d}{th}", s * 0.9)
    y += s * 2.4
    y = _who_lines_en(b, truth, y, fracture=True)
    b.text(b.m, y + s * 1.5, "Physician's Comment:", s, bold=True)
    _footer(b, f"HOLOGIC  {truth.scanner_model}   APEX {truth.scanner_software}", "Page 1 of 1")
    return b.page


# -- GE Lunar enCORE ------------------------------------------------------------------------------
def _ge_row(b: _Builder, truth: TruthExam, region: str | None, side: str | None, label: str,
            bmd: float | None, bmc: float | None, area: float | None, t: float | None, z: float | None,
            in_truth: bool, pct_region: str) -> _Row:
    m = b.st.minus
    yam, am = _percents(truth, pct_region, bmd)
    cells = [(label, Cell(region, side, "label", label, label, in_truth)),
             _cell(b, region, side, "bmd", fmt(bmd, 3), label, in_truth),
             _cell(b, region, side, "ya_pct", fmt(yam, 0), label, False),
             _cell(b, region, side, "t_score", fmt(t, 1, m, "-"), label, in_truth)]
    if b.st.show_z:
        cells += [_cell(b, region, side, "am_pct", fmt(am, 0), label, False),
                  _cell(b, region, side, "z_score", fmt(z, 1, m, "-"), label, in_truth)]
    if b.st.detail:
        cells += [_cell(b, region, side, "bmc", fmt(bmc, 2), label, in_truth),
                  _cell(b, region, side, "area", fmt(area, 2), label, in_truth)]
    return _Row(cells)


def _spine_combos(truth: TruthExam) -> list[tuple[str, list[str]]]:
    """Contiguous runs of included vertebrae as enCORE lists them (L1-L2 ... L3-L4)."""
    inc = [r.region for r in truth.regions if r.region in ("L1", "L2", "L3", "L4") and r.region not in truth.excluded]
    levels = ["L1", "L2", "L3", "L4"]
    out = []
    for i in range(4):
        for j in range(i + 1, 4):
            run = levels[i:j + 1]
            if all(v in inc for v in run):
                out.append((f"{run[0]}-{run[-1]}", run))
    return out


def _ge_trend(b: _Builder, truth: TruthExam, y: float) -> float:
    """enCORE's "Trend" table: this exam and earlier ones on the same page (distractor values).

    Earlier BMDs are made up for the page (a loss of up to ~2%/year going forward), tagged
    ``in_truth=False``; only the current row repeats the truth's main BMD.
    """
    region, bmd = _main_region(truth)
    if bmd is None:
        return y
    s = b.st.size
    label = {"L1-L4": next((r.label for r in truth.regions if r.region == "L1-L4"), "L1-L4"),
             "total_hip": "Total"}[region]
    b.text(b.m, y, f"Trend: {label}", s, bold=True)
    cols = [_Col("Measured\nDate", s * 8, "left"), _Col("Age\n(years)", s * 5), _Col("BMD\n(g/cm²)", s * 5.5),
            _Col("Change vs Previous\n(g/cm²)", s * 10), _Col("\n(%)", s * 4)]
    d = dt.date.fromisoformat(truth.exam_date)
    visits = [(d, bmd)]
    for _ in range(b.rng.randint(1, 2)):
        prev_d = visits[-1][0] - dt.timedelta(days=b.rng.randint(330, 800))
        visits.append((prev_d, round(visits[-1][1] * (1 + b.rng.uniform(-0.005, 0.04)), 3)))
    rows = []
    for i, (when, v) in enumerate(visits):
        age = truth.patient.age - (d - when).days / 365.25
        prev = visits[i + 1][1] if i + 1 < len(visits) else None
        ch = None if prev is None else v - prev
        pct = None if prev is None else 100 * (v - prev) / prev
        rows.append(_Row([(fmt_date(when.isoformat(), b.st.date_format), None), (f"{age:.1f}", None),
                          _cell(b, region, None, "trend_bmd", fmt(v, 3), label, False),
                          (fmt(ch, 3, b.st.minus), None), (fmt(pct, 1, b.st.minus), None)]))
    return b.table(b.m, y + 4, cols, rows, False) + s * 1.6


def _build_ge(truth: TruthExam, lang: str, st: Style) -> Page:
    from bmdkit.samples.truth import _z_shift, t_score

    b = _Builder(st, lang)
    y = _header_en(b, truth, 52, "enCORE:")
    title = {"spine": "AP Spine Bone Density", "hip_left": "Left Femur Bone Density",
             "hip_right": "Right Femur Bone Density", "hip_dual": "DualFemur Bone Density"}[truth.scan_type]
    b.text(b.m, y, title, st.size + 3, bold=True)
    region, _ = _main_region(truth)
    spine_total = next((r.label for r in truth.regions if r.region == "L1-L4"), "L1-L4")
    ref_label = spine_total if region == "L1-L4" else "Total"
    b.text(b.m + 210, y, f"Reference: {ref_label} (BMD)", st.size)
    y = _figures(b, truth, y + 10, lang == "zh")
    s = st.size
    cols = [_Col("Region", s * 7.5, "left"), _Col("BMD\n(g/cm²)", s * 5.5), _Col("Young-Adult\n(%)", s * 6.5),
            _Col("\nT-score", s * 5)]
    if st.show_z:
        cols += [_Col("Age-Matched\n(%)", s * 6.5), _Col("\nZ-score", s * 5)]
    if st.detail:
        cols += [_Col("BMC\n(g)", s * 5.2), _Col("Area\n(cm²)", s * 5.2)]
    rows: list[_Row] = []
    if truth.scan_type == "spine":
        by = {r.region: r for r in truth.regions}
        for v in ("L1", "L2", "L3", "L4"):
            if v not in truth.excluded:
                r = by[v]
                rows.append(_ge_row(b, truth, v, None, v, r.bmd, r.bmc, r.area, r.t_score, r.z_score, True, v))
        total = by["L1-L4"]
        combos = _spine_combos(truth)
        if total.label not in [c[0] for c in combos]:
            combos.append((total.label, list(total.vertebrae or [])))
        mean_sd = _ref(truth.reference, "L1-L4")
        for label, run in combos:
            if label == total.label:
                rows.append(_ge_row(b, truth, "L1-L4", None, label, total.bmd, total.bmc, total.area,
                                    total.t_score, total.z_score, True, "L1-L4"))
                continue
            area = round(sum(by[v].area or 0 for v in run), 2)
            bmc = round(sum(by[v].bmc or 0 for v in run), 2)
            bmd = round(bmc / area, 3)
            t = t_score(bmd, truth.reference, "L1-L4")
            z = None
            if mean_sd:
                mean, sd = mean_sd
                z = round((bmd - mean * (1 - _z_shift(truth.patient.age))) / sd, 1) + 0.0
            rows.append(_ge_row(b, truth, None, None, label, bmd, bmc, area, t, z, False, "L1-L4"))
    else:
        names = {"femoral_neck": "Neck", "wards": "Wards", "trochanter": "Troch", "total_hip": "Total"}
        for reg in ("femoral_neck", "wards", "trochanter", "total_hip"):
            by_side = {r.side: r for r in truth.regions if r.region == reg}
            for side in ("left", "right", "mean"):
                hit = by_side.get(side)
                if hit is not None:
                    r = hit
                    label = f"{names[reg]} {side.capitalize()}"
                    rows.append(_ge_row(b, truth, reg, side, label, r.bmd, r.bmc, r.area, r.t_score,
                                        r.z_score, True, reg))
            if reg == "total_hip" and "mean" in by_side:
                d = round((by_side["left"].bmd or 0) - (by_side["right"].bmd or 0), 3)
                rows.append(_ge_row(b, truth, None, None, "Total Diff.", d, None, None, None, None, False, "x"))
    y = b.table(b.m, y + 4, cols, rows, False) + s * 1.6
    if b.rng.random() < 0.35:
        y = _ge_trend(b, truth, y + s * 0.5)
    small = s * 0.85
    for line in ("1 - See appendices for precision and accuracy.",
                 f"Demographics: {truth.reference}; matched for Age, Weight, Ethnic.",
                 "2 - Statistically 68% of repeat scans fall within 1SD."):
        b.text(b.m, y, line, small)
        y += small * 1.45
    y = _who_lines_en(b, truth, y + s, fracture=False)
    _footer(b, f"GE Healthcare   {truth.scanner_model}   enCORE {truth.scanner_software}",
            f"Printed: {fmt_date(truth.exam_date, st.date_format)}")
    return b.page


# -- Chinese hospital template ---------------------------------------------------------------------
_ZH_HIP = {"femoral_neck": "股骨颈", "trochanter": "大转子", "intertrochanter": "转子间", "wards": "Ward三角"}
_ZH_SIDE = {"left": "左", "right": "右", "mean": "平均"}
_ZH_SCAN = {"spine": "腰椎正位", "hip_left": "左侧髋关节", "hip_right": "右侧髋关节", "hip_dual": "双侧髋关节"}


def _build_chinese(truth: TruthExam, lang: str, st: Style) -> Page:
    b = _Builder(st, lang)
    p = truth.patient
    s = st.size + 1
    m = st.minus
    b.text(b.page.width / 2, 56, truth.institution, s + 7, bold=True, align="center")
    title = b.rng.choice(("骨密度检测报告", "双能X线骨密度检测报告", "骨密度检测报告单"))
    b.text(b.page.width / 2, 56 + s * 2.4, title, s + 4, bold=True, align="center")
    y = 56 + s * 4.6
    date = fmt_date(truth.exam_date, st.date_format)
    col = (b.right - b.m) / 3
    rows = [[("姓名:", p.name_zh, None), ("性别:", "女" if p.sex == "F" else "男", Cell(None, None, "sex", "")),
             ("年龄:", f"{p.age}岁", Cell(None, None, "age", ""))],
            [("ID号:", p.patient_id, Cell(None, None, "patient_id", "")),
             ("身高:", f"{p.height_cm:.1f}cm", None), ("体重:", f"{p.weight_kg:.1f}kg", None)],
            [("检查日期:", date, Cell(None, None, "exam_date", "")),
             ("检查部位:", _ZH_SCAN[truth.scan_type], None),
             ("设备:", f"{'Hologic' if truth.vendor == 'hologic' else ''} {truth.scanner_model}".strip(),
              Cell(None, None, "scanner_model", ""))]]
    for row in rows:
        for i, pair in enumerate(row):
            b.fields(b.m + i * col, y, [pair], s)
        y += s * 1.7
    b.line(b.m, y - s * 0.7, b.right, y - s * 0.7, 1.0)
    y = _figures(b, truth, y + 6, True)
    # hospital templates differ in column order: measured values first, or the scores first
    heads = {"area": _Col("面积\n(cm²)", s * 5.2), "bmc": _Col("骨矿含量\n(g)", s * 5.6),
             "bmd": _Col("骨密度\n(g/cm²)", s * 5.8), "t_score": _Col(b.rng.choice(("T值", "T-值")), s * 4.4),
             "z_score": _Col("Z值", s * 4.4)}
    order = ["area", "bmc", "bmd", "t_score", "z_score"] if st.column_order == 0 else \
        ["bmd", "t_score", "z_score", "bmc", "area"]
    if not st.show_z:
        order.remove("z_score")
    cols = [_Col("部位", s * 8, "left")] + [heads[k] for k in order]
    trows: list[_Row] = []

    def vals(r: object, label: str) -> list[tuple[str, Cell | None]]:
        from bmdkit.samples.truth import TruthRegion

        assert isinstance(r, TruthRegion)
        text = {"area": fmt(r.area, 2), "bmc": fmt(r.bmc, 2), "bmd": fmt(r.bmd, 3),
                "t_score": fmt(r.t_score, 1, m), "z_score": fmt(r.z_score, 1, m)}
        return [(label, Cell(r.region, r.side, "label", label))] + \
            [_cell(b, r.region, r.side, k, text[k], label) for k in order]

    if truth.scan_type == "spine":
        for r in truth.regions:
            if r.region == "L1-L4":
                trows.append(_Row(vals(r, b.rng.choice(("腰椎 ", "腰椎")) + r.label), bold=True))
            elif r.region in truth.excluded:
                if st.excluded_mode != "omit":
                    trows.append(_Row(vals(r, r.label + ("(排除)" if st.excluded_mode == "grey" else "*")),
                                      gray=150 if st.excluded_mode == "grey" else 0))
            else:
                trows.append(_Row(vals(r, r.label)))
    else:
        for side in ("left", "right", "mean"):
            for r in truth.regions:
                if r.side == side:
                    name = st.hip_total_zh if r.region == "total_hip" else _ZH_HIP[r.region]
                    trows.append(_Row(vals(r, _ZH_SIDE[side] + name)))
    y = b.table(b.m, y, cols, trows, st.ruled, s) + s * 2
    cat = who_category(_main_ts(truth))
    b.text(b.m, y, "诊断意见:", s + 1, bold=True)
    b.text(b.m + b.width("诊断意见: ", s + 1, True), y, _WHO_ZH[cat], s + 1, bold=True,
           cell=Cell(None, None, "who_class", _WHO_ZH[cat]))
    y += s * 1.9
    lo = fmt(reference.constant("who_low_bone_mass_t"), 1, m)
    os_ = fmt(reference.constant("who_osteoporosis_t"), 1, m)
    b.text(b.m, y, f"(依据WHO标准: T值≥{lo}为正常; {os_}<T值<{lo}为骨量减少; T值≤{os_}为骨质疏松)", s * 0.9)
    y += s * 4
    b.text(b.m, y, "检查医师:", s)
    b.text(b.m + col, y, "审核医师:", s)
    b.text(b.m + 2 * col, y, f"报告日期: {date}", s)
    _footer(b, "注: 本报告仅供临床参考", f"{truth.institution} 放射科")
    return b.page


# -- Norland Illuminatus -----------------------------------------------------------------------------
def _build_norland(truth: TruthExam, lang: str, st: Style) -> Page:
    """Norland: BMD to 4 decimals (BMC/area), T/Z to 2, hips in separate tables, right first, no mean."""
    b = _Builder(st, lang)
    y = _header_en(b, truth, 52, "Illuminatus:")
    m = st.minus
    y = _figures(b, truth, y + 4, lang == "zh")
    s = st.size
    cols = [_Col("Region", s * 8, "left"), _Col("BMD\n(g/cm²)", s * 6), _Col("BMC\n(g)", s * 5.5),
            _Col("Area\n(cm²)", s * 5.5), _Col("T-Score", s * 5.2)]
    if st.show_z:
        cols.append(_Col("Z-Score", s * 5.2))

    def vals(r: object, label: str) -> list[tuple[str, Cell | None]]:
        from bmdkit.samples.truth import TruthRegion

        assert isinstance(r, TruthRegion)
        bmd4 = round(r.bmc / r.area, 4) if r.bmc and r.area else r.bmd
        out = [(label, Cell(r.region, r.side, "label", label)),
               _cell(b, r.region, r.side, "bmd", fmt(bmd4, 4), label),
               _cell(b, r.region, r.side, "bmc", fmt(r.bmc, 2), label),
               _cell(b, r.region, r.side, "area", fmt(r.area, 2), label),
               _cell(b, r.region, r.side, "t_score", fmt(r.t_score, 2, m), label)]
        if st.show_z:
            out.append(_cell(b, r.region, r.side, "z_score", fmt(r.z_score, 2, m), label))
        return out

    names = {"femoral_neck": "Femoral Neck", "trochanter": "Trochanter", "intertrochanter": "Intertroch.",
             "wards": "Ward's", "total_hip": "Total Hip"}
    if truth.scan_type == "spine":
        b.text(b.m, y, "AP Spine", s + 2, bold=True)
        rows = []
        for r in truth.regions:
            if r.region == "L1-L4":
                rows.append(_Row(vals(r, r.label.replace("-", " - ")), bold=True))
            elif r.region not in truth.excluded:
                rows.append(_Row(vals(r, r.label)))
        y = b.table(b.m, y + 6, cols, rows, st.ruled) + s * 2
    else:
        for side in ("right", "left"):
            regs = [r for r in truth.regions if r.side == side]
            if not regs:
                continue
            b.text(b.m, y, f"{side.capitalize()} Hip", s + 2, bold=True)
            rows = [_Row(vals(r, names[r.region])) for r in regs]
            y = b.table(b.m, y + 6, cols, rows, st.ruled) + s * 2.2
    _who_lines_en(b, truth, y, fracture=False)
    _footer(b, f"Norland  {truth.scanner_model}  Illuminatus {truth.scanner_software}", "")
    return b.page


_BUILDERS = {"hologic": _build_hologic, "ge_lunar": _build_ge, "chinese": _build_chinese,
             "norland": _build_norland}
