"""Test batches for the review page: real report pages (PNG, PDF) and the exams read from them.

Not a test module (it holds no tests): it builds a batch output folder as the
batch would leave it. Each exam's values come from :class:`TruthGenerator`
and are drawn on a real page (Pillow for PNG, reportlab for PDF) whose cell
boxes are recorded as the OCR values' locations; DICOM exams carry element
paths. Patient names are printed on the pages so tests can prove they never
reach the review page. Some exams are flagged (low confidence on one
region) and some failed, in proportions set by the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import (
    Exam,
    Flag,
    InputKind,
    Location,
    Method,
    Region,
    RegionResult,
    Side,
    Source,
    ValueSource,
    Vendor,
)
from bmdkit.samples.truth import TruthExam, TruthGenerator

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MEASURE_COLS = ("area", "bmc", "bmd", "t_score", "z_score")
PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 ppi
PDF_DPI = 150


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(t: TruthExam) -> list[tuple[str, str | None, str, dict[str, float | None]]]:
    out = []
    for r in t.contract_regions():
        out.append((r.region, r.side, r.label, {m: getattr(r, m) for m in MEASURE_COLS}))
    return out


def _fmt(m: str, v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if m == "bmd" else (f"{v:.1f}" if m in ("t_score", "z_score") else f"{v:.2f}")


def draw_png(t: TruthExam, path: Path) -> dict[tuple[int, str], tuple[int, int, int, int]]:
    """A report page as PNG; returns the pixel box of each (row index, measure) value."""
    im = Image.new("RGB", (PAGE_W, PAGE_H), "white")
    d = ImageDraw.Draw(im)
    big = ImageFont.truetype(CJK_FONT, 34, index=0)
    font = ImageFont.truetype(DEJAVU, 26)
    d.text((80, 60), f"骨密度报告  {t.institution}", font=big, fill="black")
    d.text((80, 120), f"姓名 {t.patient.name_zh}  ID {t.patient.patient_id}  {t.exam_date}", font=big, fill="black")
    y, xs = 260, (80, 420, 590, 760, 930, 1080)
    for x, h in zip(xs, ("Region", "Area", "BMC", "BMD", "T", "Z")):
        d.text((x, y), h, font=font, fill="black")
    d.line((70, y + 40, 1170, y + 40), fill="black", width=2)
    boxes = {}
    for i, (reg, side, label, vals) in enumerate(_rows(t)):
        y = 320 + i * 56
        d.text((xs[0], y), f"{label}{' ' + side if side else ''}", font=font, fill="black")
        for x, m in zip(xs[1:], MEASURE_COLS):
            text = _fmt(m, vals[m])
            d.text((x, y), text, font=font, fill="black")
            boxes[(i, m)] = tuple(int(v) for v in d.textbbox((x, y), text, font=font))
    im.save(path)
    return boxes


def draw_pdf(t: TruthExam, path: Path) -> dict[tuple[int, str], tuple[int, int, int, int]]:
    """A one-page PDF (reportlab); returns boxes in pixels at PDF_DPI."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    _, H = A4
    c.setFont("Helvetica", 12)
    c.drawString(40, H - 50, f"DXA report {t.scanner_model} {t.exam_date} ID {t.patient.patient_id}")
    c.drawString(40, H - 70, f"Name {t.patient.name_pinyin}")
    xs = (40, 200, 280, 360, 440, 510)
    size = 11
    for x, h in zip(xs, ("Region", "Area", "BMC", "BMD", "T", "Z")):
        c.drawString(x, H - 110, h)
    s = PDF_DPI / 72.0
    boxes = {}
    c.setFont("Helvetica", size)
    for i, (reg, side, label, vals) in enumerate(_rows(t)):
        base = H - 135 - i * 20
        c.drawString(xs[0], base, f"{label}{' ' + side if side else ''}")
        for x, m in zip(xs[1:], MEASURE_COLS):
            text = _fmt(m, vals[m])
            c.drawString(x, base, text)
            w = stringWidth(text, "Helvetica", size)
            top, bottom = H - (base + size * 0.75), H - (base - size * 0.2)
            boxes[(i, m)] = (int(x * s), int(top * s), int((x + w) * s) + 1, int(bottom * s) + 1)
    c.showPage()
    c.save()
    return boxes


def _region(reg: str, side: str | None, label: str, vals: dict[str, float | None], method: Method,
            sources: dict[str, ValueSource], conf: float | None) -> RegionResult:
    return RegionResult(
        region=Region(reg), side=Side(side) if side else None, method=method, label=label,
        confidence=conf, sources=sources, **{m: vals[m] for m in MEASURE_COLS},
    )


