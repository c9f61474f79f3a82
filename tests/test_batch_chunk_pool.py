"""Several files per worker message (issue 20): a crash or a hang still costs its own file only.

The batch's pool sends each worker a few files at a time and the worker reads
them in order, one result per file. These tests run the real pool on real DICOM
SR files (written by :func:`helpers.batch.write_sr`) with a file that kills its
worker, one that hangs and one whose error cannot come back, placed in the middle
of what one worker was sent: that file ends ``failed`` under its own name and
reason, and every other file sent with it, before or after it, gives the same
result as read alone.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from helpers.batch import write_sr
from helpers.batch_timing import chunk_work

from bmdkit.batch.ledger import Ledger
from bmdkit.batch.plan import Task, finish_line
from bmdkit.batch.runner import QUEUED_PER_WORKER, _Pool, run_batch, work
from bmdkit.options import ReadOptions
from bmdkit.samples.truth import TruthGenerator

TIMEOUT_S = 3.0


def _site(root: Path, bad: dict[int, bytes], n: int = 7) -> list[Path]:
    """``n`` real SR files in name order, with the ``bad`` ones (by position) in their place."""
    root.mkdir()
    gen = TruthGenerator(20)
    paths = []
    for i in range(n):
        if i in bad:
            p = root / f"f{i:02d}.bin"
            p.write_bytes(bad[i] + b"\nnot a scan\n")
        else:
            p = write_sr(root / f"f{i:02d}.dcm", gen.exam(scan_type="spine" if i % 2 else "hip_dual"))
        paths.append(p)
    return paths


def _alone(path: Path, options: ReadOptions) -> dict:
    """The file's line read in this process, as the batch stores it."""
    task = Task(str(path), path, str(path), False, hashed=False)
    return finish_line(work(str(path), options), task)


def _codes(line: dict) -> list[str]:
    return [f["code"] for f in line["flags"]]


def _run_pool(paths: list[Path], options: ReadOptions) -> dict[str, dict]:
    """Every file through one worker, all sent in one message (the pool told files are fast)."""
    pool = _Pool(1, options, chunk_work, startup_grace_s=30.0)  # a loaded machine starts slowly
    pool.file_s = 1e-4  # as after many fast files: QUEUED_PER_WORKER in one message
    assert pool.depth() == QUEUED_PER_WORKER >= len(paths)
    tasks = [Task(f"key{i}", p, str(p), False, hashed=False) for i, p in enumerate(paths)]
    try:
        lines = [line for _task, line, _made in pool.run(tasks)]
    finally:
        pool.shutdown()
    assert len(lines) == len(paths)  # each file once
    by_path = {line["source"]["path"]: line for line in lines}
    assert sorted(by_path) == sorted(map(str, paths))
    return by_path


@pytest.mark.parametrize(("head", "code", "words"), [
    (b"CRASH", "internal_error", "crashed"),
    (b"HANG", "resource_limit", "time limit"),
    (b"RAISE", "internal_error", "unexpected _NoUnpickle"),
    (b"NOMEM", "resource_limit", "out of memory"),  # told in the worker: pickling drops the cause
])
def test_a_bad_file_in_the_middle_of_a_message_fails_alone(tmp_path: Path, head: bytes, code: str,
                                                            words: str) -> None:
    opts = ReadOptions(timeout_s=TIMEOUT_S)
    paths = _site(tmp_path / "in", {3: head})
    lines = _run_pool(paths, opts)
    bad = lines[str(paths[3])]
    assert bad["status"] == "failed"
    assert _codes(bad) == [code]
    assert words in bad["flags"][0]["message"]
    for i, p in enumerate(paths):
        if i == 3:
            continue
        line, alone = lines[str(p)], _alone(p, opts)
        assert line["status"] == alone["status"] != "failed", (p.name, line["flags"])
        assert line["regions"] == alone["regions"]
        assert _codes(line) == _codes(alone)


def test_two_crashes_in_one_message_fail_each_its_own_file(tmp_path: Path) -> None:
    opts = ReadOptions(timeout_s=TIMEOUT_S)
    paths = _site(tmp_path / "in", {1: b"CRASH", 5: b"CRASH"})
    lines = _run_pool(paths, opts)
    for i, p in enumerate(paths):
        want = ["internal_error"] if i in (1, 5) else _codes(_alone(p, opts))
        assert _codes(lines[str(p)]) == want, p.name


def test_batch_with_a_crash_and_a_hang_lists_every_file_once(tmp_path: Path) -> None:
    """Through run_batch with two workers: the outputs and the ledger hold every file once, the
    two bad ones as failures with their own reasons."""
    paths = _site(tmp_path / "in", {4: b"CRASH", 9: b"HANG"}, n=14)
    out = tmp_path / "out"
    summary = run_batch([tmp_path / "in"], out, workers=2, options=ReadOptions(timeout_s=TIMEOUT_S),
                        progress=False, worker_fn=chunk_work)
    assert summary.files == len(paths) and summary.failed == 2
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    by_name = {Path(d["source"]["path"]).name: d for d in lines}
    assert sorted(by_name) == sorted(p.name for p in paths)
    assert _codes(by_name["f04.bin"]) == ["internal_error"]
    assert _codes(by_name["f09.bin"]) == ["resource_limit"]
    with (out / "failures.csv").open(encoding="utf-8", newline="") as fh:
        failures = {Path(r["path"]).name: r["reasons"] for r in csv.DictReader(fh)}
    assert sorted(failures) == ["f04.bin", "f09.bin"]
    assert "crashed" in failures["f04.bin"] and "time limit" in failures["f09.bin"]
    for p in paths:
        if p.suffix == ".dcm":
            assert by_name[p.name]["status"] != "failed", by_name[p.name]["flags"]
    with Ledger(out) as led:
        assert led.counts().files == len(paths)


def test_batched_ledger_commits_together_or_not_at_all(tmp_path: Path) -> None:
    line = {"status": "extracted", "source": {"sha256": "a" * 64}}
    with Ledger(tmp_path / "out") as led:
        with led.batched():
            assert led.see_and_record("a.dcm", "a" * 64, "a" * 64, "1", "file:a", line)
            assert led.see_and_record("b.dcm", "b" * 64, "b" * 64, "1", "file:b", line)
            assert led.db.in_transaction  # neither is on disk before the end of the block
        assert not led.db.in_transaction
        assert led.is_done("a" * 64) and led.is_done("b" * 64)
        with pytest.raises(RuntimeError), led.batched():
            led.see_and_record("c.dcm", "c" * 64, "c" * 64, "1", "file:c", line)
            raise RuntimeError("the batch stops")
        assert not led.is_done("c" * 64)  # rolled back with the rest of its block
        led.record("a" * 64, line)  # outside a block: its own transaction, as before
        assert not led.db.in_transaction


def test_slow_files_are_sent_one_at_a_time_fast_ones_several() -> None:
    """A slow file (an OCR page) never waits in one worker's queue while another worker is free."""
    pool = _Pool(2, ReadOptions(), chunk_work)
    assert pool.depth() == 1  # nothing seen yet: as if slow
    pool.file_s = 2.0
    assert pool.depth() == 1
    pool.file_s = 0.001
    assert pool.depth() == QUEUED_PER_WORKER
