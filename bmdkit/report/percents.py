"""The percent columns printed beside the scores witness a disputed score's sign (issue 22).

Hologic prints PR (%) and AM (%) beside the T- and Z-score, GE Lunar YA % and AM %
(shared/domain/reports.md): the BMD as a percent of the young-adult (peak) mean, the
T-score's reference, and of the age-matched mean, the Z-score's. As T = (BMD - mean) / SD,
a young-adult percent below 100 means a negative T-score and one above 100 a positive one;
the age-matched percent does the same for the Z-score.

The thin minus of small screen type is what one engine loses most often, and the vote then
disputes the score's sign (:func:`sign_in_dispute`). Only then is the row's matching percent
cell read by both engines on its own crop and voted, as every value cell is
(:func:`bmdkit.report.vote.read_cells`): a page without such a dispute gets no extra OCR. A
percent both engines read alike, clearly off 100 (:data:`PERCENT_MARGIN`) and of a size the
score allows for a plausible SD-to-mean ratio, that fits only the sign kept settles
the dispute as a note; one that fits only the other sign keeps it a review flag, and the flag
says so (:func:`bmdkit.report.valueflags.settle_signs`). A value is never changed from a
percent: it only witnesses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import cv2
import numpy as np

from bmdkit import reference
from bmdkit.model import Region
from bmdkit.report import crosscheck, labels, repairs, vote
from bmdkit.report.cells import DATA_MEASURES, Cell, Column, Row, Table
from bmdkit.report.numbers import parse_number
from bmdkit.report.rereading import Budget
from bmdkit.report.tokens import Box, Token
from bmdkit.rounding import half_unit

#: a percent this close to 100 (points) witnesses no sign: a score near 0 rounds either way
#: (a review threshold, not a reference number)
PERCENT_MARGIN = 2.0

#: the SD-to-mean ratios a score's reference may have: half the smallest to twice the largest
#: tabled in reference_populations.csv (the widening of crosscheck.sd_bounds; a review margin)
RATIO_WIDEN = (0.5, 2.0)

#: percent cells per table read to witness a sign, at most (a page of many disputes stays bounded in time)
PERCENT_LOOK_MAX = 8

#: the percent fits only the sign kept / only the other sign
FITS = "fits"
CONTRADICTS = "contradicts"

_WORDS = {"ya_percent": "young-adult", "am_percent": "age-matched"}


class PercentWitness(NamedTuple):
    """A disputed score's percent cell as read: its column (ya_percent, am_percent), the percent
    both engines read alike (None where they did not), what each engine read, and the verdict
    (:data:`FITS`, :data:`CONTRADICTS`, or "" for none)."""

    column: str
    percent: float | None
    read: tuple[str, ...]
    verdict: str

    def says(self, kept: float) -> str:
        """What the percent says of the score ``kept``, for a note or a flag."""
        what = f"the {_WORDS.get(self.column, '')} percent printed in its row, {self.percent:g}% " \
               "(both OCR engines read it alike),"
        if self.verdict == FITS:
            return f"{what} fits only {kept:g}"
        side = "above" if (self.percent or 0) > 100 else "below"
        return f"{what} is {side} 100 and fits only {-kept:g}, not the {kept:g} kept"


def sign_in_dispute(rd: vote.Reading, measure: str) -> bool:
    """A score whose engines read the same digits but for the sign, the dispute still open: not
    repaired, not read again for being implausible, not settled by a closer look
    (vote.sign_disputed; what valueflags.value_flags records for settle_signs)."""
    return (measure in repairs.SCORES and rd.value is not None and rd.disagreement and not rd.repair
            and not rd.misread and not rd.reread and not rd.settled and len(rd.values_read) >= 2
            and vote.sign_disputed(rd, repairs.plausible(measure, None)))


@functools.lru_cache(maxsize=1)
def ratio_band() -> tuple[float, float]:
    """The SD-to-mean ratios a score's reference may have (tabled ratios, widened: RATIO_WIDEN)."""
    ratios = [float(r["sd"]) / float(r["mean"]) for r in reference.table("reference_populations")
              if r.get("sd") and r.get("mean")]
    return min(ratios) * RATIO_WIDEN[0], max(ratios) * RATIO_WIDEN[1]


def _fits(score: float, pct: float, d_score: int, d_pct: int) -> bool:
    """Can a score ``score`` and a percent ``pct`` (as printed, with their decimals) come from
    one reference? (pct / 100 - 1) = score x SD / mean, for a plausible SD-to-mean ratio,
    within each value's print rounding; the percent on the score's side of 100."""
    off, s = pct - 100.0, abs(score)
    if score == 0 or off == 0 or (off > 0) != (score > 0):
        return False
    hp, hs = half_unit(d_pct), half_unit(d_score)
    lo = max(abs(off) - hp, 0.0) / 100.0 / (s + hs)
    hi = (abs(off) + hp) / 100.0 / (s - hs) if s > hs else float("inf")
    band = ratio_band()
    return lo <= band[1] and hi >= band[0]


