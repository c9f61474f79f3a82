"""Run a batch on all cores of this machine with a process pool.

Each file goes through :func:`bmdkit.pipeline.process_file` in a worker
process. A worker that runs past ``options.timeout_s`` is killed (with the
pool; the other files in flight are resubmitted) and its file fails with
``resource_limit``. A worker that crashes breaks the pool: the files that
were in flight are retried one at a time, so only the file that crashes on
its own fails (``internal_error``) and the batch goes on.

The time limit runs from the moment a worker starts the file (workers
note it on a queue), so a slow worker start-up on a loaded machine does not
count against the file, and neither does waiting in the queue: several
files per worker are in flight (:data:`QUEUED_PER_WORKER`), so a worker
never waits for the batch to record the file before, and a file queued
behind slow ones (OCR) is not timed while the files ahead of it run. A file
not yet started is failed only when the whole pool has made no progress (no
file started or finished) for the time limit plus a start-up grace. A file
that spawned a subprocess (e.g. an OCR engine) when its worker was killed
may leave that subprocess to finish on its own.

Results are committed to the ledger as they arrive and the output files are
regenerated every ``checkpoint_s`` seconds and at the end. Regenerating them
costs time in proportion to everything done so far, so on a large batch the
checkpoints are spaced out to keep that under a tenth of the batch's time
(:func:`next_checkpoint_s`); the ledger, not the output files, is what a
killed batch resumes from.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit.batch.ledger import Ledger
from bmdkit.batch.lifetime import die_with_parent
from bmdkit.batch.plan import Task, commit, digest_of, discard, failed_line, finish_line, limits_for, plan
from bmdkit.batch.progress import BatchProgress
from bmdkit.batch.walk import DEFAULT_LIMITS, WalkLimits, count_inputs
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.pipeline import process_file
from bmdkit.privacy import install_log_filter
from bmdkit.read import out_of_memory

log = logging.getLogger(__name__)

#: Files in flight per worker (one running, the rest queued). A deeper queue
#: lets a worker go straight on to its next file while the batch records the
#: last one, and the batch collects several results per wake-up (bench/bench_dicom.py,
#: one worker on small DICOM files: the batch's time beside a bare read loop went from
#: 2.88 to 2.19 times with 8 in flight, on a shared machine). Queued files are not
#: timed (see :meth:`_Pool._late`).
QUEUED_PER_WORKER = 8


@dataclass(frozen=True)
class BatchSummary:
    """What a run did: names seen, files processed now, and the whole output by outcome.

    ``failures`` holds the first few failed files (name and reason) so a
    summary can say which they are; ``failures.csv`` lists them all.
    """

    names: int
    files: int
    processed: int
    failed: int
    seconds: float
    extracted: int = 0
    flagged: int = 0
    skipped: int = 0
    failures: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_ledger(cls, led: Ledger, processed: int, seconds: float, outcomes: Counter[str] | None = None,
                    show_failures: int = 10) -> BatchSummary:
        """The summary of the output folder ``led`` holds, after ``processed`` files this run
        (``outcomes``: what the last :meth:`Ledger.write_outputs` returned)."""
        c = led.counts(outcomes)
        return cls(c.names, c.files, processed, c.failed, seconds, c.extracted, c.flagged, c.skipped,
                   tuple(led.failures(show_failures)))


def work(path: str, options: ReadOptions) -> dict[str, Any]:
    """Worker side: read and check one file, return its contract dict (with patient)."""
    return exam_to_dict(process_file(path, options))


_STARTED: Any = None  # the worker's queue for "task started" notes


def _init_worker(memory_bytes: int, started: Any, log_level: int = logging.WARNING,
                 single_threaded: bool = False) -> None:
    global _STARTED
    _STARTED = started
    if single_threaded:
        # one worker per core already: OCR engines that spread over every core would
        # make the workers fight and push slow pages past the time limit
        from bmdkit.report import ocr

        ocr.set_single_threaded()
    # workers start from the fork server, not from the batch: with -v/-vv, give them the
    # batch's log level on stderr (the readers' messages too), behind the redacting filter;
    # by default libraries' own error logs (with tracebacks of errors bmdkit handles) stay quiet
    if log_level < logging.WARNING and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("bmdkit").setLevel(log_level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()  # no worker reads on after the batch is gone
    if memory_bytes > 0:
        cap = address_space_bytes() + memory_bytes
        try:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        except (ValueError, OSError):
            pass
    install_log_filter()


def address_space_bytes() -> int:
    """This process's current virtual size (Linux ``/proc/self/statm``; 0 elsewhere).

    The memory cap is set on top of it: what the preloaded libraries have
    mapped (hundreds of MiB of address space, mostly never touched) does not
    count against the memory a file may use.
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _call(fn: Callable[[str, ReadOptions], dict[str, Any]], key: str, path: str,
          options: ReadOptions) -> dict[str, Any]:
    """Worker side: note that ``key`` started (for the time limit), then run ``fn``."""
    if _STARTED is not None:
        _STARTED.put((key, os.getpid()))
    return fn(path, options)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def run_batch(
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    workers: int | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
    progress: bool = True,
    checkpoint_s: float = 30.0,
    wait_for_lock: bool = False,
    limits: WalkLimits = DEFAULT_LIMITS,
    worker_fn: Callable[[str, ReadOptions], dict[str, Any]] = work,
    retry_failed: bool = False,
) -> BatchSummary:
    """Process ``inputs`` into the output folder ``out``; resumes what is there.

    With ``retry_failed``, files that failed in an earlier run are processed
    again (with these ``options``), their earlier failures kept in their
    ``history`` (:meth:`Ledger.reopen_failed`).

    ``worker_fn`` must be a picklable top-level function; it exists so tests
    can run a deliberately hanging or crashing worker through the real pool.
    """
    start = time.monotonic()
    install_log_filter()
    workers = workers or default_workers()
    # the bar's total costs a walk of every input (each file opened to spot a zip): only for a bar shown
    total = count_inputs(inputs) if progress else 0
    with Ledger(out, wait=wait_for_lock) as led, BatchProgress(total, progress) as bar:
        if retry_failed:
            led.reopen_failed()
        pool = _Pool(workers, options, worker_fn)
        processed = 0
        last_checkpoint = time.monotonic()
        interval = checkpoint_s
        try:
            # not hashed here: the worker hashes what it reads, and that digest keys the result
            tasks = plan(inputs, led, bar.advance, limits_for(limits, options), hash_first=False)
            for task, line in pool.run(tasks):
                commit(led, task, line)
                discard(task)
                processed += 1
                bar.advance(line.get("outcome", line.get("status")) == "failed")
                if time.monotonic() - last_checkpoint > interval:
                    t0 = time.monotonic()
                    led.write_outputs()
                    last_checkpoint = time.monotonic()
                    interval = next_checkpoint_s(checkpoint_s, last_checkpoint - t0)
        finally:
            pool.shutdown()
            outcomes = led.write_outputs()
        return BatchSummary.from_ledger(led, processed, time.monotonic() - start, outcomes)


