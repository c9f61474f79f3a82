"""read_report: a printed DXA report (image, PDF, DICOM page) into an Exam.

For each page: words come from the PDF text layer when there is one (exact,
no OCR), otherwise from OCR of the prepared page (bmdkit.report.preprocess):
the layout engine (RapidOCR when enabled, else tesseract) reads the whole
page; tables are found from its tokens (bmdkit.report.table); each numeric
cell is re-read by the other engine and the readings vote
(bmdkit.report.vote); the values are checked against each other
(bmdkit.report.crosscheck). A page still tilted after preparation is turned
by the slope of its own words. Row labels the layout engine misread are
re-read on their crops by every engine, or taken from the nearest label
word and flagged (LABEL_UNCERTAIN). Boxes are reported in the pixels of the
page as given, through the preparation's homography.

Some misreadings are repaired from the page's own evidence, always flagged:
a disputed BMD, BMC or area cell takes the one reading of its own that makes
BMD = BMC/area hold; a score read without its decimal point and beyond any
plausible score gets the point back where its column prints it; a T-score
whose lost minus breaks its site's line gets the minus back
(crosscheck.restore_signs). A text layer's characters are never repaired.

Flags name the region, side and measure they are about and say in plain
words what to check on the page. A cell that is blank on the page, or holds
only a placeholder dash, is noted as not printed (information): only a cell
holding ink nothing could read is flagged (bmdkit.report.ink). One engine's
reading that the other could not read is unconfirmed (LOW_CONFIDENCE), not a
disagreement; engines that differ only in a score's sign are settled, as a
note, when the site's other rows fit only the sign kept
(crosscheck.confirm_signs). A cell one engine alone read, or whose readings
differ only in the sign, gets a closer look: the cell alone, enlarged, by
the other engine (vote.third_look); an exact match confirms a single
reading, and settles a sign where the site's rows fit it
(crosscheck.sign_fits). The page-wide "values read with low confidence"
flag is a note where every doubtful value of the page has a flag of its own.

Every value keeps its confidence, engines, raw text and box. Only the
regions asked for are kept (lumbar L1-L4 and spine total, femoral neck and
total hip, plus optional hip subregions) from whichever pages hold them.
"""

from __future__ import annotations

import functools
import logging
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bmdkit import reference
from bmdkit.errors import NoReader, NoResults, NotDXA, ResourceLimit
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import (
    VERTEBRAE,
    Exam,
    Flag,
    Location,
    Method,
    Region,
    RegionResult,
    ScanType,
    Side,
    Source,
    ValueSource,
    Vendor,
)
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.payload import PagePayload
from bmdkit.report import crosscheck, ink, labels, meta, ocr, patient, preprocess, table, vote, words
from bmdkit.report.numbers import parse_number
from bmdkit.report.pages import Page, load_pages
from bmdkit.report.pdftext import ENGINE as PDF_ENGINE

log = logging.getLogger(__name__)

READER_NAME = "bmdkit.report"
#: a page whose cell readings average below this is reported as PAGE_QUALITY (operating setting)
PAGE_QUALITY_MIN = 0.7


class _PageResult:
    def __init__(self) -> None:
        self.rows: list[tuple[table.Row, table.Table, dict[str, vote.Reading], int, np.ndarray]] = []
        self.lines: list[str] = []
        self.flags: list[Flag] = []
        #: the page-wide "values read with low confidence" flag, if raised (see _scope_page_flags)
        self.low_conf: Flag | None = None
        self.page = 0


def _engines(options: ReadOptions) -> list[str]:
    wanted = [e for e in options.ocr_engines if e in ("tesseract", "rapidocr")]
    have = ocr.available_engines()
    return [e for e in wanted if e in have]


@dataclass(frozen=True)
class _Budget:
    """When optional passes stop (``soft``) and when any OCR call must be done (``hard``), monotonic seconds."""

    soft: float | None = None
    hard: float | None = None

    @classmethod
    def for_options(cls, options: ReadOptions) -> _Budget:
        if options.timeout_s <= 0:
            return cls()
        now = time.monotonic()
        return cls(now + OPTIONAL_PASS_BUDGET * options.timeout_s, now + OCR_BUDGET * options.timeout_s)

    def soft_passed(self) -> bool:
        return self.soft is not None and time.monotonic() > self.soft

    def left(self) -> float | None:
        return None if self.hard is None else self.hard - time.monotonic()


