"""Exam date, vendor and scanner model from a report page's text.

Dates print as 2026-03-14, 2026/03/14, 03/14/2026 (US), 14.03.2026,
14/03/2026 and 2026年3月14日. A date next to an exam-date label
("Scan Date", 检查日期) wins over others; dates next to birth or print
labels are skipped. ``dd/mm`` vs ``mm/dd`` with both parts ≤ 12 is
ambiguous and reported so (the caller flags AMBIGUOUS_DATE) unless the
page settles it elsewhere (another date on the page with a part > 12 in the
same style).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass

from bmdkit.flags import FlagCode
from bmdkit.model import Flag
from bmdkit.report import labels

_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?!\d)")
#: a time may follow the year with its space lost by OCR ('01/14/20193:22:15PM')
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*([./-])\s*(\d{1,2})\s*\2\s*(\d{4})(?=\d{1,2}:\d{2}|(?!\d))")
_MODEL = re.compile(
    r"(Discovery\s*[A-Z]{0,3}|Horizon\s*[A-Z]{0,3}|QDR\s*-?\s*\w+|Lunar\s+iDXA|iDXA|Lunar\s+Prodigy(?:\s+(?:Advance|Primo|Pro))?|"
    r"Prodigy(?:\s+(?:Advance|Primo|Pro))?|DPX[-\s]?\w+|(?:Norland\s+)?XR-\d+|Illuminatus\s*\w*)", re.IGNORECASE)


@dataclass(frozen=True)
class DateFinding:
    date: dt.date | None
    ambiguous: bool = False
    alternatives: tuple[dt.date, ...] = ()
    raw: str | None = None
    #: index, in the lines given, of the line ``raw`` was read from (its crop is read again on OCR
    #: pages: datecheck)
    line: int | None = None
    #: with no exam date: the dates passed over because a label the vocabulary does not know is
    #: printed right before them ('Dacre:04/25/2019', a footer's 'Printed:' misread), as read
    unread: tuple[str, ...] = ()


#: a date as printed in a line: (raw text, candidate dates, style), and the index of its line
_Seen = tuple[tuple[str, list[dt.date], str], int]

#: a word and a colon right before a date: the date's label, whether the vocabulary knows it or not
_LABEL_BEFORE = re.compile(r"([^\W\d_]{2,})\s*[:：]\s*$")


def unread_label(line: str, raw: str) -> str | None:
    """The label printed right before the date ``raw`` in ``line`` (``'Dacre:'``), when it is a word
    the vocabulary knows neither as a date label nor as a word for a date; else None.

    Such a date is labelled, only not legibly: OCR lost the label's letters ('Printed:' read as
    'Dacre:' on a small footer), so it is no unlabelled date to take as the exam date on a page
    that prints no other. A label holding a word for a date ('Date:', '日期：', 'ScanDate:') leaves it
    as it was: unlabelled unless the label is a known one.
    """
    at = line.find(raw)
    m = _LABEL_BEFORE.search(line[:at]) if at > 0 else None
    if m is None:
        return None
    word = m.group(1)
    if labels.match("date_label_tail", word, search=True, raw=True) or has_date_label(word):
        return None  # a word for a date in it ('ScanDate', its space lost): a label, if not an exam one
    return line[m.start():at + len(raw)].strip()


def _safe(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                            "nov", "dec"))}
_DMONY = re.compile(r"(?<!\d)(\d{1,2})[\s\-/.]*([A-Za-z]{3})[a-z]*\.?[\s\-/.,]*(\d{4})(?!\d)")
_MONDY = re.compile(r"\b([A-Za-z]{3})[a-z]*\.?\s*(\d{1,2})(?:,\s*|\s+)(\d{4})(?!\d)")  # 'April 26,1948' (OCR)


def _dates_in(line: str) -> list[tuple[str, list[dt.date], str]]:
    """(raw, candidate dates, style) for each date in a line."""
    out: list[tuple[str, list[dt.date], str]] = []
    for m in _DMONY.finditer(line):
        mon = _MONTHS.get(m.group(2).lower())
        d = _safe(int(m.group(3)), mon, int(m.group(1))) if mon else None
        if d:
            out.append((m.group(0), [d], "dmony"))
    for m in _MONDY.finditer(line):
        mon = _MONTHS.get(m.group(1).lower())
        d = _safe(int(m.group(3)), mon, int(m.group(2))) if mon else None
        if d:
            out.append((m.group(0), [d], "mondy"))
    for m in _YMD.finditer(line):
        d = _safe(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            out.append((m.group(0), [d], "ymd"))
    for m in _DMY.finditer(line):
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        cands: list[dt.date] = []
        style = "dot" if sep == "." else "slash"
        if sep == ".":
            # 14.03.2026: day.month.year is the only common dotted order
            d = _safe(y, b, a)
            cands = [d] if d else []
        else:
            for d in (_safe(y, a, b), _safe(y, b, a)):
                if d and d not in cands:
                    cands.append(d)
        if cands:
            out.append((m.group(0), cands, style))
    return out


def find_exam_date(lines: list[str]) -> DateFinding:
    """The exam date among the page's text lines (``line``: the index of the line it was read from)."""
    labelled: list[_Seen] = []
    other: list[_Seen] = []
    unread: list[str] = []
    for k, line in enumerate(lines):
        low = line.lower()
        found = _dates_in(line)
        if not found:
            # a column title ('Measured Date') above a column of dates: the first date below
            if labels.match("date_label", low, search=True, raw=True) == "exam":
                for j, nxt in enumerate(lines[k + 1:k + 3], start=k + 1):
                    below = _dates_in(nxt)
                    if below:
                        labelled.append((below[0], j))
                        break
            continue
        if labels.match("date_label", low, search=True, raw=True) == "exam":
            # take the date that follows the exam label
            pos = min((low.find(k) for k in ("date", "日期", "时间", "measured") if low.find(k) >= 0), default=0)
            after = [f for f in found if line.find(f[0]) >= pos] or found
            labelled.append((after[0], k))
        elif labels.match("date_label", low, search=True, raw=True) is None:
            for f in found:
                label = unread_label(line, f[0])
                if label is None:
                    other.append((f, k))
                else:
                    unread.append(label)
    if not labelled:
        only = _only_date(other, lines)
        return only if only.date is not None else dataclasses.replace(only, unread=tuple(unread))
    return dataclasses.replace(settle(labelled[0][0], lines), line=labelled[0][1])


