"""A batch's state: an embedded SQLite database in the output folder.

The database records every file content (by SHA-256, or by name for a file
that could not be read), every name it was seen under, and each finished
result as its contract JSON. Results are committed row by row as they
arrive; the public outputs (``results.jsonl``, ``results.csv``,
``failures.csv``) are regenerated from the database only, written to a
temporary file and moved into place with :func:`os.replace`. A batch killed
at any point therefore leaves complete old outputs or complete new ones,
never a half-written row, and a restart reproduces the same bytes.

Only one batch may write an output folder at a time: :class:`Ledger` takes
an exclusive ``fcntl`` lock on ``.lock`` and refuses (or waits, if asked).

Reviewer decisions recorded in ``audit.csv`` (by ``bmdkit apply-decisions``)
are re-applied whenever the outputs are regenerated, so corrections survive
a re-run.

The database holds the same contract lines as ``results.jsonl``, including
the ``patient`` object; it stays in the output folder with them.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bmdkit.errors import ConfigError
from bmdkit.export.jsonout import exam_from_dict
from bmdkit.export.table import COLUMNS, exam_rows
from bmdkit.flags import FlagCode, Severity

STATE_NAME = "state.sqlite"
LOCK_NAME = ".lock"
WORK_NAME = ".work"
RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
FAILURES_CSV = "failures.csv"
FAILURE_COLUMNS = ("path", "sha256", "kind", "flag_codes", "reasons", "seen_as")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    key TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    line TEXT
);
CREATE TABLE IF NOT EXISTS names (
    display TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    stamp TEXT
);
CREATE INDEX IF NOT EXISTS names_key ON names(key);
"""


class BatchLocked(ConfigError):
    """Another batch is writing to the same output folder."""


@dataclass(frozen=True)
class Counts:
    files: int
    done: int
    failed: int
    names: int


