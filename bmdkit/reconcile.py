"""Reconciliation: values already in the EDC against the values bmdkit extracted.

The EDC side is a REDCap record export in the flat layout bmdkit's own
import CSV uses (:mod:`bmdkit.export.redcap`): the record ID first, then
``redcap_event_name`` (longitudinal projects), then one column per site and
measure named by :func:`bmdkit.export.edc.field_name`. The extracted side is
the de-identified subject visits of a batch; which values count as
extracted, and how each is written, come from
:func:`bmdkit.export.edc.select_values` and :attr:`~bmdkit.export.edc.Value.text`,
so a clean import compares equal by construction.

Rules:

- numbers are compared at the field's decimals (``reference_data/edc_fields.csv``:
  BMD 3, T/Z 1, BMC/area 2): ``0.912`` and ``0.9120`` agree, ``-1`` and
  ``-1.0`` agree; EDC text with more decimals is rounded half-even first;
  a cell that is not a plain decimal (``0,912``, ``1e0``, ``NaN``) is
  ``edc_not_a_number``; ``dxa_date`` is compared as a date when both sides
  have one;
- a value on one side and a blank on the other is ``missing_in_edc`` or
  ``missing_in_extraction``; a blank on both sides agrees;
- a field bmdkit held back for review (export leaves it blank) agrees with
  a blank EDC cell; an EDC value there is ``held_for_review``, because
  bmdkit cannot confirm it;
- an EDC record/event with values but no extracted visit is
  ``no_extracted_visit``; an extracted visit with values but no EDC row is
  ``no_edc_row``; a record and event filled on two rows is
  ``duplicate_edc_row`` (rows of other repeating forms, with no DXA cell
  filled, are ignored);
- a column that is neither a bmdkit field nor a REDCap system column is
  reported once (``unknown_column``, a note that does not count as a
  disagreement); a bmdkit value field absent from the EDC export while
  bmdkit has values for it is reported once (``missing_column``).

Output carries trial subject IDs, events, field names, values and source
SHA-256 only: no file paths (site folders may be named after patients) and
no patient names or hospital IDs. EDC-supplied text is additionally passed
through the process-wide identifier redactor before it is returned.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from bmdkit.errors import ConfigError
from bmdkit.export.edc import Measure, ReviewItem, Site, Value, field_name, measures, select_values, sites
from bmdkit.export.redcap import ADMIN_FIELDS
from bmdkit.privacy import SubjectExam, redacting_filter

EVENT_COLUMN = "redcap_event_name"
DATE_FIELD = "dxa_date"
#: REDCap's own columns in a record export (edc.md [S5, S12]); never "unknown"
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
SYSTEM_COLUMN = re.compile(r"^(redcap_[a-z_]+|[a-z][0-9a-z_]*_complete|[a-z][0-9a-z_]*_timestamp)$")

# kinds that are disagreements (exit 1) and the one that is only a note
VALUE_DIFFERS = "value_differs"
MISSING_IN_EDC = "missing_in_edc"
MISSING_IN_EXTRACTION = "missing_in_extraction"
HELD_FOR_REVIEW = "held_for_review"
NOT_A_NUMBER = "edc_not_a_number"
NO_EXTRACTED_VISIT = "no_extracted_visit"
NO_EDC_ROW = "no_edc_row"
DUPLICATE_EDC_ROW = "duplicate_edc_row"
MISSING_COLUMN = "missing_column"
UNKNOWN_COLUMN = "unknown_column"
NOTE_KINDS = frozenset({UNKNOWN_COLUMN})

COLUMNS: tuple[str, ...] = (
    "kind", "subject_id", "event", "visit", "site", "measure", "field",
    "edc_value", "extracted_value", "sha256", "detail",
)


@dataclass(frozen=True)
class Disagreement:
    """One line of the reconciliation list; ``sha256`` may name several files (``;``)."""

    kind: str
    subject_id: str = ""
    event: str = ""
    visit: str = ""
    site: str = ""
    measure: str = ""
    field: str = ""
    edc_value: str = ""
    extracted_value: str = ""
    sha256: str = ""
    detail: str = ""

    @property
    def is_note(self) -> bool:
        return self.kind in NOTE_KINDS

    def as_row(self) -> dict[str, str]:
        return {c: str(getattr(self, c)) for c in COLUMNS}


@dataclass(frozen=True)
class EdcRow:
    line: int
    record: str
    event: str
    cells: Mapping[str, str]


@dataclass(frozen=True)
class EdcExport:
    """A parsed EDC record export: its header and rows, cells stripped."""

    record_field: str
    longitudinal: bool
    header: tuple[str, ...]
    rows: tuple[EdcRow, ...]


@dataclass
class Summary:
    """Counts for the console line and the tests."""

    edc_rows: int = 0
    extracted_visits: int = 0
    matched_visits: int = 0
    values_compared: int = 0
    values_agreed: int = 0
    held_and_blank: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def disagreements(self) -> int:
        return sum(n for k, n in self.by_kind.items() if k not in NOTE_KINDS)


def _decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM); GB18030 for files re-saved by Chinese-locale spreadsheet tools."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ConfigError("EDC export is neither UTF-8 nor GB18030 text", path) from None


def parse_edc(text: str, path: str = "EDC export") -> EdcExport:
    """Parse the text of a flat REDCap record export (raw values, raw field names)."""
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ConfigError(f"EDC export is not valid CSV ({exc})", path) from None
    table = [r for r in table if any(c.strip() for c in r)]
    if not table:
        raise ConfigError("EDC export is empty", path)
    header = tuple(h.strip() for h in table[0])
    if len(set(header)) != len(header) or "" in header:
        raise ConfigError("EDC export has blank or repeated column names", path)
    if header[0] == EVENT_COLUMN:
        raise ConfigError("EDC export must start with the record ID column", path)
    known = {field_name(s, m) for s in sites() for m in measures()}
    if not known.intersection(header):
        raise ConfigError("EDC export has none of bmdkit's DXA fields: export raw field names "
                          "(not labels) and include the dxa form", path)
    longitudinal = EVENT_COLUMN in header
    rows = []
    for n, raw in enumerate(table[1:], start=2):
        if len(raw) > len(header):
            raise ConfigError(f"EDC export line {n} has more cells than the header", path)
        cells = {h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header)}
        rows.append(EdcRow(n, cells[header[0]], cells.get(EVENT_COLUMN, ""), cells))
    return EdcExport(header[0], longitudinal, header, tuple(rows))


def read_edc(path: str | Path) -> EdcExport:
    """Read a flat REDCap record export (CSV) from ``path``."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"EDC export cannot be read ({exc.strerror})", str(p)) from None
    return parse_edc(_decode(data, str(p)), str(p))


