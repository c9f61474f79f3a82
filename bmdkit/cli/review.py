"""``bmdkit review DIR``: write the review page for a batch output folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.console import Console

from bmdkit.cli.common import batch_folder_argument, out_option
from bmdkit.privacy import install_log_filter
from bmdkit.review.batchdir import BatchDirError
from bmdkit.review.crops import CropOptions
from bmdkit.review.page import PageOptions, build_page
from bmdkit.terminal import markup

EXIT_BAD_INPUT = 2


def review(
    directory: Path = batch_folder_argument(must_exist=True),
    out: Path = out_option(None, "HTML file to write (default DIR/review.html)."),
    harmonize: Path = typer.Option(None, "--harmonize", help="A harmonize output folder: adds its phantom control charts.",
                                   exists=True, file_okay=False),
    source_root: list[Path] = typer.Option(
        None, "--source-root",
        help="Folder(s) the batch's relative source paths are relative to (default: the current folder, "
             "DIR's parent, DIR). Crops are cut only from files whose SHA-256 matches."),
    crops: str = typer.Option("all", "--crops", help="Crops for 'all' exams or only 'flagged' ones (lighter page)."),
    jobs: int = typer.Option(min(4, os.cpu_count() or 1), "--jobs", "-j", min=1,
                             help="Processes that cut the crops."),
    pdf_dpi: float = typer.Option(None, "--pdf-dpi",
                                  help="Resolution the report reader rendered PDFs at, when a location does not say "
                                       "(default: the installed report reader's)."),
) -> int:
    """Write a self-contained HTML page to review flagged values beside their crops.

    Exit code: 0 written, 2 the folder could not be read, 64 bad usage.
    """
    install_log_filter()  # crop warnings quote nothing from files, but a library's may
    console = Console(stderr=True, highlight=False, soft_wrap=True)  # a path is never broken over lines
    if crops not in ("all", "flagged"):
        raise typer.BadParameter("--crops must be 'all' or 'flagged'")
    crop_options = CropOptions(pdf_dpi=pdf_dpi) if pdf_dpi else CropOptions()
    options = PageOptions(crops=crops, crop_options=crop_options,
                          source_roots=tuple(source_root or ()), harmonize_dir=harmonize, jobs=jobs)
    t0 = time.perf_counter()
    try:
        path = build_page(directory, out, options)
    except BatchDirError as exc:
        console.print(f"[red]{markup(exc)}[/red]")
        return EXIT_BAD_INPUT
    size = path.stat().st_size
    console.print(f"wrote {markup(path)} ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    return 0


def register(app: typer.Typer) -> None:
    app.command("review")(review)
