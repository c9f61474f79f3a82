"""The one place where patient identifiers are removed before anything leaves bmdkit.

EDC exports (REDCap, ODM, FHIR) never receive an :class:`~bmdkit.model.Exam`
directly: they receive :class:`SubjectExam` objects, built only by
:func:`deidentify`, which carry the trial subject ID and the measured values
but no name, hospital ID, birth date or free-text identifiers. The logging
filter :class:`RedactingFilter` masks identifiers that a batch has seen in
case any message ever includes one.

:class:`Redactor` masks one exam's own identifiers in the free text that
people read: a report row labelled with the patient's name ends up in the
region's label and in every flag message that quotes the label, and those
reach ``results.csv``, ``failures.csv`` and the review page. Every writer of
such an output passes the text through the exam's :class:`Redactor`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bmdkit.model import Exam, Flag, Location, PatientIdentity, RegionResult, ValueSource
from bmdkit.terminal import ControlCharFilter

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
    from bmdkit.merge import MergedExam, sources_of

    exams = list(exams)
    regions: list[tuple[RegionResult, str]] = []
    flags: list[tuple[Flag, str]] = []
    for e in exams:
        if isinstance(e, MergedExam):  # each value paired with the file it came from
            regions.extend(_split_by_file(e))
            flags.extend((f, e.flag_file(i)) for i, f in enumerate(e.flags))
            continue
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
        sources=tuple(dict.fromkeys((display_paths.get(s.sha256, s.path), s.sha256)
                                    for e in exams for s in sources_of(e))),
        vendor=first.vendor.value if first else "unknown",
        scanner_model=first.scanner_model if first else None,
        software=software,
        reader=first.reader if first else None,
    )


def _split_by_file(exam: Any) -> list[tuple[RegionResult, str]]:
    """A merged exam's regions, each cut into one part per file its values came from."""
    from bmdkit.model import MEASURES

    out: list[tuple[RegionResult, str]] = []
    for r in exam.regions:
        by_file: dict[str, list[str]] = {}
        for m in MEASURES:
            if r.value(m) is not None:
                by_file.setdefault(exam.file_of(r, m), []).append(m)
        if len(by_file) <= 1:
            out.append((r, next(iter(by_file), exam.source.sha256)))
            continue
        for sha, mine in by_file.items():
            out.append((r.replace(**{m: None for m in MEASURES if m not in mine},
                                  sources={m: s for m, s in r.sources.items() if m in mine}), sha))
    return out


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


_CONTROL_FILTER = ControlCharFilter()


def install_log_filter(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the redacting filter to ``logger``'s handlers (root by default).

    The handlers also get :class:`~bmdkit.terminal.ControlCharFilter`: a
    message quoting file-derived text cannot drive the terminal it is shown on.
    """
    target = logger or logging.getLogger()
    for h in target.handlers:
        for f in (_FILTER, _CONTROL_FILTER):
            if f not in h.filters:
                h.addFilter(f)
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)
    return _FILTER


def register_exam_identifiers(exam: Exam) -> None:
    """Tell the log filter about an exam's identifiers (call before logging about it)."""
    p = exam.patient
    if p is None:
        return
    _FILTER.register(p.name, p.patient_id, *p.other.values())


#: A name part or ID shorter than this (after the rules below) is not masked: it would hit ordinary words.
_MIN_PART = 2
#: A purely numeric ID shorter than this is not masked: it would hit ordinary numbers in messages.
_MIN_NUMERIC = 4
_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")


def identifier_parts(ident: str | None) -> list[str]:
    """What of one identifier to mask: the whole, its name parts, and a Chinese name's given name.

    ``Wang^Lihua`` gives ``Wang^Lihua``, ``Wang``, ``Lihua``; ``Wang Lihua``
    and ``WANG, Lihua`` the same parts; ``王丽华`` gives ``王丽华`` and
    ``丽华`` (a report may print the given name alone).
    """
    if not ident:
        return []
    ident = str(ident).strip()
    found = [ident, *re.split(r"[\^=,\s]+", ident)]
    for part in list(found):
        if _CJK.fullmatch(part[:1] or " ") and len(part) >= 3 and all(_CJK.match(c) for c in part):
            found += [part[1:], part[2:]] if len(part) >= 4 else [part[1:]]
    out = []
    for p in dict.fromkeys(x.strip() for x in found):
        if len(p) >= (_MIN_NUMERIC if p.isdigit() else _MIN_PART):
            out.append(p)
    return out


#: the characters outside ASCII that ignore-case matching (:data:`re.IGNORECASE`) takes for an ASCII
#: letter or digit: found by trying every code point against ``[a-z0-9]`` (a test repeats it)
_ASCII_LOOKALIKES = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
#: a text or part as the redactor's pre-test compares them: ASCII capitals and the look-alikes as the
#: lower-case ASCII letter they match, every other character as it is (one character for one)
_FOLD = str.maketrans({**{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}, **_ASCII_LOOKALIKES})


def _part_pattern(part: str) -> str:
    """A part as a pattern: Latin letters and digits match only as a whole word (``Li`` not in ``Limit``)."""
    body = re.escape(part)
    if part.isascii():
        return rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])"
    return body


