"""``bmdkit harmonize RESULTS``: harmonized BMD columns beside the original values.

Reads a batch's ``results.jsonl`` (or a ``.jsonl`` file), applies the
chosen methods and writes one row per exam region and side as CSV or JSONL.
Originals are never overwritten; each harmonized value names its equation
set. Exit code: 0 all requested values produced, 1 some rows flagged
(no equation, unmatched scanner, after drift), 64 bad configuration.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import typer
from rich.console import Console

from bmdkit.batchfolder import LineTooLong, TooManyLines, iter_exam_lines, results_path
from bmdkit.batchfolder.cells import SafeDictWriter
from bmdkit.cli.common import out_option, results_argument
from bmdkit.errors import BmdkitError, ConfigError
from bmdkit.harmonize.charts import control_chart
from bmdkit.harmonize.drift import DEFAULT_RULES, DriftSettings, default_baseline_n, default_pct_limit
from bmdkit.harmonize.equations import DEFAULT_STATUSES
from bmdkit.harmonize.phantom import read_phantom_csv
from bmdkit.harmonize.rows import HarmonizeSettings, columns, harmonize_exams
from bmdkit.harmonize.sites import load_sites
from bmdkit.model import Exam
from bmdkit.terminal import json_text, markup, printable

EXIT_USAGE = 64
MAX_RESULT_LINES = 1_000_000


def load_results(path: Path) -> list[Exam]:
    """Exams from a batch folder (its ``results.jsonl``) or a ``.jsonl`` file; any bad line is a usage error."""
    path = results_path(path)
    if not path.is_file():
        raise ConfigError("no results.jsonl here", str(path))
    exams = []
    try:
        for line in iter_exam_lines(path, max_lines=MAX_RESULT_LINES):
            if isinstance(line.error, LineTooLong):
                raise ConfigError(str(line.error), str(path))
            if line.error is not None:
                raise ConfigError(f"line {line.lineno} is not a contract exam: {line.error}", str(path)) from line.error
            assert line.exam is not None
            exams.append(line.exam)
    except TooManyLines as exc:
        raise ConfigError(str(exc), str(path)) from None
    return exams


def _safe_name(text: str) -> str:
    """A file name from ids found in a CSV: letters, digits, dot, dash, underscore only; no leading dot."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip(".")[:80] or "_"