class Ledger:
    """Open (and lock) the state of the batch in ``out``; use as a context manager."""

    def __init__(self, out: str | Path, wait: bool = False) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock_fh = open(self.out / LOCK_NAME, "a+b")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self._lock_fh.close()
            raise BatchLocked("another batch is writing to this output folder", str(self.out)) from None
        self.db = sqlite3.connect(self.out / STATE_NAME, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.work_dir = self.out / WORK_NAME
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir()

    # -- context --------------------------------------------------------------
    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.db.close()
        fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
        self._lock_fh.close()

    # -- what is known ----------------------------------------------------------
    def known(self, display: str, stamp: str) -> bool:
        """True when ``display`` was seen with this stamp and its content is done."""
        row = self.db.execute(
            "SELECT f.done FROM names n JOIN files f ON f.key = n.key WHERE n.display = ? AND n.stamp = ?",
            (display, stamp),
        ).fetchone()
        return bool(row and row[0])

    def is_done(self, key: str) -> bool:
        row = self.db.execute("SELECT done FROM files WHERE key = ?", (key,)).fetchone()
        return bool(row and row[0])

    def see(self, display: str, key: str, sha256: str, stamp: str | None) -> bool:
        """Record that ``display`` holds content ``key``; True if that content still needs work."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT OR IGNORE INTO files(key, sha256) VALUES (?, ?)", (key, sha256))
            self.db.execute(
                "INSERT INTO names(display, key, stamp) VALUES (?, ?, ?) "
                "ON CONFLICT(display) DO UPDATE SET key = excluded.key, stamp = excluded.stamp",
                (display, key, stamp),
            )
        return not self.is_done(key)

    def record(self, key: str, line: dict[str, Any]) -> None:
        """Store a finished result (contract dict) in one transaction."""
        text = json.dumps(line, ensure_ascii=False, sort_keys=True)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "UPDATE files SET done = 1, status = ?, line = ? WHERE key = ?",
                (line.get("status"), text, key),
            )

    def counts(self) -> Counts:
        files, done, failed = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(done), 0), COALESCE(SUM(status = 'failed'), 0) FROM files "
            "WHERE key IN (SELECT key FROM names)"
        ).fetchone()
        names = self.db.execute("SELECT COUNT(*) FROM names").fetchone()[0]
        return Counts(files, done, failed, names)

    # -- outputs ---------------------------------------------------------------
    def iter_results(self) -> Iterator[dict[str, Any]]:
        """Finished results in output order, each under its canonical name.

        The canonical name is the smallest of the names a content was seen
        under; when there are several, all are listed in ``source.seen_as``
        and a ``duplicate_input`` flag says so.
        """
        cur = self.db.execute(
            "SELECT f.key, f.line, MIN(n.display) AS first FROM files f JOIN names n ON n.key = f.key "
            "WHERE f.done = 1 GROUP BY f.key ORDER BY first"
        )
        decisions = _decisions_by_sha(self.out)
        for key, text, _first in cur:
            names = sorted(r[0] for r in self.db.execute("SELECT display FROM names WHERE key = ?", (key,)))
            line = json.loads(text)
            if line["source"]["sha256"] in decisions:
                line = _with_decisions(line, decisions[line["source"]["sha256"]])
            yield present(line, names)

    def write_outputs(self) -> None:
        """Regenerate results.jsonl, results.csv and failures.csv atomically."""
        tmp = Path(tempfile.mkdtemp(prefix="out-", dir=self.work_dir))
        paths = {n: tmp / n for n in (RESULTS_JSONL, RESULTS_CSV, FAILURES_CSV)}
        with open(paths[RESULTS_JSONL], "w", encoding="utf-8", newline="\n") as fj, \
                open(paths[RESULTS_CSV], "w", encoding="utf-8", newline="") as fc, \
                open(paths[FAILURES_CSV], "w", encoding="utf-8", newline="") as ff:
            wc = csv.DictWriter(fc, fieldnames=list(COLUMNS), lineterminator="\n")
            wf = csv.DictWriter(ff, fieldnames=list(FAILURE_COLUMNS), lineterminator="\n")
            wc.writeheader()
            wf.writeheader()
            for d in self.iter_results():
                fj.write(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n")
                wc.writerows(exam_rows(exam_from_dict(d)))
                if d["status"] == "failed":
                    wf.writerow(failure_row(d))
            for fh in (fj, fc, ff):
                fh.flush()
                os.fsync(fh.fileno())
        for name, p in paths.items():
            os.replace(p, self.out / name)
        shutil.rmtree(tmp, ignore_errors=True)


def _decisions_by_sha(out: Path) -> dict[str, list[Any]]:
    """Reviewer decisions recorded in ``out/audit.csv`` (by bmdkit.review), grouped by file."""
    try:
        from bmdkit.review.decisions import AUDIT_FILE, load_audit
    except ImportError:  # the review package is optional
        return {}
    if not (out / AUDIT_FILE).is_file():
        return {}
    grouped: dict[str, list[Any]] = {}
    for d in load_audit(out):
        grouped.setdefault(d.sha256, []).append(d)
    return grouped


def _with_decisions(line: dict[str, Any], decisions: list[Any]) -> dict[str, Any]:
    """Re-apply reviewer decisions so a regenerated results.jsonl keeps corrections."""
    from bmdkit.export.jsonout import exam_to_dict
    from bmdkit.review.decisions import apply_decisions

    exams, _ = apply_decisions([exam_from_dict(line)], decisions, strict=False)
    out = exam_to_dict(exams[0])
    out["source"] = {**line["source"], **out["source"]}
    return out


def present(line: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A stored result as shown: canonical path, other names, duplicate flag."""
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


def failure_row(d: dict[str, Any]) -> dict[str, str]:
    errors = [f for f in d["flags"] if f.get("severity") == "error"]
    return {
        "path": d["source"]["path"],
        "sha256": d["source"]["sha256"],
        "kind": d["source"]["kind"],
        "flag_codes": ";".join(dict.fromkeys(f["code"] for f in errors)),
        "reasons": "; ".join(f["message"] for f in errors) or "no values found",
        "seen_as": ";".join(d["source"].get("seen_as", [])),
    }
