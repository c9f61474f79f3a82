"""read_report: a printed DXA report (image, PDF, DICOM page) into an Exam.

The driver of the report stages (bmdkit/report/README.md lists them in
order). For each page: words come from the PDF text layer when there is one
(exact, no OCR), otherwise from OCR of the prepared page
(:mod:`~bmdkit.report.pageimage`); the tables are found
(:mod:`~bmdkit.report.layout`), their cells read and voted between the
engines and repaired (:mod:`~bmdkit.report.reading`,
:mod:`~bmdkit.report.repairs`). The rows of all pages become regions
(:mod:`~bmdkit.report.regions`), the values are checked against each other
(:mod:`~bmdkit.report.crosscheck`), and the exam date, vendor, model and
patient are read from the page text.

Every value keeps its confidence, engines, raw text and box; flags name the
region, side and measure they are about and say in plain words what to check
on the page (:mod:`~bmdkit.report.valueflags`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bmdkit.errors import NoReader, NoResults, NotDXA, ResourceLimit
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Source, Vendor, scan_types_of
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.payload import PagePayload
from bmdkit.report import (
    crosscheck,
    datecheck,
    exam_facts,
    labels,
    ocr,
    patient,
    preprocess,
    prose,
    repairs,
    scope,
    sentences,
    settings,
)
from bmdkit.report.datelabels import restore_date_labels
from bmdkit.report.layout import PageLayout, find_tables
from bmdkit.report.lines import line_text
from bmdkit.report.pagefiles import Page, load_pages
from bmdkit.report.pageimage import read_image_page
from bmdkit.report.reading import (
    PageResult,
    fill_from_other_engine,
    low_confidence_flag,
    mark_unprinted,
    read_table,
    table_flags,
)
from bmdkit.report.regions import regions_from
from bmdkit.report.rereading import Budget, PageRereader
from bmdkit.report.tokens import Token
from bmdkit.report.valueflags import SignDispute, SignKey, scope_page_flags, settle_signs

log = logging.getLogger(__name__)

READER_NAME = "bmdkit.report"

#: words a PDF text layer must have before its lack of any DXA word is taken as "not a report"
_PLAIN_TEXT_WORDS = 20


def read_report(path: Path, source: Source, options: ReadOptions = DEFAULT_OPTIONS,
                payload: PagePayload | None = None) -> Exam:
    """Read a report page set into an :class:`Exam` (see module docstring)."""
    shown = source.path
    pages = load_pages(Path(path), options, payload, source.kind.value)
    engines = _engines(options)
    budget = Budget.for_options(options)
    results: list[PageResult] = []
    dated: dict[int, datecheck.PageDates] = {}
    for page in pages:
        try:
            results.append(read_page(page, engines, options, budget, dated))
        except (NoReader, ResourceLimit) as exc:
            raise type(exc)(exc.reason, shown) from None
    text = "\n".join(line for r in results for line in r.lines)
    disputes: dict[SignKey, SignDispute] = {}
    regions, flags = regions_from(results, disputes)
    for r in results:
        flags += r.flags
    flags = settle_signs(regions, flags, disputes)
    regions, restored = repairs.restore_signs(regions)
    flags += restored
    # results written as sentences, on the pages without a results table (all pages at once, so a
    # region stated on two pages is merged or its disagreement flagged); never sign-repaired
    said_lines = [ln for r in results for ln in r.sentence_lines]
    said = sentences.read_sentences(said_lines) if said_lines else sentences.SentenceReading()
    if said:
        regions, said_flags = sentences.combine(regions, said)
        flags += said_flags
    if not regions:
        if (other := scope.other_scan(text)) is not None:
            raise NoResults(f"a {other.replace('_', '-')} report: it holds no lumbar spine or hip results", shown)
        if said:
            raise NoResults("a DXA report whose sentences state no result that could be read", shown)
        if labels.is_dxa_text(text) >= 2:
            raise NoResults("a DXA report page, but no results table could be read", shown)
        raise NotDXA("no DXA report found on the page(s)", shown)
    flags += crosscheck.check_regions(regions)
    flags = scope_page_flags(results, regions, flags)
    info = _exam_info(results, text, dated)
    used = sorted({e for r in regions for s in r.sources.values() for e in s.engines})
    return Exam(
        source=source, vendor=info.vendor, scanner_model=exam_facts.find_model(text), exam_date=info.date,
        scan_types=scan_types_of(regions), regions=tuple(regions), flags=tuple(flags + info.flags),
        reader=f"{READER_NAME}({'+'.join(used) or 'none'})",
        patient=info.who.identity, institution=info.who.institution,
    )


def read_page(page: Page, engines: list[str], options: ReadOptions, budget: Budget | None = None,
              dated: dict[int, datecheck.PageDates] | None = None) -> PageResult:
    """One page through the stages: layout (text layer or OCR), cells read and repaired, page flags.
    An OCR page's token lines and re-reader are put in ``dated`` under its number (its exam date
    is read again on its crop: datecheck)."""
    try:
        return _read_page(page, engines, options, budget or Budget(), {} if dated is None else dated)
    except ocr.OCRTimeout as exc:
        raise ResourceLimit(f"page {page.number}: {exc}") from None


def _read_page(page: Page, engines: list[str], options: ReadOptions, budget: Budget,
               dated: dict[int, datecheck.PageDates]) -> PageResult:
    """See :func:`read_page` (OCR time-outs not yet turned into ResourceLimit)."""
    res = PageResult(page=page.number)
    if page.has_text_layer and _plain_text(page.words):
        # a real text layer with no DXA word at all (a letter, an invoice): no need to OCR it
        res.lines = [" ".join(t.text for t in page.words)]
        return res
    found = find_tables(page.words, guess=False) if page.has_text_layer else PageLayout([], [])
    if page.has_text_layer and not found.tables:
        # a text layer whose results are written as sentences: exact text, no OCR needed
        said = sentences.lines_from_words(found.lines, page=page.number)
        if sentences.read_sentences(said).regions:  # else the rendered page is read (a table in an image)
            res.lines, res.sentence_lines = [line_text(line) for line in found.lines], said
            return res
    image: np.ndarray | None = None
    to_page, rereader, words = np.eye(3), None, None
    if not found.tables:
        # no text layer, or one without a results table (e.g. a scanner's own OCR layer
        # over an image of the table): read the rendered page
        read = read_image_page(page, engines, options, budget)
        found, image, to_page, rereader = read.layout, read.image, read.to_page, read.rereader
        words = read.word_reader()
        res.flags += read.flags
        said = [] if found.tables else _prose_lines(found.lines, page.number, rereader, budget, to_page)
        if said:
            # a page of prose: its results are sentences, read by both engines; the second engine
            # is not asked to lay out tables, which it finds in prose (a false table is a wrong value)
            res.lines, res.sentence_lines = _text_lines(found.lines, words, dated, page.number), said
            return res
    tabs = found.tables
    mark_unprinted(tabs, image)
    if rereader is not None:
        tabs = fill_from_other_engine(tabs, rereader, page.number, res.flags)
    res.lines = _text_lines(found.lines, words, dated, page.number)
    res.flags += scope.drop_other_totals(tabs, " ".join(res.lines), page.number)
    tabs = [t for t in tabs if t.rows]
    if not tabs:
        res.sentence_lines = _sentence_lines(found.lines, page.number, to_page)
    for tab in tabs:
        res.flags += table_flags(tab, page.number)
        res.rows += read_table(tab, image, engines, page.number, to_page, rereader)
    if image is not None:
        res.low_conf = low_confidence_flag(res.rows, page.number, settings.SETTINGS.page_quality_min)
        if res.low_conf is not None:
            res.flags.append(res.low_conf)
    return res


def _text_lines(lines: list[list[Token]], rereader: PageRereader | None,
                dated: dict[int, datecheck.PageDates], page_no: int) -> list[str]:
    """An OCR page's text lines, a date's lost label read again beside it by ``rereader``
    (:meth:`OcrPage.word_reader`; datelabels); with a re-reader, the lines' words kept in
    ``dated`` for the exam date's second reading (datecheck)."""
    restored = restore_date_labels(lines, None if rereader is None else rereader.read_boxes)
    if rereader is not None:
        dated[page_no] = datecheck.PageDates(restored, rereader.read_boxes, rereader.box_engines)
    return [line_text(line) for line in restored]


