"""Benchmark the Dask runner on OCR-heavy input: files/s with 1 and 2 Dask workers beside the local batch.

Usage::

    .venv/bin/python bench/bench_dask.py [--copies 2] [--workdir /tmp/bmdkit-bench-dask]

Input: the bundled report samples that need OCR (PNG/JPEG pages, image-only
PDF, the DICOM report page), each copied ``--copies`` times with one byte
appended so every copy is a distinct file to the ledger (the trailing byte
does not change what is read). In one run, each on a fresh output folder:

- the local process-pool batch with 1 and with 2 workers;
- the Dask runner on a ``LocalCluster`` of 1 and of 2 worker processes (one
  thread each; cluster start-up is not timed).

Prints files/s for each and the ratios Dask/local and 2/1 workers, and checks
that every run gives the same ``results.jsonl`` values.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from bmdkit.batch.runner import run_batch  # noqa: E402

OCR_SAMPLES = ("*.png", "*.jpg", "*_pdf_image.pdf", "*_report_page_sc.dcm")


def make_input(workdir: Path, copies: int) -> Path:
    """The OCR-heavy input folder (rebuilt each run)."""
    src = workdir / "in"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    files = sorted({p for pat in OCR_SAMPLES for p in (ROOT / "samples" / "reports").glob(pat)})
    for f in files:
        for k in range(copies):
            if k == 0:
                data = f.read_bytes()
            elif f.suffix == ".dcm":
                data = _dicom_copy(f, k)
            else:
                data = f.read_bytes() + b"\0" * k  # image and PDF readers ignore trailing bytes
            (src / f"c{k}-{f.name}").write_bytes(data)
    return src


def _dicom_copy(f: Path, k: int) -> bytes:
    """A distinct copy of a DICOM file: a new SOP Instance UID (trailing bytes would break the file)."""
    import io

    import pydicom

    ds = pydicom.dcmread(f)
    ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{k}"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def values(out: Path) -> list[str]:
    rows = []
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        d["source"].pop("path", None)
        rows.append(json.dumps(d, sort_keys=True))
    return sorted(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bmdkit-bench-dask"))
    args = ap.parse_args()
    import distributed

    from bmdkit.batch.dask_runner import run_batch_dask

    src = make_input(args.workdir, args.copies)
    n = sum(1 for _ in src.iterdir())
    print(f"{n} OCR-heavy files in {src}")
    rates: dict[str, float] = {}
    outs: dict[str, Path] = {}
    for workers in (1, 2):
        out = args.workdir / f"local{workers}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.monotonic()
        run_batch([src], out, workers=workers, progress=False)
        rates[f"local {workers}"] = n / (time.monotonic() - t0)
        outs[f"local {workers}"] = out
    for workers in (1, 2):
        out = args.workdir / f"dask{workers}"
        shutil.rmtree(out, ignore_errors=True)
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as cluster, \
                distributed.Client(cluster) as client:
            t0 = time.monotonic()
            run_batch_dask([src], out, client=client, progress=False)
            rates[f"dask {workers}"] = n / (time.monotonic() - t0)
        outs[f"dask {workers}"] = out
    for name, rate in rates.items():
        print(f"{name:8s} workers: {rate:6.3f} files/s")
    print(f"dask 2/1 workers: {rates['dask 2'] / rates['dask 1']:.2f}x; "
          f"local 2/1 workers: {rates['local 2'] / rates['local 1']:.2f}x")
    print(f"dask/local with 1 worker: {rates['dask 1'] / rates['local 1']:.2f}x; "
          f"with 2: {rates['dask 2'] / rates['local 2']:.2f}x")
    ref = values(outs["local 2"])
    same = {name: values(out) == ref for name, out in outs.items()}
    print("results.jsonl values equal to local 2 workers:", same)
    if not all(same.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
