"""Fuzz bmdkit with corrupt, strange and hostile inputs made from the samples.

    python bench/fuzz.py --seed 1 --count 1000 [--bases samples] [--workdir DIR] [--timeout 30]
                         [--skip-isolated] [--workers N] [--json FIGURES.json] [--rescore]

Two passes over the same cases:

1. (unless ``--skip-isolated``) every case through
   ``bmdkit.pipeline.process_file`` in a worker process of its own (so a hang
   or crash is seen, not suffered), timing each: uncaught exceptions
   (``internal_error`` flags, or a worker that died), cases over the time
   limit, and peak worker memory;
2. the whole case folder through ``bmdkit batch`` as a user runs it. Each
   line of ``results.jsonl`` is matched by its names (``source.path`` and
   ``source.seen_as``) against the exact names the batch must show for the
   cases: an input with no line is *missing*, a name on two lines is a
   *duplicate*, a line for no case is *unexpected*. Lines carrying
   ``internal_error`` count as exceptions, ``resource_limit`` for the time
   limit as hangs; tracebacks on stderr are counted too. Peak memory is the
   largest resident set of any process of the batch (sampled, plus the
   kernel's figure for waited-for children).

Prints one line of figures per pass and a table of outcomes by mutation.
Exit code 0 when every aim is met (0 exceptions, 0 hangs, 0 missing, 0 duplicates).

``--round-two`` adds the section for the hand-made classes of issue 18
(:func:`bmdkit.samples.hostile.round_two_cases`, at an attacker's sizes):
colliding names (the same zip member twice, four spellings of one member,
``a.zip!x.dcm`` beside ``a.zip``, a non-UTF-8 name beside its escaped
text), bzip2/LZMA/deflate zip bombs whose members lie about their size,
ten 600 MiB members in one zip, an 8 GiB sparse file, a TIFF with a
12000x12000 page 2, a PDF content-stream bomb, encrypted PDFs, PDFs with
JavaScript and launch actions, a CMYK JPEG, 16-bit and palette PNGs, an
animated GIF named ``.png`` and a TIFF whose page chain loops. They go
through ``bmdkit batch`` (every member and file must be its own line:
names shown alike count once each) and each file through ``bmdkit check``
(exit 0/1/2, no traceback, within the time cap); nothing in them may run.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bmdkit.read import display_path  # noqa: E402
from bmdkit.samples.hostile import Case, make_cases  # noqa: E402

#: the message the batch runner gives a file that ran out of time
TIME_LIMIT_WORDS = "time limit"


def _one(path: str, q: mp.Queue) -> None:  # type: ignore[type-arg]
    from bmdkit.pipeline import process_file

    t0 = time.perf_counter()
    exam = process_file(path)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    codes = ",".join(f.code.value for f in exam.flags)
    q.put((exam.status.value, codes, dt, rss))


def run_isolated(path: Path, timeout: float) -> tuple[str, str, float, int]:
    """(status, flag codes, seconds, peak KiB) of one case; 'hang' or 'crash' when the worker fails."""
    ctx = mp.get_context("fork")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    p = ctx.Process(target=_one, args=(os.fsdecode(path), q))
    t0 = time.perf_counter()
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        p.join()
        return ("hang", "", time.perf_counter() - t0, 0)
    try:
        return q.get(timeout=5)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - the worker died without answering
        return ("crash", f"exit {p.exitcode}", time.perf_counter() - t0, 0)


def bases_from(folder: Path, limit: int = 40) -> list[Path]:
    """Up to ``limit`` sample files (not their truth notes), spread over the folder."""
    skip = {".json", ".md", ".txt", ".csv", ".toml", ".py"}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in skip
                   and p.stat().st_size < 8 * 1024 * 1024)
    step = max(1, len(files) // limit)
    return files[::step][:limit]


@dataclass
class BatchFigures:
    """What one ``bmdkit batch`` run over the cases gave."""

    cases: int = 0
    lines: int = 0
    exceptions: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    tracebacks: int = 0
    exit_code: int = 0
    wall_s: float = 0.0
    peak_rss_mib: float = 0.0
    outcomes: dict[str, collections.Counter[str]] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return (len(self.exceptions) + len(self.hangs) + len(self.missing) + len(self.duplicates)
                + self.tracebacks + (self.exit_code != 0))

    def summary(self) -> dict[str, Any]:
        return {"cases": self.cases, "result_lines": self.lines, "exceptions": len(self.exceptions),
                "hangs": len(self.hangs), "missing": len(self.missing), "duplicates": len(self.duplicates),
                "unexpected": len(self.unexpected), "tracebacks": self.tracebacks, "exit_code": self.exit_code,
                "wall_s": round(self.wall_s, 1), "peak_rss_mib": round(self.peak_rss_mib)}


def expected_name(case: Case) -> str:
    """The name ``bmdkit batch`` must show for ``case``: its path, undecodable bytes as ``\\xNN``."""
    return display_path(case.path)


def line_names(d: dict[str, Any]) -> list[str]:
    """Every input name one results.jsonl line stands for."""
    src = d.get("source") or {}
    names = list(src.get("seen_as") or [])
    return names or [src.get("path", "")]


def note_troubles(fig: BatchFigures, d: dict[str, Any], label: str) -> None:
    """Count a line carrying ``internal_error`` as an exception and one that ran out of time as a hang."""
    codes = [f.get("code") for f in d.get("flags", [])]
    messages = " ".join(f.get("message", "") for f in d.get("flags", []))
    if "internal_error" in codes:
        fig.exceptions.append(f"{label}: {messages}")
    if "resource_limit" in codes and TIME_LIMIT_WORDS in messages:
        fig.hangs.append(label)


def score_lines(cases: list[Case], lines: list[dict[str, Any]], timeout: float) -> BatchFigures:
    """Match result lines to cases by exact name; count what is missing, doubled or wrong."""
    fig = BatchFigures(cases=len(cases), lines=len(lines))
    by_name: dict[str, Case] = {expected_name(c): c for c in cases}
    seen: collections.Counter[str] = collections.Counter()
    for d in lines:
        names = line_names(d)
        for n in names:
            seen[n] += 1
            case = by_name.get(n)
            if case is None:
                fig.unexpected.append(n)
                continue
            fig.outcomes.setdefault(case.mutation, collections.Counter())[d.get("status", "?")] += 1
        note_troubles(fig, d, names[0])
    fig.missing = sorted(n for n in by_name if seen[n] == 0)
    fig.duplicates = sorted(n for n, k in seen.items() if k > 1)
    return fig


def _watch_memory(pid: int, stop: threading.Event, peak: list[float]) -> None:
    """Sample the resident set of ``pid`` and all its descendants until ``stop``."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        for p in procs:
            try:
                peak[0] = max(peak[0], p.memory_info().rss / 2**20)
            except psutil.Error:
                pass
        stop.wait(0.2)