def _ocr_tokens(img: np.ndarray, layout: str, options: ReadOptions, budget: _Budget) -> list[ocr.Token]:
    if layout == "rapidocr":
        return ocr.rapid_page(img)
    return ocr.tesseract_page(img, options.ocr_languages, timeout=budget.left())


_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def _relabeller(image: np.ndarray, engines: list[str], options: ReadOptions, budget: _Budget) -> table.Relabel:
    """Re-read row-label boxes on their own crops with every engine (see table._resolve_labels)."""

    def relabel(boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in boxes]
        if budget.soft_passed():
            return out
        crops = [vote.crop(image, b) for b in boxes]
        if "rapidocr" in engines:
            for k, (text, _) in enumerate(ocr.rapid_crops(crops)):
                out[k].append(text)
        if "tesseract" in engines:
            for k, (text, _) in enumerate(ocr.tesseract_crops(crops, languages=options.ocr_languages,
                                                              whitelist=None, joiner=" ")):
                out[k].append(_CJK_GAP.sub("", text))
        return out

    return relabel


#: residual line slope (dy/dx, about 0.3 degrees) above which a page is turned straight after OCR
RESIDUAL_SKEW_MIN = 0.005


def _straighten(image: np.ndarray, tokens: list[ocr.Token],
                to_page: np.ndarray) -> tuple[np.ndarray, list[ocr.Token], np.ndarray]:
    """Turn the page and its words by the slope the words still lie at (see table.residual_skew).

    Page deskewing judges ink profiles, which charts and photos' keystone
    mislead; the words' own lines are the better witness. The words move with
    the page, so no second page OCR is needed and cell crops stay upright.
    ``to_page`` (turned image -> page image) is updated to match.
    """
    slope = table.residual_skew(table.split_tokens(tokens))
    if abs(slope) < RESIDUAL_SKEW_MIN:
        return image, tokens, to_page
    angle = float(np.degrees(np.arctan(slope)))
    turned, boxes = preprocess.rotate_with_boxes(image, angle, [t.box for t in tokens])
    back = to_page @ np.linalg.inv(preprocess.rotation_matrix(image.shape, angle))
    return turned, [ocr.Token(t.text, b, t.conf, t.engine) for t, b in zip(tokens, boxes)], back


def _row_key(r: table.Row, t: table.Table) -> tuple[object, ...]:
    return (r.region, r.side or t.heading_side, r.levels)


def _missing_cells(tabs: list[table.Table]) -> int:
    n = 0
    for t in tabs:
        have = {k for k, _, _ in t.columns}
        for r in t.rows:
            if r.levels or (r.region is not None and r.region.in_contract):
                n += sum(1 for m in ("bmd", "t_score") if m in have and m not in r.cells and m not in r.unprinted)
    return n


def _mark_unprinted(tabs: list[table.Table], image: np.ndarray | None) -> None:
    """Note, for each row, the columns of its table it has no word in that hold nothing on the
    page (``Row.unprinted``): blank or a placeholder dash. A text layer's words are the page's
    own, so a missing word there is a blank cell; on an image the cell's ink decides
    (bmdkit.report.ink), and ink that was not read is left out (it stays "not read")."""
    for t in tabs:
        for r in t.rows:
            for m, x0, x1 in t.columns:
                if m not in table.DATA_MEASURES or m in r.cells:
                    continue
                if image is None:
                    r.unprinted[m] = ink.BLANK
                    continue
                toks = [tok for c in r.cells.values() for tok in c.tokens]
                if not toks:
                    continue
                xs = [(tok.box[0], tok.box[2]) for o in t.rows if m in o.cells for tok in o.cells[m].tokens]
                a = min([x0, *(x for x, _ in xs)])
                b = max([x1, *(x for _, x in xs)])
                band = (min(tok.box[1] for tok in toks), max(tok.box[3] for tok in toks))
                height = statistics.median(max(tok.height, 1) for tok in toks)
                got = ink.classify(image, band, (int(a), int(b)), [tok.box for tok in toks], height)
                if got != ink.INK:
                    r.unprinted[m] = got


