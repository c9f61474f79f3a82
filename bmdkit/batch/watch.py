"""``bmdkit batch DIR --out OUT --watch``: keep running and process files as they arrive.

A round walks the inputs with a *readiness* predicate (:class:`Readiness`,
passed to :func:`bmdkit.batch.walk.walk_inputs`): a file is complete once it
was renamed into place (a ``moved`` event) or its size and modification time
have not changed for ``settle_s`` seconds; a file whose name ends in a
partial-download suffix (``.part``, ``.tmp``, ``.partial``, ``.crdownload``,
``.filepart``) is never complete until renamed. Files not yet complete are
left for a later round, unrecorded. When every file is complete the round
runs the ordinary batch on the inputs themselves (so unreadable folders and
links are reported as ``bmdkit batch`` reports them); otherwise on the
complete files only, which the ledger names and keys exactly as a walk of
the folder would.

Rounds are woken by filesystem events (``watchdog``'s native observer; its
polling observer when the native one cannot start) and, in any case, every
``poll_s`` seconds, and sooner while files are waiting to settle: a missed
event delays a file, never loses it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit.batch.walk import walk_inputs

log = logging.getLogger(__name__)

PARTIAL_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart")

RunBatch = Callable[[Sequence[str | Path]], Any]


@dataclass
class Readiness:
    """The ``ready(path, stat)`` predicate of ``--watch``: complete when renamed in or settled.

    ``settle_s``: how long size and modification time must stay unchanged.
    A file untouched for that long already when first seen (e.g. there
    before the watch started) is complete at once. Thread-safe: watchdog's
    thread reports renames while a round walks.
    """

    settle_s: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    _renamed: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: int = 0  # files found not ready in the current round

    def renamed_into_place(self, path: str | Path) -> None:
        """A rename made ``path`` appear: it is complete as it is now."""
        with self._lock:
            self._renamed[os.path.abspath(path)] = None

    def __call__(self, path: Path, st: os.stat_result) -> bool:
        key = os.path.abspath(path)
        sig = (st.st_size, st.st_mtime_ns)
        if path.name.lower().endswith(PARTIAL_SUFFIXES):
            self.waiting += 1
            return False
        now = self.clock()
        with self._lock:
            if key in self._renamed:
                first = self._renamed[key]
                if first is None or first == sig:  # unchanged since the rename: complete
                    self._renamed[key] = sig
                    return True
                del self._renamed[key]  # written to after the rename: settle like any other
            prev = self._seen.get(key)
            if prev is None or prev[:2] != sig:
                self._seen[key] = (*sig, now)
                settled = time.time() - st.st_mtime >= self.settle_s
            else:
                settled = now - prev[2] >= self.settle_s
            if settled:
                self._seen.pop(key, None)
            else:
                self.waiting += 1
            return settled


@dataclass
class _Round:
    """What one pre-walk found: the complete regular files, and whether anything was not ready."""

    files: list[Path]
    complete: bool
    signature: frozenset[tuple[str, int, int]]


def _survey(inputs: Sequence[str | Path], readiness: Readiness, scratch: Path) -> _Round:
    """Walk the inputs with the predicate, without extracting archives (every member reads as known)."""
    files: list[Path] = []
    sig: set[tuple[str, int, int]] = set()

    def ready(path: Path, st: os.stat_result) -> bool:
        ok = readiness(path, st)
        if ok:
            files.append(path)
            sig.add((os.fsdecode(path), st.st_size, st.st_mtime_ns))
        return ok

    readiness.waiting = 0
    for _ in walk_inputs(inputs, scratch, known=lambda _place, _stamp: True, ready=ready):
        pass
    return _Round(files, readiness.waiting == 0, frozenset(sig))


def watch_batch(inputs: Sequence[str | Path], run: RunBatch, *, scratch: Path, settle_s: float = 2.0,
                poll_s: float = 10.0, stop: threading.Event | None = None,
                on_round: Callable[[Any], None] | None = None) -> None:
    """Run ``run(inputs or complete files)`` whenever complete new files appear, until ``stop`` is set.

    ``scratch`` is a folder path the survey may name (it extracts nothing
    there). ``on_round`` receives each batch summary (the CLI prints it).
    """
    stop = stop or threading.Event()
    readiness = Readiness(settle_s)
    wake = threading.Event()
    observer = _observe([Path(p) for p in inputs if Path(p).is_dir()], readiness, wake)
    last: frozenset[tuple[str, int, int]] | None = None
    last_full = 0.0
    try:
        while not stop.is_set():
            wake.clear()
            found = _survey(inputs, readiness, scratch)
            due = time.monotonic() - last_full >= poll_s
            if found.signature != last or (found.complete and due):
                summary = run(list(inputs) if found.complete else found.files)
                last = found.signature
                if found.complete:
                    last_full = time.monotonic()
                if on_round is not None and getattr(summary, "processed", 0):
                    on_round(summary)
            pause = min(poll_s, max(0.2, settle_s / 2)) if not found.complete else poll_s
            wake.wait(pause)
            if wake.is_set():
                stop.wait(0.2)  # let a burst of events settle into one round
    finally:
        if observer is not None:
            observer.stop()
            observer.join(5)


def _observe(dirs: list[Path], readiness: Readiness, wake: threading.Event) -> Any:
    """Start a watchdog observer on ``dirs`` (native, else polling); None when neither can start."""
    if not dirs:
        return None
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    class _Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type == "moved" and not event.is_directory:
                readiness.renamed_into_place(os.fsdecode(event.dest_path))
            wake.set()

    for kind in (Observer, PollingObserver):
        observer = kind()
        try:
            for d in dirs:
                observer.schedule(_Handler(), os.fsdecode(d), recursive=True)
            observer.start()
            return observer
        except OSError as exc:  # e.g. the inotify watch limit: fall back to polling
            log.warning("%s cannot watch (%s); falling back", kind.__name__, exc.strerror or type(exc).__name__)
    return None
