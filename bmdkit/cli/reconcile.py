"""``bmdkit reconcile DIR --edc EXPORT.csv --mapping CSV``: EDC values against extracted ones.

Exit codes: 0 no disagreement (notes such as unknown columns do not
count), 1 at least one disagreement, 64 bad input (unreadable EDC export,
mapping or windows, or no batch results in DIR).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bmdkit.cli.common import batch_folder_argument, mapping_option, out_option, windows_option
from bmdkit.errors import ConfigError, ExportError
from bmdkit.terminal import markup, printable

if TYPE_CHECKING:
    from bmdkit.reconcile import Disagreement

EXIT_CONFIG = 64
#: rows shown on the console; the full list goes to --out
SHOW_MAX = 200


def describe(d: Disagreement) -> str:
    """One console line: kind, where, both values and the first source file (SHA-256, 12 characters)."""
    where = " ".join(x for x in (d.subject_id, d.event, d.field) if x)
    values = f": EDC {d.edc_value or '(blank)'}, bmdkit {d.extracted_value or '(none)'}" if d.field and d.subject_id else ""
    sha = f" [{d.sha256.split(';')[0][:12]}]" if d.sha256 else ""
    return f"{d.kind:<22} {where}{values}{sha}  {d.detail}"


def reconcile(
    directory: Path = batch_folder_argument(),
    edc: Path = typer.Option(..., "--edc", help="REDCap record export (flat CSV, raw field names and values)."),
    mapping: Path = mapping_option(...),
    windows: Path | None = windows_option(),
    out: Path | None = out_option(None, "Write every disagreement to this CSV."),
) -> int:
    """List every disagreement between values in the EDC and values bmdkit extracted.

    Subjects and visits are assembled exactly as 'bmdkit export' does, and
    values are written and compared at the field's decimals. Output names
    trial subject IDs and source-file SHA-256 only, never patients.
    """
    from bmdkit import reconcile as rec
    from bmdkit.batch.assemble import assemble, load_exams
    from bmdkit.batch.subjects import SubjectMap, load_windows
    from bmdkit.cli.export import _atomic_write, _csv_bytes
    from bmdkit.privacy import install_log_filter

    install_log_filter()
    err = Console(stderr=True, highlight=False)
    try:
        edc_table = rec.read_edc(edc)
        wins = load_windows(windows)
        result = assemble(list(load_exams(directory)), SubjectMap.load(mapping), wins)
        items, summary = rec.reconcile(result.subjects, edc_table,
                                       events={w.event: w.visit for w in wins}, report=result.report)
    except (ConfigError, ExportError) as exc:
        err.print(f"[red]{markup(exc)}[/red]")
        return EXIT_CONFIG
    if out is not None:
        _atomic_write(out, _csv_bytes([d.as_row() for d in items], rec.COLUMNS))
    if items:
        show = Console(highlight=False, soft_wrap=True)
        for d in items[:SHOW_MAX]:
            show.print(printable(describe(d)), markup=False)
        if len(items) > SHOW_MAX:
            err.print(f"{len(items) - SHOW_MAX} more lines not shown" + ("" if out else "; use --out"))
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(summary.by_kind.items())) or "none"
    err.print(f"{summary.edc_rows} EDC rows, {summary.extracted_visits} extracted visits, "
              f"{summary.matched_visits} matched; {summary.values_compared} values compared, "
              f"{summary.values_agreed} agree; {summary.held_and_blank} held for review and blank in EDC; "
              f"{summary.disagreements} disagreements ({kinds})", markup=False)
    return 1 if summary.disagreements else 0


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)
