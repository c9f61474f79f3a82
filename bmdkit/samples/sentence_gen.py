"""DXA reports written as sentences, rendered from a :class:`~bmdkit.samples.truth.TruthExam`.

Hospitals and radiology systems give results in prose ("The BMD measured at
AP Spine L1-L4 is 0.823 g/cm² with a T-score of -3.0"; "左侧股骨颈 BMD 0.861，
T值 -1.3"). This generator writes such reports in English, Chinese and both
(each result sentence followed by its translation, or one mixed sentence),
from several sentence templates per language, in shuffled order, with
distractor sentences whose numbers are not results (history, follow-up
advice, laboratory values, WHO definitions, FRAX percentages, a comparison
with an earlier exam) and, at times, an impression line that repeats the
lowest T-score. Header fields (patient, date, scanner) come first.

Four forms, as sites send them: plain text (``.txt``: UTF-8, UTF-8 with a
BOM, or GB18030; LF or CRLF), a PDF with a text layer (reportlab, through
:func:`bmdkit.samples.pdfs.page_to_pdf`), a flatbed scan and a phone photo
of the printed page (:mod:`bmdkit.samples.degrade`).

Every report states the lumbar spine total, or the femoral neck and total
hip of each side scanned, with BMD, T-score and (mostly) Z-score; at times
the single vertebrae too. :attr:`SentencePage.printed` lists the values the
report states, for scoring. Wording here is synthetic development data,
written from the forms named in issue 22 and ``shared/domain/reports.md``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bmdkit.samples import degrade
from bmdkit.samples.report_page.fonts import CJK_FONTS, LATIN_FONTS, font_has, text_width
from bmdkit.samples.report_page.ops import Page, Text
from bmdkit.samples.report_page.raster import rasterize
from bmdkit.samples.report_page.words import fmt, fmt_date
from bmdkit.samples.truth import TruthExam, TruthGenerator, TruthRegion

FORMS = ("txt", "pdf", "scan", "photo")
LANGS = ("en", "zh", "bi")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")

# --- sentence templates ------------------------------------------------------------------------
# {lab}: printed lumbar levels; {side}/{Side}: English side word; {zs}: Chinese side word;
# {b} BMD, {t} T-score, {z} Z-score as printed; {zc}/{zc_zh}: the Z clause or nothing

SPINE_EN = (
    "The BMD measured at AP Spine {lab} is {b} g/cm² with a T-score of {t}{zc}.",
    "Lumbar spine ({lab}): BMD {b} g/cm², T-score {t}{zc}.",
    "At the lumbar spine {lab}, bone mineral density was {b} g/cm2 (T-score {t}{zc}).",
    "{lab} BMD = {b} g/cm², T = {t}{zc}.",
)
SPINE_ZH = (
    "腰椎{lab}骨密度{b} g/cm²，T值{t}{zc_zh}。",
    "腰椎（{lab}）BMD为{b}克/平方厘米，T值为{t}{zc_zh}。",
    "{lab}椎体骨密度：{b} g/cm2，T值：{t}{zc_zh}。",
)
SPINE_BI = ("腰椎 Lumbar Spine {lab}：骨密度 BMD {b} g/cm²，T值 T-score {t}{zc_bi}。",)
VERTEBRA_EN = ("{lev}: BMD {b} g/cm², T-score {t}.",)
VERTEBRA_ZH = ("{lev}椎体骨密度{b} g/cm²，T值{t}。",)
HIP_EN = {
    "femoral_neck": (
        "Femur Neck {Side} … {b} g/cm² … T-score of {t}{zc}.",
        "The {side} femoral neck BMD is {b} g/cm² with a T-score of {t}{zc}.",
        "{Side} femoral neck: BMD {b} g/cm², T-score {t}{zc}.",
    ),
    "total_hip": (
        "{Side} total hip: BMD {b} g/cm², T-score {t}{zc}.",
        "In the {side} hip, the total hip BMD measured {b} g/cm2, corresponding to a T-score of {t}{zc}.",
        "The BMD of the {side} total hip is {b} g/cm² (T-score {t}{zc}).",
    ),
}
HIP_ZH = {
    "femoral_neck": (
        "{zs}股骨颈 BMD {b}，T值 {t}{zc_zh}。",
        "{zs}股骨颈骨密度为{b}克/平方厘米，T值为{t}{zc_zh}。",
    ),
    "total_hip": (
        "{zs}全髋骨密度{b} g/cm²，T值{t}{zc_zh}。",
        "{zs}髋部总体骨密度为{b}克/平方厘米，T值为{t}{zc_zh}。",
    ),
}
HIP_BI = {
    "femoral_neck": ("{zs}股骨颈 {Side} Femoral Neck：BMD {b} g/cm²，T值 T-score {t}{zc_bi}。",),
    "total_hip": ("{zs}全髋 {Side} Total Hip：骨密度 BMD {b} g/cm²，T值 {t}{zc_bi}。",),
}
HIP_BOTH_EN = "{Side} hip: femoral neck BMD {b} g/cm², T-score {t}; total hip BMD {b2} g/cm², T-score {t2}."
HIP_BOTH_ZH = "{zs}髋关节：股骨颈骨密度{b} g/cm²，T值{t}；全髋骨密度{b2} g/cm²，T值{t2}。"
Z_EN, Z_ZH, Z_BI = (", Z-score {z}", " and a Z-score of {z}"), ("，Z值{z}", "，Z值为{z}"), ("，Z值 Z-score {z}",)

DISTRACTORS_EN = (
    "Clinical history: fracture of the left wrist in 2019.",
    "Recommendation: repeat DXA of the lumbar spine and both hips in 2 years.",
    "Vitamin D 25 ng/mL; calcium 1200 mg daily is advised.",
    "WHO criteria: T-score ≥ -1.0 normal, -1.0 to -2.5 osteopenia, ≤ -2.5 osteoporosis.",
    "FRAX 10-year probability of major osteoporotic fracture 12%, hip fracture 3.1%.",
    "Compared with the previous exam, the lumbar spine BMD decreased by 2.1%.",
    "Height 158.0 cm, weight 55.2 kg, BMI 22.1 kg/m².",
)
DISTRACTORS_ZH = (
    "既往史：2019年左腕骨折。",
    "建议2年后复查骨密度。",
    "25-羟维生素D 25 ng/mL，建议每日补充钙剂1200 mg。",
    "WHO诊断标准：T值≥-1.0为正常，-1.0～-2.5为骨量减少，≤-2.5为骨质疏松。",
    "10年主要骨质疏松性骨折概率12%，髋部骨折概率3.1%。",
    "与前次检查对比，腰椎骨密度下降2.1%。",
    "身高158.0 cm，体重55.2 kg。",
)
IMPRESSION_EN = "Impression: {who}; the lowest T-score is {t} at the {where}."
IMPRESSION_ZH = "结论：{who}（最低T值{t}，位于{where}）。"
WHO_EN = {"normal": "normal bone density", "low_bone_mass": "osteopenia", "osteoporosis": "osteoporosis"}
WHO_ZH = {"normal": "骨量正常", "low_bone_mass": "骨量减少", "osteoporosis": "骨质疏松"}
PLACE_EN = {"L1-L4": "lumbar spine", "femoral_neck": "{side} femoral neck", "total_hip": "{side} total hip"}
PLACE_ZH = {"L1-L4": "腰椎", "femoral_neck": "{zs}股骨颈", "total_hip": "{zs}全髋"}
SIDES_ZH = {"left": ("左侧", "左"), "right": ("右侧", "右")}
VENDOR_EN = {"hologic": "Hologic", "ge_lunar": "GE", "norland": "Norland"}


@dataclass(frozen=True)
class SentenceReport:
    """A report's text lines (header first) and the values its sentences state."""

    lines: tuple[str, ...]
    lang: str
    printed: frozenset[tuple[str, str | None, str]]