def _fill_from_other_engine(tabs: list[table.Table], image: np.ndarray, engines: list[str],
                            options: ReadOptions, budget: _Budget, page_no: int,
                            flags: list[Flag]) -> list[table.Table]:
    """Where the layout engine's table lacks cells (or no table was found), lay out
    the page with the other engine too and take the cells it found.

    The cells taken keep that engine's reading; the vote then has the first
    engine re-read them, so agreement is still required. An optional pass: past
    the time budget it is skipped (with a note), so the file ends with its
    reason instead of running into the batch's time limit.
    """
    if "tesseract" not in engines or "rapidocr" not in engines:
        return tabs
    if tabs and _missing_cells(tabs) == 0:
        return tabs
    skipped = Flag(FlagCode.PAGE_QUALITY, f"page {page_no}: the second engine's reading of the page layout "
                   "was not done (time budget)", severity=Severity.INFO)
    if budget.soft_passed():
        flags.append(skipped)
        return tabs
    try:
        other, _ = table.find_tables(ocr.tesseract_page(image, options.ocr_languages, timeout=budget.left()),
                                     _relabeller(image, engines, options, budget))
    except ocr.OCRTimeout:
        flags.append(skipped)
        return tabs
    if not tabs:
        return other
    found = {_row_key(r, t): r for t in other for r in t.rows}
    for t in tabs:
        for r in t.rows:
            alt = found.get(_row_key(r, t))
            if alt is None:
                continue
            for m, c in alt.cells.items():
                if m not in r.cells:
                    r.cells[m] = c
    return tabs


def _column_decimals(tab: table.Table) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for m in table.DATA_MEASURES:
        decs = [p.decimals for r in tab.rows if m in r.cells
                for p in [parse_number(r.cells[m].text)] if p is not None and p.value is not None]
        # a tie goes to more decimals: OCR loses decimal points, it does not invent them
        out[m] = max(Counter(decs).items(), key=lambda kv: (kv[1], kv[0]))[0] if decs else None
    return out


#: measures that cannot be negative (a minus read on one is a misread)
_NEVER_NEGATIVE = ("bmd", "bmc", "area")

#: measures whose printed decimal point OCR may lose ('-11' for -1.1)
_SCORES = ("t_score", "z_score")


@functools.cache
def _score_bound(measure: str) -> float | None:
    """The largest plausible |T| or |Z| (reference_data/plausible_ranges.csv, region 'any')."""
    for row in reference.table("plausible_ranges"):
        if row.get("region") == "any" and row.get("measure") == measure:
            return max(abs(float(row["low"])), abs(float(row["high"])))
    return None


def _restore_decimal(rd: vote.Reading, decimals: int | None, measure: str) -> None:
    """A score read without its decimal point ('-11' in a column printed to one
    decimal) and beyond any plausible score gets the point back where the column
    prints it, with low confidence and a flag; a plausible one is left alone."""
    bound = _score_bound(measure)
    if rd.value is None or not decimals or bound is None or abs(rd.value) <= bound:
        return
    p = parse_number(rd.raw)
    fixed = rd.value / 10 ** decimals
    if p is None or p.decimals != 0 or abs(fixed) > bound:
        return
    rd.value, rd.disagreement, rd.conf = round(fixed, decimals), True, min(rd.conf, 0.5)
    rd.repair = f"decimal point restored: {rd.value}"


#: words a PDF text layer must have before its lack of any DXA word is taken as "not a report"
_PLAIN_TEXT_WORDS = 20


#: share of the per-file time limit after which optional passes (other page orientations,
#: the second engine's layout) are not started, so a page with no table fails with its
#: reason before the batch's timeout
OPTIONAL_PASS_BUDGET = 0.4

#: share of the per-file time limit by which every whole-page OCR call must be done
OCR_BUDGET = 0.8


def _read_page(page: Page, engines: list[str], options: ReadOptions,
               budget: _Budget | None = None) -> _PageResult:
    budget = budget or _Budget()
    try:
        return _read_page_in_time(page, engines, options, budget)
    except ocr.OCRTimeout as exc:
        raise ResourceLimit(f"page {page.number}: {exc}") from None


