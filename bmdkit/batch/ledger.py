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
the ``patient`` object; it stays in the output folder with them. Both, and
every output regenerated here, are owner-only files (:mod:`bmdkit.batchfolder`).

When the batch placed its files under trial subjects (``--mapping``: the
placement report ``subjects.csv`` beside the outputs), each line of
``results.jsonl`` carries a ``subject`` object (subject ID, center code,
visit). A file processed again with ``--retry-failed`` keeps its earlier
failures in a ``history`` list (and the database's ``history`` column).

Files that are plainly not scans or reports (outcome ``skipped``) are
listed in ``results.jsonl`` and ``skipped.csv``; they are not failures and
are neither counted as failed nor listed in ``failures.csv``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bmdkit.batch.made import Made, failure_row, outcome_of
from bmdkit.batch.outputs import (  # noqa: F401 - write_results_csv, FAILURE_COLUMNS: importable from here too
    FAILURE_COLUMNS,
    Stored,
    decisions_by_sha,
    placed_subjects,
    shown,
    write_outputs,
    write_results_csv,
)
from bmdkit.batchfolder import (  # noqa: F401 - the output file names stay importable from here
    EXAMS_JSONL,
    FAILURES_CSV,
    LOCK_FILE,
    RESULTS_CSV,
    RESULTS_JSONL,
    SKIPPED_CSV,
    STATE_DB,
    WORK_DIR,
    make_private,
    prepare_output_dir,
    touch_private,
)
from bmdkit.errors import ConfigError

# the folder's file names are bmdkit.batchfolder's; the old names below stay importable from here
STATE_NAME = STATE_DB
LOCK_NAME = LOCK_FILE
WORK_NAME = WORK_DIR

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    key TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    line TEXT
);
CREATE TABLE IF NOT EXISTS names (
    place TEXT NOT NULL,
    key TEXT NOT NULL,
    display TEXT NOT NULL,
    stamp TEXT,
    PRIMARY KEY (place, key)
);
CREATE INDEX IF NOT EXISTS names_key ON names(key);
CREATE INDEX IF NOT EXISTS names_display ON names(display);
-- each name recorded looks up the contents that gave no bytes (sha256 of zeros): without it, a
-- scan of every file per file, quadratic in the batch
CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256);
"""


class BatchLocked(ConfigError):
    """Another batch is writing to the same output folder."""


@dataclass(frozen=True)
class Counts:
    """Distinct files, those done, names seen, and the done files by outcome."""

    files: int
    done: int
    failed: int
    names: int
    extracted: int = 0
    flagged: int = 0
    skipped: int = 0


class Ledger:
    """Open (and lock) the state of the batch in ``out``; use as a context manager."""

    def __init__(self, out: str | Path, wait: bool = False) -> None:
        self.out = prepare_output_dir(out)
        touch_private(self.out / LOCK_NAME)
        self._lock_fh = open(self.out / LOCK_NAME, "a+b")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self._lock_fh.close()
            raise BatchLocked("another batch is writing to this output folder", str(self.out)) from None
        # SQLite gives its -wal and -shm files the database file's mode: create it owner-only first
        touch_private(self.out / STATE_NAME)
        for side_file in ("-wal", "-shm"):
            make_private(self.out / (STATE_NAME + side_file))
        self.db = sqlite3.connect(self.out / STATE_NAME, isolation_level=None)
        self._batched = False
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        _migrate_names(self.db)
        self.db.executescript(_SCHEMA)
        _copy_legacy_names(self.db)
        _add_history_column(self.db)
        _add_made_column(self.db)
        # what _see's two clean-ups could find (this process holds the lock, so only it adds any):
        # content that could not be read, and names kept by place from before places existed
        self._unread_known = self.db.execute(
            "SELECT 1 FROM files WHERE sha256 = ? LIMIT 1", (_UNREAD_SHA256,)).fetchone() is not None
        self._legacy_known = self.db.execute(
            "SELECT 1 FROM names WHERE substr(place, 1, ?) = ? LIMIT 1",
            (len(LEGACY_PLACE), LEGACY_PLACE)).fetchone() is not None
        self.work_dir = self.out / WORK_NAME
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir(mode=0o700)

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
    def known(self, place: str, stamp: str) -> bool:
        """True when the input at ``place`` was seen with this stamp and its content is done."""
        row = self.db.execute(
            "SELECT f.done FROM names n JOIN files f ON f.key = n.key WHERE n.place = ? AND n.stamp = ? "
            "ORDER BY f.done DESC LIMIT 1",
            (place, stamp),
        ).fetchone()
        return bool(row and row[0])

    def is_done(self, key: str) -> bool:
        row = self.db.execute("SELECT done FROM files WHERE key = ?", (key,)).fetchone()
        return bool(row and row[0])

    def see(self, display: str, key: str, sha256: str, stamp: str | None, place: str | None = None) -> bool:
        """Record that the input at ``place``, shown as ``display``, holds content ``key``.

        Returns True if that content still needs work. Inputs are keyed by
        place (see :mod:`bmdkit.batch.walk`), never by the name shown, so two
        inputs shown alike stay two entries. A place that held other content
        before (a zip re-sent with the same member names, a file replaced)
        keeps its earlier entry too: the earlier result is not silently
        replaced, and both are flagged ``name_collision``. Only an entry that
        holds no content (the input could not be read) gives way. Without
        ``place``, the name stands in for it.
        """
        with self._transaction():
            self._see(display, key, sha256, stamp, place)
        return not self.is_done(key)

    def see_and_record(self, display: str, key: str, sha256: str, stamp: str | None, place: str | None,
                       line: dict[str, Any], made: Made | None = None) -> bool:
        """:meth:`see`, then :meth:`record` ``line`` if the content still needed work, in one transaction.

        Returns whether it was recorded (False: the content was already done, its result stays).
        """
        with self._transaction():
            self._see(display, key, sha256, stamp, place)
            return self._store(key, line, undone_only=True, made=made)

    def _see(self, display: str, key: str, sha256: str, stamp: str | None, place: str | None) -> None:
        """:meth:`see`'s statements, inside the caller's transaction."""
        place = place or LEGACY_PLACE + display
        self._unread_known = self._unread_known or sha256 == _UNREAD_SHA256
        self._legacy_known = self._legacy_known or place.startswith(LEGACY_PLACE)
        self.db.execute("INSERT OR IGNORE INTO files(key, sha256) VALUES (?, ?)", (key, sha256))
        if self._unread_known:  # else no file holds unread content: the statement would delete nothing
            self.db.execute("DELETE FROM names WHERE place = ? AND key != ? AND key IN "
                            "(SELECT key FROM files WHERE sha256 = ?)", (place, key, _UNREAD_SHA256))
        # a name recorded by an older bmdkit (no place) for the same content is this input
        if self._legacy_known:  # else no name has a place of that kind: nothing to delete
            self.db.execute("DELETE FROM names WHERE place = ? AND place != ? AND (key = ? OR key IN "
                            "(SELECT key FROM files WHERE sha256 = ?))",
                            (LEGACY_PLACE + display, place, key, _UNREAD_SHA256))
        self.db.execute(
            "INSERT INTO names(place, key, display, stamp) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(place, key) DO UPDATE SET display = excluded.display, stamp = excluded.stamp",
            (place, key, display, stamp),
        )

    def record(self, key: str, line: dict[str, Any], made: Made | None = None) -> None:
        """Store a finished result (contract dict, and its output pieces if made) in one transaction."""
        with self._transaction():
            self._store(key, line, made=made)

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Make every :meth:`see`, :meth:`see_and_record` and :meth:`record` inside one transaction.

        The batch commits the results that came back together at once: one commit to disk for
        several files rather than one each. A batch killed before the commit loses those
        results only (they are read again on resume), never half of one.
        """
        if self._batched:
            yield
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._batched = True
            try:
                yield
            finally:
                self._batched = False

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction of its own, or a part of the :meth:`batched` one open."""
        if self._batched:
            yield
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            yield

    def _store(self, key: str, line: dict[str, Any], undone_only: bool = False,
               made: Made | None = None) -> bool:
        """:meth:`record`'s statement, inside the caller's transaction; whether the line was stored
        (``undone_only``: only if the content is not done yet, tested in the same statement).

        ``made``: the line's output pieces, kept only if made for the path the line is stored under."""
        text = json.dumps(line, ensure_ascii=False, sort_keys=True)
        pieces = made.to_json() if made is not None and made.path == line["source"]["path"] else None
        cur = self.db.execute("UPDATE files SET done = 1, status = ?, line = ?, made = ? WHERE key = ?"
                              + (" AND done = 0" if undone_only else ""),
                              (line.get("status"), text, pieces, key))
        return cur.rowcount > 0 or not undone_only

    def reopen_failed(self) -> int:
        """Mark every failed (not skipped) file as still to do, its failure kept in its history.

        The next run processes those files again (with that run's options, e.g. a larger
        ``--timeout``); their result then carries a ``history`` list with each earlier
        failure. A reopened file keeps its last result until it is processed again, so a run
        that does not reach it (other inputs, interrupted) still lists it. Returns how many
        files were reopened.
        """
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        rows = self.db.execute(
            "SELECT key, line, history FROM files WHERE done = 1 AND key IN (SELECT key FROM names) "
            "AND COALESCE(json_extract(line, '$.outcome'), status) = 'failed'"
        ).fetchall()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for key, text, history in rows:
                past = json.loads(history) if history else []
                past.append(history_entry(json.loads(text), now))
                self.db.execute("UPDATE files SET done = 0, history = ? WHERE key = ?",
                                (json.dumps(past, ensure_ascii=False), key))
        return len(rows)

    def counts(self, outcomes: Counter[str] | None = None) -> Counts:
        """Files, names, and the lines by outcome as the outputs show them (reviewer decisions
        applied, name collisions flagged), so the summary agrees with results.jsonl.

        ``outcomes`` is what :meth:`write_outputs` returned for the lines it has just written;
        without it the lines are presented again to count them.
        """
        files, done = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(done), 0) FROM files WHERE key IN (SELECT key FROM names)"
        ).fetchone()
        by_outcome = outcomes if outcomes is not None else Counter(outcome_of(d) for d in self.iter_results())
        names = self.db.execute("SELECT COUNT(*) FROM names").fetchone()[0]
        return Counts(files, done, by_outcome.get("failed", 0), names, by_outcome.get("extracted", 0),
                      by_outcome.get("flagged", 0), by_outcome.get("skipped", 0))

    def failures(self, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` failed files as (canonical name, reason), in output order."""
        rows = self.db.execute(
            "SELECT MIN(n.display), f.line FROM files f JOIN names n ON n.key = f.key "
            "WHERE f.line IS NOT NULL AND COALESCE(json_extract(f.line, '$.outcome'), f.status) = 'failed' "
            "GROUP BY f.key ORDER BY 1 LIMIT ?", (limit,)
        ).fetchall()
        return [(name, failure_row(json.loads(text))["reasons"]) for name, text in rows]

    # -- outputs ---------------------------------------------------------------
    def _stored(self) -> Iterator[Stored]:
        """Finished results in output order, as stored, with what showing them needs."""
        cur = self.db.execute(
            "SELECT f.key, f.line, MIN(n.display) AS first, f.history, f.made, "
            "json_extract(f.line, '$.source.sha256') FROM files f "
            "JOIN names n ON n.key = f.key WHERE f.line IS NOT NULL GROUP BY f.key ORDER BY first, f.key"
        )
        decisions = decisions_by_sha(self.out)
        subjects = placed_subjects(self.out)
        clashes = _name_clashes(self.db)
        places: dict[str, list[tuple[str, str]]] = {}  # every name at once, not a statement per file
        for place, name_key, display in self.db.execute("SELECT place, key, display FROM names"):
            places.setdefault(name_key, []).append((place, display))
        for key, text, _first, history, made, sha in cur:
            rows = places.get(key, [])
            names = sorted(clashes[(place, key)][0] if (place, key) in clashes else display
                           for place, display in rows)
            notes = sorted({clashes[(place, key)][1] for place, _ in rows if (place, key) in clashes})
            yield Stored(text, names, notes, decisions.get(sha), subjects.get(sha), history,
                         Made.from_json(made))

    def iter_results(self) -> Iterator[dict[str, Any]]:
        """Finished results in output order, each under its canonical name.

        The canonical name is the smallest of the names a content was seen
        under; when there are several, all are listed in ``source.seen_as``
        and a ``duplicate_input`` flag says so.
        """
        for s in self._stored():
            yield shown(s)

    def write_outputs(self) -> Counter[str]:
        """Regenerate results.jsonl, results.csv, failures.csv, skipped.csv and exams.jsonl
        (:func:`bmdkit.batch.outputs.write_outputs`) from the results held here.

        Returns the written lines by outcome (for :meth:`counts`)."""
        return write_outputs(self.out, self.work_dir, self._stored())

def reopen_failed_files(out: str | Path, wait: bool = False) -> int:
    """``bmdkit batch --retry-failed``: reopen the failed files of the batch in ``out`` (see
    :meth:`Ledger.reopen_failed`); returns how many. A folder with no state yet has none."""
    if not (Path(out) / STATE_NAME).is_file():
        return 0
    with Ledger(out, wait=wait) as led:
        return led.reopen_failed()


def history_entry(line: dict[str, Any], when: str) -> dict[str, Any]:
    """What an earlier run made of a file, for its ``history``: outcome, flag codes, reasons, software."""
    row = failure_row(line)
    return {
        "outcome": line.get("outcome") or line.get("status"),
        "flag_codes": [c for c in row["flag_codes"].split(";") if c],
        "reasons": row["reasons"],
        "software": f"{(line.get('software') or {}).get('name', '')} {(line.get('software') or {}).get('version', '')}".strip(),
        "retried_at": when,
    }


def _add_history_column(db: sqlite3.Connection) -> None:
    """Give a state database from before ``--retry-failed`` its ``history`` column (JSON list, or NULL)."""
    cols = [r[1] for r in db.execute("PRAGMA table_info(files)")]
    if "history" not in cols:
        db.execute("ALTER TABLE files ADD COLUMN history TEXT")


def _add_made_column(db: sqlite3.Connection) -> None:
    """Give a state database from before output pieces were stored its ``made`` column
    (:class:`~bmdkit.batch.made.Made` as JSON, or NULL: the outputs are then made from the line)."""
    cols = [r[1] for r in db.execute("PRAGMA table_info(files)")]
    if "made" not in cols:
        db.execute("ALTER TABLE files ADD COLUMN made TEXT")


#: place recorded for a name stored before inputs were keyed by place (or given without one)
LEGACY_PLACE = "shown:"
#: the sha256 of an input that gave no bytes (:data:`bmdkit.read.UNREAD_SHA256`)
_UNREAD_SHA256 = "0" * 64


def _migrate_names(db: sqlite3.Connection) -> None:
    """Set aside a names table from before inputs were keyed by place (its key was the shown name)."""
    cols = [r[1] for r in db.execute("PRAGMA table_info(names)")]
    if cols and "place" not in cols:
        db.execute("DROP INDEX IF EXISTS names_key")
        db.execute("ALTER TABLE names RENAME TO names_v1")


def _copy_legacy_names(db: sqlite3.Connection) -> None:
    """Bring an older batch's names into the place-keyed table (each under a stand-in place)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'names_v1'").fetchone():
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT OR IGNORE INTO names(place, key, display, stamp) "
                       "SELECT ? || display, key, display, stamp FROM names_v1", (LEGACY_PLACE,))
            db.execute("DROP TABLE names_v1")


def place_label(place: str) -> str:
    """Where an input is, in words, to tell apart inputs shown under the same name."""
    from urllib.parse import unquote

    kind, _, rest = place.partition(":")
    if kind == "zip":
        member, _, occurrence = rest.rpartition("!")[2].rpartition("#")
        nth = int(occurrence) + 1 if occurrence.isdigit() else 1
        return f"member {unquote(member)!r}" + (f" (#{nth} of that name)" if nth > 1 else "")
    if kind == "file":
        return f"file {rest}"  # %-encoded path bytes: unambiguous whatever the name holds
    return "an earlier run"


def _name_clashes(db: sqlite3.Connection) -> dict[tuple[str, str], tuple[str, str]]:
    """For every input whose shown name another input shares: (its name made distinct, a message).

    Two places shown alike, or one place that held different contents over
    time, are each shown as ``name [where]`` (the place in words, plus which
    content when a place had several), so no two lines of the outputs share
    a name, and each gets a message for its ``name_collision`` flag.
    """
    rows = db.execute(
        "SELECT display, place, key, rowid FROM names WHERE display IN "
        "(SELECT display FROM names GROUP BY display HAVING COUNT(*) > 1) ORDER BY display, place, rowid"
    ).fetchall()
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for display, place, key, rowid in rows:
        groups.setdefault(display, []).append((place, key, rowid))
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for display, members in groups.items():
        places = sorted({p for p, _, _ in members})
        for place, key, _ in members:
            contents = [k for p, k, _ in sorted(members, key=lambda m: m[2]) if p == place]
            label = place_label(place)
            if len(contents) > 1:
                label += f", content {contents.index(key) + 1} of {len(contents)} seen there"
            if len(places) > 1:
                why = (f"{len(members)} inputs are shown as this name ({len(places)} places); told apart by "
                       "place, each kept as its own result")
            else:
                why = (f"this input held {len(contents)} different contents over time (re-sent or replaced); "
                       "each kept as its own result, none replaced")
            out[(place, key)] = (f"{display} [{label}]", why)
    return out