@dataclass(frozen=True)
class SentencePage:
    """One generated file: where it is, what it shows, and how it was made."""

    path: Path
    truth: TruthExam
    printed: frozenset[tuple[str, str | None, str]]
    form: str
    lang: str
    encoding: str | None = None


def _num(v: float | None, decimals: int, minus: str) -> str:
    return fmt(v, decimals, minus)


def _who(truth: TruthExam) -> str:
    from bmdkit.samples.report_page.words import who_category

    return who_category([r.t_score for r in truth.contract_regions()])


def make_report(truth: TruthExam, lang: str, rng: random.Random) -> SentenceReport:
    """The text of a sentence-style report of ``truth`` in ``lang`` (en, zh or bi)."""
    minus = rng.choice(("-", "-", "\u2212"))
    printed: set[tuple[str, str | None, str]] = set()
    results: list[list[str]] = []

    def fill(tpl: str, r: TruthRegion, **extra: str) -> str:
        z = _num(r.z_score, 1, minus)
        vals = {"b": _num(r.bmd, 3, "-"), "t": _num(r.t_score, 1, minus), "z": z}
        with_z = r.z_score is not None and "{zc" in tpl and rng.random() < 0.8
        vals["zc"] = rng.choice(Z_EN).format(z=z) if with_z else ""
        vals["zc_zh"] = rng.choice(Z_ZH).format(z=z) if with_z else ""
        vals["zc_bi"] = Z_BI[0].format(z=z) if with_z else ""
        for m in ("bmd", "t_score") + (("z_score",) if with_z else ()):
            printed.add((r.region, r.side, m))
        return tpl.format(**vals, **extra)

    def side_words(side: str | None) -> dict[str, str]:
        s = side or ""
        return {"side": s, "Side": s.capitalize(), "zs": rng.choice(SIDES_ZH[s]) if s in SIDES_ZH else ""}

    def pick(en: Sequence[str], zh: Sequence[str], bi: Sequence[str]) -> list[str]:
        if lang == "en":
            return [rng.choice(en)]
        if lang == "zh":
            return [rng.choice(zh)]
        return [rng.choice(bi)] if rng.random() < 0.5 else [rng.choice(zh), rng.choice(en)]

    regions = {(r.region, r.side): r for r in truth.regions}
    total = regions.get(("L1-L4", None))
    if total is not None:
        results.append([fill(t, total, lab=total.label) for t in pick(SPINE_EN, SPINE_ZH, SPINE_BI)])
        if rng.random() < 0.3:
            for v in ("L1", "L2", "L3", "L4"):
                r = regions.get((v, None))
                if r is not None and r.evaluable is not False:
                    results.append([fill(t, r, lev=v) for t in pick(VERTEBRA_EN, VERTEBRA_ZH, VERTEBRA_ZH)])
    for side in ("left", "right"):
        neck, hip = regions.get(("femoral_neck", side)), regions.get(("total_hip", side))
        if neck is None or hip is None:
            continue
        sw = side_words(side)
        if lang != "bi" and rng.random() < 0.25:
            tpl = HIP_BOTH_EN if lang == "en" else HIP_BOTH_ZH
            b2, t2 = _num(hip.bmd, 3, "-"), _num(hip.t_score, 1, minus)
            results.append([fill(tpl, neck, b2=b2, t2=t2, **sw)])
            printed.update({(hip.region, side, "bmd"), (hip.region, side, "t_score")})
            continue
        for r in (neck, hip):
            results.append([fill(t, r, **sw) for t in pick(HIP_EN[r.region], HIP_ZH[r.region], HIP_BI[r.region])])
    rng.shuffle(results)
    body = [s for group in results for s in group]
    pool = list(DISTRACTORS_EN if lang == "en" else DISTRACTORS_ZH if lang == "zh" else
                DISTRACTORS_EN + DISTRACTORS_ZH)
    for d in rng.sample(pool, k=min(len(pool), rng.randint(2, 4))):
        body.insert(rng.randint(0, len(body)), d)
    if rng.random() < 0.5:
        body.append(_impression(truth, lang, minus, rng))
    return SentenceReport(tuple(_header(truth, lang, rng) + body), lang, frozenset(printed))