def _read_page_in_time(page: Page, engines: list[str], options: ReadOptions, budget: _Budget) -> _PageResult:
    res = _PageResult()
    res.page = page.number
    if page.has_text_layer and len(page.words) >= _PLAIN_TEXT_WORDS and \
            labels.is_dxa_text(" ".join(t.text for t in page.words)) == 0:
        # a real text layer with no DXA word at all (a letter, an invoice): no need to OCR it
        res.lines = [" ".join(t.text for t in page.words)]
        return res
    found = table.find_tables(page.words, guess=False) if page.has_text_layer else ([], [])
    if found[0]:
        image, to_page, is_ocr = None, np.eye(3), False
    else:
        # no text layer, or one without a results table (e.g. a scanner's own OCR layer
        # over an image of the table): read the rendered page
        if not engines:
            raise NoReader("no OCR engine is available (install tesseract or rapidocr_onnxruntime)")
        prep = preprocess.prepare(page.image, max_pixels=options.max_pixels)
        layout = "rapidocr" if "rapidocr" in engines else engines[0]
        image, to_page, is_ocr = prep.image, prep.to_page, True
        tokens = _ocr_tokens(image, layout, options, budget)
        image, tokens, to_page = _straighten(image, tokens, to_page)
        found = table.find_tables(tokens, _relabeller(image, engines, options, budget))
        upright = labels.is_dxa_text(" ".join(t.text for t in tokens)) >= 2
        if not found[0] and not upright:
            # maybe upside down or sideways (DXA words read upright say it is not): let the recognizer judge
            for k in (2, 1, 3):
                t2 = None
                if not budget.soft_passed():
                    rot = np.ascontiguousarray(np.rot90(prep.image, k))
                    try:
                        t2 = _ocr_tokens(rot, layout, options, budget)
                    except ocr.OCRTimeout:
                        pass
                if t2 is None:
                    res.flags.append(Flag(FlagCode.PAGE_QUALITY, f"page {page.number}: other orientations "
                                          "not tried (time budget)", severity=Severity.INFO))
                    break
                rot_back = prep.to_page @ np.linalg.inv(preprocess.rot90_matrix(prep.image.shape, k))
                rot, t2, rot_back = _straighten(rot, t2, rot_back)
                rotated = table.find_tables(t2, _relabeller(rot, engines, options, budget))
                if rotated[0]:
                    image, found, to_page = rot, rotated, rot_back
                    res.flags.append(Flag(FlagCode.PAGE_QUALITY, f"page {page.number} was rotated {90 * k} degrees",
                                          severity=Severity.INFO))
                    break
        if prep.sharpness < 50:
            res.flags.append(Flag(FlagCode.PAGE_QUALITY, f"page {page.number} is blurred"))
    tabs, lines = found
    _mark_unprinted(tabs, image if is_ocr else None)
    if is_ocr and image is not None:
        tabs = _fill_from_other_engine(tabs, image, engines, options, budget, page.number, res.flags)
    res.lines = [table.line_text(line) for line in lines]
    for tab in tabs:
        have = {k for k, _, _ in tab.columns}
        if tab.unplaced and not {"bmd", "t_score"} <= have:
            res.flags.append(Flag(FlagCode.UNPLACED_DATA,
                                  f"page {page.number}: {tab.unplaced} numbers in the table fit no recognized column"))
        for how in ("reread", "approximate"):
            named = sorted(k for k, h in tab.reread_columns.items() if h == how)
            if named:
                res.flags.append(Flag(FlagCode.LABEL_UNCERTAIN, f"page {page.number}: header of column(s) "
                                      f"{', '.join(named)} " + ("read on a second look" if how == "reread" else
                                                                "taken from the nearest header word"),
                                      severity=Severity.INFO if how == "reread" else Severity.REVIEW))
        if tab.unread_rows:  # the label text stays out of the message: page text may hold anything
            n = len(tab.unread_rows)
            res.flags.append(Flag(FlagCode.UNPLACED_DATA, f"page {page.number}: {n} table row(s) with numbers "
                                  "under a label that names no region: their values were not read"))
        decs = _column_decimals(tab)
        cells: list[tuple[table.Row, str, table.Cell]] = [(r, m, c) for r in tab.rows for m, c in r.cells.items()]
        if is_ocr and image is not None:
            readings = vote.read_cells(image, [c for _, _, c in cells], engines,
                                       {i: decs[m] for i, (_, m, _) in enumerate(cells)})
        else:
            readings = []
            for _, _, c in cells:
                p = parse_number(c.text)
                readings.append(vote.Reading(p.value if p else None, bool(p and p.blank), 1.0 if p else 0.0,
                                             c.text, (PDF_ENGINE,)))
        for (_, m, _), rd in zip(cells, readings):
            if m in _NEVER_NEGATIVE and rd.value is not None and rd.value < 0:
                # a dash left of a BMD is a rule or a speck, never a sign: keep the digits, flag the cell
                rd.value, rd.disagreement = -rd.value, True
            if is_ocr and m in _SCORES:
                _restore_decimal(rd, decs.get(m), m)
        per_row: dict[int, dict[str, vote.Reading]] = {}
        cellbox: dict[int, dict[str, table.Cell]] = {}
        for (r, m, c), rd in zip(cells, readings):
            per_row.setdefault(id(r), {})[m] = rd
            cellbox.setdefault(id(r), {})[m] = c
        for r in tab.rows:
            if is_ocr and r.side is not Side.MEAN:
                vote.settle_by_ratio(per_row.get(id(r), {}))
            res.rows.append((r, tab, per_row.get(id(r), {}), page.number, to_page))
    if is_ocr:
        confs = [rd.conf for _, _, rds, _, _ in res.rows for rd in rds.values()]
        if confs and statistics.fmean(confs) < PAGE_QUALITY_MIN:
            res.low_conf = Flag(FlagCode.PAGE_QUALITY, f"page {page.number}: values read with low confidence")
            res.flags.append(res.low_conf)
    return res


