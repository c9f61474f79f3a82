"""Hologic report script: ``Name = "value";`` lines and ``ResultsTable[c][r] = "text";`` cells.

The element holding the script has no known tag (vendor_dicom.md §1, §1b), the
table's name varies (``ResultsTable``, ``ResultsTable1``) and so does its index
order (column-first or row-first). So the script is found by content and the
table is read by meaning:

- the orientation is the one in which the index-0 line holds header words
  (Region, BMD, T-score ...);
- each header is classified by its words (HTML markup dropped); percentage
  columns (PR, AM, YA %) are ignored;
- each row label is classified as a region (L1, L2-L4, Neck, Total ...), with
  group rows (a region name alone, then Left/Right/Mean rows) followed.
"""

from __future__ import annotations

import itertools
import re

from bmdkit.dicom import words
from bmdkit.dicom.base import parse_number
from bmdkit.dicom.collect import Collector
from bmdkit.model import Method, Region

_CELL = re.compile(
    r"""([A-Za-z_]\w{0,40})\s*\[\s*(\d{1,4})\s*\]\s*\[\s*(\d{1,4})\s*\]\s*=\s*"((?:[^"\\\r\n]|\\.){0,400})"\s*;""")
#: the part of every cell after its table name: a text without it holds no cell
_CELL_CORE = re.compile(r"""\[\s*\d{1,4}\s*\]\s*\[\s*\d{1,4}\s*\]\s*=""")
_ASSIGN = re.compile(r"""(?m)^\s*([A-Za-z_]\w{0,60})\s*=\s*"((?:[^"\\\r\n]|\\.){0,400})"\s*;""")
_MAX_CELLS = 20000


def looks_like_script(text: str) -> bool:
    """True when ``text`` has at least a few table-cell assignments (four, in its first 200,000 characters).

    Stops at the fourth cell instead of finding them all, and a text without
    the indices-and-equals core of a cell (most XML) cannot hold one: the
    answer is the same, without scanning a large value with the
    backtracking name part of the pattern.
    """
    head = text[:200000]
    if "[" not in head or not _CELL_CORE.search(head):
        return False
    return sum(1 for _ in itertools.islice(_CELL.finditer(head), 4)) >= 4


def assignments(text: str) -> dict[str, str]:
    """``Name = "value";`` fields (first occurrence wins)."""
    out: dict[str, str] = {}
    for name, value in _ASSIGN.findall(text):
        out.setdefault(name, value.strip())
    return out


def tables(text: str) -> dict[str, dict[tuple[int, int], str]]:
    """Cells of every indexed table in the script, by table name."""
    out: dict[str, dict[tuple[int, int], str]] = {}
    for n, (name, a, b, value) in enumerate(_CELL.findall(text)):
        if n >= _MAX_CELLS:
            break
        out.setdefault(name, {})[(int(a), int(b))] = value
    return out


def _header_score(headers: dict[int, str]) -> int:
    score = 0
    for h in headers.values():
        if words.first(h, "header") or words.first(h, "measure"):
            score += 1
    return score


def _orient(cells: dict[tuple[int, int], str]) -> tuple[dict[int, str], dict[int, dict[int, str]], str]:
    """(headers by column, rows by index -> {column: text}, 'column-first'|'row-first')."""
    col_first_headers = {a: v for (a, b), v in cells.items() if b == 0}
    row_first_headers = {b: v for (a, b), v in cells.items() if a == 0}
    if _header_score(col_first_headers) >= _header_score(row_first_headers):
        rows: dict[int, dict[int, str]] = {}
        for (a, b), v in cells.items():
            if b > 0:
                rows.setdefault(b, {})[a] = v
        return col_first_headers, rows, "column-first"
    rows = {}
    for (a, b), v in cells.items():
        if a > 0:
            rows.setdefault(a, {})[b] = v
    return row_first_headers, rows, "row-first"