def _impression(truth: TruthExam, lang: str, minus: str, rng: random.Random) -> str:
    """A closing line naming the lowest T-score and where it is (the same value as stated above)."""
    rs = [r for r in truth.contract_regions() if r.t_score is not None and r.side != "mean"
          and r.region in ("L1-L4", "femoral_neck", "total_hip")]
    low = min(rs, key=lambda r: r.t_score if r.t_score is not None else 0.0)
    who = _who(truth)
    zh = lang == "zh" or lang == "bi" and rng.random() < 0.5
    where = (PLACE_ZH if zh else PLACE_EN)[low.region]
    sw = {"side": low.side or "", "zs": SIDES_ZH[low.side][0] if low.side in SIDES_ZH else ""}
    return (IMPRESSION_ZH if zh else IMPRESSION_EN).format(
        who=(WHO_ZH if zh else WHO_EN).get(who, who), t=_num(low.t_score, 1, minus), where=where.format(**sw))


def _header(truth: TruthExam, lang: str, rng: random.Random) -> list[str]:
    p = truth.patient
    brand = VENDOR_EN[truth.vendor]
    scanner = truth.scanner_model if truth.scanner_model.startswith(brand) else f"{brand} {truth.scanner_model}"
    if lang == "en" or lang == "bi" and rng.random() < 0.5:
        date = fmt_date(truth.exam_date, rng.choice(("%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d")))
        name = p.name_pinyin.replace("^", " ")
        who = f"Patient: {name}   Sex: {'Female' if p.sex == 'F' else 'Male'}   Age: {p.age}"
        return ["Bone Densitometry Report", who, f"Exam date: {date}", f"Scanner: {scanner}", ""]
    date = fmt_date(truth.exam_date, rng.choice(("%Y年%-m月%-d日", "%Y-%m-%d")))
    who = f"姓名：{p.name_zh}  性别：{'女' if p.sex == 'F' else '男'}  年龄：{p.age}岁"
    return [f"{truth.institution}", "骨密度检测报告", who, f"检查日期：{date}", f"设备：{scanner}", ""]