def _regions_from(results: list[_PageResult],
                  sign_disputes: dict[tuple[Region, Side | None, str], tuple[Flag, str]] | None = None
                  ) -> tuple[list[RegionResult], list[Flag]]:
    out: dict[tuple[Region, Side | None], RegionResult] = {}
    flags: list[Flag] = []
    spine_combos: list[tuple[table.Row, table.Table, dict[str, vote.Reading], int, np.ndarray]] = []
    for res in results:
        for row, tab, rds, pno, to_page in res.rows:
            if row.levels and len(row.levels) > 1:
                spine_combos.append((row, tab, rds, pno, to_page))
                continue
            if row.levels and len(row.levels) == 1:
                region, side = row.levels[0], None
            elif row.region is Region.TOTAL_HIP and tab.is_spine and row.side is None:
                spine_combos.append((row, tab, rds, pno, to_page))
                continue
            elif row.region is not None and not row.region.is_spine:
                region, side = row.region, row.side or tab.heading_side
            else:
                if row.label and sum(rd.value is not None for rd in rds.values()) >= 2:
                    flags.append(Flag(FlagCode.UNPLACED_DATA, f"page {pno}: row {row.label!r} not placed"))
                continue
            rr = _result(region, side, row, rds, pno, to_page, None)
            if rr is None:
                continue
            if (region, side) in out:
                # first table wins (main table before trend tables); other values for the same
                # region and side mean the tables were told apart wrongly (a lost side heading)
                first = out[(region, side)]
                if rr.bmd is not None and first.bmd is not None and rr.bmd != first.bmd:
                    where = words.place(region, side)
                    flags.append(Flag(FlagCode.UNPLACED_DATA, f"Page {pno}: {where} is printed twice with "
                                      f"different values (BMD {first.bmd:g} and {rr.bmd:g}); the first was used: "
                                      "check which is right (and the sides of this region)", region=region.value))
                continue
            out[(region, side)] = rr
            flags += _value_flags(rr, rds, {k for k, _, _ in tab.columns}, row.unprinted, sign_disputes)
            flags += _label_flags(rr, row, tab, pno)
    # spine total: the combination over the vertebrae included
    if spine_combos:
        present = [r for r in VERTEBRAE if (r, None) in out]
        marked = {r for r in present if out[r, None].evaluable is False}
        included = tuple(r for r in present if r not in marked)
        choice = None
        for c in spine_combos:
            lv = c[0].levels or included
            if tuple(lv) == included:
                choice = c
                break
        if choice is None:
            choice = next((c for c in spine_combos if c[0].levels == VERTEBRAE), spine_combos[0])
        row, tab, rds, pno, to_page = choice
        levels_ = row.levels or included
        rr = _result(Region.SPINE_TOTAL, None, row, rds, pno, to_page, tuple(levels_))
        if rr is not None:
            out[(Region.SPINE_TOTAL, None)] = rr
            flags += _value_flags(rr, rds, {k for k, _, _ in tab.columns}, row.unprinted, sign_disputes)
            flags += _label_flags(rr, row, tab, pno)
            for v in VERTEBRAE:
                if (v, None) in out and v not in levels_ and out[v, None].evaluable is not False:
                    out[(v, None)] = out[v, None].replace(evaluable=False)
    flags += _unread_regions(out)
    return list(out.values()), flags


