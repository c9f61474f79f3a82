"""Benchmark ``bmdkit listen``: objects/s received (dcmtk storescu, one association) and processed.

Usage::

    .venv/bin/python bench/bench_listen.py [--objects 300] [--workdir /tmp/bmdkit-bench-listen]

Generates ``--objects`` Comprehensive SR files (seeded truth generator), starts
a real listener on a loopback port, sends them all with ``storescu`` and reports
the receive rate (stored and acknowledged) and the processing rate (received
objects through the batch into ``results.jsonl``), then stops it with SIGTERM.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from network_servers import result_count, start_listener, storescu, wait_for, write_listen_config  # noqa: E402
from helpers.batch import write_sr  # noqa: E402

from bmdkit.samples.truth import TruthGenerator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bmdkit-bench-listen"))
    args = ap.parse_args()
    src = args.workdir / "in"
    if not src.is_dir() or sum(1 for _ in src.iterdir()) != args.objects:
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        gen = TruthGenerator(11)
        for i in range(args.objects):
            write_sr(src / f"e{i:05d}.dcm", gen.exam())
    files = sorted(src.iterdir())
    out = args.workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    cfg = write_listen_config(args.workdir / "listen.toml", process_every_s=0.5)
    lis = start_listener(out, cfg, workers=args.workers)
    try:
        t0 = time.monotonic()
        r = storescu(lis.port, files)
        received = time.monotonic() - t0
        assert r.returncode == 0, r.stderr
        wait_for(lambda: result_count(out) == len(files), 3600, "processing", lis.proc)
        total = time.monotonic() - t0
    finally:
        lis.stop()
    print(f"{len(files)} objects received in {received:.2f} s: {len(files) / received:.1f} objects/s")
    print(f"received and processed in {total:.2f} s: {len(files) / total:.1f} objects/s end to end "
          f"({args.workers} workers)")
    print(lis.log_text().strip().splitlines()[-1])


if __name__ == "__main__":
    main()
