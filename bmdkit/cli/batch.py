"""``bmdkit batch INPUT... --out DIR``: every file of folders and zip archives, in parallel, resumable."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bmdkit.batch.ledger import BatchLocked
from bmdkit.batchfolder.files import prepare_output_dir
from bmdkit.cli.common import mapping_option, out_option, windows_option
from bmdkit.errors import ConfigError
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.privacy import install_log_filter
from bmdkit.terminal import markup

if TYPE_CHECKING:
    from bmdkit.batch.runner import BatchSummary

EXIT_LOCKED = 75  # EX_TEMPFAIL: another batch holds the output folder
EXIT_CONFIG = 64

# batch's own options, declared here so that the signature of batch() stays one line per option
_MAX_MEMORY = typer.Option(
    str(DEFAULT_OPTIONS.memory_bytes), "--max-memory",
    help="Address-space cap per worker process, bytes or with K/M/G (e.g. 4G); 0 = no cap. "
         "A file that needs more fails as resource_limit.")
_MAX_PIXELS = typer.Option(
    DEFAULT_OPTIONS.max_pixels, "--max-pixels", min=1,
    help="Largest image or page (width x height) decoded; bigger fails as resource_limit.")
_MAX_PAGES = typer.Option(DEFAULT_OPTIONS.max_pages, "--max-pages", min=1,
                          help="Most pages (PDF) or frames (image, DICOM) read from one file.")
_OCR = typer.Option(True, "--ocr/--no-ocr",
                    help="OCR pages without a usable text layer (--no-ocr: such pages fail as no_reader).")
_CROSS_CHECK_PIXELS = typer.Option(
    False, "--cross-check-pixels",
    help="Also OCR the burned-in report page of DICOM files whose own data gives the results, and flag "
         "differences (slow; by default only where the DICOM data is incomplete or inconsistent).")
_RETRY_FAILED = typer.Option(
    False, "--retry-failed",
    help="Process again the files that failed in earlier runs (e.g. with a larger --timeout); "
         "each keeps its earlier failures in its history.")


def batch(
    inputs: list[Path] = typer.Argument(None, help="Files, folders or zip archives (optional with --orthanc/--dicomweb)."),
    out: Path = out_option(..., "Output folder (state, results.jsonl, results.csv, failures.csv)."),
    workers: int | None = typer.Option(None, "--workers", "-j", min=1, help="Worker processes (default: all cores)."),
    mapping: Path | None = mapping_option(None, "Writes subjects.csv."),
    windows: Path | None = windows_option(),
    timeout: float = typer.Option(DEFAULT_OPTIONS.timeout_s, "--timeout", help="Seconds per file before it fails as resource_limit."),
    max_memory: str = _MAX_MEMORY,
    max_pixels: int = _MAX_PIXELS,
    max_pages: int = _MAX_PAGES,
    ocr: bool = _OCR,
    cross_check_pixels: bool = _CROSS_CHECK_PIXELS,
    dask: bool = typer.Option(False, "--dask", help="Run on a local Dask cluster."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Run on the Dask cluster at this address."),
    wait: bool = typer.Option(False, "--wait", help="Wait for another batch on the same output instead of refusing."),
    orthanc: str | None = typer.Option(None, "--orthanc", help="Also pull new instances from this Orthanc (REST changes feed)."),
    dicomweb: str | None = typer.Option(None, "--dicomweb", help="Also pull instances from this DICOMweb root (QIDO/WADO-RS)."),
    since: int | None = typer.Option(None, "--since", min=0, help="Orthanc change number to start after (default: where the last pull stopped)."),
    credentials: Path | None = typer.Option(None, "--credentials", help="TOML file with username and password for --orthanc/--dicomweb (0600)."),
    watch: bool = typer.Option(False, "--watch", help="Keep running: process files as they arrive (Ctrl-C or SIGTERM stops)."),
    settle: float = typer.Option(2.0, "--settle", min=0, help="With --watch: seconds a file's size must stay unchanged before it is read."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
    retry_failed: bool = _RETRY_FAILED,
) -> int:
    """Process every input file into DIR; re-running resumes and skips files already done.

    Exit code: 0 done (failed files are listed in failures.csv, files that are
    not scans or reports in skipped.csv), 64 bad usage or configuration (a
    named input that does not exist, an unusable --out, --dask without the
    [dask] extra, a URL with credentials in it), 69 --orthanc/--dicomweb could not
    be reached (what was pulled is still processed), 75 another batch is writing to DIR.
    """
    install_log_filter()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    inputs = list(inputs or [])
    if not _inputs_usable(console, inputs, remote=bool(orthanc or dicomweb)):
        return EXIT_CONFIG
    options = _read_options(console, max_memory, timeout=timeout, max_pixels=max_pixels, max_pages=max_pages,
                            ocr=ocr, cross_check_pixels=cross_check_pixels)
    if options is None:
        return EXIT_CONFIG
    try:
        inputs, exit_code = _gather_inputs(inputs, out, console, retry_failed=retry_failed, wait=wait,
                                           orthanc=orthanc, dicomweb=dicomweb, since=since,
                                           credentials=credentials)
        if watch:
            from bmdkit.cli.sources import watch_inputs

            return watch_inputs(inputs, out, console, settle_s=settle, dask=dask, scheduler=scheduler,
                                workers=workers, options=options, wait=wait)
        summary = _run(inputs, out, dask=dask, scheduler=scheduler, workers=workers, options=options,
                       progress=progress, wait=wait)
        if mapping is not None:
            _subjects_report(out, mapping, windows)
    except (BatchLocked, ConfigError) as exc:
        console.print(f"[red]{markup(exc)}[/red]")
        return EXIT_LOCKED if isinstance(exc, BatchLocked) else EXIT_CONFIG
    _print_summary(console, summary, out)
    return exit_code


def _inputs_usable(console: Console, inputs: list[Path], *, remote: bool) -> bool:
    """False, after saying why, when there is nothing to read or a named input does not exist."""
    if not inputs and not remote:
        console.print("[red]give input files or folders, or --orthanc/--dicomweb[/red]")
        return False
    missing = [p for p in inputs if not os.path.lexists(p)]
    for p in missing:
        console.print(f"[red]no such file or folder: {markup(os.fsdecode(p))}[/red]")
    return not missing


def _read_options(console: Console, max_memory: str, *, timeout: float, max_pixels: int, max_pages: int,
                  ocr: bool, cross_check_pixels: bool) -> ReadOptions | None:
    """The workers' read options from the command line; None, after saying why, for a bad --max-memory."""
    try:
        memory_bytes = parse_size(max_memory)
    except ValueError:
        console.print(f"[red]--max-memory: not a size: {markup(repr(max_memory))}[/red]")
        return None
    return replace(DEFAULT_OPTIONS, timeout_s=timeout, memory_bytes=memory_bytes, max_pixels=max_pixels,
                   max_pages=max_pages, ocr_engines=DEFAULT_OPTIONS.ocr_engines if ocr else (),
                   cross_check_pixels=cross_check_pixels)


