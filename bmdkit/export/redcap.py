"""REDCap: the 18-column data dictionary and the flat import CSV.

The dictionary's header strings and order, the validation type names and
the field-name rule come from ``shared/domain/edc.md`` (REDCap section).
Values are written with exactly the decimals their ``number_Ndp`` type
names (``-1.0``, ``0.912``).

Blank cells: a value is left blank only when it was not measured or is held
back for review. Import with ``overwriteBehavior=normal`` (the API default,
PyCap's default) so blanks never erase stored data; REDCapR's
``redcap_write()`` defaults to ``overwrite`` and must be told otherwise.
Clearing a stored value is a separate, explicit ``overwrite`` import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bmdkit.errors import ExportError
from bmdkit.export.edc import ReviewItem, field_name, measures, plausible_range, select_values, sites
from bmdkit.privacy import SubjectExam

DICTIONARY_HEADER: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

FORM = "dxa"
FIELD_NAME = re.compile(r"^[a-z][0-9a-z_]*$")
MAX_NAME = 26
BLANK_POLICY = (
    "Import with overwriteBehavior=normal (REDCap API default): blank cells are ignored and never "
    "erase stored values. REDCapR redcap_write() defaults to overwrite; do not use that default."
)
#: administrative fields after the record ID and event, in order
ADMIN_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    # name, type, label, validation
    ("dxa_date", "text", "DXA exam date", "date_ymd"),
    ("dxa_center", "text", "Center", ""),
    ("dxa_status", "text", "bmdkit status (extracted / flagged)", ""),
    ("dxa_flags", "notes", "bmdkit flag codes", ""),
    ("dxa_review", "notes", "Fields held back for review (not imported)", ""),
    ("dxa_sources", "notes", "Source files (SHA-256)", ""),
    ("dxa_software", "text", "Extraction software and version", ""),
)


def value_fields() -> list[str]:
    return [field_name(s, m) for s in sites() for m in measures()]


def check_name(name: str) -> str:
    if not FIELD_NAME.match(name) or len(name) > MAX_NAME:
        raise ExportError(f"invalid REDCap field name {name!r}")
    return name


def dictionary_rows(record_field: str = "record_id") -> list[list[str]]:
    """The data dictionary, header first; the record ID is the form's first field."""
    rows = [list(DICTIONARY_HEADER)]

    def row(name: str, ftype: str, label: str, validation: str = "", lo: str = "", hi: str = "",
            note: str = "", section: str = "") -> list[str]:
        r = [""] * len(DICTIONARY_HEADER)
        r[0], r[1], r[2], r[3], r[4] = check_name(name), FORM, section, ftype, label
        r[6], r[7], r[8], r[9] = note, validation, lo, hi
        return r

    rows.append(row(record_field, "text", "Trial subject ID"))
    for name, ftype, label, validation in ADMIN_FIELDS:
        rows.append(row(name, ftype, label, validation))
    for s in sites():
        first = True
        for m in measures():
            lo, hi = plausible_range(s, m)
            rows.append(row(field_name(s, m), "text", f"{s.label}: {m.label}", m.validation, lo, hi,
                            note=m.unit if m.unit != "1" else "", section=s.label if first else ""))
            first = False
    return rows


def import_rows(subject_exams: Iterable[SubjectExam], record_field: str = "record_id",
                longitudinal: bool = True) -> tuple[list[list[str]], list[ReviewItem]]:
    """Import CSV rows (header first) and the values held back for review."""
    fields = value_fields()
    header = [check_name(record_field)] + (["redcap_event_name"] if longitudinal else [])
    header += [a[0] for a in ADMIN_FIELDS] + fields
    rows = [header]
    review: list[ReviewItem] = []
    seen: set[tuple[str, str]] = set()
    for sx in sorted(subject_exams, key=lambda s: (s.subject_id, s.event)):
        key = (sx.subject_id, sx.event if longitudinal else "")
        if key in seen:
            raise ExportError(f"two rows for one record and event ({sx.visit})")
        seen.add(key)
        values, held = select_values(sx)
        review.extend(held)
        by_field = {v.field: v.text for v in values}
        flags = sorted({f.code.value for f, _ in sx.flags})
        admin = {
            "dxa_date": sx.exam_date.isoformat() if sx.exam_date else "",
            "dxa_center": sx.center,
            "dxa_status": sx.status,
            "dxa_flags": ";".join(flags),
            "dxa_review": ";".join(sorted({h.field for h in held})),
            "dxa_sources": ";".join(sha for _, sha in sx.sources),
            "dxa_software": sx.software,
        }
        row = [sx.subject_id] + ([sx.event] if longitudinal else [])
        row += [admin[a[0]] for a in ADMIN_FIELDS] + [by_field.get(f, "") for f in fields]
        rows.append(row)
    return rows, review
