"""Benchmark the report reader against ground truth, beside a bare-tesseract baseline.

Pages come from two independent makers:

- ``dev``: bmdkit.samples.report_gen (+ degrade.scan / degrade.photo, and
  text-layer PDFs from bmdkit.samples.pdfs), the pages the reader was
  developed on;
- ``heldout``: tests/heldout_reports.py (reportlab + pdfium, other fonts,
  column orders and wordings), never looked at while tuning.

For each page: BMD and T-score exact (as printed), wrong-but-flagged,
silent errors (wrong, no review flag covering it), missing, failed files,
seconds, and the *review burden*: the values read exactly right that still
sit under a review flag, as a share of all values read exactly right. A flag
covers a value when it names its region (and, where the flag names them, its
side and measure: ``Flag.covers``) or is about the whole file (a date or
vendor flag excepted: it asks about the date, not the values). Per page set
and damage kind, ``burden_by_code`` says which flag codes carry the burden.
The baseline is one ``tesseract`` pass (eng+chi_sim) plus simple regular
expressions (label at line start, numbers in header order) on the same image.

Usage::

    .venv/bin/python bench/bench_ocr.py --n 200 --which both
    .venv/bin/python bench/bench_ocr.py --n 12 --engines-compare
    .venv/bin/python bench/bench_ocr.py --n 60 --start 30   # pages 30-59 of a 60-page run
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import heldout_reports as ho

from bmdkit.options import ReadOptions
from bmdkit.read import read_file
from bmdkit.samples.truth import TruthExam, TruthGenerator

DEGRADATIONS = ("clean", "pdf", "scan", "photo")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (tesseract runs as a child).

    Wall time on a shared 2-core machine says more about the neighbours than
    about the reader, so both are reported.
    """
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def dev_page(truth: TruthExam, i: int, out: Path) -> tuple[Path, str, str, str]:
    """A report_gen page: (file, family, lang, degradation)."""
    from bmdkit.samples import degrade, pdfs
    from bmdkit.samples import report_gen as rg

    layout = rg.LAYOUTS[i % len(rg.LAYOUTS)]
    lang = "zh" if layout == "chinese" or (i // len(rg.LAYOUTS)) % 2 else "en"
    deg = DEGRADATIONS[(i // 2) % len(DEGRADATIONS)]
    if deg == "pdf":
        p = out / f"dev{i}.pdf"
        pdfs.render_pdf(truth, layout, lang, p)
        return p, layout, lang, deg
    img = rg.render_report(truth, layout, lang, dpi=200)
    rng = np.random.default_rng(i)
    if deg == "scan":
        img = degrade.scan(img, rng)
    elif deg == "photo":
        img = degrade.photo(img, rng)
    p = out / f"dev{i}.{'png' if deg == 'clean' else 'jpg'}"
    img.convert("RGB").save(p)
    return p, layout, lang, deg


def dev_printed(truth: TruthExam, layout: str, lang: str) -> set[tuple[str, str | None, str]]:
    """(region, side, measure) of the truth values a dev page prints (its drawn cells)."""
    from bmdkit.samples.report_page.render import build_page

    return {(c.region, c.side, c.measure) for c, _ in build_page(truth, layout, lang).cells()
            if c.in_truth and c.region is not None}


def heldout_page(truth: TruthExam, i: int, out: Path) -> tuple[Path, str, str, str]:
    fam = ho.FAMILIES[i % len(ho.FAMILIES)]
    lang = "zh" if fam == "zh_hospital" else "en"
    deg = ("clean", "pdf", "scan", "photo", "lowres")[(i // 3) % 5]
    pdf = ho.make_pdf(truth, fam)
    if deg == "pdf":
        p = out / f"ho{i}.pdf"
        p.write_bytes(pdf)
        return p, fam, lang, deg
    img = ho.rasterize(pdf, 200)
    if deg != "clean":
        img = ho.degrade(img, deg, i)[:, :, ::-1]
    p = out / f"ho{i}.{'png' if deg == 'clean' else 'jpg'}"
    Image.fromarray(np.ascontiguousarray(img)).save(p)
    return p, fam, lang, deg


# --- baseline: bare tesseract + regexes ----------------------------------------------------------

def _page_image(path: Path) -> np.ndarray:
    if path.suffix == ".pdf":
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(path.read_bytes())
        try:
            return np.asarray(doc[0].render(scale=200 / 72).to_pil().convert("RGB"))
        finally:
            doc.close()
    return np.asarray(Image.open(path).convert("RGB"))


def baseline(path: Path, truth: TruthExam) -> tuple[dict[str, int], float]:
    """One tesseract pass and regexes: values counted exact if read into the right row and column."""
    import pytesseract

    from bmdkit.model import Region, Side
    from bmdkit.report import labels

    t0 = time.perf_counter()
    c0 = cpu_seconds()
    text = pytesseract.image_to_string(_page_image(path), lang="eng+chi_sim")
    cols: list[str] = []
    got: dict[tuple[str, str | None], dict[str, float]] = {}
    num = re.compile(r"^[-\u2212\u2013]?\d+(?:\.\d+)?$")
    group = None
    for line in text.splitlines():
        words = line.split()
        keys = [labels.measure_of(w) for w in words]
        if sum(k in ("bmd", "t_score", "bmc", "area", "z_score") for k in keys) >= 2:
            cols = [k for k in keys if k is not None and k != "region"]
            continue
        nums = [w for w in words if num.match(w)]
        lab = " ".join(w for w in words if not num.match(w))
        if not cols or not lab:
            continue
        reg, side = labels.split_label(lab)
        if isinstance(reg, Region) and not nums:
            group = reg
            continue
        if isinstance(reg, tuple) and len(reg) == 1:
            key = (reg[0].value, None)
        elif isinstance(reg, tuple):
            key = ("L1-L4", None)
        elif isinstance(reg, Region):
            key = (reg.value, side.value if isinstance(side, Side) else None)
        elif isinstance(side, Side) and group is not None:
            key = (group.value, side.value)
        else:
            continue
        vals = {}
        for c, w in zip(cols, nums):
            vals[c] = float(w.replace("\u2212", "-").replace("\u2013", "-"))
        got.setdefault(key, vals)
    dt = time.perf_counter() - t0
    res = {"values": 0, "exact": 0, "cpu": round(cpu_seconds() - c0, 2)}
    for tr in truth.contract_regions():
        for m in ho.SCORED:
            want = getattr(tr, m)
            if want is None:
                continue
            res["values"] += 1
            v = got.get((tr.region, tr.side)) or got.get((tr.region, None)) or {}
            if m in v and abs(v[m] - want) < 1e-9:
                res["exact"] += 1
    return res, dt


# --- scoring: exact, silent, review burden -----------------------------------------------------

def score(exam: object, truth: TruthExam, printed: set[tuple[str, str | None, str]] | None,
          measures: tuple[str, ...] = ho.SCORED) -> dict:
    """Value by value against the truth: the tests' scorer (``heldout_reports.score_exam``), one for both."""
    return ho.score_exam(exam, truth, measures, printed)


# --- main ------------------------------------------------------------------------------------

def run(n: int, which: str, seed: int, compare: bool, base: bool, start: int = 0) -> dict:
    rows = []
    gen = TruthGenerator(seed)
    makers = {"dev": dev_page, "heldout": heldout_page}
    sets = ["dev", "heldout"] if which == "both" else [which]
    configs = {"both": ("tesseract", "rapidocr")}
    if compare:
        configs.update({"rapidocr": ("rapidocr",), "tesseract": ("tesseract",)})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(n):
            s = sets[i % len(sets)]
            truth = gen.exam(exclude=["L1"] if i % 7 == 3 else None)
            if i < start:  # the same pages as a full run, from page ``start`` on
                continue
            path, fam, lang, deg = makers[s](truth, i // len(sets), out)
            row = {"set": s, "family": fam, "lang": lang, "deg": deg, "scan": truth.scan_type}
            # dev layouts may leave values out (no hip mean, an omitted excluded vertebra): score what is printed
            printed = dev_printed(truth, fam, lang) if s == "dev" else None
            for name, engines in configs.items():
                t0 = time.perf_counter()
                c0 = cpu_seconds()
                ex = read_file(path, ReadOptions(ocr_engines=engines))
                dt = time.perf_counter() - t0
                cpu = cpu_seconds() - c0
                sc = score(ex, truth, printed)
                row[name] = {**sc, "seconds": round(dt, 2), "cpu": round(cpu, 2), "status": ex.status.value,
                             "date_ok": ex.exam_date is not None and ex.exam_date.isoformat() == truth.exam_date}
            if base:
                bsc, bdt = baseline(path, truth)
                row["baseline"] = {**bsc, "seconds": round(bdt, 2)}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return summarize(rows, list(configs) + (["baseline"] if base else []))


def summarize(rows: list[dict], configs: list[str]) -> dict:
    summary: dict = {}
    for cfg in configs:
        groups: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for r in rows:
            if cfg not in r:
                continue
            for g in (f"{r['set']}", f"{r['set']}/{r['family']}", f"{r['set']}/{r['lang']}",
                      f"{r['set']}/{'clean+pdf' if r['deg'] in ('clean', 'pdf') else 'degraded'}",
                      f"{r['set']}/{r['deg']}"):
                acc = groups[g]
                acc["pages"] += 1
                for c, k in r[cfg].get("burden_codes", {}).items():
                    acc["code:" + c] += k
                for k in ("values", "exact", "burdened", "silent", "wrong_flagged", "missing", "missing_unflagged", "seconds",
                          "cpu"):
                    acc[k] += r[cfg].get(k, 0)
                acc["failed"] += r[cfg].get("status") == "failed"
        summary[cfg] = {g: {"pages": int(a["pages"]), "exact_pct": round(100 * a["exact"] / max(a["values"], 1), 1),
                            "values": int(a["values"]), "silent": int(a["silent"]),
                            "review_burden_pct": round(100 * a["burdened"] / max(a["exact"], 1), 1),
                            "burdened": int(a["burdened"]),
                            "burden_by_code": {k[5:]: int(v) for k, v in sorted(a.items(), key=lambda kv: -kv[1])
                                               if k.startswith("code:")},
                            "wrong_flagged": int(a["wrong_flagged"]), "missing": int(a["missing"]),
                            "missing_unflagged": int(a["missing_unflagged"]),
                            "failed": int(a["failed"]), "s_per_page": round(a["seconds"] / max(a["pages"], 1), 1),
                            "cpu_s_per_page": round(a["cpu"] / max(a["pages"], 1), 1)}
                        for g, a in sorted(groups.items())}
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="pages in total")
    ap.add_argument("--which", choices=("dev", "heldout", "both"), default="both")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--start", type=int, default=0, help="skip the pages before this one (same pages as a full run)")
    ap.add_argument("--engines-compare", action="store_true", help="also run each engine alone")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--json", type=Path, help="write the summary here")
    a = ap.parse_args()
    summary = run(a.n, a.which, a.seed, a.engines_compare, not a.no_baseline, a.start)
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    print(text)
    if a.json:
        a.json.write_text(text)


if __name__ == "__main__":
    main()
