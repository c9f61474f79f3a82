"""Stage 5: every table cell's value, read and voted between the engines, and what a page yields.

On an OCR page the layout engine's reading of each cell is re-read by the
other engine on the cell's crop and the readings vote (:mod:`bmdkit.report.vote`);
a text layer's words are taken as printed. Where the layout engine's table
lacks cells the other engine lays out the page too (:func:`fill_from_other_engine`).
Cells with no word are told blank, a dash, or unread ink (:func:`mark_unprinted`).
The repairs (:mod:`bmdkit.report.repairs`) run on the readings here; a BMD
outside its row's plausible range, and a disputed cell whose rival readings are
malformed or impossible, are read again alone on their crops by both engines
(:func:`bmdkit.report.rereading.cells_alone`), within the page's time budget
(the page's :class:`PageRereader`, handed to :func:`read_table`). A negative
score whose sign the engines disputed is marked where the cell's pixels show
the minus (:func:`bmdkit.report.cellcrop.leading_minus`), and a Mean row's
disputed BMD, BMC or area is settled where it is the mean of its sides
(:func:`bmdkit.report.repairs.confirm_by_mean`), and a spine combination's or vertebra's
BMC or area where the combination is the sum of its vertebrae (:func:`bmdkit.report.sums.confirm_by_sum`).
Cells are cut to their own line of print (:func:`bmdkit.report.cellcrop.value_crop`). A page's result is a
:class:`PageResult` of :class:`PageRow` s.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Flag, Side
from bmdkit.report import cellcrop, ink, ocr, percents, repairs, rereading, sums, vote
from bmdkit.report.cells import DATA_MEASURES, Cell, Row, Table
from bmdkit.report.layout import find_tables
from bmdkit.report.numbers import parse_number
from bmdkit.report.pdftext import ENGINE as PDF_ENGINE
from bmdkit.report.percents import PercentWitness
from bmdkit.report.rereading import Budget, PageRereader
from bmdkit.report.sentences import TextLine


@dataclass
class PageRow:
    """A table row as read: its readings by measure, its table, page number and the map of
    the image it was read on back to the page as given, and the percent cells read to witness
    a disputed score's sign (by score: percents.witnesses)."""

    row: Row
    table: Table
    readings: dict[str, vote.Reading]
    page: int
    to_page: np.ndarray
    percents: dict[str, PercentWitness] = field(default_factory=dict)


@dataclass
class PageResult:
    """What one page yields: its rows, its text lines, its flags."""

    page: int = 0
    rows: list[PageRow] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    #: the page-wide "values read with low confidence" flag, if raised (see valueflags.scope_page_flags)
    low_conf: Flag | None = None
    #: the page's text lines, for results written as sentences (only on a page without a results table)
    sentence_lines: list[TextLine] = field(default_factory=list)


class _TableCell(NamedTuple):
    """A cell with its row and measure."""

    row: Row
    measure: str
    cell: Cell


def _row_key(r: Row, t: Table) -> tuple[object, ...]:
    """A row's place on the page: region, side (or the table's heading side), levels."""
    return (r.region, r.side or t.heading_side, r.levels)


def _missing_cells(tabs: list[Table]) -> int:
    """BMD and T-score cells of the contract's rows that the tables lack (and that are not blank)."""
    n = 0
    for t in tabs:
        have = {k for k, _, _ in t.columns}
        for r in t.rows:
            if r.levels or (r.region is not None and r.region.in_contract):
                n += sum(1 for m in ("bmd", "t_score") if m in have and m not in r.cells and m not in r.unprinted)
    return n


def mark_unprinted(tabs: list[Table], image: np.ndarray | None) -> None:
    """Note, for each row, the columns of its table it has no word in that hold nothing on the
    page (``Row.unprinted``): blank or a placeholder dash. A text layer's words are the page's
    own, so a missing word there is a blank cell; on an image the cell's ink decides
    (bmdkit.report.ink), and ink that was not read is left out (it stays "not read")."""
    for t in tabs:
        for r in t.rows:
            for m, x0, x1 in t.columns:
                if m not in DATA_MEASURES or m in r.cells:
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


