"""Run a batch on all cores of this machine with a pool of worker processes.

Each file goes through :func:`bmdkit.pipeline.process_file` in a worker
process. Each worker has its own pipe: it is sent a few files at a time
(several in one message, :data:`QUEUED_PER_WORKER` when files are fast,
fewer when they are slow) and reads them in order, sending back one result
per file as it finishes. The batch therefore knows, with no message of its
own, which file each worker is on (the one after its last result) and since
when.

A worker that runs past ``options.timeout_s`` on a file is killed (that
worker only) and its file fails with ``resource_limit``. A worker that
crashes fails the file it was on (``internal_error``). The other files sent
to either are sent again to a new worker, so none is lost or blamed, and
the batch goes on.

The time limit runs from the moment a worker starts the file (as the batch
learns it: when the result of the file before arrives, or when the worker
says it is ready), so a slow worker start-up on a loaded machine does not
count against the file, and neither does waiting behind slow files (OCR) in
a worker's queue. A worker that never gets ready fails its first file after
the time limit plus a start-up grace. A file that spawned a subprocess (e.g.
an OCR engine) when its worker was killed may leave that subprocess to
finish on its own.

Results are committed to the ledger as they arrive (those that arrive together in
one transaction) and the output files are
regenerated every ``checkpoint_s`` seconds and at the end. Regenerating them
costs time in proportion to everything done so far, so on a large batch the
checkpoints are spaced out to keep that under a tenth of the batch's time
(:func:`next_checkpoint_s`); the ledger, not the output files, is what a
killed batch resumes from.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import resource
import select
import signal
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import Any, NamedTuple

from bmdkit.batch.ledger import Ledger
from bmdkit.batch.lifetime import die_with_parent
from bmdkit.batch.made import Made, make
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

#: Files in flight per worker at most (one running, the rest queued; fewer when files are
#: slow, :meth:`_Pool.depth`). A deeper queue
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


@dataclass(frozen=True)
class Worked:
    """What a batch worker sends back for a file: its contract dict, and its output pieces made from
    the exam at hand (:mod:`bmdkit.batch.made`)."""

    line: dict[str, Any]
    made: Made | None


def work_and_make(path: str, options: ReadOptions) -> Worked:
    """Worker side, as the batch runs it: :func:`work`, and the file's output pieces with it."""
    exam = process_file(path, options)
    line = exam_to_dict(exam)
    try:
        made = make(exam, line)
    except Exception:  # the pieces only save the outputs time: without them they are
        # made from the line when the outputs are written, where a fault would stop the batch loudly
        log.debug("output pieces not made here", exc_info=True)
        made = None
    return Worked(line, made)


#: what a worker function gives for a file: the contract dict, or that and its output pieces
WorkerResult = dict[str, Any] | Worked
WorkerFn = Callable[[str, ReadOptions], WorkerResult]


class Done(NamedTuple):
    """A file the pool has finished: its task, its line as stored (:func:`finish_line`, or the line of
    a failure the batch made), and its output pieces when the worker made them for that line."""

    task: Task
    line: dict[str, Any]
    made: Made | None = None


def _done(task: Task, result: WorkerResult) -> Done:
    """The finished file of a worker's ``result``. Pieces made under another path than the line is
    stored under (an archive member's temporary copy) are not kept by the ledger (:meth:`Ledger._store`):
    that line's are made again from it when the outputs are written."""
    line, made = (result.line, result.made) if isinstance(result, Worked) else (result, None)
    return Done(task, finish_line(line, task), made)


def _init_worker(memory_bytes: int, log_level: int = logging.WARNING, single_threaded: bool = False) -> None:
    """Set up a worker process: memory cap, log level, SIGINT ignored, death with its parent."""
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
    worker_fn: WorkerFn = work_and_make,
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
            for done in pool.run_chunks(tasks):
                with led.batched():  # what came back together is committed together
                    for task, line, made in done:
                        commit(led, task, line, made)
                for task, line, _ in done:
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


#: seconds of work kept queued per worker: files that take long (OCR pages) are sent one at a
#: time, so no file waits behind a slow one while another worker has nothing to do (a worker then
#: waits one round trip between files, nothing beside the file's time); fast ones are sent
#: :data:`QUEUED_PER_WORKER` at a time, so a worker goes straight on to its next file while the
#: batch records the last one
QUEUED_WORK_S = 0.05
#: results held back to be committed together (one ledger transaction), at most this many ...
HOLD_RESULTS = 32
#: ... or for this many seconds (a batch killed meanwhile reads them again on resume)
HOLD_S = 0.05


class WorkerError(Exception):
    """A worker's error that could not be sent back as it was (it does not pickle): its type's name."""

    def __init__(self, name: str, memory: bool) -> None:
        super().__init__(name, memory)
        self.name = name
        self.memory = memory