def make_exam(t: TruthExam, kind: str, inputs: Path, rng: random.Random, flagged: bool,
              pdf_dpi_in_detail: bool = True) -> tuple[Exam, dict]:
    """Write the source file for ``t`` (png/pdf) and return the exam as the readers would give it."""
    rel = f"{t.center}/{t.sample_id}.{ {'image': 'png', 'pdf': 'pdf', 'dicom': 'dcm'}[kind] }"
    path = inputs / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    boxes: dict = {}
    if kind == "image":
        boxes = draw_png(t, path)
    elif kind == "pdf":
        boxes = draw_pdf(t, path)
    else:
        path.write_bytes(b"DICM-placeholder " + t.sample_id.encode())  # never opened: DICOM values have no box
    regions, flags = [], []
    rows = _rows(t)
    low_row = rng.randrange(len(rows)) if flagged else -1
    for i, (reg, side, label, vals) in enumerate(rows):
        sources = {}
        for m in MEASURE_COLS:
            if vals[m] is None:
                continue
            if kind == "dicom":
                loc = Location(element=f"(0019,10{i:02d})[{m}]")
                sources[m] = ValueSource(confidence=None, location=loc)
            else:
                conf = 0.55 if i == low_row and m == "bmd" else round(rng.uniform(0.9, 0.99), 2)
                detail = f"dpi={PDF_DPI}" if kind == "pdf" and pdf_dpi_in_detail else None
                sources[m] = ValueSource(confidence=conf, location=Location(page=1, box=boxes[(i, m)], detail=detail),
                                         raw_text=_fmt(m, vals[m]), engines=("tesseract",))
        method = Method.DICOM_PRIVATE if kind == "dicom" else Method.OCR
        regions.append(_region(reg, side, label, vals, method, sources, None if kind == "dicom" else 0.9))
        if i == low_row:
            flags.append(Flag(FlagCode.LOW_CONFIDENCE, "BMD read with confidence 0.55", region=reg))
    exam = Exam(
        source=Source(path=str(Path("inputs") / rel), sha256=_sha(path),
                      kind={"image": InputKind.IMAGE, "pdf": InputKind.PDF, "dicom": InputKind.DICOM}[kind],
                      size=path.stat().st_size),
        vendor=Vendor(t.vendor), scanner_model=t.scanner_model, institution=t.institution,
        exam_date=dt.date.fromisoformat(t.exam_date), regions=tuple(regions), flags=tuple(flags),
        reader="test",
    )
    from bmdkit.model import PatientIdentity

    exam = exam.replace(patient=PatientIdentity(name=t.patient.name_zh, patient_id=t.patient.patient_id))
    return exam, {"subject_id": f"{t.center[:2].upper()}-{t.sample_id[-4:]}", "center": t.center, "visit": "baseline"}


def failed_exam(inputs: Path, i: int) -> Exam:
    path = inputs / f"broken/broken{i}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 truncated " + str(i).encode())
    return Exam(source=Source(str(Path("inputs") / "broken" / path.name), _sha(path), InputKind.PDF),
                flags=(Flag(FlagCode.UNREADABLE, "the PDF is truncated"),))


def make_batch(root: Path, n: int, seed: int = 7, kinds: tuple[str, ...] = ("image", "pdf", "dicom"),
               flagged_share: float = 0.3, failed: int = 2) -> tuple[Path, list[Exam]]:
    """``root/inputs`` (source files) and ``root/out/results.jsonl``; returns (out dir, exams)."""
    rng = random.Random(seed)
    gen = TruthGenerator(seed)
    inputs, out = root / "inputs", root / "out"
    out.mkdir(parents=True, exist_ok=True)
    exams, lines = [], []
    for k in range(n):
        t = gen.exam()
        kind = kinds[k % len(kinds)]
        exam, subject = make_exam(t, kind, inputs, rng, flagged=rng.random() < flagged_share)
        exams.append(exam)
        d = exam_to_dict(exam)
        d["subject"] = subject
        lines.append(json.dumps(d, ensure_ascii=False))
    for i in range(failed):
        e = failed_exam(inputs, i)
        exams.append(e)
        lines.append(json.dumps(exam_to_dict(e), ensure_ascii=False))
    (out / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out, exams


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def chrome(download_dir: Path, profile_dir: Path, width: int = 1400, height: int = 1000):
    """Headless Debian chromium through selenium, downloads going to ``download_dir``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--disable-dev-shm-usage", f"--user-data-dir={profile_dir}", f"--window-size={width},{height}"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir),
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
        "safebrowsing.enabled": False,
    })
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver
