"""Read one input file into an :class:`~bmdkit.model.Exam`, whatever it is.

This is the single entry point the CLI, the batch and library users call.
It hashes the file, decides its kind from content, runs the right reader and
turns every failure into a failed exam that names the path and the reason,
so that no input is ever lost and no traceback reaches the user.

Readers are plain functions, registered by name in :data:`_READERS` and
imported when first needed (so that ``bmdkit check`` on a DICOM file does not
load the OCR engines). They are bmdkit's own modules: a reader that cannot
be imported is a broken install and raises, never a silent ``no_reader``:

- DICOM: ``bmdkit.dicom.read_dicom(path, source, options) -> DicomReading``
  (``exam``: what DICOM itself holds, or ``None``; ``no_results_reason``;
  ``payload``: report pages inside the file, for the report reader);
- PDF and images: ``bmdkit.report.read_report(path, source, options,
  payload=None) -> Exam``;
- text files that read as a DXA report in sentences (``Format.TEXT_REPORT``):
  ``bmdkit.report.textfile.read_text_report(path, source, options) -> Exam``;
- a DICOM exam and the report read from its own pages are combined by
  ``bmdkit.merge.merge_readings(dicom_exam, report_exam) -> Exam``.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import logging
import os
from pathlib import Path
from typing import Any, Callable

from bmdkit.detect import Format, sniff
from bmdkit.errors import (
    BmdkitError,
    EmptyInput,
    NoReader,
    NotAScan,
    NotDXA,
    NoResults,
    ResourceLimit,
    UnreadableInput,
    UnsupportedInput,
)
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Exam, Flag, InputKind, Outcome, Source, Status, Vendor
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions

log = logging.getLogger(__name__)

#: sha256 given for a file whose bytes could not be read at all.
UNREAD_SHA256 = "0" * 64

_READERS: dict[str, str] = {
    "dicom": "bmdkit.dicom:read_dicom",
    "report": "bmdkit.report:read_report",
    "text": "bmdkit.report.textfile:read_text_report",
    "merge": "bmdkit.merge:merge_readings",
}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def display_path(path: str | Path) -> str:
    """The path as printable text: bytes that are not UTF-8 (odd file names) become ``\\xNN``."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", errors="backslashreplace")


def _reader(name: str, path: str) -> Callable[..., Any]:
    target = _READERS[name]
    module_name, func_name = target.split(":")
    func: Callable[..., Any] = getattr(importlib.import_module(module_name), func_name)
    return func


#: words with which C libraries report a failed allocation (dlopen under an address-space
#: cap, OpenCV, libc strerror(ENOMEM)); matched case-insensitively
_NO_MEMORY_WORDS = ("cannot allocate memory", "failed to map segment", "insufficient memory",
                    "out of memory", "failed to allocate", "unable to allocate", "bad_alloc",
                    "bad allocation")


