"""The exam date of an OCR'd page is read again on its own crop by every engine (bmdkit.report.datecheck).

Table values are voted between the two engines; the exam date is found in the page's text lines,
which the layout engine alone read. So the words the date was read from are read again, each engine
on its own crop, and a day another engine reads there puts the date under an AMBIGUOUS_DATE review
flag naming both readings; where every engine that reads a date there reads the same day, nothing is
added. The decision rule first, then generated report pages (English and Chinese, clean and
damaged) read by the real engines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from bmdkit.flags import FlagCode, Severity
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.report import datecheck, driver, exam_facts, ocr
from bmdkit.report.datecheck import CropReading
from bmdkit.report.lines import line_text
from bmdkit.report.pagefiles import load_pages
from bmdkit.report.reading import PageResult
from bmdkit.report.rereading import Budget
from bmdkit.report.tokens import Token
from bmdkit.samples import degrade
from bmdkit.samples.report_gen import render_report
from bmdkit.samples.truth import TruthGenerator

ENGINES = ["rapidocr", "tesseract"]

# --- where the date was read from, and the decision rule ------------------------------------------


def test_the_exam_date_keeps_the_line_it_was_read_from() -> None:
    lines = ["Patient: Doe", "Birth Date: 02/03/1950", "Scan Date: 14.05.2019  Operator: X"]
    found = exam_facts.find_exam_date(lines)
    assert (found.date, found.line, found.raw) == (dt.date(2019, 5, 14), 2, "14.05.2019")
    # a column title with the date on the line below it
    below = exam_facts.find_exam_date(["Name", "Measured Date   Age", "2019/05/14   67"])
    assert (below.date, below.line) == (dt.date(2019, 5, 14), 2)
    # no label: the only date the page prints
    alone = exam_facts.find_exam_date(["Lumbar spine", "Total 1.020", "2019年5月14日"])
    assert (alone.date, alone.line) == (dt.date(2019, 5, 14), 2)


def _found(text: str) -> exam_facts.DateFinding:
    return exam_facts.find_exam_date([f"Scan Date: {text}"])


def test_engines_reading_the_same_day_on_the_crop_confirm_the_date() -> None:
    found = _found("2019-05-14")
    assert datecheck.judge(found, [CropReading("rapidocr", "2019-05-14", dt.date(2019, 5, 14)),
                                   CropReading("tesseract", "Scan Date: 2019-05-14", dt.date(2019, 5, 14))]) is None


def test_an_engine_reading_another_day_on_the_crop_flags_the_date_for_review() -> None:
    found = _found("2019-08-14")
    flag = datecheck.judge(found, [CropReading("rapidocr", "2019-08-14", dt.date(2019, 8, 14)),
                                   CropReading("tesseract", "2019-05-14", dt.date(2019, 5, 14))])
    assert flag is not None and flag.code is FlagCode.AMBIGUOUS_DATE and flag.level is Severity.REVIEW
    assert flag.region is None
    assert "2019-08-14" in flag.message and "2019-05-14" in flag.message and "tesseract" in flag.message


def test_a_crop_no_engine_reads_a_date_on_adds_nothing() -> None:
    found = _found("2019-05-14")
    assert datecheck.judge(found, []) is None  # the time budget passed: nothing re-read
    assert datecheck.judge(found, [CropReading("rapidocr", "2019-O5-l4", None),
                                   CropReading("tesseract", "", None)]) is None


def test_a_crop_date_reads_with_the_pages_own_day_month_order() -> None:
    # the page's other slash date (12/25/1950: a part > 12) says month first: 05/04 is May 4 on the page
    lines = ["Birth Date: 12/25/1950", "Scan Date: 05/04/2019"]
    found = exam_facts.find_exam_date(lines)
    assert found.date == dt.date(2019, 5, 4) and not found.ambiguous
    assert datecheck.crop_date("05/04/2019", found.date, lines) == dt.date(2019, 5, 4)
    assert datecheck.crop_date("Scan Date: 06/04/2019", found.date, lines) == dt.date(2019, 6, 4)
    # the same day printed in another style reads as the same day
    assert datecheck.crop_date("2019年5月4日", found.date, lines) == dt.date(2019, 5, 4)
    assert datecheck.crop_date("05/0A/2019", found.date, lines) is None


# --- generated pages read by the real engines ---------------------------------------------------------

#: (seed, layout, language, damage): ISO, day-month-name and Chinese dates; clean, scanned, photographed
PAGES = [(7, "hologic", "en", "clean"), (8, "ge_lunar", "en", "scan"), (9, "chinese", "zh", "photo"),
         (11, "norland", "zh", "scan")]


@dataclasses.dataclass
class ReadPage:
    truth_date: dt.date
    number: int
    lines: list[str]
    dated: dict[int, datecheck.PageDates]


def _render(param: tuple[int, str, str, str], out: Path) -> tuple[dt.date, Path]:
    """A report_gen page, rendered and damaged as the bench's dev pages are: (printed exam date, file)."""
    if not set(ENGINES) <= set(ocr.available_engines()):
        pytest.skip("both OCR engines are needed")
    seed, layout, lang, damage = param
    truth = TruthGenerator(seed).exam()
    img = render_report(truth, layout, lang, dpi=200)
    if damage != "clean":
        img = getattr(degrade, damage)(img, np.random.default_rng(seed))
    path = out / f"page-{layout}-{lang}-{damage}.png"
    img.convert("RGB").save(path)
    return dt.date.fromisoformat(truth.exam_date), path


