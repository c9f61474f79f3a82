"""Read one file in a child process under the batch worker's caps: ``bmdkit check``'s reader.

A file read in the command's own process could take all its time and
memory (a content-stream bomb once ran past 100 s and 6.6 GB). Here the
read runs in one worker process set up exactly as a batch worker
(:func:`bmdkit.batch.runner._init_worker`: an address-space cap of
``options.memory_bytes`` over what the worker has mapped, SIGINT ignored,
death with its parent) and is stopped after ``options.timeout_s``. A file
that passes a cap fails as ``resource_limit``; a worker that crashes fails
it as ``internal_error``; nothing raises to the caller.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bmdkit.batch.runner import _init_worker, work
from bmdkit.export.jsonout import exam_from_dict
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, InputKind, Source
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.read import UNREAD_SHA256, display_path, failed_exam, out_of_memory, sha256_file


def read_capped(path: str | Path, options: ReadOptions = DEFAULT_OPTIONS) -> Exam:
    """:func:`bmdkit.pipeline.process_file` on ``path`` in a capped worker; never raises for a bad file."""
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # the reader says why it cannot be read
    if size > options.max_file_bytes:  # refused by its size alone: hashing gigabytes is work for nothing
        return failed_exam(Source(display_path(path), UNREAD_SHA256, InputKind.UNKNOWN), FlagCode.RESOURCE_LIMIT,
                           f"file of {size} bytes exceeds the {options.max_file_bytes}-byte cap (not read)")
    ctx = multiprocessing.get_context("fork")  # the command has no threads; fork starts fastest
    level = logging.getLogger("bmdkit").getEffectiveLevel()
    pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker,
                               initargs=(options.memory_bytes, level))
    try:
        fut = pool.submit(work, os.fsdecode(path), options)
        try:
            return exam_from_dict(fut.result(timeout=options.timeout_s))
        except FutureTimeout:
            return _failed(path, options, FlagCode.RESOURCE_LIMIT,
                           f"reading took longer than the {options.timeout_s:g} s time limit")
        except BrokenProcessPool:
            return _failed(path, options, FlagCode.INTERNAL_ERROR, "the reading process crashed on this file")
        except ImportError as exc:
            if not out_of_memory(exc):
                raise  # a broken install, not a bad file
            return _failed(path, options, FlagCode.RESOURCE_LIMIT, "ran out of memory under the per-file memory cap")
        except Exception as exc:  # noqa: BLE001 - a result that cannot come back fails the file
            if out_of_memory(exc):
                return _failed(path, options, FlagCode.RESOURCE_LIMIT,
                               "ran out of memory under the per-file memory cap")
            return _failed(path, options, FlagCode.INTERNAL_ERROR,
                           f"unexpected {type(exc).__name__} while reading")
    finally:
        _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the worker now, whatever it is doing (a timed-out read must not run on).

    The pool's manager thread is joined too: left to finish on its own, it closes its wake-up pipe
    while the interpreter's exit hook for process pools may be writing to it (a race in CPython
    3.11's concurrent.futures), and the command then ends with a traceback on stderr."""
    procs = list(getattr(pool, "_processes", {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    for p in procs:
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.join(timeout=5)
    if manager is not None:
        manager.join(timeout=5)


def _failed(path: str | Path, options: ReadOptions, code: FlagCode, reason: str) -> Exam:
    """A failed exam for ``path``, hashed here only when the file is within the size cap."""
    sha = UNREAD_SHA256
    try:
        if os.stat(path).st_size <= options.max_file_bytes:
            sha = sha256_file(Path(path))
    except OSError:
        pass
    return failed_exam(Source(display_path(path), sha, InputKind.UNKNOWN), code, reason)
