"""Held-out DXA report pages, made independently of ``bmdkit.samples.report_gen``.

The report reader is developed on the sample generator's pages; it is
*measured* on these, which come from different code (reportlab drawing into
a PDF, rasterized by pdfium), different fonts (Liberation Serif/Mono, the
STSong CID font for Chinese), other column orders and label wordings taken
from ``shared/domain/reports.md``. Ground truth is a
:class:`bmdkit.samples.truth.TruthExam`.

Three families:

``ruled_en``
    Hologic-like: Region | Area | BMC | BMD | T-score | PR | Z-score | AM,
    ruled grid, Liberation Serif; dual hips grouped as Hologic prints them
    (region header row, then Left / Right / Mean rows).
``borderless_en``
    Lunar-like, no lines, Liberation Mono: Region | BMD | YA % | T-score |
    AM % | Z-score | BMC | Area; the side is part of the label ("Neck Left").
``zh_hospital``
    A Chinese hospital template: 部位 | 骨密度 | T值 | Z值 | 面积 | 骨矿含量,
    sides as prefixes (左股骨颈), dates as 2026年3月14日.
"""

from __future__ import annotations

import datetime as dt
import io
import random

import numpy as np

from bmdkit.flags import ISCD_CODES
from bmdkit.samples.truth import TruthExam, TruthRegion

FAMILIES = ("ruled_en", "borderless_en", "zh_hospital")

_FONTS_REGISTERED = False


def _fonts() -> None:
    global _FONTS_REGISTERED
    if _FONTS_REGISTERED:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    base = "/usr/share/fonts/truetype/liberation/"
    pdfmetrics.registerFont(TTFont("LibSerif", base + "LiberationSerif-Regular.ttf"))
    pdfmetrics.registerFont(TTFont("LibSerifB", base + "LiberationSerif-Bold.ttf"))
    pdfmetrics.registerFont(TTFont("LibMono", base + "LiberationMono-Regular.ttf"))
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    _FONTS_REGISTERED = True


def _f(v: float | None, nd: int) -> str:
    if v is None:
        return "-"
    s = f"{v:.{nd}f}"
    return "0.0" if s in ("-0.0",) else s


def _pct(v: float | None, rng: random.Random) -> str:
    return "-" if v is None else f"{rng.randint(60, 115)}"


def _date(d: str, style: str) -> str:
    x = dt.date.fromisoformat(d)
    return {
        "iso": x.isoformat(),
        "us": x.strftime("%m/%d/%Y"),
        "eu": x.strftime("%d.%m.%Y"),
        "zh": f"{x.year}年{x.month}月{x.day}日",
    }[style]


_VENDOR_PRINT = {"hologic": "Hologic", "ge_lunar": "GE Healthcare", "norland": "Norland"}
_ZH_REGION = {"L1": "腰椎L1", "L2": "腰椎L2", "L3": "腰椎L3", "L4": "腰椎L4",
              "femoral_neck": "股骨颈", "total_hip": "全髋", "trochanter": "大转子",
              "intertrochanter": "转子间", "wards": "Ward三角"}
_ZH_SIDE = {"left": "左", "right": "右", "mean": "平均"}
_EN_LUNAR = {"femoral_neck": "Neck", "total_hip": "Total", "trochanter": "Troch",
             "intertrochanter": "Shaft", "wards": "Wards"}