def _number(text: str, decimals: int) -> Decimal | None:
    """EDC text at ``decimals`` places (half-even), or None unless it is a plain decimal number.

    Plain means sign, digits and one decimal point: no exponent, digit
    grouping, comma decimal mark, ``NaN`` or ``inf`` (``Decimal`` alone would
    accept several of those).
    """
    if not PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # more digits than the context holds
        return None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class _Visit:
    """The extracted side of one subject visit, by field."""

    sx: SubjectExam
    values: dict[str, Value]
    held: dict[str, list[ReviewItem]]

    @property
    def shas(self) -> str:
        return ";".join(sha for _, sha in self.sx.sources)


def _extracted(subjects: Iterable[SubjectExam], longitudinal: bool) -> dict[tuple[str, str], _Visit]:
    out: dict[tuple[str, str], _Visit] = {}
    for sx in subjects:
        key = (sx.subject_id, sx.event if longitudinal else "")
        if key in out:
            raise ConfigError(
                f"subject {sx.subject_id} has several extracted visits but the EDC export has no "
                f"{EVENT_COLUMN} column" if not longitudinal else f"two extracted visits for {key}")
        values, held = select_values(sx)
        by_held: dict[str, list[ReviewItem]] = {}
        for h in held:
            by_held.setdefault(h.field, []).append(h)
        out[key] = _Visit(sx, {v.field: v for v in values}, by_held)
    return out


class _Builder:
    """Collects disagreements, redacting EDC-supplied text, and counts them."""

    def __init__(self, events: Mapping[str, str]) -> None:
        self.items: list[Disagreement] = []
        self.summary = Summary()
        self._events = events
        self._redact = redacting_filter().redact

    def add(self, kind: str, subject: str = "", event: str = "", site: Site | None = None,
            measure: Measure | None = None, fld: str = "", edc: str = "", extracted: str = "",
            sha: str = "", detail: str = "") -> None:
        r = self._redact
        self.items.append(Disagreement(
            kind=kind, subject_id=r(subject), event=r(event), visit=self._events.get(event, ""),
            site=site.code if site else "", measure=measure.code if measure else "",
            field=r(fld), edc_value=r(edc), extracted_value=extracted, sha256=sha, detail=r(detail)))
        self.summary.by_kind[kind] = self.summary.by_kind.get(kind, 0) + 1


def _unplaced_detail(subject: str, report: Iterable[Mapping[str, str]]) -> str:
    problems = sorted({r.get("problem", "") for r in report if r.get("subject_id") == subject and r.get("problem")})
    if problems:
        return "no extracted visit; this subject's files not placed: " + "; ".join(problems)
    return "no extracted visit for this record and event"