def _only_date(other: list[_Seen], lines: list[str]) -> DateFinding:
    """With no labelled date, the page's unlabelled date when there is only one: printed once,
    or the same day printed again (Hologic prints each hip's scan date over its image; '12/04/2019'
    beside 'December 04, 2019' is one day, not two)."""
    if not other:
        return DateFinding(None)
    common = set(other[0][0][1]).intersection(*(f[1] for f, _ in other[1:]))
    if len(common) == 1 and any(len(f[1]) == 1 for f, _ in other):
        raw, k = next((f[0], k) for f, k in other if len(f[1]) == 1)
        return DateFinding(common.pop(), raw=raw, line=k)
    if len({tuple(f[1]) for f, _ in other}) != 1:
        return DateFinding(None)
    return dataclasses.replace(settle(other[0][0], lines), line=other[0][1])


def date_flags(found: DateFinding, where: str) -> list[Flag]:
    """The flags of an exam date finding: none found (naming the dates passed over for a label that
    names no exam date), or read two ways; ``where``: 'on the page', 'in the text'."""
    if found.date is None:
        passed = ", ".join(repr(u) for u in found.unread)
        why = f"; passed over {passed}: a label that names no exam date" if passed else ""
        return [Flag(FlagCode.NO_EXAM_DATE, f"no exam date found {where}{why}")]
    if found.ambiguous:
        alts = ", ".join(d.isoformat() for d in found.alternatives)
        return [Flag(FlagCode.AMBIGUOUS_DATE, f"exam date {found.raw!r} reads as {alts}")]
    return []


def settle(pick: tuple[str, list[dt.date], str], lines: list[str]) -> DateFinding:
    """The date a printed date (``pick``, one of :func:`dates_in`) reads as on a page of ``lines``: its
    day/month order settled by the page's other dates where it reads both ways (else flagged ambiguous
    with both readings); the exam date's and its crop's re-reading (datecheck) alike."""
    raw, cands, _style = pick
    if len(cands) == 1:
        return DateFinding(cands[0], raw=raw)
    # settle mm/dd vs dd/mm from another slash date on the page with a part > 12
    orders = slash_orders(lines)
    first, _, second = re.split(r"([/-])", raw.strip())[0:3]
    if len(orders) == 1:
        y = cands[0].year
        m_, d_ = (int(first), int(second)) if "mdy" in orders else (int(second), int(first))
        d = _safe(y, m_, d_)
        if d:
            return DateFinding(d, raw=raw)
    named = [d for d in cands if d in month_named_dates(lines)]
    if len(named) == 1:
        # the same day printed with its month's name elsewhere on the page ('Analysis: December
        # 04, 2019' beside '12/04/2019') says which part is the month
        return DateFinding(named[0], raw=raw)
    return DateFinding(cands[0], ambiguous=True, alternatives=tuple(cands), raw=raw)


def month_named_dates(lines: list[str]) -> set[dt.date]:
    """Every date the page prints with its month's name ('December 04, 2019', '4 Apr 2025'):
    these have one reading only."""
    return {c[0] for line in lines for _, c, style in _dates_in(line) if style in ("dmony", "mondy")}


def has_exam_label(line: str) -> bool:
    """The line names an exam date ('Scan Date', 'Measured:', 检查日期)."""
    return labels.match("date_label", line.lower(), search=True, raw=True) == "exam"


def has_date_label(line: str) -> bool:
    """The line names what some date on it is (exam, birth, print, analysis)."""
    return labels.match("date_label", line.lower(), search=True, raw=True) is not None


def dates_in(line: str) -> list[tuple[str, list[dt.date], str]]:
    """Each date printed in ``line``: (raw text, candidate dates, style); two candidates
    when a slash date reads both as mm/dd and dd/mm."""
    return _dates_in(line)


def slash_orders(lines: list[str]) -> set[str]:
    """The slash-date orders ('mdy', 'dmy') that the page's own unambiguous dates show
    (a part > 12 settles which one is the day)."""
    orders: set[str] = set()
    for line in lines:
        for m in _DMY.finditer(line):
            if m.group(2) == "/":
                a, b = int(m.group(1)), int(m.group(3))
                if a > 12 >= b:
                    orders.add("dmy")
                elif b > 12 >= a:
                    orders.add("mdy")
    return orders


def find_vendor(text: str) -> str | None:
    return labels.vendor_of(text)


def find_model(text: str) -> str | None:
    m = _MODEL.search(text)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else None
