"""Run the ordinary batch on received objects, in the background, whenever new ones land.

The listener stores objects; this thread runs :func:`bmdkit.batch.runner.run_batch`
on the store folder a short while after new ones arrive (``every_s``: a burst of
objects is processed together), and once at start-up, so objects stored before a
kill or restart but not yet processed are never lost. The ledger in the output
folder makes each run process only what is new. A run interrupted by shutdown
commits nothing for the files in flight; the next run does them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bmdkit.errors import ConfigError
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions

log = logging.getLogger(__name__)


@dataclass
class ProcessTally:
    """Runs made, files processed by them, and seconds spent processing (for the figures in the logs)."""

    runs: int = 0
    processed: int = 0
    seconds: float = 0.0


class ReceivedProcessor:
    """A background thread that batches ``store_root`` into ``out`` after each notification."""

    def __init__(self, store_root: Path, out: Path, *, every_s: float = 5.0, workers: int | None = None,
                 options: ReadOptions = DEFAULT_OPTIONS) -> None:
        self.store_root = store_root
        self.out = out
        self.every_s = every_s
        self.workers = workers
        self.options = options
        self.tally = ProcessTally()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bmdkit-process", daemon=True)

    def start(self) -> None:
        """Start the thread; it processes whatever is already stored first."""
        self._dirty.set()
        self._thread.start()

    def notify(self) -> None:
        """New objects were stored: process them soon."""
        self._idle.clear()
        self._dirty.set()

    def wait_idle(self, timeout: float) -> bool:
        """Block until everything notified so far has been processed (True) or ``timeout`` passes."""
        return self._idle.wait(timeout)

    def stop(self, grace_s: float) -> bool:
        """Start no new run; wait up to ``grace_s`` for the current one. True when none is left running."""
        self._stop.set()
        self._thread.join(grace_s)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._dirty.wait(0.2):
                continue
            if self._stop.wait(self.every_s):  # let a burst of objects land before processing
                return
            self._dirty.clear()
            self._run_once()
            if not self._dirty.is_set():
                self._idle.set()

    def _run_once(self) -> None:
        from bmdkit.batch.runner import run_batch

        t0 = time.monotonic()
        try:
            summary = run_batch([self.store_root], self.out, workers=self.workers, options=self.options,
                                progress=False, wait_for_lock=True)
        except ConfigError as exc:
            log.error("processing received objects failed: %s; retrying later", exc)
            self._dirty.set()
            return
        except Exception as exc:  # noqa: BLE001 - the listener keeps receiving; the next run retries
            log.error("processing received objects failed (%s); retrying later", type(exc).__name__)
            self._dirty.set()
            return
        took = time.monotonic() - t0
        self.tally.runs += 1
        self.tally.processed += summary.processed
        self.tally.seconds += took
        if summary.processed:
            log.info("processed %d received objects in %.1f s (%d extracted, %d flagged, %d failed in total)",
                     summary.processed, took, summary.extracted, summary.flagged, summary.failed)