def read_script(text: str, element: str, context: words.Meaning) -> Collector:
    """Values of every results table in the script held by ``element``."""
    col = Collector(Method.DICOM_PRIVATE, "report script table")
    fields = assignments(text)
    scan_ctx = context
    for key in ("Scan", "ScanType", "ScanMode", "Region", "Exam"):
        if key in fields:
            scan_ctx = words.meaning(fields[key]).merged_under(context)
            break
    for name, cells in sorted(tables(text).items()):
        _read_table(name, cells, element, scan_ctx, col)
    if _CELL_CORE.search(text) and sum(1 for _ in itertools.islice(_CELL.finditer(text), _MAX_CELLS + 1)) > _MAX_CELLS:
        # a cut-off table must not read as complete
        col.unplaced_value(f"{element} (more than {_MAX_CELLS} table cells: the rest was not read)")
    return col


def _read_table(name: str, cells: dict[tuple[int, int], str], element: str,
                ctx: words.Meaning, col: Collector) -> None:
    headers, rows, order = _orient(cells)
    region_col = None
    measures: dict[int, str] = {}
    for c, h in headers.items():
        if words.first(h, "header") == "region" and region_col is None:
            region_col = c
            continue
        what = words.first(h, "measure")
        if what and what != "percent":
            if _foreign_unit(h):
                col.unplaced_value(f"{name} column {c} '{words.plain_text(h)}' (unit does not fit {what})")
                continue
            measures[c] = what
    if not measures:
        return
    if region_col is None:  # the column whose cells name regions
        best = -1
        for c in headers:
            if c in measures:
                continue
            hits = sum(1 for r in rows.values() if _placeable(r.get(c, "")))
            if hits > best:
                region_col, best = c, hits
    if region_col is None:
        return
    group = words.Meaning()
    for r in sorted(rows):
        label = rows[r].get(region_col, "").strip()
        if not label:
            continue
        m = words.meaning(label)
        values = {c: rows[r].get(c, "") for c in measures}
        has_values = any(parse_number(v) is not None for v in values.values())
        if not has_values:
            if m.region is not None or m.total:
                group = m  # a group header row: "Neck", then Left/Right/Mean rows
            continue
        if m.region is None and not m.total and m.side is not None:
            m = words.Meaning(side=m.side, diff=m.diff).merged_under(group)
        full = m.merged_under(words.Meaning(context=ctx.context, side=ctx.side))
        if full.excluded and full.region is not None:
            col.mark(full.region, True, f"{element} {name} row {r}")
        region = words.resolve_region(full)
        if region is None or full.diff:
            if not full.diff and (full.region or full.total):
                col.unplaced_value(f"{name} row {r} '{label}'")
            continue
        if region is Region.SPINE_TOTAL and full.vertebrae is not None and _is_extra_combination(
                full.vertebrae, rows, region_col):
            continue
        side = full.side if region.is_hip else None
        for c, measure in measures.items():
            raw = values[c].strip()
            where = f"{element} {name}[{c if order == 'column-first' else r}][{r if order == 'column-first' else c}]"
            col.add(region, side, measure, parse_number(raw), where, raw=raw or None,
                    label=label, vertebrae=full.vertebrae)
        if "*" in label and region.is_vertebra:
            col.mark(region, True, f"{element} {name} row {r} ('{label}')")


def _foreign_unit(header: str) -> bool:
    """A header whose unit is not the one the measure is printed in (mg/cm2, mg, mm2)."""
    return any(k == "foreign" for k in words.find(header.replace("(", " ").replace(")", " "), "unit_token"))


def _placeable(text: str) -> bool:
    m = words.meaning(text)
    return m.region is not None or m.total


def _is_extra_combination(verts: tuple[Region, ...], rows: dict[int, dict[int, str]],
                          region_col: int) -> bool:
    """Hologic lists many level combinations; only one is the total.

    The total is the row labelled Total if any, else the widest range; a
    narrower range row beside it is a combination, not the total.
    """
    ranges = []
    for row in rows.values():
        m = words.meaning(row.get(region_col, ""))
        if m.total and m.vertebrae is None:
            return True  # an explicit "Total" row exists: range rows are combinations
        if m.vertebrae is not None:
            ranges.append(m.vertebrae)
    if len(ranges) <= 1:
        return False
    widest = max(ranges, key=len)
    return verts != widest