def _compare_field(b: _Builder, row: EdcRow, visit: _Visit, site: Site, m: Measure, name: str) -> None:
    s = b.summary
    cell = row.cells[name]
    val = visit.values.get(name)
    held = visit.held.get(name, [])
    subject, event = visit.sx.subject_id, row.event
    if held and val is None:
        if not cell:
            s.held_and_blank += 1
            return
        b.add(HELD_FOR_REVIEW, subject, event, site, m, name, cell,
              ";".join(f"{h.value:.{m.decimals}f}" for h in held), ";".join(h.sha256 for h in held),
              "bmdkit held this value back for review (" + "; ".join(sorted({h.reason for h in held})) + ")")
        return
    if val is None:
        if cell:
            b.add(MISSING_IN_EXTRACTION, subject, event, site, m, name, cell, "", visit.shas,
                  "EDC has a value bmdkit did not extract from this visit's files")
        return
    if not cell:
        b.add(MISSING_IN_EDC, subject, event, site, m, name, "", val.text, val.sha256, f"method {val.method}")
        return
    s.values_compared += 1
    edc = _number(cell, m.decimals)
    if edc is None:
        b.add(NOT_A_NUMBER, subject, event, site, m, name, cell, val.text, val.sha256,
              "EDC cell is not a plain decimal number")
    elif edc != Decimal(val.text):
        b.add(VALUE_DIFFERS, subject, event, site, m, name, cell, val.text, val.sha256,
              f"compared at {m.decimals} decimals; method {val.method}")
    else:
        s.values_agreed += 1


def _compare_date(b: _Builder, row: EdcRow, visit: _Visit) -> None:
    cell = row.cells.get(DATE_FIELD, "")
    mine = visit.sx.exam_date.isoformat() if visit.sx.exam_date else ""
    if not cell or not mine:
        return  # the date is bookkeeping; a blank on either side is not a measured value
    b.summary.values_compared += 1
    if _date(cell) != visit.sx.exam_date:
        b.add(VALUE_DIFFERS, visit.sx.subject_id, row.event, fld=DATE_FIELD, edc=cell, extracted=mine,
              sha=visit.shas, detail="exam date differs (EDC dates are read as YYYY-MM-DD)")
    else:
        b.summary.values_agreed += 1


def reconcile(
    subjects: Iterable[SubjectExam],
    edc: EdcExport,
    *,
    events: Mapping[str, str] | None = None,
    report: Iterable[Mapping[str, str]] = (),
) -> tuple[list[Disagreement], Summary]:
    """Every disagreement between ``edc`` and the extracted ``subjects``, and counts.

    ``events`` maps REDCap event names to visit names (for display);
    ``report`` is the placement report of :func:`bmdkit.batch.assemble.assemble`
    (rows with ``subject_id`` and ``problem``), used only to explain an EDC
    row that has no extracted visit. The list is ordered: column notes first,
    then by subject, event and field order.
    """
    report = list(report)
    b = _Builder(events or {})
    visits = _extracted(subjects, edc.longitudinal)
    b.summary.edc_rows, b.summary.extracted_visits = len(edc.rows), len(visits)
    value_fields = [(s, m, field_name(s, m)) for s in sites() for m in measures()]
    field_set = {n for _, _, n in value_fields}
    known = {edc.record_field, EVENT_COLUMN, *(a[0] for a in ADMIN_FIELDS), *field_set}
    for col in edc.header:
        if col not in known and not SYSTEM_COLUMN.match(col):
            b.add(UNKNOWN_COLUMN, fld=col, detail="column is not a bmdkit field; not compared")
    present = [(s, m, n) for s, m, n in value_fields if n in edc.header]
    for s, m, n in value_fields:
        if n not in edc.header and any(n in v.values for v in visits.values()):
            b.add(MISSING_COLUMN, site=s, measure=m, fld=n,
                  detail="bmdkit has values for this field but the EDC export has no such column")

    grouped: dict[tuple[str, str], list[EdcRow]] = {}
    for row in sorted(edc.rows, key=lambda r: (r.record, r.event, r.line)):
        grouped.setdefault((row.record, row.event), []).append(row)
    seen: set[tuple[str, str]] = set()
    for key, group in grouped.items():
        # rows of other (repeating) forms share the record and event but carry no DXA cell
        filled = [r for r in group if any(r.cells[n] for _, _, n in present) or r.cells.get(DATE_FIELD)]
        row, *extra = filled or group[:1]
        for dup in extra:
            b.add(DUPLICATE_EDC_ROW, dup.record, dup.event,
                  detail=f"record and event filled on lines {row.line} and {dup.line}; compared line {row.line}")
        seen.add(key)
        visit = visits.get(key)
        if visit is None:
            if filled:
                b.add(NO_EXTRACTED_VISIT, row.record, row.event, detail=_unplaced_detail(row.record, report))
            continue
        b.summary.matched_visits += 1
        _compare_date(b, row, visit)
        for s, m, n in present:
            _compare_field(b, row, visit, s, m, n)

    for key in sorted(set(visits) - seen):
        v = visits[key]
        if v.values:
            b.add(NO_EDC_ROW, v.sx.subject_id, key[1], extracted=f"{len(v.values)} values", sha=v.shas,
                  detail="extracted visit has no row in the EDC export")
    return b.items, b.summary

