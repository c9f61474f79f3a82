"""The parts of ``bmdkit batch`` that feed it from elsewhere: ``--orthanc``/``--dicomweb`` and ``--watch``.

Kept apart from :mod:`bmdkit.cli.batch` so the plain batch command reads as before; both
end in the same runners, ledger and outputs.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from bmdkit.options import ReadOptions
from bmdkit.terminal import markup

EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: the PACS could not be reached (what was pulled is still processed)


@dataclass(frozen=True)
class Pulled:
    """What a pull adds to the batch's inputs (the store folder), and the exit code it calls for."""

    inputs: list[Path]
    exit_code: int


def pull_remote(out: Path, console: Console, *, orthanc: str | None, dicomweb: str | None, since: int | None,
                credentials: Path | None) -> Pulled:
    """Pull from Orthanc and/or DICOMweb into ``out/received``; ConfigError for bad URLs or credentials.

    A server that cannot be reached is reported and the run goes on with
    what was stored (exit code 69 at the end): objects already pulled are
    never left unprocessed.
    """
    from bmdkit.network.config import load_credentials
    from bmdkit.network.dicomweb import pull_dicomweb
    from bmdkit.network.orthanc import pull_orthanc
    from bmdkit.network.pull import RemoteError
    from bmdkit.network.store import ObjectStore

    creds = load_credentials(credentials)
    store = ObjectStore(out)
    code = 0
    jobs: list[tuple[str, Any]] = []
    if orthanc:
        jobs.append(("Orthanc", lambda: pull_orthanc(orthanc, store.out, since=since, credentials=creds)))
    if dicomweb:
        jobs.append(("DICOMweb", lambda: pull_dicomweb(dicomweb, store.out, credentials=creds)))
    for name, job in jobs:
        try:
            s = job()
        except RemoteError as exc:
            console.print(f"[red]{name}: {markup(exc)}; processing what was pulled so far[/red]")
            code = EXIT_UNAVAILABLE
            continue
        except OSError as exc:
            console.print(f"[red]{name}: cannot store a pulled object ({markup(exc.strerror or exc)})[/red]")
            code = EXIT_UNAVAILABLE
            continue
        console.print(f"{name}: {s.new} new objects pulled, {s.duplicates} already stored, {s.refused} refused; "
                      f"position {s.position}")
    return Pulled([store.root], code)


def watch_inputs(inputs: list[Path], out: Path, console: Console, *, settle_s: float, dask: bool,
                 scheduler: str | None, workers: int | None, options: ReadOptions, wait: bool) -> int:
    """Run :func:`bmdkit.batch.watch.watch_batch` until SIGTERM or Ctrl-C; returns the exit code (0)."""
    from bmdkit.batch.watch import watch_batch

    if dask or scheduler:
        from bmdkit.batch.dask_runner import require_dask, run_batch_dask

        require_dask()

        def run(ins: list[Any]) -> Any:
            return run_batch_dask(ins, out, scheduler=scheduler, workers=workers, options=options,
                                  progress=False, wait_for_lock=wait)
    else:
        from bmdkit.batch.runner import run_batch

        def run(ins: list[Any]) -> Any:
            return run_batch(ins, out, workers=workers, options=options, progress=False, wait_for_lock=wait)

    def on_round(summary: Any) -> None:
        console.print(f"{summary.processed} processed: {summary.files} distinct files so far "
                      f"({summary.extracted} extracted, {summary.flagged} flagged, {summary.failed} failed, "
                      f"{summary.skipped} skipped) → {markup(os.fsdecode(out))}")

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    console.print(f"watching {len(inputs)} input(s); stop with Ctrl-C or SIGTERM")
    try:
        watch_batch(inputs, run, scratch=Path(out) / ".watch-survey", settle_s=settle_s,
                    stop=threading.Event(), on_round=on_round)
    except KeyboardInterrupt:
        # the runner's own clean-up has run: results so far are written, files in flight are redone next time
        console.print("stopped; what was in flight is processed on the next run")
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0