def _serve(conn: Connection, fn: WorkerFn, options: ReadOptions,
           log_level: int, single_threaded: bool) -> None:
    """Worker side: read the files sent (lists of ``(key, path)``), in order, and send back one
    ``(key, result, error)`` per file as it finishes; stop at ``None`` or when the batch is gone.

    The batch knows which file a worker is on from the order alone (the next one after the
    last result), so a file's start costs no message of its own.
    """
    _init_worker(options.memory_bytes, log_level, single_threaded)
    conn.send(_READY)
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for key, path in chunk:
            try:
                reply: tuple[str, WorkerResult | None, BaseException | None] = (key, fn(path, options), None)
            except Exception as exc:  # noqa: BLE001 - the batch decides what the error means for the file
                reply = (key, None, _sendable(exc))
            try:
                conn.send(reply)
            except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled fails its file
                conn.send((key, None, WorkerError(type(exc).__name__, out_of_memory(exc))))


_READY = "ready"


def _sendable(exc: Exception) -> BaseException:
    """``exc`` if it survives pickling both ways, else a :class:`WorkerError` that names it.

    A failed allocation is told here, where the error's causes are still attached
    (pickling drops them), and sent as a :class:`WorkerError` that says so.
    """
    if out_of_memory(exc) and not isinstance(exc, MemoryError):
        return WorkerError(type(exc).__name__, True)
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception may refuse to pickle
        return WorkerError(type(exc).__name__, out_of_memory(exc))


@dataclass
class _Worker:
    """One worker process, its pipe, and the files sent to it in the order it reads them."""

    proc: Any  # a multiprocessing process of the pool's context
    conn: Connection
    spawned: float
    queue: deque[Task] = field(default_factory=deque)
    ready: bool = False
    #: when the worker began the file at the head of its queue, as the batch learns it
    started: float | None = None
    dead: bool = False
    _poller: Any = None

    def has_message(self) -> bool:
        """Whether the worker's pipe holds something to read (a message, or its end): one
        ``poll`` system call, where :meth:`Connection.poll` builds a selector each time."""
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self.conn.fileno(), select.POLLIN)
        return bool(self._poller.poll(0))


