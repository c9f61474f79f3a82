"""A column blank on the page is blank in the output (issue 22), read end to end.

Real-like pages of every layout (bmdkit.samples.real_like: Hologic APEX, GE
enCORE, Norland at 90 ppi) with the T-score or Z-score column printed empty or
as '-' on every row go through :func:`bmdkit.read.read_file`. No value may be
reported for the blank measure -- not even a flagged one: a cell belongs to one
column and is never taken from its neighbour -- and the printed BMDs are read.
"""

from __future__ import annotations

import pytest

from bmdkit.model import Region, Side
from bmdkit.read import read_file
from bmdkit.samples.real_like import REAL_LIKE_LAYOUTS, REAL_LIKE_VENDOR, ScreenOptions, render_real_like
from bmdkit.samples.truth import TruthGenerator

CASES = [(layout, blank, mark) for layout in REAL_LIKE_LAYOUTS
         for blank, mark in ((("t_score",), ""), (("z_score",), "-"))]


@pytest.mark.parametrize(("layout", "blank", "mark"), CASES)
def test_a_blank_column_stays_blank(tmp_path, layout: str, blank: tuple[str, ...], mark: str) -> None:
    truth = TruthGenerator(7 + len(layout)).exam(vendor=REAL_LIKE_VENDOR[layout],
                                                 scan_type="hip_dual" if blank == ("t_score",) else "spine")
    page = render_real_like(truth, layout, "png90", ScreenOptions(blank=blank, blank_mark=mark), 11)
    path = page.save(tmp_path / f"page{page.suffix}")
    exam = read_file(path)
    assert exam.status.value != "failed", [f.message for f in exam.flags]
    reported = [(r.region.value, r.side, m) for r in exam.regions for m in blank if r.value(m) is not None]
    assert reported == [], f"values reported for a blank {blank} column: {reported}"
    printed = {(c.cell.region, c.cell.side): float(c.cell.text) for c in page.cells
               if c.cell.in_truth and c.cell.measure == "bmd" and c.cell.region in {r.value for r in Region}}
    got = 0
    for (region, side), want in printed.items():
        r = exam.region(Region(region), Side(side) if side else None)
        got += r is not None and r.bmd is not None and abs(r.bmd - want) < 1e-9
    assert printed and got >= 0.8 * len(printed), (got, printed)