#: at most this share of a batch's time goes to regenerating the outputs at checkpoints
CHECKPOINT_SHARE = 0.1


def next_checkpoint_s(checkpoint_s: float, took_s: float) -> float:
    """Seconds until the next checkpoint: ``checkpoint_s``, or longer when the last one took
    ``took_s`` seconds, so that checkpoints take at most :data:`CHECKPOINT_SHARE` of the time.

    >>> next_checkpoint_s(30.0, 0.5), next_checkpoint_s(30.0, 6.0)
    (30.0, 54.0)
    """
    return max(checkpoint_s, took_s * (1 - CHECKPOINT_SHARE) / CHECKPOINT_SHARE)


class _Pool:
    """A ProcessPoolExecutor that can lose a worker to a hang or a crash and carry on."""

    def __init__(self, workers: int, options: ReadOptions, fn: Callable[[str, ReadOptions], dict[str, Any]],
                 startup_grace_s: float = 120.0):
        self.workers = workers
        self.startup_grace_s = startup_grace_s
        self.options = options
        self.fn = fn
        self.ctx = multiprocessing.get_context("forkserver")
        # workers fork from a server that has already imported the pipeline, so a
        # restarted pool is ready at once and start-up does not eat the time limit; the
        # server also imports the main script ("__main__", e.g. the bmdkit command, which
        # imports the whole CLI) once, which multiprocessing otherwise does in every worker
        self.ctx.set_forkserver_preload(["__main__", "bmdkit.batch.preload"])
        self.ex = self._new()

    def _new(self) -> ProcessPoolExecutor:
        self.started = self.ctx.SimpleQueue()  # new with each pool: a killed worker may hold the old one's lock
        return ProcessPoolExecutor(
            self.workers, mp_context=self.ctx, initializer=_init_worker,
            initargs=(self.options.memory_bytes, self.started, logging.getLogger("bmdkit").getEffectiveLevel(),
                      self.workers > 1),
        )

    def _drain_started(self, st: _InFlight) -> None:
        """Take the workers' start notes: when (as the batch learns it) and in which worker each began."""
        while not self.started.empty():
            key, pid = self.started.get()
            st.progress = time.monotonic()
            st.starts.setdefault(key, (st.progress, pid))

    def _dead(self, pid: int) -> bool:
        """True when the worker ``pid`` of the current pool has exited."""
        proc = getattr(self.ex, "_processes", {}).get(pid)
        return proc is not None and not proc.is_alive()

    def _restart(self) -> None:
        procs = list(getattr(self.ex, "_processes", {}).values())
        for p in procs:
            if p.is_alive():
                p.kill()
        self.ex.shutdown(wait=True, cancel_futures=True)
        self.ex = self._new()

    def shutdown(self) -> None:
        procs = list(getattr(self.ex, "_processes", {}).values())
        self.ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join(timeout=5)

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, Any]]]:
        """Yield ``(task, contract dict)`` for every task, in completion order."""
        st = _InFlight(iter(tasks))
        while True:
            self._fill(st)
            if not st.flight:
                return
            done, _ = wait(list(st.flight), timeout=min(0.5, self.options.timeout_s),
                           return_when=FIRST_COMPLETED)
            if (yield from self._finished(done, st)):
                self._requeue(st, all_suspect=True)  # the pool broke: every task in flight runs alone
                continue
            if done:
                st.progress = time.monotonic()
            self._drain_started(st)
            if (yield from self._crashed(st)):
                continue
            yield from self._late(st)

    def _fill(self, st: _InFlight) -> None:
        """Submit tasks up to the limit: :data:`QUEUED_PER_WORKER` per worker, so the next files wait
        in the queue while the parent records the ones before and no worker sits idle between files;
        one at a time while a suspect (in flight when the pool broke) runs."""
        limit = 1 if (st.suspects or any(s for _, _, s in st.flight.values())) else \
            self.workers * QUEUED_PER_WORKER
        while len(st.flight) < limit:
            task, alone = st.next_task()
            if task is None:
                break
            fut = self.ex.submit(_call, self.fn, task.key, str(task.path), self.options)
            st.flight[fut] = (task, time.monotonic(), alone)
            st.starts.pop(task.key, None)

    def _finished(self, done: Iterable[Future[dict[str, Any]]], st: _InFlight
                  ) -> Generator[tuple[Task, dict[str, Any]], None, bool]:
        """Yield the results of the ``done`` futures; returns True when the pool broke."""
        broken = False
        for fut in done:
            task, _, alone = st.flight.pop(fut)
            try:
                yield task, finish_line(fut.result(), task)
            except BrokenProcessPool:
                broken = True
                if alone:
                    yield task, _failed(task, FlagCode.INTERNAL_ERROR,
                                        "the worker process crashed on this file")
                else:
                    st.suspects.append(task)
            except ImportError as exc:
                if not out_of_memory(exc):
                    raise  # a broken install fails the batch loudly, not every file quietly
                yield task, _failed(task, FlagCode.RESOURCE_LIMIT,
                                    "ran out of memory under the per-file memory cap")
            except Exception as exc:  # noqa: BLE001 - a result that cannot come back fails its file
                log.debug("worker error %s", type(exc).__name__)
                if out_of_memory(exc):
                    yield task, _failed(task, FlagCode.RESOURCE_LIMIT,
                                        "ran out of memory under the per-file memory cap")
                else:
                    yield task, _failed(task, FlagCode.INTERNAL_ERROR,
                                        f"unexpected {type(exc).__name__} in the worker")
        return broken

    def _crashed(self, st: _InFlight) -> Generator[tuple[Task, dict[str, Any]], None, bool]:
        """Fail the task each dead worker was on (seen before the pool says so); True if any."""
        flight, starts = st.flight, st.starts
        dead = [f for f, (task, _, _) in flight.items()
                if task.key in starts and self._dead(starts[task.key][1])]
        # the last task a dead worker started is the culprit; an earlier one's result was in transit
        culprits: dict[int, Future[dict[str, Any]]] = {}
        for f in sorted(dead, key=lambda f: starts[flight[f][0].key][0]):
            culprits[starts[flight[f][0].key][1]] = f
        if not culprits:
            return False
        for fut in culprits.values():
            task, _, _ = flight.pop(fut)
            yield task, _failed(task, FlagCode.INTERNAL_ERROR, "the worker process crashed on this file")
        self._requeue(st)
        return True

    def _late(self, st: _InFlight) -> Iterator[tuple[Task, dict[str, Any]]]:
        """Fail the tasks past the time limit (and restart the pool under them)."""
        now = time.monotonic()
        timeout = self.options.timeout_s
        # a started task is timed from its start. One still queued waits its turn: each task
        # ahead of it is bounded by its own limit, so while the pool makes progress (a task
        # started or finished) it is not timed; it is late only when nothing has moved since
        # its submission or the last progress for the limit plus the grace a worker's
        # start-up needs (a pool that never starts, or a lost start note)
        late = [f for f, (task, t0, _) in st.flight.items()
                if (now - st.starts[task.key][0] > timeout if task.key in st.starts
                    else now - max(t0, st.progress) > timeout + self.startup_grace_s)]
        if not late:
            return
        for fut in late:
            task, _, _ = st.flight.pop(fut)
            yield task, _failed(task, FlagCode.RESOURCE_LIMIT,
                                f"reading took longer than the {timeout:g} s time limit")
        self._requeue(st)

    def _requeue(self, st: _InFlight, all_suspect: bool = False) -> None:
        """Put the tasks still in flight back (a task that ran alone, or all with ``all_suspect``,
        runs alone again) and restart the pool."""
        for task, _, alone in st.flight.values():
            (st.suspects if alone or all_suspect else st.retry).append(task)
        st.flight.clear()
        self._restart()
        st.progress = time.monotonic()


