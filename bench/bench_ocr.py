"""Benchmark the report reader against ground truth, beside a bare-tesseract baseline.

Pages come from two independent makers:

- ``dev``: bmdkit.samples.report_gen (+ degrade.scan / degrade.photo, and
  text-layer PDFs from bmdkit.samples.pdfs), the pages the reader was
  developed on;
- ``heldout``: tests/heldout_reports.py (reportlab + pdfium, other fonts,
  column orders and wordings), never looked at while tuning.

Each page goes through :func:`bmdkit.pipeline.process_file`: read and
checked, what ``bmdkit check`` prints and the batch stores, so the checks'
flags count too. A value only the checks computed (marked ``computed``) is
not a reading of the page and scores as not read.

For each page: BMD and T-score exact (as printed), wrong-but-flagged,
silent errors (wrong, no review flag covering it), missing, failed files,
seconds, and the *review burden*: the values read exactly right that still
sit under a review flag, as a share of all values read exactly right.
``reading_burden_pct`` leaves out the values whose only flags are ISCD
flags about what the scan shows (``bmdkit.flags.ISCD_CODES``: a vertebra a
reviewer may exclude), which are clinical calls, not doubts about the
reading. A flag
covers a value when it names its region (and, where the flag names them, its
side and measure: ``Flag.covers``) or is about the whole file (a date or
vendor flag excepted: it asks about the date, not the values). Per page set
and damage kind, ``burden_by_code`` says which flag codes carry the burden.
The baseline is one ``tesseract`` pass (eng+chi_sim) plus simple regular
expressions (label at line start, numbers in header order) on the same image.

With ``--real DIR`` it scores the real development pages of issue 22 instead
(screenshots of real Hologic APEX 5.5 and GE enCORE 16 pages, each also as
its whole slide rendered at 150 dpi; rebuild them with
``bench/real_pages/rebuild.sh``) against ``bench/real_pages/truth.json``,
by vendor and rendering. There a silent error also counts a value reported
where the page prints none (a blank or '-' column, a row or region the page
does not have, a whole-body 'Total' taken for a total hip).

Usage::

    .venv/bin/python bench/bench_ocr.py --n 200 --which both
    .venv/bin/python bench/bench_ocr.py --real /tmp/real
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
from bmdkit.pipeline import process_file
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


def reallike_page(truth: TruthExam, i: int, out: Path) -> tuple[Path, str, str, str, TruthExam, set, frozenset]:
    """A real-like page (bmdkit.samples.real_like: vendor screenshots at 72-100 ppi, JPEG, slides):
    (file, layout, lang, rendering, the truth as printed, the printed cells, the measures left blank)."""
    import random

    from bmdkit.samples import real_like as rl
    from bmdkit.samples.truth import not_printed

    layout = rl.REAL_LIKE_LAYOUTS[i % len(rl.REAL_LIKE_LAYOUTS)]
    rendering = rl.REAL_LIKE_RENDERINGS[(i // len(rl.REAL_LIKE_LAYOUTS)) % len(rl.REAL_LIKE_RENDERINGS)]
    page = rl.render_real_like(truth, layout, rendering, rl._page_options(random.Random(i)), i)
    path = page.save(out / f"rl{i}_{layout}_{rendering}{page.suffix}")
    printed = {(c.cell.region, c.cell.side, c.cell.measure) for c in page.cells
               if c.cell.in_truth and c.cell.region is not None}
    return path, layout, "en", rendering, page.truth, printed, frozenset(not_printed(page.truth))


def phantoms(exam: object, truth: TruthExam, blank: frozenset) -> dict:
    """Values reported for a measure the page leaves blank: silent unless a review flag covers them."""
    from bmdkit.model import Region, Side

    out = {"phantom": 0, "phantom_flagged": 0}
    for tr in truth.contract_regions():
        side = Side(tr.side) if tr.side else None
        got = exam.region(Region(tr.region), side)  # type: ignore[attr-defined]
        for m in blank:
            if got is not None and got.value(m) is not None:
                out["phantom_flagged" if ho.covering(exam, tr.region, side, m) else "phantom"] += 1
    return out


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


# --- real pages (issue 22) -------------------------------------------------------------------

REAL_TRUTH = ROOT / "bench" / "real_pages" / "truth.json"
REAL_MEASURES = ("bmd", "t_score", "z_score", "bmc", "area")
CONTRACT_KEYS = [(r, None) for r in ("L1", "L2", "L3", "L4", "L1-L4")] + [
    (r, s) for r in ("femoral_neck", "total_hip") for s in ("left", "right", "mean")]


def score_real(exam: object, page: dict) -> dict:
    """One real page against its transcribed truth, every contract value and every measure.

    A number in the truth is exact / wrong (flagged or silent) / missing; a
    blank ('-', None) or unlisted value that bmdkit reports anyway is
    ``phantom`` (silent unless a review flag covers it) -- the silent wrong
    T-score of a blank column is the case that matters most.
    """
    from bmdkit.model import Region, Side

    out: dict = {"values": 0, "exact": 0, "burdened": 0, "reading_burdened": 0, "wrong_flagged": 0, "silent": 0, "missing": 0,
                 "phantom": 0, "phantom_flagged": 0, "bmd_t_values": 0, "bmd_t_exact": 0, "burden_codes": {},
                 "burden_flags": [], "silent_values": [], "wrong_values": []}
    failed = exam.status.value == "failed"  # type: ignore[attr-defined]
    for region, side in CONTRACT_KEYS:
        want_all = page["values"].get(region, {}).get(side or "-", {})
        sd = Side(side) if side else None
        got = ho.read_region(exam, Region(region), sd)
        for m in REAL_MEASURES:
            want = want_all.get(m)
            have = None if got is None else got.value(m)
            where = f"{region} {side or ''} {m}".replace("  ", " ")
            if want is None:
                if have is not None:
                    flagged = failed or bool(ho.covering(exam, region, sd, m))
                    out["phantom_flagged" if flagged else "phantom"] += 1
                    if not flagged:
                        out["silent"] += 1
                        out["silent_values"].append(f"{where}: read {have}, page prints none")
                continue
            bt = m in ("bmd", "t_score")
            out["bmd_t_values"] += bt
            kind, cover = ho.judge(out, exam, region, sd, m, want, have)
            if kind == "exact":
                out["bmd_t_exact"] += bt
                if failed or cover:
                    out["burden_flags"].append(f"{where}: " + " | ".join(f"{f.code.value}: {f.message}" for f in cover))
            elif kind == "wrong_flagged":
                out["wrong_values"].append(f"{where}: read {have}, printed {want}")
            elif kind == "silent":
                out["silent_values"].append(f"{where}: read {have}, printed {want}")
    return out


def run_real(real_dir: Path, engines: tuple[str, ...] = ("tesseract", "rapidocr"), only: str | None = None) -> dict:
    """Read every rebuilt real page (``only``: those whose key starts so) and score it; rows printed
    as they come, summary by vendor and rendering."""
    pages = {k: v for k, v in json.loads(REAL_TRUTH.read_text())["pages"].items() if not only or k.startswith(only)}
    rows = []
    for key, page in pages.items():
        for rendering in ("screen", "slide"):
            path = real_dir / f"{key}-{rendering}.png"
            if not path.is_file():
                raise SystemExit(f"{path} missing: run bench/real_pages/rebuild.sh first")
            t0 = time.perf_counter()
            c0 = cpu_seconds()
            ex = process_file(path, ReadOptions(ocr_engines=engines))
            sc = score_real(ex, page)
            row = {"page": key, "vendor": page["vendor"], "rendering": rendering, "status": ex.status.value,
                   "seconds": round(time.perf_counter() - t0, 2), "cpu": round(cpu_seconds() - c0, 2),
                   "date_ok": None if rendering == "slide" or not page["exam_date"] else
                   (ex.exam_date is not None and ex.exam_date.isoformat() == page["exam_date"]), **sc}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    summary: dict = {}
    for g in ("all", "vendor", "rendering", "vendor/rendering"):
        for r in rows:
            name = {"all": "all", "vendor": r["vendor"], "rendering": r["rendering"],
                    "vendor/rendering": f"{r['vendor']}/{r['rendering']}"}[g]
            acc = summary.setdefault(name, defaultdict(float))
            acc["pages"] += 1
            for k in ("values", "exact", "bmd_t_values", "bmd_t_exact", "burdened", "reading_burdened", "silent", "phantom",
                      "phantom_flagged", "wrong_flagged", "missing", "seconds", "cpu"):
                acc[k] += r[k]
            acc["failed"] += r["status"] == "failed"
            if r["date_ok"] is not None and r["values"]:  # the exam date, on pages with results
                acc["dates_scored"] += 1
                acc["dates_right"] += bool(r["date_ok"])
    return {name: {"pages": int(a["pages"]), "bmd_t_exact_pct": round(100 * a["bmd_t_exact"] / max(a["bmd_t_values"], 1), 1),
                   "all_exact_pct": round(100 * a["exact"] / max(a["values"], 1), 1), "values": int(a["values"]),
                   "silent": int(a["silent"]), "phantom_flagged": int(a["phantom_flagged"]),
                   "review_burden_pct": round(100 * a["burdened"] / max(a["exact"], 1), 1),
                   "reading_burden_pct": round(100 * a["reading_burdened"] / max(a["exact"], 1), 1),
                   "wrong_flagged": int(a["wrong_flagged"]), "missing": int(a["missing"]), "failed": int(a["failed"]),
                   "exam_dates_right": f"{int(a['dates_right'])}/{int(a['dates_scored'])}",
                   "s_per_page": round(a["seconds"] / max(a["pages"], 1), 1),
                   "cpu_s_per_page": round(a["cpu"] / max(a["pages"], 1), 1)}
            for name, a in summary.items()}


# --- main ------------------------------------------------------------------------------------

def page_degradation(s: str, k: int) -> str:
    """The damage kind of page ``k`` of set ``s`` (as dev_page / heldout_page / reallike_page choose it)."""
    if s == "dev":
        return DEGRADATIONS[(k // 2) % len(DEGRADATIONS)]
    if s == "heldout":
        return ("clean", "pdf", "scan", "photo", "lowres")[(k // 3) % 5]
    from bmdkit.samples import real_like as rl

    return rl.REAL_LIKE_RENDERINGS[(k // len(rl.REAL_LIKE_LAYOUTS)) % len(rl.REAL_LIKE_RENDERINGS)]


def run(n: int, which: str, seed: int, compare: bool, base: bool, start: int = 0,
        only_deg: frozenset[str] | None = None) -> dict:
    """Read and score ``n`` generated pages (``only_deg``: only those of these damage kinds, the
    same pages as a full run)."""
    rows = []
    gen = TruthGenerator(seed)
    makers = {"dev": dev_page, "heldout": heldout_page, "reallike": reallike_page}
    sets = ["dev", "heldout"] if which == "both" else ["dev", "heldout", "reallike"] if which == "all" else [which]
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
            if only_deg and page_degradation(s, i // len(sets)) not in only_deg:
                continue
            blank: frozenset = frozenset()
            if s == "reallike":
                path, fam, lang, deg, truth, printed, blank = reallike_page(truth, i // len(sets), out)
            else:
                path, fam, lang, deg = makers[s](truth, i // len(sets), out)
                # dev layouts may leave values out (no hip mean, an omitted excluded vertebra): score what is printed
                printed = dev_printed(truth, fam, lang) if s == "dev" else None
            row = {"set": s, "family": fam, "lang": lang, "deg": deg, "scan": truth.scan_type}
            for name, engines in configs.items():
                t0 = time.perf_counter()
                c0 = cpu_seconds()
                ex = process_file(path, ReadOptions(ocr_engines=engines))
                dt = time.perf_counter() - t0
                cpu = cpu_seconds() - c0
                sc = score(ex, truth, printed)
                ph = phantoms(ex, truth, blank)
                sc["silent"] += ph["phantom"]
                sc.update(ph)
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
                      f"{r['set']}/{'clean+pdf' if r['deg'] in ('clean', 'pdf', 'png90') else 'degraded'}",
                      f"{r['set']}/{r['deg']}"):
                acc = groups[g]
                acc["pages"] += 1
                for c, k in r[cfg].get("burden_codes", {}).items():
                    acc["code:" + c] += k
                for k in ("values", "exact", "burdened", "reading_burdened", "silent", "wrong_flagged", "missing",
                          "missing_unflagged", "seconds", "cpu"):
                    acc[k] += r[cfg].get(k, 0)
                acc["failed"] += r[cfg].get("status") == "failed"
        summary[cfg] = {g: {"pages": int(a["pages"]), "exact_pct": round(100 * a["exact"] / max(a["values"], 1), 1),
                            "values": int(a["values"]), "silent": int(a["silent"]),
                            "review_burden_pct": round(100 * a["burdened"] / max(a["exact"], 1), 1),
                            "reading_burden_pct": round(100 * a["reading_burdened"] / max(a["exact"], 1), 1),
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
    ap.add_argument("--which", choices=("dev", "heldout", "reallike", "both", "all"), default="both",
                    help="page sets: both = dev + heldout; all adds the real-like screenshots")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--start", type=int, default=0, help="skip the pages before this one (same pages as a full run)")
    ap.add_argument("--engines-compare", action="store_true", help="also run each engine alone")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--json", type=Path, help="write the summary here")
    ap.add_argument("--real", type=Path, metavar="DIR",
                    help="score the real development pages rebuilt into DIR (bench/real_pages/rebuild.sh) instead")
    ap.add_argument("--deg", help="only the generated pages of these damage kinds, comma-separated "
                    "(e.g. photo,scan; the same pages as a full run)")
    ap.add_argument("--only", help="with --real: only the pages whose key starts so (e.g. ge-, hologic-4)")
    a = ap.parse_args()
    if a.real:
        summary = run_real(a.real, only=a.only)
    else:
        summary = run(a.n, a.which, a.seed, a.engines_compare, not a.no_baseline, a.start,
                      frozenset(a.deg.split(",")) if a.deg else None)
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    print(text)
    if a.json:
        a.json.write_text(text)


if __name__ == "__main__":
    main()