# --- forms ----------------------------------------------------------------------------------------

_PAGE = (595.0, 842.0)  # A4 in points
_MARGIN = 56.0


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points: at spaces, or anywhere in CJK text."""
    out: list[str] = []
    cur = ""
    for ch in text:
        if text_width(cur + ch, font, size) > width and cur:
            cut = cur.rfind(" ")
            if cut > 0 and not any(ord(c) > 0x2E80 for c in cur[cut:]):
                out.append(cur[:cut])
                cur = cur[cut + 1:]
            else:
                out.append(cur)
                cur = ""
        cur += ch
    if cur.strip():
        out.append(cur)
    return out or [""]


def build_text_page(report: SentenceReport, rng: random.Random) -> Page:
    """The report as drawing instructions on one A4 page (wrapped lines, a bold title)."""
    chars = {c for line in report.lines for c in line if ord(c) > 127 and not c.isspace()}
    cjk = any(ord(c) > 0x2E80 for c in chars)
    fonts = CJK_FONTS if cjk else tuple(f for f in LATIN_FONTS if all(font_has(f, c) for c in chars))
    font = rng.choice(fonts or ("dejavu-sans",))
    size = rng.choice((10.0, 10.5, 11.0, 12.0))
    page = Page(*_PAGE)
    y = _MARGIN + size
    for k, line in enumerate(report.lines):
        if not line:
            y += size * 0.8
            continue
        bold = k == 0 or line in ("骨密度检测报告", "Bone Densitometry Report")
        for part in _wrap(line, font, size, _PAGE[0] - 2 * _MARGIN):
            page.ops.append(Text(_MARGIN, y, part, font, size + (2 if bold else 0), bold=bold))
            y += size * rng.uniform(1.5, 1.8)
    page.content_bottom = y
    return page


def write_form(report: SentenceReport, form: str, path: Path, rng: random.Random,
               encoding: str = "utf-8") -> Path:
    """Write ``report`` as ``form`` (txt, pdf, scan, photo) at ``path`` (suffix set by the form)."""
    if form == "txt":
        out = path.with_suffix(".txt")
        newline = "\r\n" if rng.random() < 0.3 else "\n"
        out.write_bytes(newline.join(report.lines).encode(encoding) + newline.encode())
        return out
    page = build_text_page(report, rng)
    if form == "pdf":
        from bmdkit.samples.pdfs import page_to_pdf

        out = path.with_suffix(".pdf")
        page_to_pdf([page], out, title="DXA report")
        return out
    img = rasterize(page, dpi=200).image
    nprng = np.random.default_rng(rng.randrange(2**32))
    if form == "scan":
        out = path.with_suffix(".png")
        degrade.scan(img, nprng, source_dpi=200).save(out)
    elif form == "photo":
        out = path.with_suffix(".jpg")
        degrade.photo(img, nprng).save(out, quality=90)
    else:
        raise ValueError(f"unknown form {form!r}; one of {FORMS}")
    return out


def make_sentence_pages(n: int, out_dir: str | Path, seed: int = 22, forms: Sequence[str] = FORMS,
                        langs: Sequence[str] = LANGS) -> list[SentencePage]:
    """``n`` sentence-style reports as files in ``out_dir``, cycling through ``forms`` and ``langs``.

    Deterministic for a seed. Text files cycle through UTF-8, UTF-8 with a
    BOM and GB18030. Returns each file with its truth and printed values.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = TruthGenerator(seed)
    rng = random.Random(seed)
    pages: list[SentencePage] = []
    for i in range(n):
        truth = gen.exam(scan_type=rng.choice(("spine", "spine", "hip_left", "hip_right", "hip_dual")))
        form, lang = forms[i % len(forms)], langs[(i // len(forms)) % len(langs)]
        report = make_report(truth, lang, rng)
        encoding = ENCODINGS[(i // len(forms)) % len(ENCODINGS)] if form == "txt" else None
        path = write_form(report, form, out_dir / f"{truth.sample_id}_sentences_{lang}", rng, encoding or "utf-8")
        pages.append(SentencePage(path, truth, report.printed, form, lang, encoding))
    return pages