def _prose_lines(lines: list[list[Token]], page_no: int, rereader: PageRereader | None, budget: Budget,
                 to_page: np.ndarray) -> list[sentences.TextLine]:
    """The lines of an OCR page with no results table whose text states results (else empty),
    with the second engine's lines of the same image beside the layout engine's, so that each
    value both engines read alike is confirmed (prose.ocr_sentence_lines)."""
    other = None
    if rereader is not None and {"tesseract", "rapidocr"} <= set(rereader.engines) and not budget.soft_passed():
        def other() -> list[Token]:
            return rereader.page_tokens("tesseract")
    return prose.ocr_sentence_lines(lines, page_no, other, lambda b: preprocess.map_box(to_page, b),
                                    reread=None if rereader is None else rereader.read_boxes)


def _sentence_lines(lines: list[list[Token]], page_no: int, to_page: np.ndarray) -> list[sentences.TextLine]:
    """A page's text lines for the sentence reader, boxes mapped back to the page as given."""
    out = sentences.lines_from_words(lines, page=page_no)
    return [ln if ln.box is None else dataclasses.replace(ln, box=preprocess.map_box(to_page, ln.box)) for ln in out]


def _plain_text(words: list[Token]) -> bool:
    """A real text layer with no DXA word at all."""
    return len(words) >= _PLAIN_TEXT_WORDS and labels.is_dxa_text(" ".join(t.text for t in words)) == 0


