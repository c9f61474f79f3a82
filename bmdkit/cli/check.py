"""``bmdkit check FILE``: read one file and show what it holds."""

from __future__ import annotations

import enum
import io
from dataclasses import replace
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from bmdkit.batchfolder.cells import SafeDictWriter
from bmdkit.cli.batch import parse_size
from bmdkit.cli.capped import read_capped
from bmdkit.export.jsonout import dumps
from bmdkit.export.results_csv import COLUMNS, exam_rows
from bmdkit.model import MEASURES, Exam, Method, Region, Status
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.terminal import json_text, markup, printable

EXIT_CODES = {Status.EXTRACTED: 0, Status.FLAGGED: 1, Status.FAILED: 2}
EXIT_USAGE = 64


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    csv = "csv"


_SHORT = {Region.FEMORAL_NECK: "neck", Region.TOTAL_HIP: "total hip", Region.TROCHANTER: "troch",
          Region.INTERTROCHANTER: "inter", Region.WARDS: "ward's", Region.UPPER_NECK: "upper neck"}
_METHOD = {Method.DICOM_PRIVATE: "private", Method.DICOM_SR: "SR", Method.OCR: "OCR", Method.COMPUTED: "computed"}


_DECIMALS = {"bmd": 3, "bmc": 2, "area": 2, "t_score": 1, "z_score": 1}


def _fmt(measure: str, value: float | None) -> str:
    """A value as reports print it (BMD 0.912, T -1.0), keeping any extra digits it was read with."""
    if value is None:
        return ""
    text = repr(float(value))
    read = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return f"{value:.{min(max(_DECIMALS[measure], read), 4)}f}"


def render_table(exam: Exam, console: Console) -> None:
    """A readable summary: the file, its values and its flags."""
    colour = {"extracted": "green", "flagged": "yellow", "failed": "red"}[exam.status.value]
    console.print(f"[bold]{markup(exam.source.path)}[/bold]  [{colour}]{exam.status.value}[/{colour}]")
    console.print(
        f"kind {exam.source.kind.value} · vendor {exam.vendor.value}"
        f" · model {markup(exam.scanner_model or '-')} · exam date {exam.exam_date or '-'}"
        f" · sha256 {exam.source.sha256[:12]}…"
    )
    if exam.regions:
        t = Table(show_header=True, header_style="bold", pad_edge=False, box=box.SIMPLE_HEAD,
                  collapse_padding=True)
        heads = {"bmd": "BMD", "bmc": "BMC", "area": "area", "t_score": "T", "z_score": "Z"}
        t.add_column("region", no_wrap=True)
        t.add_column("side", no_wrap=True)  # L, R, M(ean)
        for m in MEASURES:
            t.add_column(heads[m], justify="right", no_wrap=True)
        for col in ("eval.", "method", "conf."):
            t.add_column(col, no_wrap=True, justify="right" if col == "conf." else "left")
        for r in exam.regions:
            name = _SHORT.get(r.region, r.region.value)
            if r.region is Region.SPINE_TOTAL and r.label and r.label != name:
                name = f"{name} [{r.label}]"
            name = markup(name)
            t.add_row(
                name, r.side.value[0].upper() if r.side else "",
                *(_fmt(m, r.value(m)) for m in MEASURES),
                "" if r.evaluable is None else ("yes" if r.evaluable else "no"),
                _METHOD.get(r.method, r.method.value), "" if r.confidence is None else f"{r.confidence:.2f}",
            )
        console.print(t)
    shown: set[str] = set()
    for f in exam.flags:
        style = {"info": "cyan", "review": "yellow", "error": "red"}[f.level.value]
        where = f" [{f.region}]" if f.region else ""
        line = f"[{style}]{f.level.value}[/{style}] {f.code.value}{markup(where)}: {markup(f.message)}"
        if line not in shown:  # one flag per measure of one message (a shared cell, a row): printed once
            shown.add(line)
            console.print(line)


def check(
    file: Path = typer.Argument(..., help="A DXA DICOM file, a report PDF or a report image."),
    format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="table (readable), json (the contract) or csv (one row per value)."
    ),
    timeout: float = typer.Option(DEFAULT_OPTIONS.timeout_s, "--timeout", min=0.1,
                                  help="Seconds the read may take before the file fails as resource_limit."),
    max_memory: str = typer.Option(
        str(DEFAULT_OPTIONS.memory_bytes), "--max-memory",
        help="Memory the read may use, bytes or with K/M/G (e.g. 4G); 0 = no cap. "
             "More fails as resource_limit."),
    cross_check_pixels: bool = typer.Option(
        False, "--cross-check-pixels",
        help="Also OCR the burned-in report page of a DICOM file whose own data gives the results, and flag "
             "differences (slow; by default only where the DICOM data is incomplete or inconsistent)."),
) -> int:
    """Read one file and print its values, flags and status.

    Exit code: 0 extracted, 1 flagged (needs review), 2 failed, 64 bad usage.
    """
    try:
        memory_bytes = parse_size(max_memory)
    except ValueError:
        typer.echo(f"--max-memory: not a size: {max_memory!r}", err=True)
        return EXIT_USAGE
    # the read runs in a worker under the same time and memory caps as a batch worker's
    exam = read_capped(file, replace(DEFAULT_OPTIONS, timeout_s=timeout, memory_bytes=memory_bytes,
                                     cross_check_pixels=cross_check_pixels))
    if format is OutputFormat.json:
        typer.echo(json_text(dumps(exam, indent=2)))
    elif format is OutputFormat.csv:
        buf = io.StringIO()
        w = SafeDictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        w.writeheader()
        # printed on a terminal: control characters shown as escapes (--format json keeps them exactly)
        w.writerows({k: printable(v) if isinstance(v, str) else v for k, v in row.items()}
                    for row in exam_rows(exam))
        typer.echo(buf.getvalue(), nl=False)
    else:
        render_table(exam, Console(highlight=False, soft_wrap=True))
    return EXIT_CODES[exam.status]


def register(app: typer.Typer) -> None:
    app.command("check")(check)