def fill_from_other_engine(tabs: list[Table], rereader: PageRereader, page_no: int,
                           flags: list[Flag]) -> list[Table]:
    """Where the layout engine's table lacks cells (or no table was found), lay out
    the page with the other engine too and take the cells it found.

    The cells taken keep that engine's reading; the vote then has the first
    engine re-read them, so agreement is still required. An optional pass: past
    the time budget it is skipped (with a note), so the file ends with its
    reason instead of running into the batch's time limit.
    """
    engines, budget = rereader.engines, rereader.budget
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
        other = find_tables(rereader.page_tokens("tesseract"), rereader).tables
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


def column_decimals(tab: Table) -> dict[str, int | None]:
    """The decimals each column of the table is printed to (the most common; None: no number)."""
    out: dict[str, int | None] = {}
    for m in DATA_MEASURES:
        decs = [p.decimals for r in tab.rows if m in r.cells
                for p in [parse_number(r.cells[m].text)] if p is not None and p.value is not None]
        # a tie goes to more decimals: OCR loses decimal points, it does not invent them
        out[m] = max(Counter(decs).items(), key=lambda kv: (kv[1], kv[0]))[0] if decs else None
    return out


def table_flags(tab: Table, page_no: int) -> list[Flag]:
    """What was not placed or only guessed in a table: numbers in no column, column headers read
    again or taken from the nearest word, rows whose label names no region."""
    flags: list[Flag] = []
    if tab.unplaced and not {"bmd", "t_score"} <= tab.measures:
        flags.append(Flag(FlagCode.UNPLACED_DATA,
                          f"page {page_no}: {tab.unplaced} numbers in the table fit no recognized column"))
    for how in ("reread", "approximate"):
        named = sorted(k for k, h in tab.reread_columns.items() if h == how)
        if named:  # a note: each value in a column named by the nearest word is flagged on its own
            flags.append(Flag(FlagCode.LABEL_UNCERTAIN, f"page {page_no}: header of column(s) "
                              f"{', '.join(named)} " + ("read on a second look" if how == "reread" else
                                                        "taken from the nearest header word; each value "
                                                        "in it is flagged on its own"),
                              severity=Severity.INFO))
    if tab.unread_rows:  # the label text stays out of the message: page text may hold anything
        n = len(tab.unread_rows)
        flags.append(Flag(FlagCode.UNPLACED_DATA, f"page {page_no}: {n} table row(s) with numbers "
                          "under a label that names no region: their values were not read ("
                          + "; ".join(tab.unread_where) + ")"))
    return flags


def read_table(tab: Table, image: np.ndarray | None, engines: list[str], page_no: int,
               to_page: np.ndarray, rereader: PageRereader | None = None) -> list[PageRow]:
    """Every cell of a table read (voted between ``engines`` on ``image``; as printed on a text
    layer, ``image`` None) and repaired, as rows. ``rereader``: the page's re-reading service,
    whose time budget the optional closer looks keep to (none past its soft limit: the values
    they would have settled stay flagged); None: no limit."""
    decs = column_decimals(tab)
    cells = [_TableCell(r, m, c) for r in tab.rows for m, c in r.cells.items()]
    budget = rereader.budget if rereader is not None else None
    if image is not None:
        readings = vote.read_cells(image, [tc.cell for tc in cells], engines,
                                   {i: decs[tc.measure] for i, tc in enumerate(cells)},
                                   budget.soft_passed if budget is not None else None)
    else:
        readings = [_as_printed(tc.cell) for tc in cells]
    for tc, rd in zip(cells, readings):
        repairs.minus_never_on_bmd(rd, tc.measure)
        if image is not None and tc.measure in repairs.SCORES:
            repairs.restore_decimal(rd, decs.get(tc.measure), tc.measure)
            repairs.impossible_never_kept(rd, decs.get(tc.measure), tc.measure)
    if image is not None:
        _recheck_implausible(tab, cells, readings, image, engines, decs.get("bmd"), budget)
        _closer_look_at_disputes(tab, cells, readings, image, engines, decs, budget)
        _minus_in_print(cells, readings, image)
    per_row: dict[int, dict[str, vote.Reading]] = {}
    for tc, rd in zip(cells, readings):
        per_row.setdefault(id(tc.row), {})[tc.measure] = rd
    rows: list[PageRow] = []
    for r in tab.rows:
        if image is not None and r.side is not Side.MEAN and repairs.settle_by_ratio(per_row.get(id(r), {})) is None:
            repairs.confirm_by_ratio(per_row.get(id(r), {}))
        rows.append(PageRow(r, tab, per_row.get(id(r), {}), page_no, to_page))
    if image is not None:
        _confirm_means(tab, per_row)
        if _confirm_sums(tab, per_row):
            for r in tab.rows:  # a BMC or area the sums settled can witness its row's BMD
                if r.side is not Side.MEAN:
                    repairs.confirm_by_ratio(per_row.get(id(r), {}))
        for pr, seen in zip(rows, percents.witnesses(tab, [(pr.row, pr.readings) for pr in rows], image, engines,
                                                     budget), strict=True):
            pr.percents = seen  # a disputed sign's percent cell, read alone (only where one is disputed)
    return rows