@dataclass
class _InFlight:
    """The state of one :meth:`_Pool.run`: tasks to come, to retry, to run alone, in flight."""

    source: Iterator[Task]
    retry: deque[Task] = field(default_factory=deque)  # resubmit after a restart (not at fault)
    suspects: deque[Task] = field(default_factory=deque)  # in flight when the pool broke: run alone
    flight: dict[Future[dict[str, Any]], tuple[Task, float, bool]] = field(default_factory=dict)
    #: when, and in which worker, each task began
    starts: dict[str, tuple[float, int]] = field(default_factory=dict)
    exhausted: bool = False
    #: when the pool last moved (a task started or finished, or the pool was restarted)
    progress: float = field(default_factory=time.monotonic)

    def next_task(self) -> tuple[Task | None, bool]:
        """The next task to submit (suspects, then retries, then new ones), and whether it runs alone."""
        if self.suspects:
            return self.suspects.popleft(), True
        if self.retry:
            return self.retry.popleft(), False
        if not self.exhausted:
            task = next(self.source, None)
            if task is not None:
                return task, False
            self.exhausted = True
        return None, False


def _failed(task: Task, code: FlagCode, reason: str) -> dict[str, Any]:
    """The line of a task the worker gave no result for."""
    return failed_line(task.display, code, reason, digest_of(task))