def _gather_inputs(inputs: list[Path], out: Path, console: Console, *, retry_failed: bool, wait: bool,
                   orthanc: str | None, dicomweb: str | None, since: int | None,
                   credentials: Path | None) -> tuple[list[Path], int]:
    """Ready ``out`` (reopening failed files with --retry-failed), pull from --orthanc/--dicomweb.

    Returns the inputs (the pulled store first) and the exit code the pull calls for (0 without one).
    BatchLocked or ConfigError when ``out`` or a remote cannot be used.
    """
    prepare_output_dir(out)
    if retry_failed:
        from bmdkit.batch.ledger import reopen_failed_files

        reopen_failed_files(out, wait=wait)
    if not (orthanc or dicomweb):
        return inputs, 0
    from bmdkit.cli.sources import pull_remote

    pulled = pull_remote(out, console, orthanc=orthanc, dicomweb=dicomweb, since=since,
                         credentials=credentials)
    return [*pulled.inputs, *inputs], pulled.exit_code


def _run(inputs: list[Path], out: Path, *, dask: bool, scheduler: str | None, workers: int | None,
         options: ReadOptions, progress: bool, wait: bool) -> BatchSummary:
    """One pass over ``inputs``: on a Dask cluster with --dask/--scheduler, else in local worker processes."""
    if dask or scheduler:
        from bmdkit.batch.dask_runner import require_dask, run_batch_dask

        require_dask()
        return run_batch_dask(inputs, out, scheduler=scheduler, workers=workers, options=options,
                              progress=progress, wait_for_lock=wait)
    from bmdkit.batch.runner import run_batch

    return run_batch(inputs, out, workers=workers, options=options, progress=progress, wait_for_lock=wait)


def _print_summary(console: Console, summary: BatchSummary, out: Path) -> None:
    """One line of counts by outcome, then the failed files (the first few) and where the rest are listed."""
    shown_out = markup(os.fsdecode(out))
    console.print(
        f"{summary.names} input names, {summary.files} distinct files, {summary.processed} processed now: "
        f"{summary.extracted} extracted, {summary.flagged} flagged, {summary.failed} failed, "
        f"{summary.skipped} skipped (not scans or reports), {summary.seconds:.1f} s → {shown_out}"
    )
    if summary.failures:
        more = summary.failed - len(summary.failures)
        console.print(f"failed ({'all ' if more <= 0 else ''}listed in {shown_out}/failures.csv):")
        for name, reason in summary.failures:
            console.print(f"  {markup(name)}: {markup(reason)}")
        if more > 0:
            console.print(f"  … and {more} more")
    if summary.skipped:
        console.print(f"skipped files are listed in {shown_out}/skipped.csv")


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from ``"4294967296"``, ``"512M"``, ``"4G"`` or ``"1.5GiB"``; ValueError otherwise."""
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = t[-1:] if t[-1:] in _UNITS and t[-1:] else ""
    number = float(t[: len(t) - len(unit)] if unit else t)
    if number < 0:
        raise ValueError(text)
    return int(number * _UNITS[unit])


def _subjects_report(out: Path, mapping: Path, windows: Path | None) -> None:
    """subjects.csv, and each file's ``subject`` in results.jsonl (see :func:`place_after_batch`)."""
    from bmdkit.batch.assemble import place_after_batch

    place_after_batch(out, mapping, windows)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch)
