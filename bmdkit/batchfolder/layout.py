"""The names of the files in a batch output folder (``bmdkit batch --out DIR``), in one place.

Public outputs (regenerated from the state database, owner-only):
``results.jsonl`` (one contract object per input file), ``exams.jsonl``
(the files merged per visit and scan type), ``results.csv``,
``failures.csv``, ``skipped.csv``. Written beside them by other commands:
``subjects.csv`` (subject placement), ``audit.csv`` (reviewer decisions,
append-only), the kept ``mapping.csv`` and ``windows.csv``. Private
working files: ``state.sqlite``, ``.lock``, ``.review.lock``, ``.work/``.
"""

from __future__ import annotations

RESULTS_JSONL = "results.jsonl"
EXAMS_JSONL = "exams.jsonl"
RESULTS_CSV = "results.csv"
FAILURES_CSV = "failures.csv"
SKIPPED_CSV = "skipped.csv"
#: subject placement report (``bmdkit batch --mapping``)
SUBJECTS_CSV = "subjects.csv"
#: reviewer decisions ever applied (``bmdkit apply-decisions``), append-only
AUDIT_CSV = "audit.csv"
#: copies of the subject mapping and visit windows the batch was given
MAPPING_COPY = "mapping.csv"
WINDOWS_COPY = "windows.csv"
STATE_DB = "state.sqlite"
LOCK_FILE = ".lock"
REVIEW_LOCK_FILE = ".review.lock"
WORK_DIR = ".work"
