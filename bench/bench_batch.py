"""Benchmark the batch: files/s with one worker and all cores, beside bare loops, peak memory, resume time.

Usage::

    .venv/bin/python bench/bench_batch.py [--files 10000] [--workdir /tmp/bmdkit-bench] [--bare-sample 500]

Generates ``--files`` Comprehensive SR DICOM files from the seeded truth
generator (once; reused when present), then measures in one run:

- a bare loop of ``pydicom.dcmread`` over all files;
- a bare loop of ``bmdkit.read_file`` over a sample (``--bare-sample``);
- ``bmdkit batch`` with one worker and with all cores (fresh output each);
- re-running the finished all-cores batch (resume: nothing to do);
- the peak resident memory of the batch process tree (sampled every 0.1 s).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from pathlib import Path

import psutil
import pydicom

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers.batch import write_sr

from bmdkit import read_file
from bmdkit.batch.runner import default_workers, run_batch
from bmdkit.samples.truth import TruthGenerator


class PeakRSS:
    """Peak summed RSS of this process and all its descendants."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.1)

    def __enter__(self) -> PeakRSS:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def generate(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("*.dcm"))
    if len(existing) >= n:
        return existing[:n]
    gen = TruthGenerator(2026)
    for i in range(n):
        write_sr(folder / f"e{i:05d}.dcm", gen.exam())
    return sorted(folder.glob("*.dcm"))[:n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bmdkit-bench"))
    ap.add_argument("--bare-sample", type=int, default=500)
    args = ap.parse_args()
    src = args.workdir / f"in-{args.files}"
    t = time.perf_counter()
    files = generate(src, args.files)
    print(f"inputs: {len(files)} SR files in {src} (generated/reused in {time.perf_counter() - t:.1f} s)")

    t = time.perf_counter()
    for f in files:
        pydicom.dcmread(f)
    dt_read = time.perf_counter() - t
    print(f"bare pydicom.dcmread loop: {len(files) / dt_read:8.1f} files/s")
    sample = files[: args.bare_sample]
    t = time.perf_counter()
    for f in sample:
        read_file(f)
    dt_bm = time.perf_counter() - t
    print(f"bare bmdkit.read_file loop ({len(sample)} files): {len(sample) / dt_bm:8.1f} files/s")

    for workers in sorted({1, default_workers()}):
        out = args.workdir / f"out-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        with PeakRSS() as mem:
            t = time.perf_counter()
            s = run_batch([src], out, workers=workers, progress=False)
            dt_b = time.perf_counter() - t
        print(f"batch, {workers} worker(s): {s.processed / dt_b:8.1f} files/s "
              f"({s.processed} files, {dt_b:.1f} s, {s.failed} failed), peak RSS {mem.peak / 2**20:.0f} MiB")
    with PeakRSS() as mem:
        t = time.perf_counter()
        s = run_batch([src], out, workers=default_workers(), progress=False)
        dt_r = time.perf_counter() - t
    print(f"resume of the finished batch: {dt_r:.2f} s ({s.processed} files reprocessed), "
          f"peak RSS {mem.peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