class _Pool:
    """Worker processes fed over their own pipes; a hang or a crash costs one worker and one file.

    Each worker is sent a few files at a time (:data:`QUEUED_PER_WORKER` when
    files are fast, fewer when they are slow) and reads them in order, sending
    one result per file. The batch therefore knows which file each worker is on
    (the one after its last result), when it began, and which file a worker that
    died was reading: that file fails, the others sent to it are sent again.
    """

    def __init__(self, workers: int, options: ReadOptions, fn: WorkerFn,
                 startup_grace_s: float = 120.0):
        self.workers = workers
        self.startup_grace_s = startup_grace_s
        self.options = options
        self.fn = fn
        self.ctx = multiprocessing.get_context("forkserver")
        # workers fork from a server that has already imported the pipeline, so a
        # restarted worker is ready at once and start-up does not eat the time limit; the
        # server also imports the main script ("__main__", e.g. the bmdkit command, which
        # imports the whole CLI) once, which multiprocessing otherwise does in every worker
        self.ctx.set_forkserver_preload(["__main__", "bmdkit.batch.preload"])
        self.level = logging.getLogger("bmdkit").getEffectiveLevel()
        self.live: list[_Worker] = []
        self.file_s = 1.0  # running mean of a file's seconds: slow (one at a time) until seen to be fast
        self.retry: deque[Task] = deque()  # files sent to a worker that was lost: sent again first

    def _spawn(self) -> _Worker:
        mine, theirs = self.ctx.Pipe()
        # daemonic: an interpreter that exits without shutdown() does not wait for it (it reads on forever)
        proc = self.ctx.Process(target=_serve, args=(theirs, self.fn, self.options, self.level, self.workers > 1),
                                daemon=True)
        proc.start()
        theirs.close()
        w = _Worker(proc, mine, time.monotonic())
        self.live.append(w)
        return w

    def _retire(self, w: _Worker) -> None:
        """Stop worker ``w``; the files still sent to it go back to be sent again."""
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(timeout=5)
        w.conn.close()
        self.retry.extendleft(reversed(w.queue))
        w.queue.clear()
        self.live.remove(w)

    def shutdown(self) -> None:
        for w in list(self.live):
            self._retire(w)

    def depth(self) -> int:
        """How many files a worker holds at most: :data:`QUEUED_WORK_S` of work, within bounds."""
        return max(1, min(QUEUED_PER_WORKER, int(QUEUED_WORK_S / max(self.file_s, 1e-6))))

    def run(self, tasks: Iterable[Task]) -> Iterator[Done]:
        """Yield every task's :class:`Done` (task, contract dict, output pieces), in completion order."""
        for done in self.run_chunks(tasks):
            yield from done

    def run_chunks(self, tasks: Iterable[Task]) -> Iterator[list[Done]]:
        """Yield the ``(task, contract dict)`` pairs of every task in lists, so the batch can commit
        each list at once: results are held until :data:`HOLD_RESULTS` of them have come, or for
        :data:`HOLD_S` seconds at most (workers are fed meanwhile), so a fast batch does not
        commit file by file."""
        source = iter(tasks)
        held: list[Done] = []
        since = 0.0
        while True:
            self._fill(source)
            busy = [w for w in self.live if w.queue]
            if not busy:
                if self.retry:  # sent to a worker that was gone before it could read them
                    continue
                if held:
                    yield held
                return
            wait_s = min(0.5, self.options.timeout_s)
            if held:
                wait_s = max(0.0, min(wait_s, since + HOLD_S - time.monotonic()))
            ready = set(mp_wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=wait_s))
            if not held:
                since = time.monotonic()
            self._collect(busy, ready, held)
            if held and (len(held) >= HOLD_RESULTS or time.monotonic() - since >= HOLD_S):
                self._fill(source)  # workers topped up before the batch goes off to commit these
                yield held
                held = []

    def _collect(self, busy: list[_Worker], ready: set[Any], done: list[Done]) -> None:
        """Take the results of the ``busy`` workers ``ready`` to be read, fail the file each dead
        worker was on, then the files past the time limit."""
        for w in busy:
            if w.conn in ready:
                self._receive(w, done)
        for w in busy:
            if w.dead or w.proc.sentinel in ready:
                self._receive(w, done)  # what it sent before it died is its own
                if w.queue:
                    task = w.queue.popleft()
                    done.append(Done(task, _failed(task, FlagCode.INTERNAL_ERROR,
                                               "the worker process crashed on this file")))
                self._retire(w)
        self._late(done)

    def _fill(self, source: Iterator[Task]) -> None:
        """Send each worker files up to :meth:`depth` once it holds half of that or fewer (several
        in one message), starting workers as long as there are files for them."""
        depth = self.depth()
        for w in [*self.live, *[None] * (self.workers - len(self.live))]:
            if w is not None and len(w.queue) > depth // 2:
                continue
            chunk = self._take(source, depth - (len(w.queue) if w else 0))
            if not chunk:
                return
            w = w or self._spawn()
            if not w.queue and w.ready:
                w.started = time.monotonic()
            w.queue.extend(chunk)
            try:
                w.conn.send([(t.key, str(t.path)) for t in chunk])
            except OSError:  # the worker is gone: it never had these; its crash is seen next
                for _ in chunk:
                    w.queue.pop()
                self.retry.extendleft(reversed(chunk))
                w.dead = True
                if not w.queue:
                    self._retire(w)
                return

    def _take(self, source: Iterator[Task], n: int) -> list[Task]:
        """Up to ``n`` tasks: those to send again first, then new ones."""
        out = []
        while len(out) < n and self.retry:
            out.append(self.retry.popleft())
        out.extend(itertools.islice(source, n - len(out)))
        return out

    def _receive(self, w: _Worker, done: list[Done]) -> None:
        """Take every message worker ``w`` has sent: its start, then one result per file in order."""
        try:
            while not w.dead and w.has_message():
                msg = w.conn.recv()
                now = time.monotonic()
                if msg == _READY:
                    w.ready = True
                    w.started = now if w.queue else None
                    continue
                key, result, error = msg
                task = w.queue.popleft()
                if task.key != key:  # pragma: no cover - a worker reads its files in order
                    raise RuntimeError("a batch worker answered out of order")
                if w.started is not None:
                    self.file_s = 0.8 * self.file_s + 0.2 * (now - w.started)
                w.started = now if w.queue else None
                done.append(_done(task, result) if error is None else Done(task, _error_line(task, error)))
        except (EOFError, OSError):
            w.dead = True

    def _late(self, done: list[Done]) -> None:
        """Fail the file each worker has been on past the time limit, and stop that worker.

        A file is timed from when its worker began it, never while it waits in a worker's
        queue. A worker that has not started (a pool that never comes up) is given the time
        limit plus the start-up grace before its first file fails.
        """
        now = time.monotonic()
        timeout = self.options.timeout_s
        for w in [w for w in self.live if w.queue]:
            if w.started is not None:
                late = now - w.started > timeout
            else:
                late = not w.ready and now - w.spawned > timeout + self.startup_grace_s
            if late and not w.dead and w.has_message():
                self._receive(w, done)  # its answer came in since the wait: it was not late after all
                continue
            if late:
                task = w.queue.popleft()
                done.append(Done(task, _failed(task, FlagCode.RESOURCE_LIMIT,
                                           f"reading took longer than the {timeout:g} s time limit")))
                self._retire(w)


def _error_line(task: Task, exc: BaseException) -> dict[str, Any]:
    """The line of a file whose worker raised ``exc`` instead of giving a result."""
    if isinstance(exc, ImportError) and not out_of_memory(exc):
        raise exc  # a broken install fails the batch loudly, not every file quietly
    log.debug("worker error %s", exc.name if isinstance(exc, WorkerError) else type(exc).__name__)
    if out_of_memory(exc) or (isinstance(exc, WorkerError) and exc.memory):
        return _failed(task, FlagCode.RESOURCE_LIMIT, "ran out of memory under the per-file memory cap")
    name = exc.name if isinstance(exc, WorkerError) else type(exc).__name__
    return _failed(task, FlagCode.INTERNAL_ERROR, f"unexpected {name} in the worker")


def _failed(task: Task, code: FlagCode, reason: str) -> dict[str, Any]:
    """The line of a task the worker gave no result for."""
    return failed_line(task.display, code, reason, digest_of(task))
