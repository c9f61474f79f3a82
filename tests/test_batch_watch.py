"""``bmdkit batch DIR --watch``: files are read once complete, never half-written.

A real watcher process; files arrive by slow writes and by rename. Every
result must carry the SHA-256 of the complete file: a file read while it
was being written would show up with another digest (or as failed).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from network_servers import ROOT, result_count, wait_for
from helpers.batch import write_sr

from bmdkit.batch.walk import walk_inputs
from bmdkit.batch.watch import Readiness
from bmdkit.samples.truth import TruthGenerator


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_walker_leaves_files_that_are_not_ready(tmp_path: Path) -> None:
    (tmp_path / "a.dcm").write_bytes(b"x")
    (tmp_path / "b.dcm").write_bytes(b"y")
    items = list(walk_inputs([tmp_path], tmp_path / "work", ready=lambda p, st: p.name != "b.dcm"))
    assert [i.display for i in items] == [str(tmp_path / "a.dcm")]


def test_readiness_waits_for_a_stable_size_or_a_rename(tmp_path: Path) -> None:
    clock = _Clock()
    ready = Readiness(settle_s=2.0, clock=clock)
    f = tmp_path / "f.dcm"
    f.write_bytes(b"half")
    assert not ready(f, f.stat())  # just written
    clock.now = 1.0
    with open(f, "ab") as fh:
        fh.write(b"+rest")
    assert not ready(f, f.stat())  # grew: the clock restarts
    clock.now = 2.5
    assert not ready(f, f.stat())
    clock.now = 3.1
    assert ready(f, f.stat())
    part = tmp_path / "g.dcm.part"
    part.write_bytes(b"data")
    clock.now = 100.0
    assert not ready(part, part.stat())  # a partial-download name is never complete
    g = tmp_path / "g.dcm"
    part.rename(g)
    ready.renamed_into_place(g)
    assert ready(g, g.stat())  # renamed into place: complete at once
    old = tmp_path / "old.dcm"
    old.write_bytes(b"old")
    os.utime(old, (time.time() - 60, time.time() - 60))
    assert ready(old, old.stat())  # untouched for longer than the settle time


def test_watch_processes_files_as_they_arrive_once_complete(tmp_path: Path) -> None:
    inbox, out, stage = tmp_path / "inbox", tmp_path / "out", tmp_path / "stage"
    inbox.mkdir()
    stage.mkdir()
    gen = TruthGenerator(23)
    sources = [write_sr(stage / f"e{i}.dcm", gen.exam()) for i in range(4)]
    log = open(tmp_path / "watch.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "bmdkit", "batch", str(inbox), "--out", str(out), "--watch",
                             "--settle", "1.5", "-j", "1", "--no-progress"], stdout=log, stderr=subprocess.STDOUT,
                            cwd=ROOT)
    try:
        (inbox / "e0.dcm").write_bytes(sources[0].read_bytes())
        wait_for(lambda: result_count(out) == 1, 60, "the first file", proc)
        data = sources[1].read_bytes()
        with open(inbox / "e1.dcm", "wb") as fh:  # a slow copy: half, a pause shorter than the settle time, rest
            fh.write(data[: len(data) // 2])
            fh.flush()
            time.sleep(1.0)
            fh.write(data[len(data) // 2:])
        (inbox / "e2.dcm.part").write_bytes(sources[2].read_bytes())
        time.sleep(0.5)
        (inbox / "e2.dcm.part").rename(inbox / "e2.dcm")  # renamed into place
        sub = inbox / "sub"
        sub.mkdir()
        (sub / "e3.dcm").write_bytes(sources[3].read_bytes())
        wait_for(lambda: result_count(out) == 4, 90, "all four files", proc)
        time.sleep(2.0)  # nothing more may appear (no half file, no .part)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        log.close()
    text = (tmp_path / "watch.log").read_text(errors="replace")
    assert code == 0, text
    assert "Traceback" not in text
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    want = {hashlib.sha256(s.read_bytes()).hexdigest() for s in sources}
    assert {d["source"]["sha256"] for d in lines} == want
    assert all(d["status"] == "extracted" for d in lines)
    assert sorted(Path(d["source"]["path"]).name for d in lines) == ["e0.dcm", "e1.dcm", "e2.dcm", "e3.dcm"]
