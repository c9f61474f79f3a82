"""``bmdkit apply-decisions DIR DECISIONS.csv --reviewer NAME``: apply reviewer decisions to a batch.

Validates every decision against ``DIR/results.jsonl`` (unknown file or
region, or a value that changed since the decision: nothing is applied and
each problem is listed), appends the decisions to ``DIR/audit.csv``, then
rewrites ``results.jsonl`` and ``results.csv`` atomically with the decided
values, so everything that reads the folder (``read_results``, exports,
eligibility, change, the review page) shows them at once. When a decision
changes an exam date and the batch kept its subject mapping, files are placed
under visits again (``subjects.csv`` and each line's ``subject``).

Decisions already applied (same decision id) are skipped, so running the same
CSV twice, or after a crash between the writes, ends in the same state. A
batch writing the folder at the same time is waited for by neither side: the
command refuses (exit 75) and changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console

from bmdkit.batch.ledger import LOCK_NAME
from bmdkit.batch.outputs import write_results_csv
from bmdkit.batchfolder.files import touch_private
from bmdkit.cli.common import batch_folder_argument
from bmdkit.decisions.records import (
    AUDIT_FILE,
    Decision,
    DecisionError,
    apply_decisions,
    audit_csv_text,
    load_audit,
    read_decisions,
)
from bmdkit.model import Exam
from bmdkit.review.batchdir import BatchDirError, Line, read_lines, write_lines_atomic
from bmdkit.terminal import markup

EXIT_REJECTED = 2
EXIT_USAGE = 64
EXIT_BUSY = 75  # EX_TEMPFAIL: a batch is writing the folder


def apply_decisions_command(
    directory: Path = batch_folder_argument(must_exist=True),
    decisions_csv: Path = typer.Argument(..., help="Decisions CSV downloaded from the review page.",
                                         exists=True, dir_okay=False),
    reviewer: str = typer.Option(..., "--reviewer", help="Who applies these decisions (fills rows without one)."),
) -> int:
    """Apply reviewer decisions: results.jsonl and results.csv show the decided values; audit.csv records them.

    Exit code: 0 applied (or nothing new), 2 decisions rejected (nothing changed), 64 bad usage,
    75 a batch is writing this folder (nothing changed; try again when it is done).
    """
    console = Console(stderr=True, highlight=False)
    if not reviewer.strip():
        console.print("[red]--reviewer must name a person[/red]")
        return EXIT_USAGE
    touch_private(directory / ".review.lock")
    with open(directory / ".review.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            with _batch_lock(directory) as free:
                if not free:
                    console.print("[red]a batch is writing this folder; nothing applied (try again when it is "
                                  "done)[/red]")
                    return EXIT_BUSY
                return _apply(directory, decisions_csv, reviewer.strip(), console)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _batch_lock(directory: Path) -> Iterator[bool]:
    """The batch's own lock on the folder, without waiting: yields False when a batch holds it."""
    path = directory / LOCK_NAME
    touch_private(path)
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
    new_audit = []
    for d in decisions:
        if d.decision_id in audited:
            continue
        audited.add(d.decision_id)
        new_audit.append(replace(d, applied_by=reviewer, recorded_at=now))
    if new_audit:  # first: a batch that regenerates the outputs re-applies what audit.csv holds
        _append_audit(directory, new_audit)
    if any(r.applied for r in rows):
        _rewrite_outputs(directory, lines, exams, replace_visits=any(
            r.applied and r.decision.measure == "exam_date" for r in rows))
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
            console.print(f"  {markup(d.where)}: {d.action} {markup(r.value_before)} -> {markup(r.value_after)}")
    return 0


def _append_audit(directory: Path, decisions: list[Decision]) -> None:
    """Append decisions to ``audit.csv`` (owner-only), synced to disk."""
    audit_path = directory / AUDIT_FILE
    header = not audit_path.is_file() or audit_path.stat().st_size == 0
    touch_private(audit_path)
    with open(audit_path, "a", encoding="utf-8", newline="") as fh:
        fh.write(audit_csv_text(decisions, header=header))
        fh.flush()
        os.fsync(fh.fileno())


def _rewrite_outputs(directory: Path, lines: list[Line], exams: list[Exam], *, replace_visits: bool) -> None:
    """results.jsonl and results.csv from the decided exams; visits placed again after a date decision."""
    extras = [dict(ln.extra) for ln in lines]
    if replace_visits:
        from bmdkit.batch.assemble import place_subjects

        placed = place_subjects(directory, exams)
        if placed is not None:
            for e, extra in zip(exams, extras):
                if e.source.sha256 in placed:
                    extra["subject"] = placed[e.source.sha256]
                else:
                    extra.pop("subject", None)
    write_lines_atomic(directory, [Line(e, x, ln.had_patient) for e, x, ln in zip(exams, extras, lines)])
    write_results_csv(directory, exams)


def register(app: typer.Typer) -> None:
    app.command("apply-decisions")(apply_decisions_command)
