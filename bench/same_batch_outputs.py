"""Prove a batch change changes no batch output: run a batch, save every output, change the code, compare.

Records, for one ``bmdkit batch`` run (in process, :func:`bmdkit.batch.runner.run_batch`)
over the given inputs into a fresh output folder:

- every output file (``results.jsonl``, ``exams.jsonl``, ``results.csv``,
  ``failures.csv``, ``skipped.csv``): its lines, JSON lines with timing fields
  (any key naming seconds or elapsed time) left out, CSV lines as written;
- the ledger (``state.sqlite``): every row of ``files`` (the stored contract
  line parsed, timing fields left out) and of ``names``;
- each output file's mode (owner-only).

Two recordings are compared line by line; the first differences are printed.
Run the *before* side from a copy of the tree with the old code first on the
path (``PYTHONPATH=/copy``), the *after* side from the working tree. Run the
before side from a directory other than the working tree (``cd /copy``): the
batch's fork server puts the current directory first on its workers' path, so
from the working tree they would import the new code under the old batch. Copy
the whole package at the same moment for both sides (other changes to the
readers would show as differences).

Usage::

    .venv/bin/python bench/same_batch_outputs.py save /tmp/before.json samples [--workers 2] [--no-ocr]
    # ... change the code ...
    .venv/bin/python bench/same_batch_outputs.py save /tmp/after.json samples [--workers 2] [--no-ocr]
    .venv/bin/python bench/same_batch_outputs.py diff /tmp/before.json /tmp/after.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import stat
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

_TIMING_KEYS = frozenset({"elapsed", "elapsed_s", "seconds", "duration", "duration_s", "read_seconds",
                          "timing", "time_s", "took_s"})
_OUTPUTS = ("results.jsonl", "exams.jsonl", "results.csv", "failures.csv", "skipped.csv")


def drop_timing(obj: Any) -> Any:
    """``obj`` without timing fields, at any depth."""
    if isinstance(obj, dict):
        return {k: drop_timing(v) for k, v in obj.items() if k not in _TIMING_KEYS}
    if isinstance(obj, list):
        return [drop_timing(x) for x in obj]
    return obj


def record(out: Path) -> dict[str, Any]:
    """Every output of the batch folder ``out``, timing left out."""
    rec: dict[str, Any] = {}
    for name in _OUTPUTS:
        p = out / name
        if not p.exists():
            rec[name] = None
            continue
        lines = p.read_text(encoding="utf-8").splitlines()
        if name.endswith(".jsonl"):
            lines = [json.dumps(drop_timing(json.loads(x)), ensure_ascii=False, sort_keys=True) for x in lines]
        rec[name] = lines
        rec[name + ":mode"] = oct(stat.S_IMODE(p.stat().st_mode))
    db = sqlite3.connect(out / "state.sqlite")
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(files)")]
        files = []
        for row in db.execute(f"SELECT {', '.join(cols)} FROM files ORDER BY key"):
            d = dict(zip(cols, row, strict=True))
            if d.get("line"):
                d["line"] = drop_timing(json.loads(d["line"]))
            files.append(d)
        rec["ledger:files"] = files
        rec["ledger:names"] = [list(r) for r in db.execute(
            "SELECT place, key, display, stamp FROM names ORDER BY place, key")]
    finally:
        db.close()
    return rec


def save(path: Path, inputs: list[str], workers: int, no_ocr: bool) -> None:
    from bmdkit.batch.runner import run_batch
    from bmdkit.options import DEFAULT_OPTIONS

    opts = replace(DEFAULT_OPTIONS, ocr_engines=()) if no_ocr else DEFAULT_OPTIONS
    out = Path(tempfile.mkdtemp(prefix="same_batch_")) / "out"
    try:
        summary = run_batch(inputs, out, workers=workers, options=opts, progress=False)
        rec = record(out)
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    import bmdkit

    rec["_run"] = {"inputs": inputs, "workers": workers, "no_ocr": no_ocr, "files": summary.files,
                   "code": str(Path(bmdkit.__file__).parent)}
    path.write_text(json.dumps(rec, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
    print(f"saved {summary.files} files' outputs from {rec['_run']['code']} to {path}")


def diff(before: Path, after: Path, show: int = 10) -> int:
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (before, after))
    a.pop("_run", None), b.pop("_run", None)
    bad = 0
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x == y:
            n = len(x) if isinstance(x, list) else 1
            print(f"  same  {key} ({n} {'lines' if isinstance(x, list) else 'value'})")
            continue
        bad += 1
        print(f"  DIFF  {key}")
        if isinstance(x, list) and isinstance(y, list):
            shown = 0
            for i in range(max(len(x), len(y))):
                if (x[i] if i < len(x) else None) != (y[i] if i < len(y) else None):
                    print(f"    line {i}:\n      before {str(x[i] if i < len(x) else None)[:400]}\n"
                          f"      after  {str(y[i] if i < len(y) else None)[:400]}")
                    shown += 1
                    if shown >= show:
                        break
        else:
            print(f"    before {str(x)[:400]}\n    after  {str(y)[:400]}")
    print("identical" if not bad else f"{bad} outputs differ")
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save")
    s.add_argument("path", type=Path)
    s.add_argument("inputs", nargs="+")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--no-ocr", action="store_true")
    d = sub.add_parser("diff")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "save":
        save(args.path, [str(Path(i).resolve()) for i in args.inputs], args.workers, args.no_ocr)
    else:
        sys.exit(diff(args.before, args.after))


if __name__ == "__main__":
    main()
