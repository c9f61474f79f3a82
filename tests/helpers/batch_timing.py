"""Worker functions for the batch's queue-timing tests (issue 20): files that take a set time.

A file whose bytes start with ``SLEEP <seconds>`` makes the worker sleep that
long before the real work (:func:`bmdkit.batch.runner.work`); ``HANG`` makes it
sleep for an hour. They run in real pool workers, so they are top-level
functions of an importable module.
"""

from __future__ import annotations

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