@pytest.fixture(scope="module", params=PAGES, ids=lambda p: f"{p[1]}-{p[2]}-{p[3]}")
def page(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ReadPage:
    """A generated page read by driver.read_page, its OCR lines and re-reader kept as read_report keeps them."""
    date, path = _render(request.param, tmp_path_factory.mktemp("date"))
    (pg,) = load_pages(path, DEFAULT_OPTIONS, None, "png")
    dated: dict[int, datecheck.PageDates] = {}
    res = driver.read_page(pg, ENGINES, DEFAULT_OPTIONS, Budget(), dated)
    return ReadPage(date, pg.number, res.lines, dated)


def test_a_date_the_engines_read_alike_on_its_crop_is_confirmed_without_a_flag(page: ReadPage) -> None:
    found = exam_facts.find_exam_date(page.lines)
    assert found.date == page.truth_date and found.line is not None
    readings = datecheck.reread_exam_date(found, [(page.number, page.lines)], page.dated)
    assert {r.engine for r in readings} == set(ENGINES)
    read = [r.date for r in readings if r.date is not None]
    assert read and set(read) == {page.truth_date}, readings
    assert datecheck.check_exam_date(found, [(page.number, page.lines)], page.dated) is None


def _misread(page: ReadPage, found: exam_facts.DateFinding) -> tuple[list[str], dict[int, datecheck.PageDates]]:
    """The page as if its layout engine had misread the exam date's year by one digit (the image unchanged)."""
    assert found.line is not None and found.date is not None
    year = str(found.date.year)
    wrong = year[:3] + str((int(year[3]) + 3) % 10)
    pd = page.dated[page.number]
    tokens = list(pd.lines[found.line])
    k = next(i for i, t in enumerate(tokens) if year in t.text)
    tokens[k] = Token(tokens[k].text.replace(year, wrong, 1), tokens[k].box, tokens[k].conf, tokens[k].engine)
    lines = list(pd.lines)
    lines[found.line] = tokens
    return [line_text(ln) for ln in lines], {page.number: dataclasses.replace(pd, lines=lines)}


def test_a_date_the_page_reading_misread_is_flagged_by_the_engines_reading_its_crop(page: ReadPage) -> None:
    texts, dated = _misread(page, exam_facts.find_exam_date(page.lines))
    found = exam_facts.find_exam_date(texts)
    assert found.date is not None and found.date != page.truth_date  # the wrong date the page reading gives
    flag = datecheck.check_exam_date(found, [(page.number, texts)], dated)
    assert flag is not None and flag.code is FlagCode.AMBIGUOUS_DATE and flag.level is Severity.REVIEW
    assert found.date.isoformat() in flag.message and page.truth_date.isoformat() in flag.message


def test_the_reader_keeps_a_date_as_read_and_flags_it_only_where_an_engine_reads_another_day(
        page: ReadPage) -> None:
    results = [PageResult(page=page.number, lines=page.lines)]
    info = driver._exam_info(results, "\n".join(page.lines), page.dated)
    assert info.date == page.truth_date
    assert not [f for f in info.flags if f.code in (FlagCode.AMBIGUOUS_DATE, FlagCode.NO_EXAM_DATE)]
    texts, dated = _misread(page, exam_facts.find_exam_date(page.lines))
    info = driver._exam_info([PageResult(page=page.number, lines=texts)], "\n".join(texts), dated)
    assert info.date == exam_facts.find_exam_date(texts).date != page.truth_date  # kept as read, not changed
    (flag,) = [f for f in info.flags if f.code is FlagCode.AMBIGUOUS_DATE]
    assert flag.level is Severity.REVIEW and page.truth_date.isoformat() in flag.message
