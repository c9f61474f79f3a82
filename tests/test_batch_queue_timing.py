"""The batch's time limit counts from when a worker starts a file, never from when it was queued (issue 20).

Several files per worker are in flight (:data:`bmdkit.batch.runner.QUEUED_PER_WORKER`),
so a file can wait in the queue behind slow ones (OCR pages) for longer than the
time limit. These tests run the real process pool with one worker and files that
take a set time, with the start-up grace cut to half a second: under the old rule
(a queued file timed from its submission plus the grace) the last files would be
failed as ``resource_limit`` after waiting their turn.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from helpers.batch_timing import timed_work

from bmdkit.batch.plan import Task
from bmdkit.batch.runner import QUEUED_PER_WORKER, _Pool, run_batch
from bmdkit.options import ReadOptions

SLEEP_S = 1.0
TIMEOUT_S = 2.5  # each file is well inside it; the queue's wait is not
GRACE_S = 0.5


def _tasks(folder: Path, heads: list[bytes]) -> list[Task]:
    folder.mkdir()
    tasks = []
    for i, head in enumerate(heads):
        p = folder / f"f{i:02d}.txt"
        p.write_bytes(head + b"\nnot a scan\n")
        tasks.append(Task(f"key{i}", p, str(p), False, hashed=False))  # as the batch plans them
    return tasks


def _codes(line: dict) -> list[str]:
    return [f["code"] for f in line["flags"]]


def _run(tasks: list[Task], timeout_s: float) -> tuple[dict[str, dict], float]:
    pool = _Pool(1, ReadOptions(timeout_s=timeout_s), timed_work, startup_grace_s=GRACE_S)
    pool.file_s = 1e-4  # as after fast files: the worker is sent QUEUED_PER_WORKER files at once
    t0 = time.monotonic()
    try:
        lines = {task.key: line for task, line, _ in pool.run(tasks)}
    finally:
        pool.shutdown()
    return lines, time.monotonic() - t0


def test_queued_files_are_not_timed_while_they_wait(tmp_path: Path) -> None:
    n = 6
    assert QUEUED_PER_WORKER >= n  # all are submitted at once: the last waits for the five before it
    tasks = _tasks(tmp_path / "in", [f"SLEEP {SLEEP_S}".encode()] * n)
    lines, took = _run(tasks, TIMEOUT_S)
    # the last file waited about (n - 1) * SLEEP_S in the queue, past the limit plus the grace
    assert took > TIMEOUT_S + GRACE_S + SLEEP_S
    assert sorted(lines) == sorted(t.key for t in tasks)
    for key, line in lines.items():
        assert "resource_limit" not in _codes(line), (key, line["flags"])


def test_a_hanging_file_still_times_out_and_those_queued_behind_it_run(tmp_path: Path) -> None:
    tasks = _tasks(tmp_path / "in", [b"HANG", *[f"SLEEP {SLEEP_S}".encode()] * 4])
    lines, took = _run(tasks, TIMEOUT_S)
    assert took < 60
    assert _codes(lines["key0"]) == ["resource_limit"]
    assert "time limit" in lines["key0"]["flags"][0]["message"]
    for key in ("key1", "key2", "key3", "key4"):
        assert "resource_limit" not in _codes(lines[key]), (key, lines[key]["flags"])


def test_batch_outputs_list_every_queued_file_once(tmp_path: Path) -> None:
    """Through run_batch: a deep queue behind a hanging file, every file recorded once with its reason."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "a_hang.txt").write_bytes(b"HANG\n")
    for i in range(10):
        (site / f"b{i:02d}.txt").write_bytes(f"SLEEP 0.05 {i}\nnot a scan\n".encode())
    out = tmp_path / "out"
    summary = run_batch([site], out, workers=1, options=ReadOptions(timeout_s=TIMEOUT_S), progress=False,
                        worker_fn=timed_work)
    assert summary.files == 11
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    by_name = {Path(d["source"]["path"]).name: d for d in lines}
    assert sorted(by_name) == ["a_hang.txt", *[f"b{i:02d}.txt" for i in range(10)]]
    assert _codes(by_name["a_hang.txt"]) == ["resource_limit"]
    for i in range(10):
        assert "resource_limit" not in _codes(by_name[f"b{i:02d}.txt"])