def verdict(score: float, pct: float, d_score: int = 1, d_pct: int = 0,
            mean_fits: Callable[[float], bool] | None = None) -> str:
    """:data:`FITS` where the percent fits only the score as kept, :data:`CONTRADICTS` where it
    fits only the score with the other sign, "" where it decides nothing: within
    PERCENT_MARGIN of 100, of a size that fits neither sign (a misread percent), or where the
    percent with a leading one lost or invented would fit the other sign. ``mean_fits``: whether
    a percent gives a plausible reference mean with the row's BMD (BMD x 100 / percent); a
    percent that gives none is a misread, and so no rival."""
    if abs(pct - 100.0) < PERCENT_MARGIN or (mean_fits is not None and not mean_fits(pct)):
        return ""
    alt = _other_hundred(pct)
    rival = mean_fits is None or mean_fits(alt)
    if _fits(score, pct, d_score, d_pct) and not (rival and _fits(-score, alt, d_score, d_pct)):
        return FITS
    if _fits(-score, pct, d_score, d_pct) and not (rival and _fits(score, alt, d_score, d_pct)):
        return CONTRADICTS
    return ""


def young_mean_fits(bmd: float | None, region: Region | None) -> Callable[[float], bool] | None:
    """For a young-adult percent: whether a percent gives, with the row's BMD, a mean within the
    band of the region's tabled young-adult means (crosscheck.young_mean_band); None where the
    BMD or the band is unknown (then no percent is ruled out)."""
    band = None if region is None else crosscheck.young_mean_band(region)
    if bmd is None or bmd <= 0 or band is None:
        return None
    lo, hi = band
    return lambda pct: pct > 0 and lo <= bmd * 100.0 / pct <= hi


def _other_hundred(pct: float) -> float:
    """The percent had its leading one been lost (87 for 187) or invented (187 for 87): small
    screen type loses a thin 1 as it loses a thin minus, and then both engines read alike."""
    return pct + 100.0 if pct < 100.0 else pct - 100.0


def _column(tab: Table, key: str) -> Column | None:
    """The table's column of ``key``; where its header gave two columns of that kind with no
    value column between them (GE's 'YA' over '(%)' and 'YA' over 'T-score'), their union;
    None where it has none, or value columns stand between them (two tables' worth)."""
    cols = sorted((c for c in tab.columns if c.measure == key), key=lambda c: c.x0)
    if not cols:
        return None
    a, b = cols[0].x0, max(c.x1 for c in cols)
    if any(c.measure in DATA_MEASURES and a < (c.x0 + c.x1) / 2 < b for c in tab.columns):
        return None
    return Column(key, a, b)


def _neighbour_edges(tab: Table, col: Column) -> tuple[float | None, float | None]:
    """Where the value columns either side of ``col`` end and begin: the right edge of the
    nearest data column's cells to its left, the left edge of the nearest one's to its right
    (over all rows: a column's values are aligned), None where there is none."""
    spans: dict[str, tuple[float, float]] = {}
    for r in tab.rows:
        for m, c in r.cells.items():
            a, b = spans.get(m, (float("inf"), float("-inf")))
            spans[m] = (min(a, c.box[0]), max(b, c.box[2]))
    mid = (col.x0 + col.x1) / 2
    left = [spans[c.measure][1] for c in tab.columns if c.measure in DATA_MEASURES and c.measure in spans
            and (c.x0 + c.x1) / 2 < mid]
    right = [spans[c.measure][0] for c in tab.columns if c.measure in DATA_MEASURES and c.measure in spans
             and (c.x0 + c.x1) / 2 > mid]
    return (max(left) if left else None), (min(right) if right else None)


def percent_box(image: np.ndarray, tab: Table, col: Column, band: tuple[int, int]) -> Box | None:
    """The box of the print in column ``col`` on the text line ``band`` (top, bottom): the ink
    between the value columns either side (a last column reaches two text heights past its
    header), the run of ink nearest the header's middle; None where the cell holds no print."""
    h = max(band[1] - band[0], 8)
    left, right = _neighbour_edges(tab, col)
    x0 = int(left + 2) if left is not None else int(col.x0 - 2 * h)
    x1 = int(right - 2) if right is not None else int(col.x1 + 2 * h)
    x0, x1 = max(x0, 0), min(x1, image.shape[1])
    if x1 - x0 < 4:
        return None
    strip = image[band[0]:band[1], x0:x1]
    grey = strip if strip.ndim == 2 else cv2.cvtColor(strip, cv2.COLOR_RGB2GRAY)
    if grey.size == 0 or int(grey.max()) - int(grey.min()) < 40:
        return None
    inked = (cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1] > 0).any(axis=0)
    runs: list[list[int]] = []
    for x in np.flatnonzero(inked):
        if runs and x - runs[-1][1] <= 0.6 * h:  # the gap between a number's digits
            runs[-1][1] = int(x)
        else:
            runs.append([int(x), int(x)])
    if not runs:
        return None
    mid = (col.x0 + col.x1) / 2 - x0
    a, b = min(runs, key=lambda r: 0 if r[0] <= mid <= r[1] else min(abs(r[0] - mid), abs(r[1] - mid)))
    return (x0 + a, band[0], x0 + b + 1, band[1])


#: the engine name of a percent cell's placeholder first reading: the layout leaves percent
#: columns out of a row's cells, so no page reading of it is kept and both engines read its crop
NO_PAGE_READING = "none"


def _row_region(row: Row, tab: Table) -> Region | None:
    """The region whose young-adult reference a row's percent is of: a hip region, or the spine
    total for a combination of vertebrae (a single vertebra's reference is not tabled)."""
    if row.levels:
        return Region.SPINE_TOTAL if len(row.levels) > 1 else None
    if row.region is Region.TOTAL_HIP and tab.is_spine and row.side is None:
        return Region.SPINE_TOTAL  # a spine table's "Total" row (regions.regions_from)
    return row.region


def _sure_bmd(rds: dict[str, vote.Reading]) -> float | None:
    """The row's BMD where both engines read it alike, else None."""
    b = rds.get("bmd")
    if b is None or b.value is None or b.disagreement or b.single or b.conf < vote.MIN_CONFIDENCE:
        return None
    return b.value


def _witness(column: str, kept: vote.Reading, rd: vote.Reading,
             mean_fits: Callable[[float], bool] | None = None) -> PercentWitness:
    """The verdict of one percent cell's reading (vote.read_cells) on the score kept: only a
    percent both engines read alike (no rival reading, each engine backing it) decides
    (``mean_fits``: see :func:`verdict`)."""
    read = tuple(sorted({f"{c.engine.split('+')[0]}: {c.text.strip()!r}" for c in rd.candidates
                         if c.engine != NO_PAGE_READING}))
    alike = (rd.value is not None and not rd.blank and not rd.disagreement and not rd.single
             and {"tesseract", "rapidocr"} <= set(rd.engines) and rd.conf >= vote.MIN_CONFIDENCE)
    got = parse_number(rd.raw) if alike else None
    if got is None or got.value is None or got.negative or got.repaired or got.value != rd.value:
        return PercentWitness(column, None, read, "")
    score = parse_number(kept.raw)
    d_score = score.decimals if score is not None and score.value == kept.value else 1
    return PercentWitness(column, got.value, read,
                          verdict(kept.value or 0.0, got.value, d_score, got.decimals, mean_fits))


def witnesses(tab: Table, rows: list[tuple[Row, dict[str, vote.Reading]]], image: np.ndarray,
              engines: list[str], budget: Budget | None = None) -> list[dict[str, PercentWitness]]:
    """For each row (with its readings by measure), the percent witness of each score whose sign
    the engines dispute (:func:`sign_in_dispute`), where the table has that score's percent
    column (labels.PERCENT_OF_SCORE): the cell read by both engines on its own crop and voted as
    every value cell is (vote.read_cells). Nothing is read on a table without such a dispute,
    nor with fewer than two engines, nor past the budget's soft limit."""
    out: list[dict[str, PercentWitness]] = [{} for _ in rows]
    if not {"tesseract", "rapidocr"} <= set(engines) or (budget is not None and budget.soft_passed()):
        return out
    todo: list[tuple[int, str, str, Box]] = []
    for k, (row, rds) in enumerate(rows):
        for m, rd in rds.items():
            col = _column(tab, labels.PERCENT_OF_SCORE.get(m, ""))
            cell = row.cells.get(m)
            if col is None or cell is None or not sign_in_dispute(rd, m):
                continue
            box = percent_box(image, tab, col, (cell.box[1], cell.box[3]))
            if box is not None:
                todo.append((k, m, col.measure, box))
    todo = todo[:PERCENT_LOOK_MAX]
    if not todo:
        return out
    cells = [Cell(column, [Token("", box, 0.0, NO_PAGE_READING)]) for _, _, column, box in todo]
    read = vote.read_cells(image, cells, engines, {}, budget.soft_passed if budget is not None else None)
    for (k, m, column, _), rd in zip(todo, read, strict=True):
        row, rds = rows[k]
        means = young_mean_fits(_sure_bmd(rds), _row_region(row, tab)) if column == "ya_percent" else None
        out[k][m] = _witness(column, rds[m], rd, means)
    return out