def _rows(truth: TruthExam, family: str) -> list[list[str] | str]:
    """Table body: lists of cells, or a str for a group header row."""
    rng = random.Random(truth.sample_id)
    out: list[list[str] | str] = []
    regs = truth.regions
    spine = truth.scan_type == "spine"

    def cells(r: TruthRegion, label: str) -> list[str]:
        a, c, b = _f(r.area, 2), _f(r.bmc, 2), _f(r.bmd, 3)
        t, z = _f(r.t_score, 1), _f(r.z_score, 1)
        if family == "ruled_en":
            return [label, a, c, b, t, _pct(r.t_score, rng), z, _pct(r.z_score, rng)]
        if family == "borderless_en":
            return [label, b, _pct(r.t_score, rng), t, _pct(r.z_score, rng), z, c, a]
        return [label, b, t, z, a, c]

    if spine:
        for r in regs:
            if r.region == "L1-L4":
                lab = r.label if family != "zh_hospital" else f"腰椎{r.label}"
                if family == "ruled_en":
                    lab = "Total" if rng.random() < 0.5 else r.label
            else:
                lab = r.label if family != "zh_hospital" else _ZH_REGION[r.region]
                if r.evaluable is False:
                    lab += "*" if family != "borderless_en" else " (excluded)"
            out.append(cells(r, lab))
        return out
    if family == "ruled_en":
        order = ["femoral_neck", "trochanter", "intertrochanter", "total_hip", "wards"]
        names = {"femoral_neck": "Neck", "trochanter": "Troch", "intertrochanter": "Inter",
                 "total_hip": "Total", "wards": "Ward's"}
        sides = [s for s in ("left", "right", "mean") if any(r.side == s for r in regs)]
        if len(sides) == 1:
            return [cells(r, names[r.region]) for reg in order for r in regs if r.region == reg]
        for reg in order:
            rows = [r for s in sides for r in regs if r.region == reg and r.side == s]
            if not rows:
                continue
            out.append(names[reg])
            for r in rows:
                out.append(cells(r, f"  {r.side.capitalize()}"))  # type: ignore[union-attr]
        return out
    for r in regs:
        if family == "borderless_en":
            lab = f"{_EN_LUNAR[r.region]} {r.side.capitalize()}"  # type: ignore[union-attr]
        else:
            lab = _ZH_SIDE[r.side or "left"] + _ZH_REGION[r.region]
        out.append(cells(r, lab))
    return out


_HEADERS = {
    "ruled_en": ["Region", "Area (cm²)", "BMC (g)", "BMD (g/cm²)", "T-score", "PR (%)", "Z-score", "AM (%)"],
    "borderless_en": ["Region", "BMD (g/cm²)", "YA (%)", "T-score", "AM (%)", "Z-score", "BMC (g)", "Area (cm²)"],
    "zh_hospital": ["部位", "骨密度(g/cm²)", "T值", "Z值", "面积(cm²)", "骨矿含量(g)"],
}


def make_pdf(truth: TruthExam, family: str, date_style: str | None = None) -> bytes:
    """One A4 report page as a PDF with a text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    _fonts()
    rng = random.Random(truth.sample_id + family)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    zh = family == "zh_hospital"
    font = {"ruled_en": "LibSerif", "borderless_en": "LibMono", "zh_hospital": "STSong-Light"}[family]
    style = date_style or ("zh" if zh else rng.choice(("iso", "us", "eu", "iso")))
    y = h - 60
    c.setFont(font, 15)
    if zh:
        c.drawString(60, y, f"{truth.institution} 骨密度检查报告")
        y -= 28
        c.setFont(font, 10)
        c.drawString(60, y, f"姓名: {truth.patient.name_zh}   性别: {'女' if truth.patient.sex == 'F' else '男'}"
                            f"   年龄: {truth.patient.age}   ID: {truth.patient.patient_id}")
        y -= 16
        c.drawString(60, y, f"检查日期: {_date(truth.exam_date, style)}   设备: {_VENDOR_PRINT[truth.vendor]} {truth.scanner_model}")
    else:
        title = "DXA Results Summary" if family == "ruled_en" else "Densitometry Reference: BMD"
        c.drawString(60, y, title)
        y -= 28
        c.setFont(font, 9)
        c.drawString(60, y, f"Name: {truth.patient.name_pinyin.replace('^', ' ')}   Patient ID: {truth.patient.patient_id}"
                            f"   Sex: {truth.patient.sex}   Age: {truth.patient.age}")
        y -= 15
        c.drawString(60, y, f"Scan Date: {_date(truth.exam_date, style)}   Scanner: {_VENDOR_PRINT[truth.vendor]} "
                            f"{truth.scanner_model} (S/N {truth.scanner_serial})")
    y -= 40
    site = {"spine": "AP Spine" if not zh else "腰椎正位", "hip_left": "Left Femur" if not zh else "左髋",
            "hip_right": "Right Femur" if not zh else "右髋", "hip_dual": "DualFemur" if not zh else "双髋"}
    c.setFont(font, 11)
    c.drawString(60, y, site[truth.scan_type])
    y -= 24
    headers = _HEADERS[family]
    body = _rows(truth, family)
    colw = (w - 120) / len(headers)
    xs = [60 + i * colw for i in range(len(headers) + 1)]
    size = rng.choice((8.5, 9.5, 10.5))
    rowh = size * 1.9
    top = y + rowh * 0.7
    c.setFont(font, size)
    for i, hd in enumerate(headers):
        c.drawString(xs[i] + 3, y, hd)
    lines_y = [top, y - rowh * 0.35]
    y -= rowh
    for row in body:
        if isinstance(row, str):
            c.drawString(xs[0] + 3, y, row)
        else:
            for i, cell in enumerate(row):
                if i == 0:
                    c.drawString(xs[0] + 3, y, cell)
                else:
                    c.drawRightString(xs[i + 1] - 8, y, cell)
        lines_y.append(y - rowh * 0.35)
        y -= rowh
    if family == "ruled_en":
        c.setLineWidth(0.6)
        for ly in lines_y:
            c.line(xs[0], ly, xs[-1], ly)
        for x in xs:
            c.line(x, lines_y[0], x, lines_y[-1])
    elif family == "borderless_en":
        c.line(xs[0], lines_y[1], xs[-1], lines_y[1])
    y -= 20
    c.setFont(font, 9)
    foot = ("诊断: 请结合临床。T值≤-2.5为骨质疏松" if zh
            else "WHO Classification: Osteoporosis T-score at or below -2.5. Total BMD CV 1.0%")
    c.drawString(60, y, foot)
    c.showPage()
    c.save()
    return buf.getvalue()


def rasterize(pdf: bytes, dpi: int = 200) -> np.ndarray:
    """First page of ``pdf`` as an RGB uint8 array at ``dpi``."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        img = doc[0].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        doc.close()
    return np.asarray(img)


