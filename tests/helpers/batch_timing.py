"""Worker functions for the batch's queue-timing tests (issue 20): files that take a set time.

A file whose bytes start with ``SLEEP <seconds>`` makes the worker sleep that
long before the real work (:func:`bmdkit.batch.runner.work`); ``HANG`` makes it
sleep for an hour. They run in real pool workers, so they are top-level
functions of an importable module.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bmdkit.batch.runner import work
from bmdkit.options import ReadOptions


def timed_work(path: str, options: ReadOptions) -> dict[str, Any]:
    """Sleep as the file asks (``SLEEP 1.0`` or ``HANG``), then read it for real."""
    head = Path(path).read_bytes()[:64]
    if head.startswith(b"HANG"):
        time.sleep(3600)
    if head.startswith(b"SLEEP"):
        time.sleep(float(head.split()[1]))
    return work(path, options)


class _NoUnpickle(Exception):
    """An error that pickles but cannot be unpickled (its constructor wants two arguments)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(a)
        self.b = b


def chunk_work(path: str, options: ReadOptions) -> dict[str, Any]:
    """:func:`timed_work`, and ``CRASH`` kills the worker process, ``RAISE`` raises an error that
    cannot come back as it is (it does not unpickle), ``NOMEM`` an error caused by a failed allocation."""
    head = Path(path).read_bytes()[:64]
    if head.startswith(b"CRASH"):
        os._exit(13)
    if head.startswith(b"RAISE"):
        raise _NoUnpickle("a", "b")
    if head.startswith(b"NOMEM"):  # a library's own error for a failed allocation, raised from it
        raise RuntimeError("could not decode the page") from MemoryError()
    return timed_work(path, options)
