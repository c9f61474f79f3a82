"""The batch output folder: its layout, loading its files, writing them atomically and owner-only.

One package owns the folder so that every command agrees on it:

- :mod:`~bmdkit.batchfolder.layout`: the file names (``results.jsonl``,
  ``exams.jsonl``, ``results.csv``, ``failures.csv``, ``skipped.csv``,
  ``subjects.csv``, ``audit.csv``, ``state.sqlite``, ...);
- :mod:`~bmdkit.batchfolder.lines`: reading ``results.jsonl`` and
  ``exams.jsonl`` with one line cap (:func:`iter_json_lines`,
  :func:`iter_exam_lines`, :func:`load_exams`);
- :mod:`~bmdkit.batchfolder.files`: owner-only modes (``0600``/``0700``)
  and the one atomic writer (:func:`atomic_write`, :func:`write_bytes_atomic`;
  :func:`staged_files` for the set of results files a batch regenerates);
- :mod:`~bmdkit.batchfolder.cells`: spreadsheet-safe CSV cells, written and read back.

Checks, review, exports and the CLI call this package instead of opening
each other's files (there were five loaders and four atomic writers).

Examples
--------
>>> from bmdkit.batchfolder import RESULTS_JSONL, results_path
>>> results_path("no-such-folder/x.jsonl").name
'x.jsonl'
"""

from __future__ import annotations

from bmdkit.batchfolder.files import (
    PRIVATE_DIR,
    PRIVATE_FILE,
    OutputPathError,
    atomic_write,
    make_private,
    open_private,
    prepare_output_dir,
    staged_files,
    touch_private,
    write_bytes_atomic,
)
from bmdkit.batchfolder.layout import (
    AUDIT_CSV,
    EXAMS_JSONL,
    FAILURES_CSV,
    LOCK_FILE,
    MAPPING_COPY,
    RESULTS_CSV,
    RESULTS_JSONL,
    REVIEW_LOCK_FILE,
    SKIPPED_CSV,
    STATE_DB,
    SUBJECTS_CSV,
    WINDOWS_COPY,
    WORK_DIR,
)
from bmdkit.batchfolder.lines import (
    MAX_LINE_BYTES,
    ExamLine,
    JsonLine,
    LineTooLong,
    TooManyLines,
    exam_line,
    iter_exam_lines,
    iter_json_lines,
    load_exams,
    read_exams_strict,
    results_path,
    split_extra,
)

__all__ = [
    "AUDIT_CSV", "EXAMS_JSONL", "FAILURES_CSV", "LOCK_FILE", "MAPPING_COPY", "MAX_LINE_BYTES", "PRIVATE_DIR",
    "PRIVATE_FILE", "RESULTS_CSV", "RESULTS_JSONL", "REVIEW_LOCK_FILE", "SKIPPED_CSV", "STATE_DB", "SUBJECTS_CSV",
    "WINDOWS_COPY", "WORK_DIR", "ExamLine", "JsonLine", "LineTooLong", "OutputPathError", "TooManyLines",
    "atomic_write", "exam_line", "iter_exam_lines", "iter_json_lines", "load_exams", "make_private",
    "open_private", "prepare_output_dir", "read_exams_strict", "results_path", "split_extra", "staged_files", "touch_private",
    "write_bytes_atomic",
]
