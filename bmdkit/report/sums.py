"""A spine combination row's BMC and area are the sums of its vertebrae's: a witness for a disputed cell.

Spine tables print, beside each vertebra, combination rows (GE Lunar's L1-L2 ... L1-L4 and
L2-L4; the total over the included vertebrae) whose BMC and area are the sums over the
vertebrae they cover (shared/domain/reports.md; crosscheck.check_regions flags a total that
breaks it). Each printed value is rounded to its own last digit, so a printed combination
differs from the sum of its printed vertebrae by at most half a unit of the last digit of each:
exact arithmetic within print rounding, no reference number involved. Where every value of
such a sum but one was read alike by both engines (repairs.sure), the one the engines read
differently, or one engine alone, is settled if its kept reading makes the sum hold and no other
reading of the cell printed to the same decimals does. The BMD, T- and Z-scores take no part:
a combination's BMD is ΣBMC/ΣArea, which the row's own BMD = BMC / area check covers.
"""

from __future__ import annotations

from bmdkit.report.numbers import Parsed, parse_number
from bmdkit.report.repairs import sure
from bmdkit.report.vote import MIN_CONFIDENCE, Reading
from bmdkit.rounding import half_unit

#: the measures a combination row prints as the sum of its vertebrae's
SUM_MEASURES = ("bmc", "area")


def _holds(values: list[float], decimals: list[int]) -> bool:
    """values[0] (the combination) equals the sum of the rest within their print rounding."""
    slack = sum(half_unit(d) for d in decimals) + 1e-9
    return abs(values[0] - sum(values[1:])) <= slack


def _settles(cells: list[Reading], k: int) -> bool:
    """Whether cell ``k`` alone, as kept, makes the sum of ``cells`` hold (cells[0] the
    combination), every other cell being read alike by both engines, and no other reading of
    cell ``k`` printed to the kept reading's decimals makes it hold too."""
    rd = cells[k]
    if rd.repair or rd.reread or rd.sign_only or not all(sure(c) for j, c in enumerate(cells) if j != k):
        return False
    printed: list[Parsed | None] = [parse_number(c.raw) for c in cells]
    if any(p is None or p.value is None or p.blank for p in printed):
        return False
    vals = [p.value for p in printed if p is not None and p.value is not None]
    decs = [p.decimals for p in printed if p is not None]
    if len(set(decs)) != 1:
        return False  # a sum is printed like its parts: a digit lost or gained is a misread
    if vals[k] != rd.value or not _holds(vals, decs):
        return False
    for c in rd.candidates:
        p = c.parsed
        if p is None or p.value is None or p.blank or p.value == rd.value or p.decimals != decs[k]:
            continue
        if _holds([*vals[:k], p.value, *vals[k + 1:]], decs):
            return False  # another reading fits as well: the sum cannot tell them apart
    return True


def confirm_by_sum(total: dict[str, Reading], parts: list[dict[str, Reading]]) -> list[Reading]:
    """The cells of a combination row (``total``: its readings by measure) and of the vertebrae
    it covers (``parts``) that :func:`_settles` settles, for each of :data:`SUM_MEASURES`: the
    one cell in dispute among them (a disagreement, or one engine's reading alone) whose kept
    value alone makes the combination the sum of its vertebrae. Returns the readings to settle
    (the caller settles them with :func:`settle`, after every sum was judged, so that no value
    settled by a sum witnesses another)."""
    out: list[Reading] = []
    for m in SUM_MEASURES:
        cells = [total.get(m), *(p.get(m) for p in parts)]
        if any(c is None or c.value is None or c.blank for c in cells):
            continue
        got = [c for c in cells if c is not None]
        open_ = [k for k, c in enumerate(got) if c.disagreement or c.single]
        if len(open_) == 1 and _settles(got, open_[0]):
            out.append(got[open_[0]])
    return out


def settle(rd: Reading) -> None:
    """Mark a reading :func:`confirm_by_sum` chose as no longer disputed, with the note saying why."""
    rd.disagreement, rd.single = False, False
    rd.conf = max(rd.conf, MIN_CONFIDENCE)
    rd.settled = (f"{rd.raw.strip()} alone makes the spine combination's value the sum of its vertebrae's "
                  "(read alike by both engines), as kept")
