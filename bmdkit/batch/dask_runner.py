"""The same batch on a Dask cluster: ``--scheduler ADDRESS`` or a local cluster (``--dask``).

The client walks the inputs, keeps the ledger and writes the outputs
exactly as the process-pool runner does (same :mod:`~bmdkit.batch.plan`,
same :class:`~bmdkit.batch.ledger.Ledger`), so both runners give the same
files. Workers receive each file's bytes (capped by
``options.max_file_bytes``), not its path, so they need no shared
filesystem; they write the bytes to a private temporary file, run
:func:`bmdkit.pipeline.process_file` and send back the contract dict.

At most one task per worker thread is in flight (as the process-pool
runner keeps one per worker process), so the time limit, counted from
submission, is in effect counted from when the file starts. Waiting for
results polls :func:`distributed.wait`, which, unlike
:func:`concurrent.futures.wait`, raises ``TimeoutError`` when nothing
finishes in time: that is an ordinary "nothing yet", never an error (it
once crashed every batch holding a file slower than half a second, such as
any OCR page, and lost the files not yet written).

Limits: Dask cannot stop a running task. A file past ``options.timeout_s``
is failed as ``resource_limit`` and its future cancelled, but the worker
thread may run on until the task ends; a worker that dies fails its file.

To use an existing cluster, start ``dask scheduler`` and ``dask worker
ADDRESS --nthreads 1`` processes (each worker needs bmdkit installed; no
shared filesystem: files travel as bytes) and run ``bmdkit batch ...
--scheduler tcp://HOST:8786``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bmdkit.batch.ledger import Ledger
from bmdkit.batch.plan import Task, discard, failed_line, finish_line, limits_for, plan
from bmdkit.batch.progress import BatchProgress
from bmdkit.batch.runner import BatchSummary, default_workers
from bmdkit.batch.walk import DEFAULT_LIMITS, WalkLimits, count_inputs
from bmdkit.errors import ConfigError
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.pipeline import process_file
from bmdkit.privacy import install_log_filter


def work_bytes(display: str, data: bytes, options: ReadOptions, single_threaded: bool = False) -> dict[str, Any]:
    """Worker side: process one file's bytes; the temporary name never leaves the worker.

    ``single_threaded`` (a cluster of several worker threads) gives OCR one
    thread per call, as the process-pool runner's workers do, so neither
    runner's OCR fights its neighbours for cores.
    """
    if single_threaded:
        from bmdkit.report import ocr

        ocr.set_single_threaded()
    fd, tmp = tempfile.mkstemp(prefix="bmdkit-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        line = exam_to_dict(process_file(tmp, options))
    finally:
        os.unlink(tmp)
    text = json.dumps(line, ensure_ascii=False).replace(json.dumps(tmp)[1:-1], json.dumps(display)[1:-1])
    return json.loads(text)


def run_batch_dask(
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    scheduler: str | None = None,
    client: Any = None,
    workers: int | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
    progress: bool = True,
    wait_for_lock: bool = False,
    limits: WalkLimits = DEFAULT_LIMITS,
) -> BatchSummary:
    """Process ``inputs`` into ``out`` on Dask; same state and outputs as :func:`run_batch`.

    Give ``client`` (a ``distributed.Client``), or ``scheduler`` (an
    address), or neither for a local cluster of ``workers`` processes.
    """
    from distributed import Client, LocalCluster, wait

    start = time.monotonic()
    install_log_filter()
    own: list[Any] = []
    if client is None:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            own.append(cluster)
            client = Client(cluster)
        own.insert(0, client)
    try:
        processed = 0
        with Ledger(out, wait=wait_for_lock) as led, BatchProgress(count_inputs(inputs), progress) as bar:
            try:
                source = plan(inputs, led, bar.advance, limits_for(limits, options))
                flight: dict[Any, tuple[Task, float]] = {}
                exhausted = False
                while True:
                    window = _threads(client)  # workers of an existing cluster may join or leave
                    while not exhausted and len(flight) < window:
                        task = next(source, None)
                        if task is None:
                            exhausted = True
                            break
                        try:
                            data = _read_capped(task.path, options.max_file_bytes)
                        except (OSError, _TooBig) as exc:
                            led.record(task.key, failed_line(task.display, _code(exc), _why(exc, options), task.key))
                            discard(task)
                            bar.advance(True)
                            continue
                        fut = client.submit(work_bytes, task.display, data, options, window > 1, pure=False)
                        flight[fut] = (task, time.monotonic())
                    if not flight:
                        break
                    try:
                        done = set(wait(list(flight), timeout=0.5, return_when="FIRST_COMPLETED").done)
                    except TimeoutError:  # distributed.wait raises when nothing finished: keep waiting
                        done = set()
                    now = time.monotonic()
                    for fut in list(flight):
                        task, t0 = flight[fut]
                        if fut in done:
                            try:
                                line = finish_line(fut.result(), task)
                            except Exception as exc:  # noqa: BLE001 - a lost worker fails its file only
                                line = failed_line(task.display, FlagCode.INTERNAL_ERROR,
                                                   f"the Dask task failed ({type(exc).__name__})", task.key)
                        elif now - t0 > options.timeout_s:
                            fut.cancel()
                            line = failed_line(task.display, FlagCode.RESOURCE_LIMIT,
                                               f"reading took longer than the {options.timeout_s:g} s time limit",
                                               task.key)
                        else:
                            continue
                        del flight[fut]
                        led.record(task.key, line)
                        discard(task)
                        processed += 1
                        bar.advance(line.get("outcome", line.get("status")) == "failed")
            finally:
                outcomes = led.write_outputs()
            summary = BatchSummary.from_ledger(led, processed, time.monotonic() - start, outcomes)
    finally:
        for thing in own:
            thing.close()
    return summary


def _threads(client: Any) -> int:
    """Worker threads in the cluster (at least 1): how many files may be in flight at once."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1) or 1) for w in workers.values()))


class _TooBig(Exception):
    pass


def _read_capped(path: Path, cap: int) -> bytes:
    if path.stat().st_size > cap:
        raise _TooBig
    return path.read_bytes()


def _code(exc: Exception) -> FlagCode:
    return FlagCode.RESOURCE_LIMIT if isinstance(exc, _TooBig) else FlagCode.UNREADABLE


def _why(exc: Exception, options: ReadOptions) -> str:
    if isinstance(exc, _TooBig):
        return f"file exceeds the {options.max_file_bytes}-byte cap"
    return "cannot be read"


class DaskMissing(ConfigError):
    """``--dask`` or ``--scheduler`` was asked for without the ``[dask]`` extra installed."""


def require_dask() -> None:
    """Raise :class:`DaskMissing`, naming the extra to install, when dask.distributed is absent.

    Guarded by the distribution's own name only: any other import error is a broken install
    and propagates.
    """
    try:
        import distributed  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name not in ("distributed", "dask"):
            raise
        raise DaskMissing("--dask and --scheduler need the [dask] extra: pip install 'bmdkit[dask]'") from None
