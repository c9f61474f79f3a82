"""The one loader of ``reference_data/``: published numbers with their citations.

Every table is a CSV whose rows each carry a ``source`` column; a row without
one is refused, so no number reaches bmdkit without saying where it came
from. Code asks for numbers by name (:func:`constant`) or for whole tables
(:func:`table`); it never holds reference numbers as literals.

Three tables are *views* of ``vocabulary.csv`` (the one table of label words,
see :mod:`bmdkit.vocabulary`): ``report_labels`` (its rows read by the
report reader, the word in a ``pattern`` column), ``sentence_words`` (its
``sentence_*`` rows, the words of results written as sentences, with the
prefix dropped from the kind) and ``dicom_vocabulary`` (its rows read by the
DICOM readers). ``table("report_labels")`` keeps
working for code written against the old files; a folder given by
``BMDKIT_REFERENCE_DATA`` that still holds the old files is read as it is.

The directory is found inside the installed package (``bmdkit/reference_data``,
placed there when the wheel is built) or, in a source checkout, beside the
package. ``BMDKIT_REFERENCE_DATA`` overrides both, e.g. to try a new
equation set without editing the shipped one.
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

from bmdkit.errors import ReferenceDataError

_HERE = Path(__file__).resolve().parent


def reference_dir() -> Path:
    """Where the reference tables are read from."""
    override = os.environ.get("BMDKIT_REFERENCE_DATA")
    candidates = [Path(override)] if override else []
    candidates += [_HERE / "reference_data", _HERE.parent / "reference_data"]
    for c in candidates:
        if c.is_dir():
            return c
    raise ReferenceDataError("reference_data directory not found", str(candidates[0]))


#: old table name -> (reader of its rows in vocabulary.csv, the column its word was in)
VOCABULARY_VIEWS: dict[str, tuple[str, str]] = {
    "report_labels": ("report", "pattern"),
    "dicom_vocabulary": ("dicom", "word"),
    "sentence_words": ("report", "pattern"),
}
#: views holding only the kinds with a prefix, dropped from the kind in the view
VIEW_KIND_PREFIX: dict[str, str] = {"sentence_words": "sentence_"}


def available_tables() -> list[str]:
    """Names of the tables in the reference folder, views of ``vocabulary.csv`` included."""
    names = {p.stem for p in reference_dir().glob("*.csv")}
    if "vocabulary" in names:
        names |= set(VOCABULARY_VIEWS)
    return sorted(names)


def _view(directory: str, name: str) -> tuple[dict[str, str], ...]:
    """Rows of the old table ``name`` from vocabulary.csv, with the old table's columns."""
    reader, column = VOCABULARY_VIEWS[name]
    prefix = VIEW_KIND_PREFIX.get(name, "")
    return tuple({"kind": r["kind"][len(prefix):], "key": r["key"], column: r["word"], "lang": r["lang"],
                  "source": r["source"]}
                 for r in _load(directory, "vocabulary") if r["reader"] == reader and r["kind"].startswith(prefix))


@functools.lru_cache(maxsize=None)
def _load(directory: str, name: str) -> tuple[dict[str, str], ...]:
    path = Path(directory) / f"{name}.csv"
    if not path.is_file() and name in VOCABULARY_VIEWS and (Path(directory) / "vocabulary.csv").is_file():
        return _view(directory, name)
    if not path.is_file():
        raise ReferenceDataError(f"no reference table named {name!r}", str(path))
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "source" not in reader.fieldnames:
            raise ReferenceDataError("table has no 'source' column", str(path))
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if not (row.get("source") or "").strip():
                raise ReferenceDataError(f"row {lineno} has no source", str(path))
            rows.append({k: (v or "").strip() for k, v in row.items() if k is not None})
    return tuple(rows)


def table(name: str) -> list[dict[str, str]]:
    """All rows of ``reference_data/<name>.csv`` as dicts of strings."""
    return [dict(r) for r in _load(str(reference_dir()), name)]


def constant(name: str) -> float:
    """A single named number from ``constants.csv``."""
    for row in _load(str(reference_dir()), "constants"):
        if row["name"] == name:
            try:
                return float(row["value"])
            except ValueError as exc:
                raise ReferenceDataError(f"constant {name!r} is not a number") from exc
    raise ReferenceDataError(f"no constant named {name!r}", str(reference_dir() / "constants.csv"))


def citation(name: str, **match: str) -> str:
    """The source of the first row of table ``name`` whose columns equal ``match``."""
    for row in table(name):
        if all(row.get(k) == v for k, v in match.items()):
            return row["source"]
    raise ReferenceDataError(f"no row in {name!r} matching {match}")


def clear_cache() -> None:
    """Forget loaded tables (for tests that point BMDKIT_REFERENCE_DATA elsewhere)."""
    _load.cache_clear()