def _label_flags(rr: RegionResult, row: table.Row, tab: table.Table, pno: int) -> list[Flag]:
    """A row placed by a second reading of its label is noted; one placed by the nearest label
    word, or whose side is that of a misread heading, is flagged (its region and side only)."""
    where = words.place(rr.region, rr.side)
    if row.side is None and tab.heading_approx and rr.side is not None:
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: the values taken as {where} get their side from a "
                     "table heading that was misread or printed away from the table: check the side on the page",
                     region=rr.region.value, side=rr.side)]
    if row.label_read == "approximate":
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: a row label read as {row.label!r} was taken as "
                     f"{where}: check that this row is {where}",
                     region=rr.region.value, side=rr.side)]
    if row.label_read == "reread":
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: the row label of {where} was read on a second look",
                     region=rr.region.value, side=rr.side, severity=Severity.INFO)]
    return []


def _unread_regions(out: dict[tuple[Region, Side | None], RegionResult]) -> list[Flag]:
    """Regions the other rows imply but that were not read (never silently absent)."""
    flags: list[Flag] = []
    rows = [v for v in VERTEBRAE if (v, None) in out]
    tot = out.get((Region.SPINE_TOTAL, None))
    if rows and tot is None:
        flags.append(Flag(FlagCode.REGION_NOT_READ, "The vertebra rows were read but not the lumbar spine "
                          "total: enter it from the page", region=Region.SPINE_TOTAL.value))
    if rows and tot is not None and tot.vertebrae:
        for v in tot.vertebrae:
            if v not in rows:
                flags.append(Flag(FlagCode.REGION_NOT_READ, f"{v.value} is part of the printed spine total but "
                                  "its row could not be read: enter it from the page", region=v.value))
    sides = {s for (r, s) in out if not r.is_spine and s is not Side.MEAN}
    for side in sides:
        have = {r for (r, s) in out if s is side and not r.is_spine}
        if len(have) >= 2:
            for need in (Region.FEMORAL_NECK, Region.TOTAL_HIP):
                if need not in have:
                    where = words.place(need, side)
                    flags.append(Flag(FlagCode.REGION_NOT_READ, f"Other rows of this hip were read but not {where}: "
                                      "enter it from the page", region=need.value, side=side))
    return flags


def _result(region: Region, side: Side | None, row: table.Row, rds: dict[str, vote.Reading], pno: int,
            to_page: np.ndarray, vertebrae: tuple[Region, ...] | None) -> RegionResult | None:
    values: dict[str, float | None] = {}
    sources: dict[str, ValueSource] = {}
    for m, rd in rds.items():
        values[m] = rd.value
        box = None
        cell = row.cells.get(m)
        if cell is not None:
            box = _on_page(cell.box, to_page)
        sources[m] = ValueSource(confidence=rd.conf, location=Location(page=pno, box=box), raw_text=rd.raw,
                                 engines=rd.engines)
    if all(v is None for v in values.values()):
        return None
    confs = [s.confidence for m, s in sources.items() if s.confidence is not None and values.get(m) is not None]
    return RegionResult(
        region=region, side=side if not region.is_spine else None, method=Method.OCR,
        bmd=values.get("bmd"), bmc=values.get("bmc"), area=values.get("area"),
        t_score=values.get("t_score"), z_score=values.get("z_score"),
        evaluable=(not row.excluded) if region.is_vertebra else None,
        confidence=min(confs) if confs else None, label=row.label.strip() or None,
        vertebrae=vertebrae, location=Location(page=pno, box=_on_page(row.box, to_page)), sources=sources,
    )


def _on_page(box: tuple[int, int, int, int] | None, to_page: np.ndarray) -> tuple[int, int, int, int] | None:
    """A box in the page image as given (before any preparation)."""
    return None if box is None else preprocess.map_box(to_page, box)


