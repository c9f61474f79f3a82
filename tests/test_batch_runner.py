"""The process-pool batch on real DICOM files, bad files and zip archives.

Covers: every input appears, duplicates processed once and listed under
both names, resume and a grown folder costing only new files, the output
lock, a hanging and a crashing worker, and kill-and-resume (SIGKILL of the
batch subprocess at several points gives the same outputs as a clean run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import assert_valid
from helpers.batch import slow_or_crashing_work, write_sr

from bmdkit.batch.ledger import FAILURES_CSV, RESULTS_CSV, RESULTS_JSONL, SKIPPED_CSV, BatchLocked, Ledger
from bmdkit.batch.runner import run_batch
from bmdkit.options import ReadOptions
from bmdkit.samples.truth import TruthGenerator

OUTPUTS = (RESULTS_JSONL, RESULTS_CSV, FAILURES_CSV, SKIPPED_CSV, "exams.jsonl")


def make_inputs(root: Path, n: int = 6, seed: int = 11) -> dict[str, object]:
    """n SR files, a duplicate under another name, bad files, a symlink and a zip with a duplicate."""
    gen = TruthGenerator(seed)
    site = root / "site"
    (site / "sub").mkdir(parents=True)
    truths = {}
    for i in range(n):
        t = gen.exam(scan_type="spine" if i % 2 == 0 else "hip_dual")
        p = write_sr(site / f"exam{i:02d}.dcm", t)
        truths[str(p)] = t
    (site / "sub" / "copy_of_exam00.dcm").write_bytes((site / "exam00.dcm").read_bytes())
    (site / "empty.dcm").write_bytes(b"")
    (site / "notes.txt").write_text("not a scan")
    (site / "truncated.dcm").write_bytes((site / "exam01.dcm").read_bytes()[:300])
    os.symlink("/etc/hostname", site / "link.dcm")
    archive = root / "sent.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(site / "exam02.dcm", "batch1/exam02.dcm")
        zf.writestr("batch1/extra.txt", "hello")
    return {"site": site, "archive": archive, "truths": truths}


def read_lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / RESULTS_JSONL).read_text(encoding="utf-8").splitlines()]


def all_names(lines: list[dict]) -> list[str]:
    names = []
    for d in lines:
        names.extend(d["source"].get("seen_as", [d["source"]["path"]]))
    return sorted(names)


def test_every_input_appears_once_and_duplicates_listed(tmp_path: Path, contract) -> None:
    inp = make_inputs(tmp_path)
    out = tmp_path / "out"
    s = run_batch([inp["site"], inp["archive"]], out, workers=2, progress=False)
    lines = read_lines(out)
    for d in lines:
        assert_valid(contract, d)
    names = all_names(lines)
    on_disk = sorted(str(p) for p in inp["site"].rglob("*") if p.is_file() or p.is_symlink())
    expected = sorted(on_disk + [f"{inp['archive']}!batch1/exam02.dcm", f"{inp['archive']}!batch1/extra.txt"])
    assert names == expected  # every input exactly once
    assert s.names == len(expected)
    # duplicate content: one line, both names, a duplicate_input flag
    dup = [d for d in lines if len(d["source"].get("seen_as", [])) > 1]
    assert {len(d["source"]["seen_as"]) for d in dup} == {2}
    assert all("duplicate_input" in {f["code"] for f in d["flags"]} for d in dup)
    assert len(dup) == 2  # exam00 + its copy; exam02 + its zip member
    # bad files failed with their reasons, listed in failures.csv
    by_path = {d["source"]["path"]: d for d in lines}
    assert by_path[str(inp["site"] / "empty.dcm")]["status"] == "failed"
    assert "symbolic link" in by_path[str(inp["site"] / "link.dcm")]["flags"][0]["message"]
    failures = (out / FAILURES_CSV).read_text(encoding="utf-8")
    for d in lines:
        assert (d["source"]["path"] in failures) == (d["outcome"] == "failed")
    skipped = (out / "skipped.csv").read_text(encoding="utf-8")
    for d in lines:  # a text file is skipped: listed in skipped.csv, not failures.csv
        assert (d["source"]["path"] in skipped) == (d["outcome"] == "skipped")
    assert any(d["outcome"] == "skipped" for d in lines)
    # values that were extracted match the truth they were written from
    for path, truth in inp["truths"].items():
        d = next(x for x in lines if path in x["source"].get("seen_as", [x["source"]["path"]]))
        if d["status"] == "failed":
            continue
        got = {(r["region"], r["side"]): r["bmd"] for r in d["regions"]}
        for r in truth.contract_regions():
            if (r.region, r.side) in got:
                assert got[(r.region, r.side)] == pytest.approx(r.bmd, abs=5e-4)


def test_resume_and_grown_folder_cost_only_new_files(tmp_path: Path) -> None:
    inp = make_inputs(tmp_path, n=4)
    out = tmp_path / "out"
    first = run_batch([inp["site"]], out, workers=2, progress=False)
    before = {n: (out / n).read_bytes() for n in OUTPUTS}
    again = run_batch([inp["site"]], out, workers=2, progress=False)
    assert again.processed == 0
    assert {n: (out / n).read_bytes() for n in OUTPUTS} == before
    write_sr(inp["site"] / "new.dcm", TruthGenerator(99).exam(scan_type="spine"))
    grown = run_batch([inp["site"]], out, workers=2, progress=False)
    assert grown.processed == 1 and grown.names == first.names + 1
    assert len(read_lines(out)) == len(before[RESULTS_JSONL].splitlines()) + 1


def test_second_batch_on_same_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Ledger(out), pytest.raises(BatchLocked):
        run_batch([tmp_path], out, workers=1, progress=False)


def test_hanging_and_crashing_workers_fail_only_their_file(tmp_path: Path) -> None:
    site = tmp_path / "in"
    site.mkdir()
    gen = TruthGenerator(5)
    for i in range(3):
        write_sr(site / f"ok{i}.dcm", gen.exam(scan_type="spine"))
    (site / "hang.bin").write_bytes(b"HANG forever")
    (site / "crash.bin").write_bytes(b"CRASH now")
    out = tmp_path / "out"
    opts = ReadOptions(timeout_s=6.0)  # generous: the test machine is shared and loaded
    t0 = time.monotonic()
    run_batch([site], out, workers=2, options=opts, progress=False, worker_fn=slow_or_crashing_work)
    assert time.monotonic() - t0 < 60
    by_name = {Path(d["source"]["path"]).name: d for d in read_lines(out)}
    assert [f["code"] for f in by_name["hang.bin"]["flags"]] == ["resource_limit"]
    assert [f["code"] for f in by_name["crash.bin"]["flags"]] == ["internal_error"], by_name["crash.bin"]["flags"]
    assert "crashed" in by_name["crash.bin"]["flags"][0]["message"]
    for i in range(3):
        assert by_name[f"ok{i}.dcm"]["status"] != "failed" or by_name[f"ok{i}.dcm"]["flags"][0]["code"] not in (
            "resource_limit", "internal_error")


def _batch_cmd(inputs: list[Path], out: Path) -> list[str]:
    return [sys.executable, "-m", "bmdkit", "batch", *map(str, inputs), "--out", str(out),
            "--workers", "2", "--no-progress"]


def test_kill_and_resume_gives_identical_outputs(tmp_path: Path) -> None:
    site = tmp_path / "in"
    site.mkdir()
    gen = TruthGenerator(21)
    for i in range(120):
        write_sr(site / f"e{i:03d}.dcm", gen.exam())
    for i in range(10):
        (site / f"junk{i}.txt").write_text(f"junk {i}")
    clean = tmp_path / "clean"
    subprocess.run(_batch_cmd([site], clean), check=True, capture_output=True, timeout=300)
    expected = {n: (clean / n).read_bytes() for n in OUTPUTS}
    assert len(expected[RESULTS_JSONL].splitlines()) == 130

    out = tmp_path / "killed"
    kills = 0
    for delay in (0.8, 1.6, 2.4, 3.2):
        proc = subprocess.Popen(_batch_cmd([site], out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        # whatever is on disk is whole: every line parses, no duplicate rows
        if (out / RESULTS_JSONL).exists():
            lines = read_lines(out)
            paths = [d["source"]["path"] for d in lines]
            assert len(paths) == len(set(paths))
    subprocess.run(_batch_cmd([site], out), check=True, capture_output=True, timeout=300)
    assert kills >= 1
    assert {n: (out / n).read_bytes() for n in OUTPUTS} == expected
    leftovers = [p.name for p in out.iterdir() if p.name not in (*OUTPUTS, "state.sqlite", ".lock",
                                                                 "state.sqlite-wal", "state.sqlite-shm")]
    assert leftovers == []


def test_cli_exit_codes_locked_and_bad_mapping(tmp_path: Path) -> None:
    from bmdkit.cli.app import main

    site = tmp_path / "in"
    site.mkdir()
    write_sr(site / "a.dcm", TruthGenerator(3).exam(scan_type="spine"))
    out = tmp_path / "out"
    with Ledger(out):
        assert main(["batch", str(site), "--out", str(out), "--no-progress", "--workers", "1"]) == 75
    bad_map = tmp_path / "map.csv"
    bad_map.write_text("center,patient\nx,y\n")
    assert main(["batch", str(site), "--out", str(out), "--no-progress", "--workers", "1",
                 "--mapping", str(bad_map)]) == 64
    assert main(["batch", str(site), "--out", str(out), "--no-progress", "--workers", "1"]) == 0
    assert len(read_lines(out)) == 1


def test_second_batch_can_wait_for_the_first(tmp_path: Path) -> None:
    import threading

    site = tmp_path / "in"
    site.mkdir()
    write_sr(site / "a.dcm", TruthGenerator(4).exam(scan_type="spine"))
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    held = open(out / ".lock", "a+b")  # what a running batch holds
    fcntl.flock(held, fcntl.LOCK_EX)
    timer = threading.Timer(1.0, held.close)  # closing the file releases the lock
    timer.start()
    t0 = time.monotonic()
    s = run_batch([site], out, workers=1, progress=False, wait_for_lock=True)
    timer.join()
    assert time.monotonic() - t0 >= 0.9 and s.processed == 1


def test_each_file_is_hashed_once_by_the_worker_that_reads_it(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch does not hash files before handing them out: the digest of the bytes the worker
    read keys each result, the same content under two names is kept once, and a resume skips it."""
    import bmdkit.batch.plan as plan_mod
    from bmdkit.read import sha256_file

    hashed: list[Path] = []
    real = plan_mod.sha256_file
    monkeypatch.setattr(plan_mod, "sha256_file", lambda p, *a: hashed.append(p) or real(p, *a))
    src = tmp_path / "in"
    src.mkdir()
    gen = TruthGenerator(5)
    for i in range(3):
        write_sr(src / f"e{i}.dcm", gen.exam())
    (src / "copy.dcm").write_bytes((src / "e0.dcm").read_bytes())
    out = tmp_path / "out"
    s = run_batch([src], out, workers=1, progress=False)
    assert hashed == [] and s.processed == 4
    lines = read_lines(out)
    assert len(lines) == 3 and all_names(lines) == sorted(str(p) for p in src.iterdir())
    assert {d["source"]["sha256"] for d in lines} == {sha256_file(p) for p in src.iterdir()}
    again = run_batch([src], out, workers=1, progress=False)
    assert again.processed == 0 and read_lines(out) == lines
