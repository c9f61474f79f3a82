"""Read a file and run the checks on it: what ``bmdkit check`` and the batch do per file.

Kept apart from :mod:`bmdkit.read` so readers stay pure: a reader reports
what the file says; the checks (evaluability, plausibility, consistency)
add flags and computed regions afterwards, never overwriting a read value.
"""

from __future__ import annotations

from pathlib import Path

from bmdkit.checks import apply_all
from bmdkit.model import Exam
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.privacy import redact_exam
from bmdkit.read import failure_explained, read_file


def apply_checks(exam: Exam) -> Exam:
    """Run every per-exam check (:func:`bmdkit.checks.apply_all`).

    Imported plainly: a broken checks package must break loudly, never let an
    exam through unchecked.
    """
    return apply_all(exam)


def process_file(path: str | Path, options: ReadOptions = DEFAULT_OPTIONS) -> Exam:
    """Read ``path``, check it, and mask its own patient's identifiers in every free-text field
    (a row label or a flag message can quote the name printed on the page); never raises for a
    bad input file. The identifiers themselves stay in ``exam.patient``."""
    return redact_exam(failure_explained(apply_checks(read_file(path, options))))
