"""``bmdkit export DIR --format redcap|odm|fhir --mapping CSV --out PATH``: results into the trial's EDC."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import typer
from rich.console import Console

from bmdkit.batchfolder import write_bytes_atomic
from bmdkit.batchfolder.cells import SafeDictWriter, safe_writerows
from bmdkit.cli.common import batch_folder_argument, mapping_option, out_option, windows_option
from bmdkit.errors import ConfigError, ExportError
from bmdkit.export.edc import ReviewItem
from bmdkit.privacy import install_log_filter
from bmdkit.terminal import markup

EXIT_CONFIG = 64
REVIEW_COLUMNS = ("subject_id", "visit", "field", "value", "reason", "path", "sha256", "detail")


class ExportFormat(str, enum.Enum):
    redcap = "redcap"
    odm = "odm"
    fhir = "fhir"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write one export file all at once, owner-only, creating its folder (:mod:`bmdkit.batchfolder`)."""
    write_bytes_atomic(path, data, make_parents=True)


def _csv_bytes(rows: list[list[str]] | list[dict[str, str]], header: tuple[str, ...] | None = None) -> bytes:
    """CSV text (UTF-8) of dict rows under ``header``, or of list rows; text cells spreadsheet-safe.

    Every CSV this command writes may be opened in a spreadsheet (the REDCap
    import too, before upload), so all go through :mod:`bmdkit.batchfolder.cells`;
    numbers and number text are unchanged.
    """
    import io

    buf = io.StringIO()
    if header is not None:
        w = SafeDictWriter(buf, fieldnames=list(header), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)  # type: ignore[arg-type]
    else:
        safe_writerows(buf, rows)  # type: ignore[arg-type]
    return buf.getvalue().encode("utf-8")


def sidecar(out: Path, suffix: str) -> Path:
    return out.with_name(f"{out.stem}_{suffix}.csv")


def export(
    directory: Path = batch_folder_argument(),
    format: ExportFormat = typer.Option(..., "--format", "-f", help="redcap, odm or fhir."),
    mapping: Path = mapping_option(...),
    out: Path = out_option(..., "File to write (CSV, XML or JSON)."),
    windows: Path | None = windows_option(),
    record_field: str = typer.Option("record_id", "--record-field", help="REDCap: the project's record ID field."),
    study_name: str = typer.Option("DXA", "--study-name", help="ODM: StudyName."),
) -> int:
    """Write the EDC export, plus <out>_review.csv (values held back) and <out>_subjects.csv (placement).

    Only trial subject IDs leave bmdkit; unmapped patients and exams outside
    every visit window are listed in <out>_subjects.csv and not exported.
    """
    from bmdkit.batch.assemble import REPORT_COLUMNS, assemble, load_exams
    from bmdkit.batch.subjects import SubjectMap, load_windows

    install_log_filter()
    console = Console(stderr=True, highlight=False, soft_wrap=True)  # a path is never broken over lines
    try:
        result = assemble(list(load_exams(directory)), SubjectMap.load(mapping), load_windows(windows))
        review: list[ReviewItem]
        if format is ExportFormat.redcap:
            from bmdkit.export import redcap

            rows, review = redcap.import_rows(result.subjects, record_field)
            _atomic_write(out, _csv_bytes(rows))
            _atomic_write(sidecar(out, "dictionary"), _csv_bytes(redcap.dictionary_rows(record_field)))
            console.print(redcap.BLANK_POLICY)
        elif format is ExportFormat.odm:
            from bmdkit.export import odm

            tree, review = odm.build(result.subjects, study_name=study_name)
            _atomic_write(out, odm.to_bytes(tree))
        else:
            from bmdkit.export import fhir

            bundle, review = fhir.build(result.subjects)
            _atomic_write(out, json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8"))
    except (ConfigError, ExportError) as exc:
        console.print(f"[red]{markup(exc)}[/red]")
        return EXIT_CONFIG
    _atomic_write(sidecar(out, "review"), _csv_bytes(
        [{k: str(getattr(r, k)) for k in REVIEW_COLUMNS} for r in review], REVIEW_COLUMNS))
    _atomic_write(sidecar(out, "subjects"), _csv_bytes(
        sorted(result.report, key=lambda r: (r["path"], r["sha256"])), REPORT_COLUMNS))
    unplaced = sum(1 for r in result.report if r["problem"])
    console.print(f"{len(result.subjects)} subject visits exported to {markup(out)}; {len(review)} values held for "
                  f"review; {unplaced} files not exported (see {markup(sidecar(out, 'subjects').name)})")
    return 0


def register(app: typer.Typer) -> None:
    app.command("export")(export)
