"""``bmdkit apply-decisions DIR DECISIONS.csv --reviewer NAME``: apply reviewer decisions to a batch.

Validates every decision against ``DIR/results.jsonl`` (unknown file or
region, or a value that changed since the decision: nothing is applied and
each problem is listed), then rewrites ``results.jsonl`` atomically with the
corrections and appends the decisions to ``DIR/audit.csv``. Decisions already
applied (same decision id) are skipped, so running the same CSV twice, or
after a crash between the two writes, ends in the same state.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console

from bmdkit.review.batchdir import BatchDirError, Line, read_lines, write_lines_atomic
from bmdkit.review.decisions import (
    AUDIT_FILE,
    DecisionError,
    apply_decisions,
    audit_csv_text,
    load_audit,
    read_decisions,
)
from bmdkit.outfiles import touch_private
from bmdkit.terminal import markup

EXIT_REJECTED = 2
EXIT_USAGE = 64


def apply_decisions_command(
    directory: Path = typer.Argument(..., help="A batch output folder (holds results.jsonl).",
                                     exists=True, file_okay=False),
    decisions_csv: Path = typer.Argument(..., help="Decisions CSV downloaded from the review page.",
                                         exists=True, dir_okay=False),
    reviewer: str = typer.Option(..., "--reviewer", help="Who applies these decisions (fills rows without one)."),
) -> int:
    """Apply reviewer decisions: correct values in results.jsonl and append to audit.csv.

    Exit code: 0 applied (or nothing new), 2 decisions rejected (nothing changed), 64 bad usage.
    """
    console = Console(stderr=True, highlight=False)
    if not reviewer.strip():
        console.print("[red]--reviewer must name a person[/red]")
        return EXIT_USAGE
    lock_path = directory / ".review.lock"
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            return _apply(directory, decisions_csv, reviewer.strip(), console)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _apply(directory: Path, decisions_csv: Path, reviewer: str, console: Console) -> int:
    try:
        decisions = read_decisions(decisions_csv, default_reviewer=reviewer)
        lines = read_lines(directory)
        audited = {d.decision_id for d in load_audit(directory)}
        exams, rows = apply_decisions([ln.exam for ln in lines], decisions)
    except (DecisionError, BatchDirError) as exc:
        problems = exc.problems if isinstance(exc, DecisionError) else [str(exc)]
        console.print(f"[red]rejected, nothing applied:[/red] {len(problems)} problem(s)")
        for p in problems:
            console.print(f"  - {markup(p)}")
        return EXIT_REJECTED
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    changed = any(r.applied for r in rows)
    if changed:
        write_lines_atomic(directory, [Line(e, ln.extra, ln.had_patient) for e, ln in zip(exams, lines)])
    new_audit = []
    for d in decisions:
        if d.decision_id in audited:
            continue
        audited.add(d.decision_id)
        new_audit.append(replace(d, applied_by=reviewer, recorded_at=now))
    if new_audit:
        audit_path = directory / AUDIT_FILE
        header = not audit_path.is_file() or audit_path.stat().st_size == 0
        touch_private(audit_path)
        with open(audit_path, "a", encoding="utf-8", newline="") as fh:
            fh.write(audit_csv_text(new_audit, header=header))
            fh.flush()
            os.fsync(fh.fileno())
    n_applied = sum(r.applied for r in rows)
    n_skipped = len(rows) - n_applied
    console.print(
        f"applied {n_applied} decision(s)"
        + (f", {n_skipped} already applied" if n_skipped else "")
        + f"; {len(new_audit)} row(s) added to {AUDIT_FILE}"
    )
    for r in rows:
        if r.applied:
            d = r.decision
            console.print(f"  {d.sha256[:12]} {d.region.value}{'/' + d.side.value if d.side else ''} "
                          f"{d.measure}: {d.action} {r.value_before} -> {r.value_after}")
    return 0


def register(app: typer.Typer) -> None:
    app.command("apply-decisions")(apply_decisions_command)
