"""Kill only the batch's main process (as an OOM killer or a closed terminal does), not its group.

``tests/test_batch_runner.py`` kills the whole process group at several
points and compares the resumed outputs with a clean run. Here only the
main process is killed with SIGKILL: its worker processes must not read on
in the background (they die with the pool's fork server), no partial file
may be left, and a resumed run must still give the clean run's bytes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from helpers.batch import write_sr

from bmdkit.batch.ledger import FAILURES_CSV, RESULTS_CSV, RESULTS_JSONL, SKIPPED_CSV
from bmdkit.samples.hostile import _many_page_pdf
from bmdkit.samples.truth import TruthGenerator

OUTPUTS = (RESULTS_JSONL, RESULTS_CSV, FAILURES_CSV, SKIPPED_CSV, "exams.jsonl")


def _cmd(site: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "bmdkit", "batch", str(site), "--out", str(out), "--workers", "2",
            "--no-progress", "--no-ocr"]


def test_workers_die_with_a_killed_batch_and_resume_is_identical(tmp_path: Path) -> None:
    site = tmp_path / "in"
    site.mkdir()
    gen = TruthGenerator(77)
    for i in range(50):
        write_sr(site / f"e{i:03d}.dcm", gen.exam())
    (site / "pages.pdf").write_bytes(_many_page_pdf(40))  # over the page cap: fails with a reason
    (site / "bytes.bin").write_bytes(b"\x00\x01" * 300)
    clean = tmp_path / "clean"
    subprocess.run(_cmd(site, clean), check=True, capture_output=True, timeout=300)
    expected = {n: (clean / n).read_bytes() for n in OUTPUTS}

    out = tmp_path / "killed"
    proc = subprocess.Popen(_cmd(site, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    workers: list[psutil.Process] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers) < 2:  # wait until the pool's workers exist
        time.sleep(0.2)
        try:
            workers = [p for p in root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
    time.sleep(0.5)
    assert proc.poll() is None, "the batch ended before it could be killed: give it more files"
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)  # the main process only
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert alive == [], [p.pid for p in alive]

    subprocess.run(_cmd(site, out), check=True, capture_output=True, timeout=300)
    assert {n: (out / n).read_bytes() for n in OUTPUTS} == expected
    leftovers = [p.name for p in out.iterdir()
                 if p.name not in (*OUTPUTS, "state.sqlite", ".lock", "state.sqlite-wal", "state.sqlite-shm")]
    assert leftovers == []
