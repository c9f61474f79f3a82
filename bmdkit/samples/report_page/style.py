"""The look of one report page (font, sizes, ruling, date format, paper...), seeded per sample.

Varying the look from a seed derived from the sample id keeps a set of pages
from sharing one appearance while staying deterministic.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from bmdkit.samples.report_page.fonts import CJK_FONTS, LATIN_FONTS
from bmdkit.samples.truth import TruthExam

PAPER = {"letter": (612.0, 792.0), "a4": (595.0, 842.0)}


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