class Redactor:
    """Masks one patient's identifiers (name, its parts, hospital ID, other IDs) in free text.

    Matching ignores case (reports print names in capitals). A redactor
    without identifiers returns text unchanged.

    The pattern is compiled only when a text may hold an identifier: a batch
    makes a redactor per patient, and compiling a pattern per patient cost more
    than reading a scan image. A text is first searched for each part with
    :data:`_FOLD` applied to both: when every part is ASCII or Chinese
    characters, ignoring case matches a part's ASCII letter only to the same
    letter in either case or to one of :data:`_ASCII_LOOKALIKES`, and every
    other character of it only to itself, so a text in which no folded part
    occurs cannot match and is returned as it is; with any other part every
    text goes to the pattern.
    """

    def __init__(self, identifiers: Iterable[str | None]) -> None:
        self._parts = sorted({p for i in identifiers for p in identifier_parts(i)}, key=len, reverse=True)
        # the pre-test is exact only for parts of ASCII and Chinese characters (see the class docstring)
        testable = all(c.isascii() or _CJK.match(c) for p in self._parts for c in p)
        self._folded = [p.translate(_FOLD) for p in self._parts] if testable else None
        self._compiled: re.Pattern[str] | None = None

    @property
    def _pattern(self) -> re.Pattern[str] | None:
        """The identifiers as one case-insensitive pattern (None without any), compiled on first use."""
        if self._compiled is None and self._parts:
            self._compiled = re.compile("|".join(_part_pattern(p) for p in self._parts), re.IGNORECASE)
        return self._compiled

    def _may_hold(self, text: str) -> bool:
        """False only when ``text`` certainly holds no part (the folded pre-test); True otherwise."""
        if self._folded is None:
            return True
        folded = text.translate(_FOLD)
        return any(p in folded for p in self._folded)

    def _may_hold_any(self, texts: Iterable[str | None]) -> bool:
        """False only when no text of ``texts`` can hold a part: the pre-test run once on them all joined
        (each text is a piece of the joined one, and folding goes character by character, so a part
        in no piece of the folded whole is in no folded text). True as well for a text not a string."""
        if self._folded is None:
            return True
        try:
            joined = "\n".join(t for t in texts if t)
        except TypeError:  # a field typed wrongly: leave it to the text-by-text path
            return True
        return self._may_hold(joined)

    @classmethod
    def for_patient(cls, patient: PatientIdentity | None) -> Redactor:
        """The redactor of an exam's :class:`PatientIdentity` (None: masks nothing)."""
        if patient is None:
            return _shared_redactor(())
        return _shared_redactor((patient.name, patient.patient_id, *patient.other.values()))

    @classmethod
    def for_contract(cls, patient: Mapping[str, Any] | None) -> Redactor:
        """The redactor of a contract line's ``patient`` object (``name``, ``id`` and the ``other`` IDs)."""
        if not isinstance(patient, Mapping):
            return _shared_redactor(())
        other = patient.get("other")
        others = [str(v) for v in other.values()] if isinstance(other, Mapping) else []
        return _shared_redactor((*(str(patient[k]) for k in ("name", "id") if patient.get(k)), *others))

    def text(self, text: str | None) -> str | None:
        """``text`` with every identifier replaced by ``<redacted>``."""
        if text is None or not self._parts or not self._may_hold(text):
            return text
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def exam(self, exam: Exam) -> Exam:
        """``exam`` with its file-derived free text masked (the ``patient`` field is left as it is).

        Flag messages, region labels, raw cell text and location details, and the
        scanner and institution fields (a site may type the name into any field).
        What holds no identifier is kept as it is (the same object), so an exam
        with nothing to mask comes back unchanged without being rebuilt.
        """
        if not self._parts:
            return exam
        # nothing to mask in any text: the exam as it is (a flag without a message gets an empty one below)
        if all(f.message is not None for f in exam.flags) and not self._may_hold_any(_exam_texts(exam)):
            return exam
        fields = {k: self.text(getattr(exam, k)) for k in _EXAM_TEXT_FIELDS}
        regions = tuple(self._region(r) for r in exam.regions)
        flags = tuple(self._flag(f) for f in exam.flags)
        if (all(fields[k] == getattr(exam, k) for k in _EXAM_TEXT_FIELDS)
                and all(a is b for a, b in zip(regions, exam.regions, strict=True))
                and all(a is b for a, b in zip(flags, exam.flags, strict=True))):
            return exam
        return replace(exam, **fields, regions=regions, flags=flags)

    def _flag(self, f: Flag) -> Flag:
        message = self.text(f.message) or ""
        return f if message == f.message else replace(f, message=message)

    def _location(self, loc: Location | None) -> Location | None:
        if loc is None or not loc.detail:
            return loc
        detail = self.text(loc.detail)
        return loc if detail == loc.detail else replace(loc, detail=detail)

    def _region(self, r: RegionResult) -> RegionResult:
        sources: dict[str, ValueSource] = {}
        for m, s in r.sources.items():
            raw, where = self.text(s.raw_text), self._location(s.location)
            sources[m] = s if raw == s.raw_text and where is s.location else replace(s, raw_text=raw, location=where)
        label, where = self.text(r.label), self._location(r.location)
        if label == r.label and where is r.location and all(sources[m] is s for m, s in r.sources.items()):
            return r
        return r.replace(label=label, location=where, sources=sources)


