"""A batch's output files, made from the results its ledger holds.

:class:`~bmdkit.batch.ledger.Ledger` keeps the state (every content, the names
it was seen under, each finished result as its contract JSON, and the result's
output pieces, :mod:`bmdkit.batch.made`); this module shows those results as
the outputs list them and writes the outputs:

- a result is shown under its canonical name, with the other names it was seen
  under and any name collision flagged (:func:`present`), reviewer decisions
  re-applied (:func:`with_decisions`), its history and trial placement added;
- ``results.jsonl``, ``results.csv``, ``failures.csv``, ``skipped.csv`` and
  ``exams.jsonl`` are written from them at once, atomically and owner-only
  (:func:`write_outputs`). A result shown as it was stored (:attr:`Stored.as_stored`)
  is written from its stored text and pieces; any other is shown and its pieces
  made again from the line shown.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bmdkit.batch.made import Made, csv_text, make
from bmdkit.batchfolder import (
    AUDIT_CSV,
    EXAMS_JSONL,
    FAILURES_CSV,
    RESULTS_CSV,
    RESULTS_JSONL,
    SKIPPED_CSV,
    atomic_write,
    open_private,
    staged_files,
)
from bmdkit.batchfolder.cells import SafeDictWriter
from bmdkit.export.jsonout import exam_from_dict
from bmdkit.export.results_csv import COLUMNS
from bmdkit.flags import FlagCode, Severity
from bmdkit.merged_file import write_exams_of
from bmdkit.model import Exam

FAILURE_COLUMNS = ("path", "sha256", "kind", "flag_codes", "reasons", "seen_as")


@dataclass(frozen=True)
class Stored:
    """A finished result as the ledger holds it, and what showing it needs: its names (canonical
    first), name-collision messages, reviewer decisions, placement, history and output pieces."""

    text: str
    names: list[str]
    notes: list[str]
    decided: list[Any] | None
    subject: dict[str, Any] | None
    history: str | None
    made: Made | None

    @property
    def as_stored(self) -> bool:
        """Shown as stored, pieces and all: made for the one name it has, no collision, no decision."""
        return (self.made is not None and self.names == [self.made.path] and not self.notes
                and self.decided is None)


def shown(s: Stored) -> dict[str, Any]:
    """A stored result as shown, under its canonical name (:meth:`Ledger.iter_results`)."""
    line = json.loads(s.text)
    if s.decided is not None:
        line = with_decisions(line, s.decided)
    line = present(line, s.names, s.notes)
    if s.history:
        line["history"] = json.loads(s.history)
    if s.subject is not None:
        line["subject"] = s.subject
    return line


def made_here(d: dict[str, Any]) -> Made:
    """The output pieces of a line as shown (its exam made from it, as the worker's is: :func:`make`)."""
    return make(exam_from_dict(d), d)


def write_outputs(out: Path, work_dir: Path, results: Iterable[Stored]) -> Counter[str]:
    """Write results.jsonl, results.csv, failures.csv, skipped.csv and exams.jsonl (the files merged
    into one exam per visit and scan type, :mod:`bmdkit.merge`) in ``out`` from ``results`` (in
    output order), atomically (staged in ``work_dir``) and owner-only.

    Only each line's text and :class:`~bmdkit.merge.Visit` are held until exams.jsonl is written.
    Returns the written lines by outcome."""
    staged = (RESULTS_JSONL, RESULTS_CSV, FAILURES_CSV, SKIPPED_CSV, EXAMS_JSONL)
    with staged_files(out, staged, work_dir) as paths:
        with open_private(paths[RESULTS_JSONL], "w", encoding="utf-8", newline="\n") as fj, \
                open_private(paths[RESULTS_CSV], "w", encoding="utf-8", newline="") as fc, \
                open_private(paths[FAILURES_CSV], "w", encoding="utf-8", newline="") as ff, \
                open_private(paths[SKIPPED_CSV], "w", encoding="utf-8", newline="") as fs:
            SafeDictWriter(fc, fieldnames=list(COLUMNS), lineterminator="\n").writeheader()
            lists = {name: SafeDictWriter(fh, fieldnames=list(FAILURE_COLUMNS), lineterminator="\n")
                     for name, fh in (("failures", ff), ("skipped", fs))}
            for w in lists.values():
                w.writeheader()
            texts: list[str] = []
            visits = []
            outcomes: Counter[str] = Counter()
            for s in results:
                made, d = (s.made, None) if s.as_stored else (None, shown(s))
                if made is None:
                    made = made_here(d)  # type: ignore[arg-type]
                elif s.history or s.subject is not None:
                    d = shown(s)  # the stored line with what is added to it, pieces as they are
                text = (s.text if d is None else json.dumps(d, ensure_ascii=False, sort_keys=True)) + "\n"
                outcomes[made.outcome] += 1
                fj.write(text)
                fc.write(made.csv)
                if made.listed is not None and made.listed_in in lists:
                    lists[made.listed_in].writerow(made.listed)
                texts.append(text)
                visits.append(made.visit)
            for fh in (fj, fc, ff, fs):
                fh.flush()
                os.fsync(fh.fileno())
        # the merged exams last, so exams.jsonl is never older than the results it was made from
        write_exams_of(paths[EXAMS_JSONL], visits, texts)
    return outcomes


def write_results_csv(out: Path, exams: list[Exam]) -> Path:
    """Rewrite ``out/results.csv`` from ``exams`` (the lines of results.jsonl, in order), atomically and
    owner-only.

    The same rows :func:`write_outputs` writes, so a command that rewrites
    ``results.jsonl`` on its own (``bmdkit apply-decisions``) keeps the two in step.
    """
    with atomic_write(out / RESULTS_CSV, "w", encoding="utf-8", newline="") as fh:
        SafeDictWriter(fh, fieldnames=list(COLUMNS), lineterminator="\n").writeheader()
        for e in exams:
            fh.write(csv_text(e))
    return out / RESULTS_CSV


def placed_subjects(out: Path) -> dict[str, dict[str, Any]]:
    """``subject`` objects by file SHA-256, from the placement report ``out/subjects.csv`` (empty without one)."""
    from bmdkit.batch.subjects import read_placement

    return read_placement(out)


def decisions_by_sha(out: Path) -> dict[str, list[Any]]:
    """Reviewer decisions recorded in ``out/audit.csv`` (:mod:`bmdkit.decisions`), grouped by file."""
    from bmdkit.decisions.records import load_audit

    if not (out / AUDIT_CSV).is_file():
        return {}
    grouped: dict[str, list[Any]] = {}
    for d in load_audit(out):
        grouped.setdefault(d.sha256, []).append(d)
    return grouped


def with_decisions(line: dict[str, Any], decisions: list[Any]) -> dict[str, Any]:
    """Re-apply reviewer decisions so a regenerated results.jsonl keeps corrections."""
    from bmdkit.decisions.records import apply_decisions
    from bmdkit.export.jsonout import exam_to_dict

    exams, _ = apply_decisions([exam_from_dict(line)], decisions, strict=False)
    out = exam_to_dict(exams[0])
    out["source"] = {**line["source"], **out["source"]}
    return out


def present(line: dict[str, Any], names: list[str], clashes: list[str] | None = None) -> dict[str, Any]:
    """A stored result as shown: canonical path, other names, duplicate flag, name collisions.

    ``clashes`` are messages for names this input shares with another input
    (found by the ledger from the names it holds); each becomes a ``name_collision`` flag, which
    needs a reviewer, so an extracted line becomes flagged.
    """
    for message in clashes or []:
        line["flags"].append({"code": FlagCode.NAME_COLLISION.value, "message": message, "region": None,
                              "severity": FlagCode.NAME_COLLISION.severity.value})
        for field in ("status", "outcome"):
            if line.get(field) == "extracted":
                line[field] = "flagged"
    line["source"]["path"] = names[0]
    if len(names) > 1:
        line["source"]["seen_as"] = names
        line["flags"].append({
            "code": FlagCode.DUPLICATE_INPUT.value,
            "message": f"the same content was seen under {len(names)} names; processed once",
            "region": None,
            "severity": Severity.INFO.value,
        })
    return line
