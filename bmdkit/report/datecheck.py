"""The exam date of a page read by OCR, read again on its own crop by every engine.

Values in a results table are read by both engines and voted, so a digit one
engine misreads shows as a disagreement. The exam date is found in the page's
text lines (:func:`exam_facts.find_exam_date`), which the layout engine alone
read: a date with one digit misread (2019-05-14 read as 2019-08-14) would
come out with no doubt raised, and in a trial the exam date assigns the visit.
So the words the date was read from are cropped and read again, each engine on
its own (:meth:`PageRereader.read_boxes`, within the file's time budget), and
each re-reading's date is read as the page's is (same day/month order,
:func:`exam_facts.settle`):

- every engine that reads a date there reads the same day: confirmed, no flag;
- an engine reads another day there: the date stays as the page's reading gave
  it, under an AMBIGUOUS_DATE review flag that names both readings (the code a
  decision on the exam date, or a DICOM header's date, settles);
- no engine reads a date there (the time budget passed, or the crop reads as
  no date at all): nothing speaks against the page's reading and no flag is
  raised; a re-reading is a witness against a misread digit, and a crop that
  yields no date is no such witness.

Text layers, plain-text reports and DICOM headers are exact and never get here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bmdkit.flags import FlagCode
from bmdkit.model import Flag
from bmdkit.report import exam_facts
from bmdkit.report.datelabels import Rereader
from bmdkit.report.lines import line_text
from bmdkit.report.tokens import Box, Token

#: blank margin added right of a date's words, in text heights: a word's box is its share of the
#: engine's segment by character count, and a digit at the end of it may lie just past it
RIGHT_MARGIN_HEIGHTS = 0.4


@dataclass(frozen=True)
class PageDates:
    """An OCR page's token lines (its text lines are :func:`line_text` of each) and a re-reader of
    the image they were read on; ``engines``: the re-reader's engines, in the order its readings come."""

    lines: list[list[Token]]
    reread: Rereader
    engines: tuple[str, ...]


@dataclass(frozen=True)
class CropReading:
    """What one engine reads on the date's crop: its text, and the date that text reads as (None: no date)."""

    engine: str
    text: str
    date: dt.date | None


def date_box(line: list[Token], raw: str) -> Box | None:
    """The box of the words of ``line`` that ``raw`` (a date as found in its text) was read from."""
    text, raw = line_text(line), raw.strip()
    at = text.find(raw)
    if at < 0 or not raw:
        return None
    end, pos, words = at + len(raw), 0, []
    for k, t in enumerate(line):
        if pos < end and at < pos + len(t.text):
            words.append(k)
        pos += len(t.text) + 1
    if not words:
        return None
    toks = [line[k] for k in words]
    h = max(max(t.height for t in toks), 1)
    x1 = max(t.box[2] for t in toks) + int(RIGHT_MARGIN_HEIGHTS * h)
    if words[-1] + 1 < len(line):
        x1 = min(x1, line[words[-1] + 1].box[0] - 1)
    return (min(t.box[0] for t in toks), min(t.box[1] for t in toks), x1, max(t.box[3] for t in toks))


def crop_date(text: str, want: dt.date | None, page_lines: list[str]) -> dt.date | None:
    """The date a crop's re-reading reads as on this page (:func:`exam_facts.settle`): ``want``
    if any date in it reads so, else its first date (None: no date in it)."""
    seen = [exam_facts.settle(f, page_lines).date for f in exam_facts.dates_in(text)]
    seen = [d for d in seen if d is not None]
    if want in seen:
        return want
    return seen[0] if seen else None


def judge(found: exam_facts.DateFinding, readings: Sequence[CropReading]) -> Flag | None:
    """A review flag when an engine reads another day than ``found`` on the date's crop (else None)."""
    other = [r for r in readings if r.date is not None and r.date != found.date]
    if found.date is None or not other:
        return None
    said = "; ".join(f"{r.engine} reads {r.text.strip()!r} ({r.date.isoformat()})" for r in other if r.date)
    return Flag(FlagCode.AMBIGUOUS_DATE,
                f"exam date {found.raw!r} read as {found.date.isoformat()}, but read again on its own: "
                f"{said}; check the date printed")


def reread_exam_date(found: exam_facts.DateFinding, pages: Sequence[tuple[int, list[str]]],
                     dated: dict[int, PageDates]) -> list[CropReading]:
    """Each engine's reading of the exam date's crop (empty: not an OCR page, or nothing read).

    ``pages``: (page number, text lines) of each page in the order their lines were joined
    for :func:`exam_facts.find_exam_date`; ``dated``: the OCR pages' lines and re-readers.
    """
    if found.date is None or found.line is None or found.raw is None:
        return []
    k, all_lines = found.line, [ln for _, lines in pages for ln in lines]
    for number, lines in pages:
        if k >= len(lines):
            k -= len(lines)
            continue
        page = dated.get(number)
        if page is None or k >= len(page.lines):
            return []
        box = date_box(page.lines[k], found.raw)
        if box is None:
            return []
        texts = page.reread([box])[0]
        return [CropReading(e, t, crop_date(t, found.date, all_lines)) for e, t in zip(page.engines, texts)]
    return []


def check_exam_date(found: exam_facts.DateFinding, pages: Sequence[tuple[int, list[str]]],
                    dated: dict[int, PageDates]) -> Flag | None:
    """The exam date read again on its crop (:func:`reread_exam_date`) and judged (:func:`judge`);
    an ambiguous date is under review already and is not read again."""
    if found.ambiguous:
        return None
    return judge(found, reread_exam_date(found, pages, dated))