def _value_flags(region: RegionResult, rds: dict[str, vote.Reading], columns: set[str],
                 unprinted: dict[str, str] | None = None,
                 sign_disputes: dict[tuple[Region, Side | None, str], tuple[Flag, str]] | None = None) -> list[Flag]:
    """Flags for one region's readings, each naming its region, side and measure, in plain words.

    Engines that read different numbers: ENGINE_DISAGREEMENT; one engine's reading
    that no other confirms, a repaired or unreadable cell, a low confidence:
    LOW_CONFIDENCE; a cell holding ink that nothing read: REGION_NOT_READ. A cell
    blank on the page or a placeholder dash is information (MISSING_VALUE), not
    a review item.
    """
    flags: list[Flag] = []
    unprinted = unprinted or {}
    where = words.place(region.region, region.side, region.label)
    code, side = region.region.value, region.side

    def flag(c: FlagCode, m: str, msg: str, severity: Severity | None = None) -> Flag:
        return Flag(c, msg[0].upper() + msg[1:], region=code, side=side, measure=m, severity=severity)

    for m, rd in rds.items():
        what = f"the {words.measure_word(m)} of {where}"
        read = rd.values_read
        repair = f" ({rd.repair})" if rd.repair else ""
        if rd.disagreement and len(read) >= 2:
            others = ", ".join(read[1:])
            flags.append(flag(FlagCode.ENGINE_DISAGREEMENT, m,
                              f"the two OCR engines read {what} differently: {read[0]} and {others}; "
                              f"{words.value_text(rd.value)} was kept{repair}: check it on the page"))
            if rd.sign_only and not rd.repair and m in _SCORES and sign_disputes is not None:
                sign_disputes[(region.region, side, m)] = (flags[-1], rd.third)
        elif rd.value is None and not rd.blank:
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"{what} could not be read "
                              f"(read as {rd.raw.strip()!r}): enter it from the page" if rd.raw.strip() else
                              f"{what} could not be read: enter it from the page"))
        elif rd.value is not None and rd.disagreement:
            dropped = " without its minus (it cannot be negative)" if m in _NEVER_NEGATIVE and "-" in rd.raw else ""
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"{what} was read as {words.value_text(rd.value)}"
                              f"{dropped}{repair}: check it on the page"))
        elif rd.value is not None and rd.single:
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"only one of the two OCR engines could read {what} "
                              f"({words.value_text(None, rd.raw)}): check it on the page"))
        elif rd.value is not None and rd.conf < vote.MIN_CONFIDENCE:
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"{what} was read as {words.value_text(None, rd.raw)} "
                              f"with low confidence ({rd.conf:.2f}): check it on the page"))
    if region.region.in_contract:
        for m in ("bmd", "t_score"):
            what = f"the {words.measure_word(m)} of {where}"
            if m not in rds and m in columns and m in unprinted:
                how = "is blank" if unprinted[m] == ink.BLANK else "holds only a dash"
                flags.append(flag(FlagCode.MISSING_VALUE, m, f"{what} is not printed (its cell {how})"))
            elif m not in rds and m in columns:
                flags.append(flag(FlagCode.REGION_NOT_READ, m, f"the table has a {words.measure_word(m)} column "
                                  f"and its cell for {where} holds print that could not be read: "
                                  "enter it from the page"))
            elif m not in rds:
                flags.append(flag(FlagCode.MISSING_VALUE, m, f"{what} is not printed (the table has no such column)"))
            elif rds[m].blank:
                flags.append(flag(FlagCode.MISSING_VALUE, m, f"{what} is not printed (a dash)"))
    return flags


def _settle_signs(regions: list[RegionResult], flags: list[Flag],
                  disputes: dict[tuple[Region, Side | None, str], tuple[Flag, str]]) -> list[Flag]:
    """Engines that differed only on a score's sign: the review flag becomes a note where the
    site's other rows show which sign is right (crosscheck.confirm_signs), or where a closer
    look at the cell alone by the other engine read the value kept (vote.third_look: two
    engines agree) and the site's rows fit it (crosscheck.sign_fits)."""
    if not disputes:
        return flags
    confirmed = crosscheck.confirm_signs(regions, set(disputes))
    seconded = {k for k, (_, third) in disputes.items()
                if third and k not in confirmed and crosscheck.sign_fits(regions, k)}
    if not confirmed and not seconded:
        return flags
    done = {id(disputes[k][0]): k for k in confirmed | seconded}
    out = []
    for f in flags:
        key = done.get(id(f))
        if key is None:
            out.append(f)
            continue
        r = next(r for r in regions if (r.region, r.side) == key[:2])
        what = f"the {words.measure_word(key[2])} of {words.place(r.region, r.side, r.label)}"
        if key in confirmed:
            msg = (f"The two OCR engines read {what} with different signs; the other rows of this "
                   f"site fit only {r.value(key[2]):g}, which was kept")
        else:
            msg = (f"The two OCR engines first read {what} with different signs; {disputes[key][1]} read "
                   f"the cell alone as {r.value(key[2]):g}, as kept, and the other rows of this site fit it")
        out.append(Flag(f.code, msg, region=f.region, side=f.side, measure=f.measure, severity=Severity.INFO))
    return out