def out_of_memory(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a failed memory allocation.

    Under a per-worker memory cap, an allocation can fail inside a library
    that reports it as its own error type (an ImportError from a shared
    library that cannot be mapped, ``cv2.error``, an ``OSError`` with
    ENOMEM): such a file met a resource limit; it is not a bug.
    """
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 8:
        if isinstance(cur, MemoryError):
            return True
        if isinstance(cur, OSError) and cur.errno == errno.ENOMEM:
            return True
        text = str(cur).lower()
        if any(w in text for w in _NO_MEMORY_WORDS):
            return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return False


def failed_exam(source: Source, code: FlagCode, reason: str) -> Exam:
    """An exam that records why a file gave nothing."""
    return Exam(source=source, flags=(Flag(code, reason),))


def make_source(path: str | Path, options: ReadOptions = DEFAULT_OPTIONS) -> Source:
    """Hash and sniff a file; raises :class:`BmdkitError` subclasses on failure."""
    p = Path(path)
    shown = display_path(path)
    try:
        if not p.exists():
            raise UnreadableInput("no such file", shown)
        if p.is_dir():
            raise UnsupportedInput("is a directory, not a file", shown)
        if not p.is_file():
            raise UnsupportedInput("not a regular file (device, socket or pipe)", shown)
        size = p.stat().st_size
        if size > options.max_file_bytes:  # refused by its size: hashing gigabytes is work for nothing
            raise ResourceLimit(f"file of {size} bytes exceeds the {options.max_file_bytes}-byte cap (not read)",
                                shown)
        digest = sha256_file(p)
    except PermissionError:
        raise UnreadableInput("permission denied", shown) from None
    except OSError as exc:
        raise UnreadableInput(f"cannot be read ({exc.strerror or type(exc).__name__})", shown) from None
    kind = sniff(p).kind
    return Source(path=shown, sha256=digest, kind=kind, size=size)


def read_file(path: str | Path, options: ReadOptions = DEFAULT_OPTIONS) -> Exam:
    """Read ``path`` into an exam; never raises for a bad input file.

    A file that cannot be read gives an exam with status ``failed`` and a
    flag naming the reason; every other outcome carries the reader's values
    and flags.
    """
    shown = display_path(path)
    try:
        source = make_source(path, options)
    except BmdkitError as exc:
        return failed_exam(Source(shown, UNREAD_SHA256, InputKind.UNKNOWN), exc.flag_code, exc.reason)
    try:
        return failure_explained(_dispatch(Path(path), source, options))
    except BmdkitError as exc:
        return failed_exam(source, exc.flag_code, exc.reason)
    except MemoryError:
        return failed_exam(source, FlagCode.RESOURCE_LIMIT, "ran out of memory while reading")
    except ImportError as exc:
        if not out_of_memory(exc):
            raise  # a broken install, not a bad file: never a quiet per-file failure
        return failed_exam(source, FlagCode.RESOURCE_LIMIT,
                           f"ran out of memory while reading ({type(exc).__name__} under the memory cap)")
    except RecursionError:
        return failed_exam(source, FlagCode.UNREADABLE, "structure nested too deeply to read")
    except Exception as exc:  # noqa: BLE001 - the promise is: no input is lost
        if out_of_memory(exc):
            return failed_exam(source, FlagCode.RESOURCE_LIMIT,
                               f"ran out of memory while reading ({type(exc).__name__} under the memory cap)")
        log.debug("internal error on %s", source.sha256, exc_info=True)
        return failed_exam(
            source, FlagCode.INTERNAL_ERROR, f"unexpected {type(exc).__name__} while reading"
        )


def failure_explained(exam: Exam) -> Exam:
    """``exam`` with an error flag saying why, where it fails for want of any value (no BMD or
    T-score read: a table whose cells were all blank or unread) and no error flag says so:
    every failure names its reason (the batch's failures.csv lists the error flags)."""
    if exam.status is not Status.FAILED or exam.outcome is Outcome.SKIPPED or any(
            f.level is Severity.ERROR for f in exam.flags):
        return exam
    return exam.with_flags([Flag(FlagCode.NO_RESULTS, "no BMD or T-score could be read from the file"
                                 + (" (see the other flags)" if exam.flags else ""))])


def _dispatch(path: Path, source: Source, options: ReadOptions) -> Exam:
    shown = source.path
    if source.size == 0:
        raise EmptyInput("the file is empty (0 bytes)", shown)
    if source.size is not None and source.size > options.max_file_bytes:
        raise ResourceLimit(
            f"file of {source.size} bytes exceeds the {options.max_file_bytes}-byte cap", shown
        )
    fmt = sniff(path)
    if fmt.not_a_scan:
        raise NotAScan(fmt.not_a_scan, shown)
    if fmt is Format.ZIP:
        raise UnsupportedInput("a zip archive: give it to 'bmdkit batch', which unpacks archives", shown)
    if fmt is Format.TEXT_REPORT:
        return _reader("text", shown)(path, source, options)
    if source.kind is InputKind.UNKNOWN:
        raise UnsupportedInput("content is not DICOM, PDF, PNG, JPEG, TIFF or BMP", shown)
    if source.kind is InputKind.DICOM:
        return _read_dicom(path, source, options)
    return _reader("report", shown)(path, source, options)


def _page_values_in_dicom(dicom: Exam, report: Exam) -> Exam:
    """A report page stored as DICOM: values from its pixels, metadata from its DICOM header.

    The header's exam date, vendor and model are exact, so the page reader's
    doubts about them (no date found, an ambiguous day/month, no vendor) no
    longer apply and are dropped; its doubts about values stay.
    """
    settled = set()
    if dicom.exam_date is not None:
        settled |= {FlagCode.NO_EXAM_DATE, FlagCode.AMBIGUOUS_DATE}
    if dicom.vendor is not Vendor.UNKNOWN:
        settled.add(FlagCode.UNKNOWN_VENDOR)
    return dicom.replace(
        regions=report.regions,
        flags=dicom.flags + tuple(f for f in report.flags if f.code not in settled),
        vendor=dicom.vendor if dicom.vendor is not Vendor.UNKNOWN else report.vendor,
        exam_date=dicom.exam_date or report.exam_date,
        scanner_model=dicom.scanner_model or report.scanner_model,
        scan_types=dicom.scan_types or report.scan_types,
        reader=f"{dicom.reader}+{report.reader}",
    )


def _read_dicom(path: Path, source: Source, options: ReadOptions) -> Exam:
    reading = _reader("dicom", source.path)(path, source, options)
    exam: Exam | None = reading.exam
    if reading.payload is not None:
        try:
            report = _reader("report", source.path)(path, source, options, payload=reading.payload)
        except NoReader:  # OCR turned off (--no-ocr) or no engine usable here
            report = None
        except BmdkitError as exc:
            if exam is None:
                raise
            if not exam.regions:  # the header's vendor, model and date stay; the reason is the real one
                return exam.with_flags([_page_failure(exc, reading.no_results_reason)])
            report = None  # exact DICOM values stand even when the page itself cannot be read
        if report is not None:
            if exam is None or not exam.regions:
                return report if exam is None else _page_values_in_dicom(exam, report)
            return _reader("merge", source.path)(exam, report)
        if exam is None:
            raise NoReader("the file is a report page and it could not be read without OCR", source.path)
        if not exam.regions:
            return exam.with_flags([Flag(FlagCode.NO_READER,
                                         "the file is a report page and it could not be read without OCR")])
    if exam is None:
        raise NoResults(reading.no_results_reason or "no results found in the DICOM file", source.path)
    return exam


def _page_failure(exc: BmdkitError, no_results_reason: str | None) -> Flag:
    """Why a DXA DICOM file whose page was read gave nothing.

    A page with no DXA report on it makes the file a DXA image with no
    results (its header says it is DXA), not a non-DXA file.
    """
    if isinstance(exc, (NotDXA, NoResults)) and no_results_reason:
        return Flag(FlagCode.NO_RESULTS, f"{no_results_reason} (its pixels were read: {exc.reason})")
    return Flag(exc.flag_code, exc.reason)
