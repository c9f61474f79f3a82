"""What a page is a report of, where its rows' words alone cannot tell: a whole-body or forearm
page's "Total" rows are that scan's total, never a total hip.

A GE Lunar or Hologic total-body page prints "Total", "Total Left" and
"Total Right" rows, and a forearm page a "Total" row; read as hip rows they
would be silent wrong total-hip values. A page whose text names a whole-body
or forearm scan and names no hip (words in ``reference_data/vocabulary.csv``,
kind ``page_scan``) keeps no total-hip row; the rows dropped are named in an
information flag, so the page's outcome says why it holds no hip result.
"""

from __future__ import annotations

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Flag, Region
from bmdkit.report import labels
from bmdkit.report.cells import Table


def other_scan(page_text: str) -> str | None:
    """'whole_body' or 'forearm' when the page names that scan and names no hip, else None."""
    kinds = set(labels.matches("page_scan", page_text, search=True, raw=True))
    if "hip" in kinds:
        return None
    return "whole_body" if "whole_body" in kinds else "forearm" if "forearm" in kinds else None


def drop_other_totals(tables: list[Table], page_text: str, page_no: int) -> list[Flag]:
    """Remove the total-hip rows of a whole-body or forearm page (see the module docstring)."""
    scan = other_scan(page_text)
    if scan is None:
        return []
    dropped = 0
    for tab in tables:
        keep = [r for r in tab.rows if r.region is not Region.TOTAL_HIP]
        dropped += len(tab.rows) - len(keep)
        tab.rows = keep
    if not dropped:
        return []
    what = "whole-body" if scan == "whole_body" else "forearm"
    return [Flag(FlagCode.UNPLACED_DATA, f"page {page_no} is a {what} report: its {dropped} 'Total' row(s) "
                 f"are the {what} total, not a hip, and were not read", severity=Severity.INFO)]