def _engines(options: ReadOptions) -> list[str]:
    """The enabled OCR engines that are installed, in the order asked."""
    wanted = [e for e in options.ocr_engines if e in ("tesseract", "rapidocr")]
    if not wanted:  # OCR off: the engines are not even imported (about 0.3 s in a new process)
        return []
    have = ocr.available_engines()
    return [e for e in wanted if e in have]


class _ExamInfo(NamedTuple):
    """What the page text says of the exam besides its values, and the flags about it."""

    date: dt.date | None
    vendor: Vendor
    who: patient.ReportIdentity
    flags: list[Flag]


def _exam_info(results: list[PageResult], text: str, dated: dict[int, datecheck.PageDates]) -> _ExamInfo:
    """Exam date, vendor and patient from the pages' text lines, flagging what is missing or unclear
    (an OCR page's exam date read again on its crop by every engine: datecheck)."""
    flags: list[Flag] = []
    found = exam_facts.find_exam_date([line for r in results for line in r.lines])
    flags += exam_facts.date_flags(found, "on the page")
    if found.date is not None and not found.ambiguous:
        doubt = datecheck.check_exam_date(found, [(r.page, r.lines) for r in results], dated)
        flags += [doubt] if doubt is not None else []
    vendor_key = exam_facts.find_vendor(text)
    vendor = Vendor(vendor_key) if vendor_key else Vendor.UNKNOWN
    if vendor is Vendor.UNKNOWN:
        flags.append(Flag(FlagCode.UNKNOWN_VENDOR, "scanner manufacturer not named on the page"))
    who = patient.read_pages([r.lines for r in results])
    if who.ids_disagree:  # identifiers stay out of the message
        flags.append(Flag(FlagCode.SOURCES_DISAGREE, "the report pages print different patient IDs"))
    return _ExamInfo(found.date, vendor, who, flags)
