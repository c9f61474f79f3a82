"""Benchmark a reader on generated sentence-style reports (issue 22), by form and language.

Pages come from :func:`bmdkit.samples.sentence_gen.make_sentence_pages`:
plain text (UTF-8, UTF-8 with BOM, GB18030), PDF with a text layer, flatbed
scan and phone photo, in English, Chinese and both. Each file is read by a
*reader callable* ``reader(path) -> Exam`` and scored with the tests' scorer
(``tests/heldout_reports.score_exam``) on the values the report states: BMD
and T-score exact as printed, wrong-but-flagged, silent errors (wrong with no
review flag covering it), missing, and the review burden (exact values under
a review flag).

Readers:

- ``check`` (default): :func:`bmdkit.pipeline.process_file`, what ``bmdkit check``
  and ``bmdkit batch`` report: the reader, then the checks (the one-cell guard
  ``checks.cells`` withdraws values two measures share a box with, plausibility,
  evaluability). Scored here, a check that withdraws what the reader read right
  shows as values missing.
- ``read_file``: :func:`bmdkit.read.read_file`, the reader without the checks.
  Text files go through ``bmdkit.report.textfile``; PDFs and images reach
  the sentence reader where ``read_report`` finds no results table.
- ``preview``: the sentence reader on one engine's words, without the reader: text files as above;
  a PDF's text-layer words (``report.pdftext``) or a prepared image's
  RapidOCR words (``report.preprocess`` + ``report.ocr``), grouped into
  lines by ``report.sentences.group_words`` and read by ``report.sentences``.
- ``module:function``: any callable taking a path and returning an Exam.

Usage::

    .venv/bin/python bench/bench_sentences.py --n 24 --forms txt,pdf
    .venv/bin/python bench/bench_sentences.py --n 24 --forms scan,photo --reader preview
    .venv/bin/python bench/bench_sentences.py --n 24 --forms photo,scan --seed 909
    .venv/bin/python bench/bench_sentences.py --n 48 --json out.json
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import heldout_reports as ho

from bmdkit.model import Exam, InputKind, Source
from bmdkit.pipeline import process_file
from bmdkit.read import read_file
from bmdkit.samples.sentence_gen import FORMS, LANGS, make_sentence_pages

Reader = Callable[[Path], Exam]
COUNTS = ("values", "exact", "burdened", "wrong_flagged", "silent", "missing", "missing_unflagged")


def preview_reader(path: Path) -> Exam:
    """Text files through read_file; PDFs and images read as sentences by one engine, without the reader."""
    from bmdkit.report import sentences

    if path.suffix == ".txt":
        return read_file(path)
    data = path.read_bytes()
    source = Source(str(path), hashlib.sha256(data).hexdigest(), InputKind.PDF if path.suffix == ".pdf"
                    else InputKind.IMAGE, len(data))
    if path.suffix == ".pdf":
        from bmdkit.report import pdftext

        tokens = pdftext.pdf_words(data, 0, 150 / 72)
    else:
        import numpy as np
        from PIL import Image

        from bmdkit.options import DEFAULT_OPTIONS
        from bmdkit.report import ocr, preprocess

        prep = preprocess.prepare(np.asarray(Image.open(path).convert("RGB")), max_pixels=DEFAULT_OPTIONS.max_pixels)
        tokens = ocr.rapid_page(prep.image)
    lines = sentences.lines_from_words(sentences.group_words(tokens), page=1)
    got = sentences.read_sentence_page(lines)
    return Exam(source=source, regions=got.regions, flags=got.flags, reader="bench.preview")


def load_reader(name: str) -> Reader:
    if name == "check":
        return process_file
    if name == "read_file":
        return read_file
    if name == "preview":
        return preview_reader
    module, func = name.split(":")
    reader: Reader = getattr(importlib.import_module(module), func)
    return reader


def run(n: int, forms: tuple[str, ...], langs: tuple[str, ...], seed: int, reader: Reader,
        out_dir: Path) -> dict[str, dict]:
    """Score ``reader`` on ``n`` generated pages; totals per form, per form and language, and overall."""
    pages = make_sentence_pages(n, out_dir, seed, forms, langs)
    table: dict[str, dict] = defaultdict(lambda: {**{k: 0 for k in COUNTS}, "files": 0, "failed": 0,
                                                  "seconds": 0.0, "silent_values": [], "burden_codes": {}})
    for p in pages:
        t0 = time.perf_counter()
        exam = reader(p.path)
        dt = time.perf_counter() - t0
        score = ho.score_exam(exam, p.truth, ("bmd", "t_score"), set(p.printed))
        for key in (p.form, f"{p.form}/{p.lang}", "all"):
            row = table[key]
            row["files"] += 1
            row["failed"] += exam.status.value == "failed"
            row["seconds"] += dt
            for k in COUNTS:
                row[k] += score[k]
            row["silent_values"] += [f"{p.path.name}: {s}" for s in score["silent_values"]]
            for code, k in score["burden_codes"].items():
                row["burden_codes"][code] = row["burden_codes"].get(code, 0) + k
    return dict(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=24, help="pages to generate (cycled over forms, then languages)")
    ap.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated, of {FORMS}")
    ap.add_argument("--langs", default=",".join(LANGS), help=f"comma-separated, of {LANGS}")
    ap.add_argument("--seed", type=int, default=2201)
    ap.add_argument("--reader", default="check", help="check, read_file, preview or module:function")
    ap.add_argument("--out", type=Path, default=None, help="keep the pages here (default: a temporary folder)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args(argv)
    reader = load_reader(args.reader)
    forms, langs = tuple(args.forms.split(",")), tuple(args.langs.split(","))
    with tempfile.TemporaryDirectory(prefix="bmdkit-sentences-") as tmp:
        table = run(args.n, forms, langs, args.seed, reader, args.out or Path(tmp))
    print(f"{'set':<12}{'files':>6}{'failed':>7}{'values':>7}{'exact%':>8}{'silent':>7}{'flagged':>8}"
          f"{'missing':>8}{'burden%':>8}{'s/page':>8}")
    for key in sorted(table, key=lambda k: (k == "all", k)):
        r = table[key]
        exact = 100.0 * r["exact"] / r["values"] if r["values"] else 0.0
        burden = 100.0 * r["burdened"] / r["exact"] if r["exact"] else 0.0
        print(f"{key:<12}{r['files']:>6}{r['failed']:>7}{r['values']:>7}{exact:>8.1f}{r['silent']:>7}"
              f"{r['wrong_flagged']:>8}{r['missing']:>8}{burden:>8.1f}{r['seconds'] / r['files']:>8.2f}")
    codes = table.get("all", {}).get("burden_codes", {})
    if codes:
        print("burden by flag code (exact values a flag of that code covers):",
              ", ".join(f"{c} {k}" for c, k in sorted(codes.items(), key=lambda kv: -kv[1])))
    for s in table.get("all", {}).get("silent_values", []):
        print("SILENT", s)
    if args.json:
        args.json.write_text(json.dumps(table, indent=2, ensure_ascii=False))
    return 1 if table.get("all", {}).get("silent") else 0


if __name__ == "__main__":
    raise SystemExit(main())