def _exam_texts(exam: Exam) -> Iterator[str | None]:
    """Every text :meth:`Redactor.exam` masks: the exam's text fields, flag messages, region labels,
    raw cell text and location details."""
    for k in _EXAM_TEXT_FIELDS:
        yield getattr(exam, k)
    for f in exam.flags:
        yield f.message
    for r in exam.regions:
        yield r.label
        if r.location is not None:
            yield r.location.detail
        for s in r.sources.values():
            yield s.raw_text
            if s.location is not None:
                yield s.location.detail


def _shared_redactor(identifiers: tuple[str | None, ...]) -> Redactor:
    """One redactor per set of identifiers, shared: a study's files (and a file's CSV row and
    failure row) have the same patient, and a redactor holds nothing that changes but its
    pattern, compiled once when first needed. An identifier that cannot be a cache key (not
    text, as the model says it is) gets a redactor of its own."""
    try:
        return _cached_redactor(identifiers)
    except TypeError:
        return Redactor(identifiers)


@functools.lru_cache(maxsize=256)
def _cached_redactor(identifiers: tuple[str | None, ...]) -> Redactor:
    return Redactor(identifiers)


#: the exam's own text fields a :class:`Redactor` masks (besides flags and regions)
_EXAM_TEXT_FIELDS = ("scanner_model", "scanner_serial", "scanner_software", "institution", "study_instance_uid")


def redact_exam(exam: Exam) -> Exam:
    """``exam`` with its own patient's identifiers masked in every free-text field."""
    return Redactor.for_patient(exam.patient).exam(exam)
