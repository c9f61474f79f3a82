"""Decisions about a file as a whole: its exam date, its scan type and side, and its page.

An exam-level decision has an empty ``region`` and names the field in ``measure``:

- ``exam_date``: ``accept`` confirms the date as read; ``correct`` sets another date
  (another reading of an ambiguous day/month, or the date a page did not print), as
  ``YYYY-MM-DD``;
- ``scan_type``: what the file holds, as ``;``-separated scan types (``hip_left``,
  ``spine;hip_right``); a correction from one hip side to the other also moves the file's hip
  results to that side (the side came from the scan type);
- ``page``: ``accept`` only: the page as a whole is accepted as read (page quality,
  unplaced data and other doubts about the file, not about one value).

Values travel as text in the decision CSV's ``old_value``/``new_value`` cells; ``old_value``
is what the exam held when the reviewer decided, so a decision made on another reading is
refused, as for values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bmdkit.model import Exam, ScanType, Side

_HIP_SIDE = {ScanType.HIP_LEFT: Side.LEFT, ScanType.HIP_RIGHT: Side.RIGHT}


def current_text(exam: Exam, field: str) -> str:
    """The field as it stands on the exam, in the text a decision carries (``""`` when unknown)."""
    if field == "exam_date":
        return exam.exam_date.isoformat() if exam.exam_date else ""
    if field == "scan_type":
        return ";".join(s.value for s in exam.scan_types)
    return ""


def parse_text(field: str, text: str, problems: list[str], where: str) -> str | None:
    """A decision's value for ``field`` checked and normalized (None when empty); problems are appended."""
    text = text.strip()
    if not text:
        return None
    if field == "exam_date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            problems.append(f"{where}: exam_date {text!r} is not a date as YYYY-MM-DD")
            return None
    if field == "scan_type":
        parts = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
        try:
            return ";".join(ScanType(p).value for p in dict.fromkeys(parts))
        except ValueError:
            problems.append(f"{where}: scan_type {text!r} is not one of "
                            f"{', '.join(s.value for s in ScanType)} (';' between several)")
            return None
    problems.append(f"{where}: the page decision carries no value")
    return None


def check(field: str, action: str, new: str | None, problems: list[str], where: str) -> None:
    """Rules on what an exam-level decision may say."""
    if field == "page" and action != "accept":
        problems.append(f"{where}: the page can only be accepted as read")
    if field in ("exam_date", "scan_type") and action == "correct" and new is None:
        problems.append(f"{where}: a {field} correction needs a new value")


def _moved_side(old: tuple[ScanType, ...], new: tuple[ScanType, ...]) -> tuple[Side, Side] | None:
    """(from, to) when the scan type changes from one single hip side to the other, else None."""
    a = [_HIP_SIDE[s] for s in old if s in _HIP_SIDE]
    b = [_HIP_SIDE[s] for s in new if s in _HIP_SIDE]
    if len(a) == 1 and len(b) == 1 and a != b and ScanType.HIP_DUAL not in new:
        return a[0], b[0]
    return None


def apply_field(exam: Exam, field: str, new: str | None) -> tuple[Exam, str]:
    """The exam with ``field`` set to ``new`` (a correction); returns it and a note ('' when fine)."""
    if field == "exam_date":
        return replace(exam, exam_date=dt.date.fromisoformat(new) if new else None), ""
    if field == "scan_type":
        types = tuple(ScanType(p) for p in (new or "").split(";") if p)
        moved = _moved_side(exam.scan_types, types)
        regions = exam.regions
        if moved is not None:
            src, dst = moved
            if any(r.side is dst for r in regions):
                return exam, f"the file already has {dst.value} hip results; sides not moved"
            regions = tuple(r.replace(side=dst) if r.side is src else r for r in regions)
        return replace(exam, scan_types=types, regions=regions), ""
    return exam, ""