def run_batch_pass(cases: list[Case], cases_dir: Path, out: Path, timeout: float,
                   workers: int | None = None, extra: list[str] | None = None) -> BatchFigures:
    """Run ``bmdkit batch`` over ``cases_dir`` into ``out`` and score its results."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "bmdkit", "batch", str(cases_dir), "--out", str(out),
           "--no-progress", "--timeout", str(timeout), *(extra or [])]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop, peak = threading.Event(), [0.0]
    watcher = threading.Thread(target=_watch_memory, args=(proc.pid, stop, peak), daemon=True)
    watcher.start()
    try:
        _, err_b = proc.communicate(timeout=6 * 3600)
    finally:
        stop.set()
        watcher.join()
    wall = time.perf_counter() - t0
    err = err_b.decode("utf-8", "replace")
    results = out / "results.jsonl"
    lines = [json.loads(x) for x in results.read_text(encoding="utf-8").split("\n") if x.strip()] \
        if results.exists() else []
    fig = score_lines(cases, lines, timeout)
    fig.tracebacks = err.count("Traceback")
    fig.exit_code = proc.returncode
    fig.wall_s = wall
    kernel = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    fig.peak_rss_mib = max(peak[0], kernel)
    if fig.tracebacks or proc.returncode:
        print(err[-3000:], file=sys.stderr)
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--bases", type=Path, default=ROOT / "samples")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--skip-isolated", action="store_true", help="only the batch pass")
    ap.add_argument("--json", type=Path, default=None, help="also write the batch figures here")
    ap.add_argument("--rescore", action="store_true",
                    help="score the results already in WORKDIR/out (same seed, count and bases) without running")
    ap.add_argument("--round-two", action="store_true",
                    help="also run the hand-made hostile classes of issue 18 (batch and check)")
    ap.add_argument("--round-two-only", action="store_true", help="only the round-two section")
    args = ap.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bmdkit-fuzz-"))
    if args.round_two_only:
        return 0 if round_two(work / "round2", args.timeout, args.workers, args.json) == 0 else 1
    cases_dir = work / "cases"
    if cases_dir.exists():
        for p in cases_dir.rglob("*"):  # the 'unreadable' case has mode 0
            if not p.is_symlink():
                p.chmod(0o700 if p.is_dir() else 0o600)
        shutil.rmtree(cases_dir, ignore_errors=True)
    bases = bases_from(args.bases)
    if not bases:
        print(f"no base files under {args.bases}", file=sys.stderr)
        return 2
    cases = make_cases(bases, cases_dir, args.count, args.seed)
    print(f"{len(cases)} cases from {len(bases)} base files (seed {args.seed}) in {cases_dir}", flush=True)

    failures = 0
    if not args.skip_isolated:
        by_mut: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        exceptions = hangs = 0
        slowest = 0.0
        peak = 0
        t0 = time.perf_counter()
        for c in cases:
            if c.mutation == "symlink_loop":
                continue  # a directory, not a file: the batch pass covers it
            status, codes, dt, rss = run_isolated(c.path, args.timeout)
            slowest = max(slowest, dt)
            peak = max(peak, rss)
            if status in ("hang",) or dt > args.timeout:
                hangs += 1
            if status == "crash" or "internal_error" in codes:
                exceptions += 1
                print(f"  exception: {c.mutation} {display_path(c.path)} {codes}", flush=True)
            by_mut[c.mutation][status] += 1
        wall = time.perf_counter() - t0
        print(f"isolated: {len(cases)} cases, {exceptions} uncaught exceptions, {hangs} over {args.timeout:.0f} s, "
              f"slowest {slowest:.1f} s, peak worker memory {peak / 1024:.0f} MiB, {wall:.0f} s wall", flush=True)
        for mut, cnt in sorted(by_mut.items()):
            print(f"  {mut:26s} " + " ".join(f"{k}={v}" for k, v in sorted(cnt.items())))
        failures += exceptions + hangs

    if args.rescore:
        results = work / "out" / "results.jsonl"
        fig = score_lines(cases, [json.loads(x) for x in results.read_text(encoding="utf-8").split("\n")
                                  if x.strip()], args.timeout)
    else:
        fig = run_batch_pass(cases, cases_dir, work / "out", args.timeout, args.workers)
    s = fig.summary()
    print(f"batch: exit {fig.exit_code}, {fig.cases} cases, {fig.lines} result lines, "
          f"{s['exceptions']} uncaught exceptions, {s['hangs']} over {args.timeout:g} s, "
          f"{s['missing']} missing, {s['duplicates']} duplicates, {s['unexpected']} unexpected, "
          f"{fig.tracebacks} tracebacks on stderr, {fig.wall_s:.0f} s wall, "
          f"peak memory {fig.peak_rss_mib:.0f} MiB")
    for mut, cnt in sorted(fig.outcomes.items()):
        print(f"  {mut:26s} " + " ".join(f"{k}={v}" for k, v in sorted(cnt.items())))
    for title, items in (("exception", fig.exceptions), ("hang", fig.hangs), ("missing", fig.missing),
                         ("duplicate", fig.duplicates), ("unexpected", fig.unexpected)):
        for x in items[:20]:
            print(f"  {title}: {x}")
    if args.json:
        args.json.write_text(json.dumps(s, indent=2) + "\n", encoding="utf-8")
    failures += fig.failures
    if args.round_two:
        failures += round_two(work / "round2", args.timeout, args.workers, None)
    return 0 if failures == 0 else 1


def score_round_two(cases: list[Case], lines: list[dict[str, Any]]) -> BatchFigures:
    """Like :func:`score_lines`, but names shown alike are told apart by the batch (``name [place]``):
    each expected name must be matched by as many result names (exact, or with a ``[...]`` suffix)
    as there are inputs shown under it."""
    from bmdkit.samples.hostile import round_two_expected

    fig = BatchFigures(cases=0, lines=len(lines))
    want: collections.Counter[str] = collections.Counter()
    mutation: dict[str, str] = {}
    for c in cases:
        for n in round_two_expected(c):
            want[n] += 1
            mutation[n] = c.mutation
    fig.cases = sum(want.values())
    got: collections.Counter[str] = collections.Counter()
    for d in lines:
        names = line_names(d)
        for n in names:
            base = n if n in want else n.rsplit(" [", 1)[0]
            if base not in want:
                fig.unexpected.append(n)
                continue
            got[base] += 1
            fig.outcomes.setdefault(mutation[base], collections.Counter())[d.get("status", "?")] += 1
        note_troubles(fig, d, names[0])
    fig.missing = sorted(n for n in want if got[n] < want[n])
    fig.duplicates = sorted(n for n in want if got[n] > want[n])
    all_names = [n for d in lines for n in line_names(d)]
    fig.duplicates += sorted(n for n, k in collections.Counter(all_names).items() if k > 1)
    return fig


def _check_one(path: Path, timeout: float) -> tuple[int, float, float, bool]:
    """(exit code, seconds, peak MiB, traceback seen) of ``bmdkit check`` on one file."""
    cmd = [sys.executable, "-m", "bmdkit", "check", os.fsdecode(path), "--format", "json",
           "--timeout", str(timeout)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop, peak = threading.Event(), [0.0]
    watcher = threading.Thread(target=_watch_memory, args=(proc.pid, stop, peak), daemon=True)
    watcher.start()
    try:
        _, err = proc.communicate(timeout=timeout * 3 + 60)
    finally:
        stop.set()
        watcher.join()
    return proc.returncode, time.perf_counter() - t0, peak[0], b"Traceback" in err


def round_two(work: Path, timeout: float, workers: int | None, json_out: Path | None) -> int:
    """The issue-18 section: make the classes, run batch and check over them, print the figures."""
    from bmdkit.samples.hostile import round_two_cases

    cases_dir = work / "cases"
    shutil.rmtree(work, ignore_errors=True)
    t0 = time.perf_counter()
    cases = round_two_cases(cases_dir)
    print(f"round two: {len(cases)} files made in {time.perf_counter() - t0:.0f} s in {cases_dir}", flush=True)
    fig = run_batch_pass(cases, cases_dir, work / "out", timeout, workers)
    results = work / "out" / "results.jsonl"
    lines = [json.loads(x) for x in results.read_text(encoding="utf-8").split("\n") if x.strip()] \
        if results.exists() else []
    scored = score_round_two(cases, lines)
    fig.lines, fig.cases, fig.outcomes = scored.lines, scored.cases, scored.outcomes
    fig.exceptions, fig.hangs, fig.missing = scored.exceptions, scored.hangs, scored.missing
    fig.duplicates, fig.unexpected = scored.duplicates, scored.unexpected
    s = fig.summary()
    print(f"round two batch: exit {fig.exit_code}, {fig.cases} inputs ({len(cases)} files), {fig.lines} result lines, "
          f"{s['exceptions']} uncaught exceptions, {s['hangs']} over {timeout:g} s, {s['missing']} missing, "
          f"{s['duplicates']} duplicates, {s['unexpected']} unexpected, {fig.tracebacks} tracebacks, "
          f"{fig.wall_s:.0f} s wall, peak memory {fig.peak_rss_mib:.0f} MiB", flush=True)
    for mut, cnt in sorted(fig.outcomes.items()):
        print(f"  {mut:32s} " + " ".join(f"{k}={v}" for k, v in sorted(cnt.items())))
    for title, items in (("exception", fig.exceptions), ("hang", fig.hangs), ("missing", fig.missing),
                         ("duplicate", fig.duplicates), ("unexpected", fig.unexpected)):
        for x in items[:20]:
            print(f"  {title}: {x}")
    bad_exit = slow = tracebacks = 0
    peak = slowest = 0.0
    for c in cases:
        if c.path.suffix == ".zip":
            continue  # check refuses archives by design (exit 2): the batch pass covers their members
        code, dt, mib, tb = _check_one(c.path, timeout)
        bad_exit += code not in (0, 1, 2)
        slow += dt > timeout + 30  # start-up and hashing on top of the read's own time cap
        tracebacks += tb
        peak, slowest = max(peak, mib), max(slowest, dt)
    ran = (cases_dir / "ACTION_RAN").exists()
    checked = sum(1 for c in cases if c.path.suffix != ".zip")
    print(f"round two check: {checked} files, {bad_exit} bad exit codes, {tracebacks} tracebacks, "
          f"{slow} over the time cap, slowest {slowest:.1f} s, peak memory {peak:.0f} MiB, "
          f"actions run: {'YES' if ran else 'none'}", flush=True)
    if json_out:
        json_out.write_text(json.dumps({**s, "check_bad_exit": bad_exit, "check_tracebacks": tracebacks,
                                        "check_over_time": slow, "check_peak_mib": round(peak),
                                        "actions_run": ran}, indent=2) + "\n", encoding="utf-8")
    return fig.failures + bad_exit + tracebacks + slow + ran


if __name__ == "__main__":
    raise SystemExit(main())
