"""``bmdkit change RESULTS``: BMD change per subject, site and visit against the LSC."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bmdkit.batchfolder.cells import SafeDictWriter
from bmdkit.checks.change import CSV_COLUMNS, change_row, changes_from_files
from bmdkit.checks.settings import CheckSettings, default_settings
from bmdkit.cli.common import checks_config_option, out_option, results_argument, subjects_option
from bmdkit.errors import BmdkitError
from bmdkit.terminal import markup as escape


def change(
    results: Path = results_argument(),
    subjects: Path | None = subjects_option(),
    precision: Path | None = typer.Option(None, "--precision", exists=True, dir_okay=False,
                                          help="Site precision CSV: region,precision_pct|precision_g_cm2. "
                                               "Default: ISCD minima."),
    area_change_pct: float | None = typer.Option(None, "--area-change-pct", help="Flag area changes beyond this %."),
    config: Path | None = checks_config_option(),
    out: Path | None = out_option(None, "Also write one CSV row per change here."),
) -> int:
    """Absolute and percent BMD change from baseline per site, with LSC and follow-up flags.

    Exit code: 0 no flags, 1 some change flagged for review, 2 nothing could be read.
    """
    console = Console(highlight=False, soft_wrap=True)
    try:
        settings = CheckSettings.from_toml(config) if config else default_settings()
        if area_change_pct is not None:
            settings = settings.with_(area_change_pct=area_change_pct)
        rows, report, prec = changes_from_files(results, subjects, precision, settings)
    except BmdkitError as exc:
        console.print(f"[red]error[/red] {escape(exc)}")
        return 2
    t = Table(show_header=True, header_style="bold")
    for col in ("subject", "site", "visits", "BMD", "change", "%", "LSC", "significant", "flags"):
        t.add_column(col, justify="right" if col in ("change", "%", "LSC") else "left")
    for r in rows:
        d = change_row(r)
        site = r.site + (f" ({r.side})" if r.side else "") + (f" [{r.label}]" if r.label and r.label != r.site else "")
        t.add_row(escape(r.subject_id), escape(site), escape(f"{r.baseline_visit} → {r.visit}"),
                  f"{d['bmd_baseline']} → {d['bmd_visit']}", d["abs_change"], d["pct_change"],
                  f"{d['lsc']} {d['lsc_unit']}".strip(), d["significant"],
                  "\n".join(escape(x) for x in [*r.flag_codes, *r.notes]))
    console.print(t)
    console.print(f"LSC = {settings.lsc_factor:g} x precision; precision from {prec.source}")
    if report.bad_lines or report.unmapped or report.ambiguous:
        console.print(f"[yellow]not used[/yellow]: {len(report.bad_lines)} unreadable line(s), "
                      f"{report.unmapped} unmapped exam(s), {report.ambiguous} ambiguous exam(s)")
    if out is not None:
        with out.open("w", encoding="utf-8", newline="") as fh:
            w = SafeDictWriter(fh, fieldnames=list(CSV_COLUMNS))
            w.writeheader()
            w.writerows(change_row(r) for r in rows)
    if not rows:
        return 2
    return 1 if any(r.flags for r in rows) else 0


def register(app: typer.Typer) -> None:
    app.command("change")(change)
