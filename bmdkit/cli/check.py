"""``bmdkit check FILE``: read one file and show what it holds."""

from __future__ import annotations

import csv
import enum
import io
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bmdkit.export.jsonout import dumps
from bmdkit.export.table import COLUMNS, exam_rows
from bmdkit.model import MEASURES, Exam, Status
from bmdkit.pipeline import process_file

EXIT_CODES = {Status.EXTRACTED: 0, Status.FLAGGED: 1, Status.FAILED: 2}


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    csv = "csv"


def render_table(exam: Exam, console: Console) -> None:
    """A readable summary: the file, its values and its flags."""
    colour = {"extracted": "green", "flagged": "yellow", "failed": "red"}[exam.status.value]
    console.print(f"[bold]{exam.source.path}[/bold]  [{colour}]{exam.status.value}[/{colour}]")
    console.print(
        f"kind {exam.source.kind.value} · vendor {exam.vendor.value}"
        f" · model {exam.scanner_model or '-'} · exam date {exam.exam_date or '-'}"
        f" · sha256 {exam.source.sha256[:12]}…"
    )
    if exam.regions:
        t = Table(show_header=True, header_style="bold")
        for col in ("region", "side", "label", *MEASURES, "evaluable", "method", "confidence"):
            t.add_column(col, justify="right" if col in MEASURES or col == "confidence" else "left")
        for r in exam.regions:
            t.add_row(
                r.region.value, r.side.value if r.side else "", r.label or "",
                *("" if r.value(m) is None else f"{r.value(m):g}" for m in MEASURES),
                "" if r.evaluable is None else ("yes" if r.evaluable else "no"),
                r.method.value, "" if r.confidence is None else f"{r.confidence:.2f}",
            )
        console.print(t)
    for f in exam.flags:
        style = {"info": "cyan", "review": "yellow", "error": "red"}[f.level.value]
        where = f" [{f.region}]" if f.region else ""
        console.print(f"[{style}]{f.level.value}[/{style}] {f.code.value}{where}: {f.message}")


def check(
    file: Path = typer.Argument(..., help="A DXA DICOM file, a report PDF or a report image."),
    format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="table (readable), json (the contract) or csv (one row per value)."
    ),
) -> int:
    """Read one file and print its values, flags and status.

    Exit code: 0 extracted, 1 flagged (needs review), 2 failed, 64 bad usage.
    """
    exam = process_file(file)
    if format is OutputFormat.json:
        typer.echo(dumps(exam, indent=2))
    elif format is OutputFormat.csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(exam_rows(exam))
        typer.echo(buf.getvalue(), nl=False)
    else:
        render_table(exam, Console(highlight=False, soft_wrap=True))
    return EXIT_CODES[exam.status]


def register(app: typer.Typer) -> None:
    app.command("check")(check)
