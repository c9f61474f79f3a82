"""The one place where patient identifiers are removed before anything leaves bmdkit.

EDC exports (REDCap, ODM, FHIR) never receive an :class:`~bmdkit.model.Exam`
directly: they receive :class:`SubjectExam` objects, built only by
:func:`deidentify`, which carry the trial subject ID and the measured values
but no name, hospital ID, birth date or free-text identifiers. The logging
filter :class:`RedactingFilter` masks identifiers that a batch has seen in
case any message ever includes one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from bmdkit.model import Exam, Flag, RegionResult

REDACTED = "<redacted>"


@dataclass(frozen=True)
class SubjectExam:
    """One exam (possibly several files of one study) under a trial pseudonym.

    ``regions`` and ``flags`` keep their provenance (method, confidence,
    location) and are paired with the SHA-256 of the file they came from;
    ``sources`` lists ``(display path, sha256)`` of every file behind the
    exam, for audit records. There is deliberately no patient field.
    """

    subject_id: str
    center: str
    visit: str
    event: str
    exam_date: dt.date | None
    regions: tuple[tuple[RegionResult, str], ...]
    flags: tuple[tuple[Flag, str], ...]
    status: str
    sources: tuple[tuple[str, str], ...]
    vendor: str = "unknown"
    scanner_model: str | None = None
    software: str = ""
    reader: str | None = None


def deidentify(
    exams: Iterable[Exam],
    *,
    subject_id: str,
    center: str,
    visit: str,
    event: str,
    display_paths: dict[str, str],
    software: str,
) -> SubjectExam:
    """Combine the exams of one study under ``subject_id``, dropping identifiers.

    Each region is paired with the SHA-256 of the file it came from.
    ``display_paths`` maps SHA-256 to the path shown in outputs (file or
    ``archive.zip!member``); paths are the site's own names and are kept,
    but a path is the only free text that survives.
    """
    exams = list(exams)
    regions: list[tuple[RegionResult, str]] = []
    flags: list[tuple[Flag, str]] = []
    for e in exams:
        regions.extend((r, e.source.sha256) for r in e.regions)
        flags.extend((f, e.source.sha256) for f in e.flags)
    statuses = {e.status.value for e in exams}
    status = "failed" if "failed" in statuses else "flagged" if "flagged" in statuses else "extracted"
    dates = sorted({e.exam_date for e in exams if e.exam_date})
    first = exams[0] if exams else None
    return SubjectExam(
        subject_id=subject_id,
        center=center,
        visit=visit,
        event=event,
        exam_date=dates[0] if dates else None,
        regions=tuple(regions),
        flags=tuple(flags),
        status=status,
        sources=tuple((display_paths.get(e.source.sha256, e.source.path), e.source.sha256) for e in exams),
        vendor=first.vendor.value if first else "unknown",
        scanner_model=first.scanner_model if first else None,
        software=software,
        reader=first.reader if first else None,
    )


class RedactingFilter(logging.Filter):
    """Masks registered identifiers (names, hospital IDs) in every log record.

    Identifiers are registered as they are seen (:meth:`register`); the
    filter renders each record's message once and replaces any registered
    string, so a stray ``%s`` of a patient field still never reaches a log.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._words: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, *identifiers: str | None) -> None:
        with self._lock:
            for ident in identifiers:
                for part in _parts(ident):
                    self._words.add(part)
            words = sorted(self._words, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is None:
            return True
        msg = record.getMessage()
        clean = self.redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def _parts(ident: str | None) -> list[str]:
    """The identifier and, for DICOM person names, its components (``Wang^Lihua``)."""
    if not ident:
        return []
    ident = str(ident).strip()
    out = [ident] if len(ident) >= 2 else []
    out += [p for p in re.split(r"[\^=]", ident) if len(p) >= 2 and p != ident]
    return out


_FILTER = RedactingFilter()


def redacting_filter() -> RedactingFilter:
    """The process-wide filter; install it once with :func:`install_log_filter`."""
    return _FILTER


def install_log_filter(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the redacting filter to ``logger``'s handlers (root by default)."""
    target = logger or logging.getLogger()
    for h in target.handlers:
        if _FILTER not in h.filters:
            h.addFilter(_FILTER)
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)
    return _FILTER


def register_exam_identifiers(exam: Exam) -> None:
    """Tell the log filter about an exam's identifiers (call before logging about it)."""
    p = exam.patient
    if p is None:
        return
    _FILTER.register(p.name, p.patient_id, *p.other.values())