def _confirm_sums(tab: Table, per_row: dict[int, dict[str, vote.Reading]]) -> int:
    """Each spine combination row whose vertebrae each have exactly one row in the table: a
    disputed BMC or area among them is settled where it alone makes the combination the sum of
    its vertebrae (sums.confirm_by_sum). Returns how many readings were settled."""
    single = {}
    for r in tab.rows:
        if r.levels and len(r.levels) == 1:
            single[r.levels[0]] = None if r.levels[0] in single else r
    todo: list[vote.Reading] = []
    for r in tab.rows:
        parts = [single.get(v) for v in r.levels or ()]
        if len(parts) < 2 or any(p is None for p in parts):
            continue
        todo += sums.confirm_by_sum(per_row.get(id(r), {}), [per_row.get(id(p), {}) for p in parts if p])
    done = {id(rd): rd for rd in todo}
    for rd in done.values():
        sums.settle(rd)
    return len(done)


def _confirm_means(tab: Table, per_row: dict[int, dict[str, vote.Reading]]) -> None:
    """Each Mean row of the table whose region has one Left and one Right row: its disputed
    BMD, BMC or area is settled where it is their mean (repairs.confirm_by_mean)."""
    for r in tab.rows:
        if r.side is not Side.MEAN or r.region is None:
            continue
        sides = {s: [o for o in tab.rows if o.region is r.region and o.side is s] for s in (Side.LEFT, Side.RIGHT)}
        if all(len(v) == 1 for v in sides.values()):
            repairs.confirm_by_mean(per_row.get(id(r), {}), per_row.get(id(sides[Side.LEFT][0]), {}),
                                    per_row.get(id(sides[Side.RIGHT][0]), {}))


def bmd_site(r: Row, tab: Table) -> str | None:
    """Which plausible BMD range a row's BMD is held to (repairs.bmd_range)."""
    if r.levels:
        return "vertebra" if len(r.levels) == 1 else "L1-L4"
    if r.region is not None and (r.region.is_spine or tab.is_spine):
        return "L1-L4"
    return r.region.value if r.region is not None else None


#: BMD cells per page read again for being outside their plausible range, at most
RECHECK_MAX = 8