def degrade(img: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """Own degradations (OpenCV): ``scan`` (tilt, blur, noise, JPEG) or ``photo``
    (perspective, uneven light, blur, JPEG), ``lowres`` (about 100 ppi)."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    out = img.copy()
    if kind == "scan":
        ang = rng.uniform(-2.0, 2.0)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
        out = cv2.warpAffine(out, m, (w, h), borderValue=(255, 255, 255))
        out = cv2.GaussianBlur(out, (3, 3), 0.7)
        noise = rng.normal(0, 8, out.shape)
        out = np.clip(out.astype(float) * 0.93 + 10 + noise, 0, 255).astype(np.uint8)
        q = 60
    elif kind == "photo":
        pad = int(0.08 * w)
        canvas = np.full((h + 2 * pad, w + 2 * pad, 3), (90, 80, 70), np.uint8)
        canvas[pad:pad + h, pad:pad + w] = out
        H, W = canvas.shape[:2]
        src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
        j = lambda: rng.uniform(0, 0.05) * W
        dst = np.float32([[j(), j()], [W - j(), j()], [W - j(), H - j()], [j(), H - j()]])
        out = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(src, dst), (W, H),
                                  borderValue=(60, 50, 40))
        yy, xx = np.mgrid[0:H, 0:W]
        light = 0.75 + 0.25 * (xx / W) * (1 - 0.5 * yy / H)
        out = np.clip(out * light[..., None], 0, 255).astype(np.uint8)
        out = cv2.GaussianBlur(out, (3, 3), 0.9)
        q = 70
    elif kind == "lowres":
        out = cv2.resize(out, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        q = 85
    else:
        raise ValueError(kind)
    ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
    assert ok
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)


# --- scoring ---------------------------------------------------------------------------------

SCORED = ("bmd", "t_score")


def _four_decimals_exact(have: float, tr: object) -> bool:
    """A BMD printed to 4 decimals (Norland: BMC/area rounded to 4) read exactly as printed.

    The truth keeps 3 decimals, and rounding the printed 4-decimal value to 3
    is double rounding (1.0635 prints for a truth of 1.064): compare with
    what the page printed instead.
    """
    bmc, area = getattr(tr, "bmc", None), getattr(tr, "area", None)
    if round(have, 3) == have or not bmc or not area:
        return False
    return abs(have - round(bmc / area, 4)) < 1e-9


#: whole-file flags that ask about the date or the vendor, not the values
NOT_ABOUT_VALUES = ("no_exam_date", "ambiguous_date", "unknown_vendor")


def covering(exam: object, region: str, side: object, measure: str) -> list[object]:
    """The review flags that cover one value: a whole-file flag (one about the date or vendor
    excepted) or one whose region, side and measure take it in (``Flag.covers``)."""
    out = []
    for f in exam.flags:  # type: ignore[attr-defined]
        if f.level.value == "info":
            continue
        if f.region is None:
            if f.code.value not in NOT_ABOUT_VALUES:
                out.append(f)
        elif f.covers(region, side, measure):
            out.append(f)
    return out


def read_region(exam: object, region: object, side: object) -> object:
    """The region as read from the file (None where only the checks computed it: a computed
    value is marked so in the output, and is not a reading of the page)."""
    from bmdkit.model import Method

    got = exam.region(region, side)  # type: ignore[attr-defined]
    return None if got is None or got.method is Method.COMPUTED else got


def judge(out: dict, exam: object, region: str, side: object, measure: str, want: float, have: float | None,
          exact: bool | None = None) -> tuple[str, list[object]]:
    """One printed value against what bmdkit gave for it, counted into ``out``; the one rule both
    scorers (:func:`score_exam`, bench_ocr.score_real) use. Returns the outcome ('exact',
    'missing', 'wrong_flagged' or 'silent') and the review flags that cover the value.

    Counted: ``values``, ``exact``; ``burdened`` (exact, under a covering review flag, or the
    file failed) and ``reading_burdened`` (of those, under a flag about the reading, not only an
    ISCD flag about what the scan shows, ``ISCD_CODES``) with ``burden_codes`` (how many each
    flag code covers); ``missing``, ``wrong_flagged``, ``silent``. ``exact``: the caller's own
    test of exactness, else equality.
    """
    failed = exam.status.value == "failed"  # type: ignore[attr-defined]
    cover = covering(exam, region, side, measure)
    flagged = failed or bool(cover)
    out["values"] += 1
    if have is not None and (exact if exact is not None else abs(have - want) < 1e-9):
        out["exact"] += 1
        if flagged:
            out["burdened"] += 1
            out["reading_burdened"] += failed or any(f.code not in ISCD_CODES for f in cover)  # type: ignore[attr-defined]
            for c in {f.code.value for f in cover}:  # type: ignore[attr-defined]
                out["burden_codes"][c] = out["burden_codes"].get(c, 0) + 1
        return "exact", cover
    kind = "missing" if have is None else "wrong_flagged" if flagged else "silent"
    out[kind] += 1
    return kind, cover


def score_exam(exam: object, truth: TruthExam, measures: tuple[str, ...] = SCORED,
               printed: set[tuple[str, str | None, str]] | None = None) -> dict:
    """Compare an Exam with its truth, value by value (exact as printed); the tests' and the bench's scorer.

    ``printed`` (region, side, measure) limits the count to the values the page
    shows, for layouts that leave some out (a Norland page prints no hip
    mean; some pages omit an excluded vertebra's row); None: every value.

    ``silent``: a wrong value no review flag covers (:func:`covering`) in an
    exam that did not fail; ``wrong_flagged``: wrong but flagged; ``missing``:
    printed but not read; ``missing_unflagged``: of those, the ones nothing
    points at; ``exact``: equal to the printed value; ``burdened``: exact
    values under a covering review flag (``reading_burdened``: of those, the ones under
    a flag about the reading, not only an ISCD flag about what the scan shows, ``ISCD_CODES``), with ``burden_codes`` (how many each
    flag code covers; a value may count under several), ``burden_flags`` (the
    flags, in words) and ``silent_values`` (each silent error, in words).
    """
    from bmdkit.model import Region, Side

    out: dict = {"values": 0, "exact": 0, "burdened": 0, "reading_burdened": 0, "wrong_flagged": 0, "silent": 0,
                 "missing": 0, "missing_unflagged": 0, "burden_codes": {}, "burden_flags": [], "silent_values": []}
    failed = exam.status.value == "failed"  # type: ignore[attr-defined]
    for tr in truth.contract_regions():
        region = Region(tr.region)
        side = Side(tr.side) if tr.side else None
        got = read_region(exam, region, side)
        for m in measures:
            want = getattr(tr, m)
            if want is None or printed is not None and (tr.region, tr.side, m) not in printed:
                continue
            have = None if got is None else got.value(m)
            exact = have is not None and (abs(have - want) < 1e-9 or m == "bmd" and _four_decimals_exact(have, tr))
            kind, cover = judge(out, exam, tr.region, side, m, want, have, exact)
            if kind == "exact" and (failed or cover):
                for f in cover:
                    if (said := f"{f.code.value}: {f.message}") not in out["burden_flags"]:  # type: ignore[attr-defined]
                        out["burden_flags"].append(said)
            elif kind == "missing" and not (failed or cover):
                out["missing_unflagged"] += 1
            elif kind == "silent":
                out["silent_values"].append(f"{tr.region} {tr.side or ''} {m}: read {have}, printed {want}")
    return out