def _scope_page_flags(results: list[_PageResult], regions: list[RegionResult], flags: list[Flag]) -> list[Flag]:
    """A page-wide "values read with low confidence" flag adds nothing where every doubtful
    value of the page (a confidence below vote.MIN_CONFIDENCE) already carries a flag of its
    own (a review flag, or a note saying how its doubt was settled): it becomes a note then.
    Where one doubtful value has no flag of its own, the page-wide flag stays for review."""
    out = list(flags)
    for res in results:
        pno = res.page
        if res.low_conf is None:
            continue
        own = [f for f in flags if f.region is not None and f.measure is not None]
        doubtful = [(r, m) for r in regions for m, src in r.sources.items()
                    if src.location is not None and src.location.page == pno
                    and (src.confidence is None or src.confidence < vote.MIN_CONFIDENCE)]
        if all(any(f.covers(r.region.value, r.side, m) for f in own) for r, m in doubtful):
            k = next(i for i, f in enumerate(out) if f is res.low_conf)
            out[k] = Flag(FlagCode.PAGE_QUALITY, f"{res.low_conf.message}; each doubtful value is flagged on its own",
                          severity=Severity.INFO)
    return out


def _scan_types(regions: list[RegionResult]) -> tuple[ScanType, ...]:
    out: list[ScanType] = []
    if any(r.region.is_spine for r in regions):
        out.append(ScanType.SPINE)
    sides = {r.side for r in regions if not r.region.is_spine}
    if Side.LEFT in sides and Side.RIGHT in sides:
        out.append(ScanType.HIP_DUAL)
    elif Side.LEFT in sides:
        out.append(ScanType.HIP_LEFT)
    elif Side.RIGHT in sides:
        out.append(ScanType.HIP_RIGHT)
    return tuple(out)


def read_report(path: Path, source: Source, options: ReadOptions = DEFAULT_OPTIONS,
                payload: PagePayload | None = None) -> Exam:
    """Read a report page set into an :class:`Exam` (see module docstring)."""
    shown = source.path
    pages = load_pages(Path(path), options, payload, source.kind.value)
    engines = _engines(options)
    budget = _Budget.for_options(options)
    results: list[_PageResult] = []
    for page in pages:
        try:
            results.append(_read_page(page, engines, options, budget))
        except (NoReader, ResourceLimit) as exc:
            raise type(exc)(exc.reason, shown) from None
    text = "\n".join(line for r in results for line in r.lines)
    disputes: dict[tuple[Region, Side | None, str], tuple[Flag, str]] = {}
    regions, flags = _regions_from(results, disputes)
    if not regions:
        if labels.is_dxa_text(text) >= 2:
            raise NoResults("a DXA report page, but no results table could be read", shown)
        raise NotDXA("no DXA report found on the page(s)", shown)
    for r in results:
        flags += r.flags
    flags = _settle_signs(regions, flags, disputes)
    regions, restored = crosscheck.restore_signs(regions)
    flags += restored
    flags += crosscheck.check_regions(regions)
    flags = _scope_page_flags(results, regions, flags)
    lines = [line for r in results for line in r.lines]
    found = meta.find_exam_date(lines)
    if found.date is None:
        flags.append(Flag(FlagCode.NO_EXAM_DATE, "no exam date found on the page"))
    elif found.ambiguous:
        alts = ", ".join(d.isoformat() for d in found.alternatives)
        flags.append(Flag(FlagCode.AMBIGUOUS_DATE, f"exam date {found.raw!r} reads as {alts}"))
    vendor_key = meta.find_vendor(text)
    vendor = Vendor(vendor_key) if vendor_key else Vendor.UNKNOWN
    if vendor is Vendor.UNKNOWN:
        flags.append(Flag(FlagCode.UNKNOWN_VENDOR, "scanner manufacturer not named on the page"))
    who = patient.read_pages([r.lines for r in results])
    if who.ids_disagree:  # identifiers stay out of the message
        flags.append(Flag(FlagCode.SOURCES_DISAGREE, "the report pages print different patient IDs"))
    used = sorted({e for r in regions for s in r.sources.values() for e in s.engines})
    return Exam(
        source=source, vendor=vendor, scanner_model=meta.find_model(text), exam_date=found.date,
        scan_types=_scan_types(regions), regions=tuple(regions), flags=tuple(flags),
        reader=f"{READER_NAME}({'+'.join(used) or 'none'})",
        patient=who.identity, institution=who.institution,
    )
