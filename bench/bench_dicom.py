"""Benchmark: files per second of ``bmdkit.dicom.read_dicom`` beside bare ``pydicom.dcmread``.

Generates a set of DXA DICOM files of the result-bearing and no-result kinds
(SR x3 shapes, Hologic XML x2, GE Lunar CR, GE Lunar raw blob, Hologic display
image; report pages are left out, they are OCR work), then times, in the same
run and over the same files:

- bare ``pydicom.dcmread(path, stop_before_pixels=True)`` (the aim's baseline);
- the same read followed by ``Dataset.walk`` over every element, which makes
  pydicom convert every nested sequence (what any reader of an SR content
  tree must pay at least: the bare read leaves defined-length sequences as
  raw bytes);
- ``read_dicom(path, source, options)`` (parse, find results, metadata).

Prints files/s of each, their ratios overall and per file kind, and the peak
Python memory of one ``read_dicom`` pass (tracemalloc). Usage::

    .venv/bin/python bench/bench_dicom.py [--files 2000] [--dir /tmp/bench_dicom] [--repeat 1]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import pydicom

from bmdkit.dicom import read_dicom
from bmdkit.model import InputKind, Source
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.samples import dicom_gen
from bmdkit.samples.truth import SCAN_KINDS, TruthGenerator

KINDS = ("sr_flat", "sr_nested", "sr_zh", "hologic_xml", "hologic_xml_attr",
         "lunar_cr", "lunar_raw", "hologic_display")


def make_set(outdir: Path, n_files: int, seed: int = 2026) -> list[Path]:
    gen = TruthGenerator(seed)
    files: list[Path] = []
    i = 0
    while len(files) < n_files:
        t = gen.exam(scan_type=SCAN_KINDS[i % len(SCAN_KINDS)], exclude=["L1"] if i % 7 == 0 else None)
        i += 1
        files += [p for p, _ in dicom_gen.write_dicom_samples(t, outdir, KINDS)]
    return files[:n_files]


def bare(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in files:
        pydicom.dcmread(p, stop_before_pixels=True)
    return time.perf_counter() - t0


def walked(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in files:
        pydicom.dcmread(p, stop_before_pixels=True).walk(lambda ds, elem: None)
    return time.perf_counter() - t0


def kind_of(p: Path) -> str:
    return next((k for k in KINDS if p.stem.endswith("_" + k)), "other")


def ours(files: list[Path]) -> tuple[float, int]:
    found = 0
    t0 = time.perf_counter()
    for p in files:
        src = Source(str(p), "0" * 64, InputKind.DICOM)
        r = read_dicom(p, src, DEFAULT_OPTIONS)
        found += bool(r.exam is not None and r.exam.regions)
    return time.perf_counter() - t0, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    tmp = args.dir or Path(tempfile.mkdtemp(prefix="bench_dicom_"))
    try:
        t0 = time.perf_counter()
        files = make_set(tmp, args.files)
        size = sum(p.stat().st_size for p in files)
        print(f"generated {len(files)} files ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
        bare(files[:50]), ours(files[:50])  # warm the page cache and imports
        best_bare = min(bare(files) for _ in range(args.repeat))
        best_walk = min(walked(files) for _ in range(args.repeat))
        runs = [ours(files) for _ in range(args.repeat)]
        best_ours = min(r[0] for r in runs)
        per_kind = []
        for k in KINDS:
            sub = [p for p in files if kind_of(p) == k]
            if sub:
                b, w, o = bare(sub), walked(sub), ours(sub)[0]
                per_kind.append((k, len(sub), b, w, o))
        tracemalloc.start()
        ours(files[:200])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        n = len(files)
        print(f"bare pydicom.dcmread(stop_before_pixels=True): {n / best_bare:8.1f} files/s")
        print(f"dcmread + Dataset.walk (sequences expanded):   {n / best_walk:8.1f} files/s")
        print(f"bmdkit read_dicom:                             {n / best_ours:8.1f} files/s "
              f"({runs[0][1]} files with results)")
        print(f"ratio read_dicom / bare read:                  {best_bare / best_ours:8.2f}")
        print(f"ratio read_dicom / read + walk:                {best_walk / best_ours:8.2f}")
        print("per kind (ms per file: bare, read+walk, read_dicom; ratio to bare, to read+walk):")
        for k, m, b, w, o in per_kind:
            print(f"  {k:18s} {m:5d} files  {1000 * b / m:6.2f} {1000 * w / m:6.2f} {1000 * o / m:6.2f}"
                  f"   {b / o:5.2f} {w / o:5.2f}")
        print(f"peak Python memory over 200 read_dicom calls: {peak / 1e6:8.1f} MB")
    finally:
        if args.dir is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
