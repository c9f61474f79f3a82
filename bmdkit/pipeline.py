"""Read a file and run the checks on it: what ``bmdkit check`` and the batch do per file.

Kept apart from :mod:`bmdkit.read` so readers stay pure: a reader reports
what the file says; the checks (evaluability, plausibility, consistency)
add flags and computed regions afterwards, never overwriting a read value.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from bmdkit.model import Exam
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.read import read_file


def apply_checks(exam: Exam) -> Exam:
    """Run every per-exam check (``bmdkit.checks.apply_all``) where the checks exist."""
    try:
        checks = importlib.import_module("bmdkit.checks")
    except ModuleNotFoundError:
        return exam
    apply_all = getattr(checks, "apply_all", None)
    return apply_all(exam) if apply_all is not None else exam


def process_file(path: str | Path, options: ReadOptions = DEFAULT_OPTIONS) -> Exam:
    """Read ``path`` and check it; never raises for a bad input file."""
    return apply_checks(read_file(path, options))