def _recheck_implausible(tab: Table, cells: list[_TableCell], readings: list[vote.Reading], image: np.ndarray,
                         engines: list[str], decimals: int | None, budget: Budget | None = None) -> None:
    """A BMD read outside its row's plausible range is read again alone on its crop, enlarged,
    by every engine (rereading.cells_alone), and kept, repaired or marked a misread by
    repairs.recheck_implausible: never taken for anatomy. Past the budget's soft limit nothing
    is read again, and such a BMD stays flagged all the same (its decimal point restored but not
    confirmed, or a misread)."""
    todo = [(tc, rd, repairs.bmd_range(bmd_site(tc.row, tab))) for tc, rd in zip(cells, readings)
            if tc.measure == "bmd" and rd.value is not None and not rd.blank]
    todo = [(tc, rd, rng) for tc, rd, rng in todo if not rng[0] <= rd.value <= rng[1]][:RECHECK_MAX]  # type: ignore[operator]
    if not todo:
        return
    looks = rereading.cells_alone(image, [tc.cell.box for tc, _, _ in todo], engines, budget)
    for (_, rd, rng), seen in zip(todo, looks):
        repairs.recheck_implausible(rd, decimals, rng, seen)


#: measures whose disputed cells get a closer look (vote.confirm_by_closer_look)
CLOSER_LOOK_MEASURES = ("bmd", "t_score", "z_score")
#: disputed cells per table given a closer look, at most
CLOSER_LOOK_MAX = 12


def _closer_look_at_disputes(tab: Table, cells: list[_TableCell], readings: list[vote.Reading],
                             image: np.ndarray, engines: list[str], decs: dict[str, int | None],
                             budget: Budget | None = None) -> None:
    """Cells the engines read differently, where every rival reading is malformed for its column
    or impossible for its row (vote.in_doubt_for_closer_look: '0.625' against '8.625' for a hip
    BMD), are read again alone on their crops, enlarged, by both engines
    (rereading.cells_alone); an exact match with the kept reading that leaves both engines
    having read it settles the dispute (vote.confirm_by_closer_look), noted by valueflags."""
    if not {"tesseract", "rapidocr"} <= set(engines):
        return
    todo = []
    for tc, rd in zip(cells, readings):
        if tc.measure not in CLOSER_LOOK_MEASURES:
            continue
        ok = repairs.plausible(tc.measure, bmd_site(tc.row, tab))
        if vote.in_doubt_for_closer_look(rd, decs.get(tc.measure), ok):
            todo.append((tc, rd, ok))
    todo = todo[:CLOSER_LOOK_MAX]
    if not todo:
        return
    looks = rereading.cells_alone(image, [tc.cell.box for tc, _, _ in todo], engines, budget)
    for (tc, rd, ok), seen in zip(todo, looks):
        vote.confirm_by_closer_look(rd, seen, decs.get(tc.measure), ok)


def _minus_in_print(cells: list[_TableCell], readings: list[vote.Reading], image: np.ndarray) -> None:
    """A negative score whose readings dispute only its sign (vote.sign_disputed: one engine saw
    the minus, another read the same digits without it) is marked where the cell's own pixels
    show a minus before the digits (cellcrop.leading_minus): the thin minus of small screen type
    is what page readings lose. It is one witness; valueflags.settle_signs also asks the site's
    rows to fit the sign kept, as for a closer look by a second engine."""
    for tc, rd in zip(cells, readings):
        if tc.measure not in repairs.SCORES or rd.value is None or rd.value >= 0 or rd.third:
            continue
        if vote.sign_disputed(rd, repairs.plausible(tc.measure, None)):
            rd.minus_in_print = cellcrop.leading_minus(cellcrop.crop(image, tc.cell.box)) is True


def _as_printed(c: Cell) -> vote.Reading:
    """A text layer's cell: its characters are the page's own (confidence 1.0, or 0.0 when no number)."""
    p = parse_number(c.text)
    return vote.Reading(p.value if p else None, bool(p and p.blank), 1.0 if p else 0.0, c.text, (PDF_ENGINE,))


def low_confidence_flag(rows: list[PageRow], page_no: int, threshold: float) -> Flag | None:
    """The page-wide PAGE_QUALITY flag where the page's cell readings average below ``threshold``."""
    confs = [rd.conf for pr in rows for rd in pr.readings.values()]
    if confs and statistics.fmean(confs) < threshold:
        return Flag(FlagCode.PAGE_QUALITY, f"page {page_no}: values read with low confidence")
    return None
