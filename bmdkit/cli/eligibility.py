"""``bmdkit eligibility RESULTS``: inclusion 5 and 6 per trial subject."""

from __future__ import annotations

import enum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bmdkit.batchfolder.cells import SafeDictWriter
from bmdkit.checks.eligibility import CSV_COLUMNS, ELIGIBLE, NOT_ELIGIBLE, assess_files, result_row
from bmdkit.checks.settings import CheckSettings, default_settings
from bmdkit.cli.common import checks_config_option, out_option, results_argument, subjects_option
from bmdkit.errors import BmdkitError
from bmdkit.terminal import markup as escape


class SpineSetting(str, enum.Enum):
    each_vertebra = "each_vertebra"
    spine_total = "spine_total"


_STYLE = {ELIGIBLE: "green", NOT_ELIGIBLE: "red"}


def eligibility(
    results: Path = results_argument(),
    subjects: Path | None = subjects_option(),
    fractures: Path | None = typer.Option(None, "--fractures", exists=True, dir_okay=False,
                                          help="CSV: subject_id,hip_or_vertebral_fracture,other_fragility_fracture (yes/no)."),
    spine: SpineSetting | None = typer.Option(
        None, "--spine", help="How 'any of L1-L4' is read: each_vertebra (literal, default) or spine_total."),
    config: Path | None = checks_config_option(),
    out: Path | None = out_option(None, "Also write one CSV row per subject here."),
) -> int:
    """Decide inclusion 5 and 6 per subject at baseline: eligible / not eligible / undetermined.

    T-scores are compared as printed (one decimal), strictly. Missing fracture
    history gives "undetermined", never "not eligible". Exit code: 0 when every
    subject is decided without review, 1 otherwise, 2 when nothing could be read.
    """
    console = Console(highlight=False, soft_wrap=True)
    try:
        settings = CheckSettings.from_toml(config) if config else default_settings()
        setting = spine.value if spine is not None else settings.spine_setting
        found, report = assess_files(results, subjects, fractures, setting, settings)
    except BmdkitError as exc:
        console.print(f"[red]error[/red] {escape(exc)}")
        return 2
    t = Table(show_header=True, header_style="bold")
    for col in ("subject", "outcome", "incl. 5", "met by", "incl. 6", "vertebrae", "review"):
        t.add_column(col, no_wrap=col in ("subject", "outcome", "incl. 5", "incl. 6"))
    for r in found:
        row = result_row(r)
        style = _STYLE.get(r.outcome, "yellow")
        met_by = f"{row['criterion']} {row['site']} {row['t_score']}".strip()
        t.add_row(escape(r.subject_id), f"[{style}]{r.outcome}[/{style}]", r.inclusion_5, escape(met_by), r.inclusion_6,
                  row["evaluable_vertebrae"], row["review"])
    console.print(t)
    for r in found:
        console.print(f"[bold]{escape(r.subject_id)}[/bold]")
        for reason in r.reasons:
            console.print(f"  - {escape(reason)}")
    console.print(f"spine setting: {setting}; T-scores compared as printed, strictly"
                  + ("" if fractures else "; [yellow]no fracture file: fracture history unknown[/yellow]"))
    if report.bad_lines or report.unmapped or report.ambiguous:
        console.print(f"[yellow]not used[/yellow]: {len(report.bad_lines)} unreadable line(s), "
                      f"{report.unmapped} unmapped exam(s), {report.ambiguous} ambiguous exam(s)")
    if out is not None:
        with out.open("w", encoding="utf-8", newline="") as fh:
            w = SafeDictWriter(fh, fieldnames=list(CSV_COLUMNS))
            w.writeheader()
            w.writerows(result_row(r) for r in found)
    if not found:
        return 2
    decided = all(r.outcome in (ELIGIBLE, NOT_ELIGIBLE) and not r.review for r in found)
    return 0 if decided else 1


def register(app: typer.Typer) -> None:
    app.command("eligibility")(eligibility)
