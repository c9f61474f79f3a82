"""Benchmark: the DICOM reader on a mix like a real archive, beside bare ``pydicom.dcmread``, in one run.

The mix (issue 20): 70% scan images (real-shaped GE Lunar CR/BMD/OT frames of
knee, total body, forearm, LVA, hip implant, spine and femur, many page-sized;
GE Lunar CR with and without an enCORE raw blob; Hologic display images),
20% structured reports (development SR shapes, LOINC-named SRs with
modifiers), 10% report objects (Hologic report DICOM with script and page,
vendor XML objects, a report page as Secondary Capture, an encapsulated PDF).

Measured over the same files, in the same run:

1. bare ``pydicom.dcmread(path, stop_before_pixels=True)`` vs
   ``bmdkit.dicom.read_dicom`` (header, triage, results, text-density test
   and page pixels where a page must be OCR'd; not the OCR itself) on the
   whole mix: the ratio of their speeds (aim >= 0.5), best wall-clock times
   of ``--repeat``, and beside it the median ratio of their CPU times (run
   back to back: steadier when the machine is shared);
2. the same on the scan images alone (aim >= 0.8);
3. ``bmdkit batch`` with one worker (hashing, ledger, checks, outputs,
   results passed between processes) vs a bare ``bmdkit.read_file`` loop,
   both with OCR off: the ratio of their times (aim <= 1.3); then the batch
   again with the pool's fork server up, and without the fixed cost of a
   batch (a one-file batch's time), each the median of ``--repeat`` runs
   beside their own bare loop; and per file alone beside the bare loop run in a
   fresh process (:func:`fresh_loop`: its caches as cold as a new worker's); of the
   CPU, the share of the batch's own process (walk, ledger, outputs) is given apart;
4. a profile of SR reading (top functions by cumulative time), and the
   time of ``dcmread`` + ``Dataset.walk`` (every sequence expanded) on the SRs.

Usage::

    .venv/bin/python bench/bench_dicom.py [--files 1000] [--dir DIR] [--repeat 3] [--batch-files 300]
    .venv/bin/python bench/bench_dicom.py --batch-only [--dir DIR]   # part 3 alone, to compare code
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Self

import psutil
import pydicom

from bmdkit import read_file
from bmdkit.batch.runner import run_batch
from bmdkit.dicom import read_dicom
from bmdkit.model import InputKind, Source
from bmdkit.options import DEFAULT_OPTIONS

SCAN_KINDS_DICOM = ("lunar_cr", "lunar_raw", "hologic_display")
SR_KINDS = ("sr_flat", "sr_nested", "sr_zh", "sr_loinc_mod", "sr_loinc_lat", "sr_loinc_unitless")
REPORT_KINDS = ("hologic_script", "hologic_xml", "xml_nested_child", "report_page_sc", "report_pdf")
SHARES = {"scan": 0.7, "sr": 0.2, "report": 0.1}
_GE_CLASSES = ("cr", "cr", "bmd", "ot")


def make_mix(outdir: Path, n_files: int, seed: int = 2026) -> dict[str, list[Path]]:
    """Write the mix (or reuse the one listed in ``outdir/mix.json``); the files by group."""
    manifest = outdir / "mix.json"
    if manifest.exists():
        listed = json.loads(manifest.read_text())
        if sum(len(v) for v in listed.values()) == sum(max(1, round(n_files * s)) for s in SHARES.values()):
            return {g: [Path(p) for p in v] for g, v in listed.items()}
    groups = _write_mix(outdir, n_files, seed)
    manifest.write_text(json.dumps({g: [str(p) for p in v] for g, v in groups.items()}))
    return groups


def _write_mix(outdir: Path, n_files: int, seed: int) -> dict[str, list[Path]]:
    from bmdkit.samples import dicom_gen
    from bmdkit.samples.dicom_kinds.scan_images import GE_SCANS, write_ge_scan
    from bmdkit.samples.truth import SCAN_KINDS, TruthGenerator
    gen = TruthGenerator(seed)
    want = {g: max(1, round(n_files * s)) for g, s in SHARES.items()}
    out: dict[str, list[Path]] = {g: [] for g in SHARES}
    i = 0
    while any(len(out[g]) < want[g] for g in SHARES):
        t = gen.exam(scan_type=SCAN_KINDS[i % len(SCAN_KINDS)], exclude=["L1"] if i % 7 == 0 else None)
        i += 1
        if len(out["scan"]) < want["scan"]:
            for j, scan in enumerate(GE_SCANS):
                p = outdir / f"{t.sample_id}_ge_{scan}.dcm"
                write_ge_scan(t, p, scan, _GE_CLASSES[(i + j) % len(_GE_CLASSES)])
                out["scan"].append(p)
            out["scan"] += [p for p, _ in dicom_gen.write_dicom_samples(t, outdir, SCAN_KINDS_DICOM)]
        if len(out["sr"]) < want["sr"]:
            out["sr"] += [p for p, _ in dicom_gen.write_dicom_samples(t, outdir, SR_KINDS)]
        if len(out["report"]) < want["report"]:
            kinds = REPORT_KINDS[(i % len(REPORT_KINDS)):] + REPORT_KINDS[:(i % len(REPORT_KINDS))]
            out["report"] += [p for p, _ in dicom_gen.write_dicom_samples(t, outdir, kinds[:2], page_dpi=90)]
    return {g: files[:want[g]] for g, files in out.items()}


def batch_sample(groups: dict[str, list[Path]], n: int) -> list[Path]:
    """``n`` files of the mix in its shares (:data:`SHARES`), interleaved: the batch sees the
    archive's mix, not mostly its first group (the first ``n`` of the list in group order)."""
    want = {g: min(len(groups[g]), max(1, round(n * s))) for g, s in SHARES.items()}
    picked = {g: groups[g][:: max(1, len(groups[g]) // want[g])][: want[g]] for g in SHARES}
    out: list[Path] = []
    for i in range(max(want.values())):
        out += [picked[g][i] for g in SHARES if i < len(picked[g])]
    return out


def bare(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in files:
        pydicom.dcmread(p, stop_before_pixels=True)
    return time.perf_counter() - t0


def bare_cpu(files: list[Path]) -> float:
    t0 = time.process_time()
    for p in files:
        pydicom.dcmread(p, stop_before_pixels=True)
    return time.process_time() - t0


def walked(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in files:
        pydicom.dcmread(p, stop_before_pixels=True).walk(lambda ds, elem: None)
    return time.perf_counter() - t0


def ours(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in files:
        read_dicom(p, Source(str(p), "0" * 64, InputKind.DICOM), DEFAULT_OPTIONS)
    return time.perf_counter() - t0


def ours_cpu(files: list[Path]) -> float:
    t0 = time.process_time()
    for p in files:
        read_dicom(p, Source(str(p), "0" * 64, InputKind.DICOM), DEFAULT_OPTIONS)
    return time.process_time() - t0


def best(fn, files: list[Path], repeat: int) -> float:  # type: ignore[no-untyped-def]
    return min(fn(files) for _ in range(repeat))


def paired(files: list[Path], repeat: int) -> tuple[float, float, float]:
    """Bare and read_dicom seconds (best of ``repeat``, wall clock), and the median of the CPU-time
    ratios of bare/read_dicom run back to back (steadier than the wall clock on a shared machine)."""
    walls_b, walls_o, cpu = [], [], []
    for _ in range(repeat):
        walls_b.append(bare(files))
        walls_o.append(ours(files))
        cpu.append(bare_cpu(files) / max(ours_cpu(files), 1e-9))
    return min(walls_b), min(walls_o), sorted(cpu)[len(cpu) // 2]


def slowest_scan(files: list[Path]) -> tuple[float, str]:
    """The longest any scan image took (read_dicom), and which."""
    worst = (0.0, "")
    for p in files:
        t0 = time.perf_counter()
        read_dicom(p, Source(str(p), "0" * 64, InputKind.DICOM), DEFAULT_OPTIONS)
        worst = max(worst, (time.perf_counter() - t0, p.name))
    return worst


class TreeCPU:
    """CPU seconds of this process (less the sampling thread) and all its descendants while open.

    Descendants (the fork server and the batch's workers) are looked for
    every ``find_every`` seconds and their CPU times read every ``every``
    seconds, so a process's last moments before it exits may be missed (at
    most ``every`` seconds each); one already running when it opens counts
    from then. CPU time, unlike the wall clock, does not grow when other
    programs share the cores.
    """

    def __init__(self, every: float = 0.02, find_every: float = 0.1) -> None:
        self.every = every
        self.find_ticks = max(1, round(find_every / every))
        self.seconds = 0.0
        self.own = 0.0  # of which this process's (the batch's parent: walk, ledger, outputs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._procs: dict[int, psutil.Process] = {}
        self._last: dict[int, float] = {}
        self._base: dict[int, float] = {}

    def _find(self) -> None:
        for child in psutil.Process().children(recursive=True):
            self._procs.setdefault(child.pid, child)

    def _read(self) -> dict[int, float]:
        out = {}
        for pid, proc in list(self._procs.items()):
            try:
                t = proc.cpu_times()
            except psutil.Error:
                del self._procs[pid]
                continue
            out[pid] = t.user + t.system
        return out

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.every):
            tick += 1
            if tick % self.find_ticks == 1:
                self._find()
            self._last.update(self._read())

    def __enter__(self) -> Self:
        self._find()
        self._base = self._read()
        self._own = time.process_time()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        own = time.process_time() - self._own
        self._stop.set()
        self._thread.join()
        self._find()
        self._last.update(self._read())
        tid = self._thread.native_id
        sampler = sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id == tid)
        self.own = own - sampler
        self.seconds = self.own + sum(t - self._base.get(pid, 0.0) for pid, t in self._last.items())


@dataclass
class BatchTimes:
    """Seconds of the batch beside the bare loop: cold (the first batch, which starts the fork
    server), and the medians over the repeats of the ratios with the fork server up."""

    n: int
    loop: float  # the bare read_file loop before the cold batch
    cold: float  # the first batch (starts the pool's fork server)
    again: float  # median seconds of the batch with the fork server up
    one: float  # median seconds of a one-file batch (the fixed cost of any batch)
    warm_ratio: float  # median of again / loop, each pair run back to back
    per_file_ratio: float  # median of (again - one) / loop
    warm_cpu_ratio: float = 0.0  # the same two in CPU seconds (all the batch's processes)
    per_file_cpu_ratio: float = 0.0
    #: per file alone beside a bare loop run in a fresh process (wall, CPU): see :func:`fresh_loop`
    per_file_fresh_ratio: float = 0.0
    per_file_fresh_cpu_ratio: float = 0.0
    #: of per_file_cpu_ratio, the batch's own process (walk, ledger, outputs, reading results)
    per_file_parent_cpu_ratio: float = 0.0


_FRESH_LOOP = """
import sys, time
from dataclasses import replace
import bmdkit.batch.preload  # what a batch worker starts with (modules, reference tables)
from bmdkit import read_file
from bmdkit.options import DEFAULT_OPTIONS
opts = replace(DEFAULT_OPTIONS, ocr_engines=())
files = sys.argv[1:]
t0, c0 = time.perf_counter(), time.process_time()
for p in files:
    read_file(p, opts)
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def fresh_loop(files: list[Path]) -> tuple[float, float]:
    """The bare read_file loop (wall, CPU seconds) in a new process started as a batch worker is.

    The in-process loop reads the same files again and again, so the readers' caches of text
    already seen (vocabulary look-ups) are warm for it, while a batch's worker meets every text
    for the first time; this loop meets them for the first time too.
    """
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _FRESH_LOOP, *map(str, files)], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def batch_overhead(files: list[Path], work: Path, repeat: int = 3) -> BatchTimes:
    """A bare read_file loop beside the batch with one worker: cold, then ``repeat`` times warm.

    OCR off in all. The first batch starts the pool's fork server (it
    imports the whole pipeline once per process); the next ones run with it
    up, and the one-file batch after each is the fixed cost every batch
    pays (a worker process, the ledger, the outputs), so ``again - one`` is
    what the files themselves cost the batch. Each warm batch is measured
    right after its own bare loop, and the ratios' medians are given (the
    machine may be shared).
    """
    src = work / "batch_in"
    shutil.rmtree(src, ignore_errors=True)  # exactly these files, whatever an earlier run linked
    src.mkdir()
    for p in files:
        os.link(p, src / p.name)
    opts = replace(DEFAULT_OPTIONS, ocr_engines=())
    listed = sorted(src.iterdir())
    one_in = work / "batch_one"
    shutil.rmtree(one_in, ignore_errors=True)
    one_in.mkdir()
    os.link(listed[0], one_in / listed[0].name)
    out = work / "batch_out"

    def loop() -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        for p in listed:
            read_file(p, opts)
        return time.perf_counter() - t0, time.process_time() - c0

    def batch(inputs: Path) -> tuple[float, float, float]:
        shutil.rmtree(out, ignore_errors=True)
        with TreeCPU() as cpu:
            t0 = time.perf_counter()
            run_batch([inputs], out, workers=1, options=opts, progress=False)
            wall = time.perf_counter() - t0
        return wall, cpu.seconds, cpu.own

    first_loop = loop()[0]
    fresh: list[tuple[float, float]] = []
    cold = batch(src)[0]
    rows = []
    for _ in range(max(1, repeat)):
        bare_s = loop()
        again, one = batch(src), batch(one_in)
        rows.append((bare_s, again, one))
        fresh.append(fresh_loop(listed))

    def median(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2]

    return BatchTimes(len(listed), first_loop, cold, median([a[0] for _, a, _ in rows]),
                      median([o[0] for _, _, o in rows]), median([a[0] / b[0] for b, a, _ in rows]),
                      median([(a[0] - o[0]) / b[0] for b, a, o in rows]),
                      median([a[1] / b[1] for b, a, _ in rows]),
                      median([(a[1] - o[1]) / b[1] for b, a, o in rows]),
                      median([(a[0] - o[0]) / f[0] for (_, a, o), f in zip(rows, fresh, strict=True)]),
                      median([(a[1] - o[1]) / f[1] for (_, a, o), f in zip(rows, fresh, strict=True)]),
                      median([(a[2] - o[2]) / b[1] for b, a, o in rows]))


def profile_sr(files: list[Path], top: int = 12) -> str:
    prof = cProfile.Profile()
    prof.enable()
    ours(files)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return "\n".join(line for line in buf.getvalue().splitlines() if line.strip())[-4000:]


def reading(groups: dict[str, list[Path]], repeat: int) -> None:
    """Parts 1 and 2 (and the slowest scan image, and SR walking): read_dicom beside bare dcmread."""
    mix = [p for g in ("scan", "sr", "report") for p in groups[g]]
    rows = []
    for name, files in (("whole mix", mix), ("scan images", groups["scan"]), ("SR", groups["sr"]),
                        ("report objects", groups["report"])):
        rows.append((name, len(files), *paired(files, repeat)))
    print("speed vs bare pydicom.dcmread(stop_before_pixels=True), same files, best of "
          f"{repeat} (ms per file: bare, read_dicom; ratio = read_dicom files/s / bare files/s; "
          "cpu: the median ratio of CPU times):")
    for name, n, b, o, c in rows:
        print(f"  {name:15s} {n:5d} files  {1000 * b / n:7.2f} {1000 * o / n:7.2f}   ratio {b / o:5.2f}"
              f"   cpu {c:5.2f}")
    worst = slowest_scan(groups["scan"])
    print(f"slowest scan image: {1000 * worst[0]:.1f} ms ({worst[1]}; aim < 200 ms)")
    w = best(walked, groups["sr"], repeat)
    print(f"SR: dcmread + Dataset.walk (every sequence expanded): {1000 * w / len(groups['sr']):.2f} ms per file")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch-files", type=int, default=300)
    ap.add_argument("--no-batch", action="store_true")
    ap.add_argument("--batch-only", action="store_true",
                    help="only part 3 (the batch beside the bare read_file loop): a shorter run to compare code")
    args = ap.parse_args()
    tmp = args.dir or Path(tempfile.mkdtemp(prefix="bench_dicom_"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        groups = make_mix(tmp, args.files)
        mix = [p for g in ("scan", "sr", "report") for p in groups[g]]
        size = sum(p.stat().st_size for p in mix)
        print(f"mix: {len(groups['scan'])} scan images, {len(groups['sr'])} SR, {len(groups['report'])} "
              f"report objects ({size / 1e6:.0f} MB), written in {time.perf_counter() - t0:.0f} s")
        bare(mix[:50]), ours(mix[:50])  # warm the page cache and imports
        if not args.batch_only:
            reading(groups, args.repeat)
        if not args.no_batch:
            sample = batch_sample(groups, args.batch_files)
            bt = batch_overhead(sample, tmp, args.repeat)
            n = bt.n
            print(f"batch, 1 worker, {n} files of the mix, OCR off: {1000 * bt.cold / n:.1f} ms "
                  f"per file vs bare read_file loop {1000 * bt.loop / n:.1f} ms: "
                  f"ratio {bt.cold / bt.loop:.2f} (aim <= 1.3)")
            print(f"  again, fork server up (median of {args.repeat}, each beside its own bare loop): "
                  f"{1000 * bt.again / n:.1f} ms per file, ratio {bt.warm_ratio:.2f}; a one-file batch "
                  f"takes {bt.one:.2f} s, so per file alone: ratio {bt.per_file_ratio:.2f}")
            print(f"  in CPU seconds (the batch's processes together vs the loop's): fork server up "
                  f"ratio {bt.warm_cpu_ratio:.2f}, per file alone {bt.per_file_cpu_ratio:.2f} (of which "
                  f"the batch's own process {bt.per_file_parent_cpu_ratio:.2f}, its worker the rest)")
            print(f"  per file alone beside the bare loop in a fresh process (caches as cold as a new "
                  f"worker's): ratio {bt.per_file_fresh_ratio:.2f}, CPU {bt.per_file_fresh_cpu_ratio:.2f}")
        if not args.batch_only:
            print("profile of read_dicom over the SRs (cumulative):")
            print(profile_sr(groups["sr"]))
    finally:
        if args.dir is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