def _write(rows: list[dict], out: Path | None, fmt: str) -> None:
    if fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        buf = io.StringIO()
        w = SafeDictWriter(buf, fieldnames=columns(rows), restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        text = buf.getvalue()
    if out is None:  # on a terminal: no control character from a file reaches it raw
        typer.echo(json_text(text) if fmt == "jsonl" else printable(text, keep_lines=True), nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def harmonize(
    results: Path = results_argument(),
    method: list[str] = typer.Option(
        ..., "--method", "-m", help="sbmd, to-vendor:NAME (hologic, ge_lunar, norland) or site; repeatable."),
    sites: Path | None = typer.Option(None, "--sites", help="Site configuration TOML (centers, scanners)."),
    phantoms: Path | None = typer.Option(
        None, "--phantoms", help="Phantom CSV (scanner_id,date,bmd,phantom_id): calibration and drift."),
    out: Path | None = out_option(None, "Output file (.csv or .jsonl); stdout if absent."),
    fmt: str | None = typer.Option(None, "--format", help="csv or jsonl (default: from --out suffix, else csv)."),
    sbmd_set: str | None = typer.Option(None, "--sbmd-set", help="sBMD equation set NAME[:VERSION]."),
    pairwise_set: str | None = typer.Option(None, "--pairwise-set", help="Pairwise equation set NAME[:VERSION]."),
    allow_status: list[str] = typer.Option(
        [], "--allow-status", help="Also apply equations of this status (historical, site_fit)."),
    via_sbmd: bool = typer.Option(
        False, "--via-sbmd", help="Where no pairwise equation exists, bridge through sBMD (named in the output)."),
    tscore_population: str | None = typer.Option(
        None, "--tscore-population", help="Recompute T-scores with this reference population (e.g. 'NHANES III')."),
    tscore_sex: str = typer.Option("patient", "--tscore-sex", help="patient, female (uniform reference) or male."),
    allow_unknown_scale: bool = typer.Option(
        False, "--allow-unknown-scale", help="Accept a reference whose scanner scale its source does not state."),
    center: str | None = typer.Option(None, "--center", help="Center id all exams belong to (narrows matching)."),
    charts: Path | None = typer.Option(None, "--charts", help="Folder for a control-chart PNG per scanner."),
    baseline_n: int = typer.Option(default_baseline_n(), "--baseline-n", help="Phantom scans that set the baseline."),
    pct_limit: float | None = typer.Option(None, "--pct-limit", help="± percent Shewhart limit (default from reference_data)."),
    drift_rules: str = typer.Option(",".join(DEFAULT_RULES), "--drift-rules", help="Comma-separated drift rules."),
) -> int:
    """Harmonize BMD across vendors and centers; originals are kept, new columns added."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        drift = DriftSettings(baseline_n=baseline_n, pct_limit=pct_limit if pct_limit is not None else default_pct_limit(),
                              rules=tuple(r.strip() for r in drift_rules.split(",") if r.strip()))
        settings = HarmonizeSettings(
            methods=tuple(method), sbmd_set=sbmd_set, pairwise_set=pairwise_set,
            statuses=DEFAULT_STATUSES | frozenset(allow_status), via_sbmd=via_sbmd,
            tscore_population=tscore_population, tscore_sex=tscore_sex,
            allow_unknown_scale=allow_unknown_scale, center_hint=center, drift=drift,
        )
        if "site" in settings.methods and (sites is None or phantoms is None):
            raise BmdkitError("--method site needs --sites and --phantoms")
        config = load_sites(sites) if sites else None
        series = read_phantom_csv(phantoms) if phantoms else None
        if series is not None and config is None:
            raise BmdkitError("--phantoms needs --sites (to match scans to scanners)")
        exams = load_results(results)
        rows, qc = harmonize_exams(exams, settings, config, series)
    except (BmdkitError, ValueError) as exc:
        err.print(f"[red]error[/red] {markup(exc)}")
        return EXIT_USAGE
    fmt = fmt or ("jsonl" if out is not None and out.suffix == ".jsonl" else "csv")
    if fmt not in ("csv", "jsonl"):
        err.print("[red]error[/red] --format must be csv or jsonl")
        return EXIT_USAGE
    _write(rows, out, fmt)
    if charts is not None:
        for q in qc.values():
            for period in q.periods:
                for ph in period.series:
                    if ph.phantom_id not in period.drift:
                        continue
                    tail = f"_from_{period.start}" if period.start else ""
                    name = f"{_safe_name(q.scanner_id)}_{_safe_name(ph.phantom_id)}{tail}.png"
                    control_chart(ph, period.drift[ph.phantom_id], charts / name)
    flagged = sum(1 for r in rows if r["harmonize_flags"])
    err.print(f"{len(exams)} exams, {len(rows)} region rows, {flagged} flagged"
              + (f" → {out}" if out else ""))
    for sid, q in qc.items():
        for period in q.periods:
            f = period.factor
            onset = period.onset
            since = f" from {period.start}" if period.start else ""
            after = {r["sha256"] for r in rows if r.get("scanner_id") == sid and r.get("drift_flag") == "true"
                     and r.get("drift_onset") == (onset[0].isoformat() if onset else None)}
            err.print(f"  scanner {markup(sid)}{since}: " + (f"factor {f.factor:.4f} ± {f.se:.4f};" if f else "no factor;"),
                      f"drift from {onset[0]} ({onset[1]}); {len(after)} exams after it" if onset else "no drift")
    return 1 if flagged else 0


def crosscal_fit(
    pairs: Path = typer.Argument(..., help="CSV, one patient per row, scanned on both machines."),
    x_col: str = typer.Option(..., "--x-col", help="Column with the BMD of the machine converted FROM."),
    y_col: str = typer.Option(..., "--y-col", help="Column with the BMD of the machine converted TO."),
    from_vendor: str = typer.Option(..., "--from-vendor", help="Vendor of --x-col (hologic, ge_lunar, norland)."),
    to_vendor: str = typer.Option(..., "--to-vendor", help="Vendor of --y-col."),
    region: str = typer.Option("spine", "--region", help="spine, total_hip, femoral_neck or trochanter."),
    name: str = typer.Option("site_crosscal", "--name", help="Equation set name for the row."),
    version: str = typer.Option("1", "--version", help="Equation set version."),
    derived_on: str = typer.Option(..., "--derived-on", help="Scanners the fit was made on (e.g. 'jx-1 vs jx-2')."),
    source: str = typer.Option(..., "--source", help="Where the paired data come from (study, date)."),
    delta: float = typer.Option(1.0, "--delta", help="Error-variance ratio var(y err)/var(x err); 1 = orthogonal."),
    min_pairs: int = typer.Option(30, "--min-pairs", help="Fewest complete pairs accepted."),
    out: Path | None = out_option(None, "Write the pairwise-table row (CSV) here."),
) -> int:
    """Fit an in vivo cross-calibration (Deming regression, jackknife SE) from paired scans.

    The row written has status ``site_fit``: to apply it, add it to a copy of
    reference_data/pairwise_equations.csv, point BMDKIT_REFERENCE_DATA at the
    copy and run harmonize with ``--allow-status site_fit --pairwise-set NAME``.
    """
    from bmdkit.harmonize.crosscal import fit_as_row, fit_pairs_csv
    from bmdkit.model import Vendor

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        vendors = [Vendor(from_vendor), Vendor(to_vendor)]
        if region not in ("spine", "total_hip", "femoral_neck", "trochanter"):
            raise ConfigError(f"unknown region {region!r}")
        fit = fit_pairs_csv(pairs, x_col, y_col, delta=delta, min_pairs=min_pairs)
    except (BmdkitError, ValueError) as exc:
        err.print(f"[red]error[/red] {markup(exc)}")
        return EXIT_USAGE
    lo, hi = fit.ci_slope()
    typer.echo(f"{y_col} = {fit.slope:.4f} × {x_col} + {fit.intercept:.4f}   (n={fit.n}, {fit.method})")
    typer.echo(f"slope SE {fit.se_slope:.4f} (95% CI {lo:.4f}–{hi:.4f}), intercept SE {fit.se_intercept:.4f}")
    row = fit_as_row(fit, name, version, vendors[0], vendors[1], region, derived_on, source)
    if out is not None:
        buf = io.StringIO()
        w = SafeDictWriter(buf, fieldnames=list(row), lineterminator="\n")
        w.writeheader()
        w.writerow(row)
        out.write_text(buf.getvalue(), encoding="utf-8")
    return 0


def register(app: typer.Typer) -> None:
    app.command("harmonize")(harmonize)
    app.command("crosscal-fit")(crosscal_fit)
