"""Benchmark: the review page at 5,000 exams, built from real pages and opened in headless chromium.

Builds a batch folder of N exams (a third each PNG report pages, PDF report
pages and DICOM values; about a third flagged) with the same generator as the
tests, writes the review page, then opens it from disk in Debian's chromium
and measures: file size, build time, time until the page says it is ready
(``document.body.dataset.ready``), DOMContentLoaded and load events, the
time one filter change takes, and the JS heap used.

Usage::

    .venv/bin/python bench/bench_review.py --n 5000 --work /tmp/bench_review [--crops all|flagged]

The generated folder is kept in ``--work`` and reused on the next run (pass
``--fresh`` to rebuild it). Figures are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers.review import chrome, make_batch

from bmdkit.review.page import PageOptions, build_page


def measure_in_browser(page: Path, work: Path, runs: int = 3) -> dict[str, float]:
    """Open the page ``runs`` times in a fresh profile; medians of the timings."""
    profile = work / "profile"
    shutil.rmtree(profile, ignore_errors=True)
    driver = chrome(work / "downloads", profile)
    results: list[dict[str, float]] = []
    try:
        for _ in range(runs):
            driver.get("about:blank")
            t0 = time.perf_counter()
            driver.get(page.as_uri())  # returns after the load event
            while driver.execute_script("return document.body.dataset.ready") != "1":
                time.sleep(0.01)
            ready = time.perf_counter() - t0
            nav = driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return [n.domContentLoadedEventEnd, n.loadEventEnd];")
            t1 = time.perf_counter()
            driver.find_element("id", "f-flagged").click()
            driver.execute_script("return document.getElementById('count').textContent")
            filt = time.perf_counter() - t1
            heap = driver.execute_script("return performance.memory ? performance.memory.usedJSHeapSize : 0")
            errors = [x for x in driver.get_log("browser") if x["level"] == "SEVERE"]
            results.append({"ready_s": ready, "dom_content_loaded_s": nav[0] / 1000, "load_s": nav[1] / 1000,
                            "filter_s": filt, "js_heap_mb": heap / 1e6, "console_errors": len(errors)})
    finally:
        driver.quit()
    med = {}
    for k in results[0]:
        vals = sorted(r[k] for r in results)
        med[k] = round(vals[len(vals) // 2], 3)
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_review"))
    ap.add_argument("--crops", choices=("all", "flagged"), default="all")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    work = args.work / f"n{args.n}"
    if args.fresh:
        shutil.rmtree(work, ignore_errors=True)
    figures: dict[str, object] = {"n_exams": args.n, "crops": args.crops, "jobs": args.jobs}
    out = work / "out"
    if not (out / "results.jsonl").is_file():
        t = time.perf_counter()
        make_batch(work, args.n, seed=2026, flagged_share=0.3, failed=max(1, args.n // 100))
        figures["generate_s"] = round(time.perf_counter() - t, 1)
    page = work / f"review-{args.crops}.html"
    cwd = os.getcwd()
    os.chdir(work)
    try:
        t = time.perf_counter()
        build_page(out, page, PageOptions(crops=args.crops, source_roots=(work,), jobs=args.jobs))
        figures["build_s"] = round(time.perf_counter() - t, 1)
    finally:
        os.chdir(cwd)
    figures["page_mb"] = round(page.stat().st_size / 1e6, 1)
    figures.update(measure_in_browser(page, work, args.runs))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
