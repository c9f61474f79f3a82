"""Stage 7: table rows into RegionResults, with side, vertebrae and scan type.

Only the regions asked for are kept (lumbar L1-L4 and spine total, femoral
neck and total hip, plus optional hip subregions) from whichever pages hold
them; the first table wins where a region is printed twice (main table before
trend tables). The spine total takes the vertebrae its row names, or those
not marked excluded. Regions the other rows imply but that were not read are
flagged, never silently absent. Boxes are reported in the pixels of the page
as given, through the preparation's homography.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bmdkit.flags import FlagCode
from bmdkit.model import (
    VERTEBRAE,
    Flag,
    Location,
    Method,
    Region,
    RegionResult,
    Side,
    ValueSource,
)
from bmdkit.report import preprocess, words
from bmdkit.report.reading import PageResult, PageRow
from bmdkit.report.valueflags import SignDispute, SignKey, label_flags, value_flags

Placed = dict[tuple[Region, Side | None], RegionResult]


class RegionsRead(NamedTuple):
    """The regions read from a report's pages, and the flags raised placing them."""

    regions: list[RegionResult]
    flags: list[Flag]


def regions_from(results: list[PageResult], sign_disputes: dict[SignKey, SignDispute] | None = None) -> RegionsRead:
    """Every page's rows placed as regions (see the module docstring); ``sign_disputes`` collects
    the scores whose engines differed only in the sign (see valueflags.value_flags)."""
    out: Placed = {}
    flags: list[Flag] = []
    spine_combos: list[PageRow] = []
    for res in results:
        for pr in res.rows:
            row, tab = pr.row, pr.table
            if (row.levels and len(row.levels) > 1) or (not row.levels and row.region is Region.TOTAL_HIP
                                                       and tab.is_spine and row.side is None):
                spine_combos.append(pr)
                continue
            if row.levels and len(row.levels) == 1:
                region, side = row.levels[0], None
            elif row.region is not None and not row.region.is_spine:
                region, side = row.region, row.side or tab.heading_side
            else:
                if row.label and sum(rd.value is not None for rd in pr.readings.values()) >= 2:
                    flags.append(Flag(FlagCode.UNPLACED_DATA, f"page {pr.page}: row {row.label!r} not placed"))
                continue
            flags += _place(out, region, side, pr, sign_disputes)
    if spine_combos:
        flags += _spine_total(out, spine_combos, sign_disputes)
    flags += unread_regions(out)
    return RegionsRead(list(out.values()), flags)


def _place(out: Placed, region: Region, side: Side | None, pr: PageRow,
           sign_disputes: dict[SignKey, SignDispute] | None) -> list[Flag]:
    """One row as the region (and side) it names, unless a table before placed it already."""
    rr = _result(region, side, pr, None)
    if rr is None:
        return []
    if (region, side) in out:
        # first table wins (main table before trend tables); other values for the same
        # region and side mean the tables were told apart wrongly (a lost side heading)
        first = out[(region, side)]
        if rr.bmd is not None and first.bmd is not None and rr.bmd != first.bmd:
            where = words.place(region, side)
            return [Flag(FlagCode.UNPLACED_DATA, f"Page {pr.page}: {where} is printed twice with "
                         f"different values (BMD {first.bmd:g} and {rr.bmd:g}); the first was used: "
                         "check which is right (and the sides of this region)", region=region.value)]
        return []
    out[(region, side)] = rr
    return (value_flags(rr, pr.readings, pr.table.measures, pr.row.unprinted, sign_disputes, pr.percents)
            + label_flags(rr, pr.row, pr.table, pr.page))


def _spine_total(out: Placed, spine_combos: list[PageRow],
                 sign_disputes: dict[SignKey, SignDispute] | None) -> list[Flag]:
    """The spine total: the combination over the vertebrae included; vertebrae it leaves out
    become not evaluable."""
    present = [r for r in VERTEBRAE if (r, None) in out]
    marked = {r for r in present if out[r, None].evaluable is False}
    included = tuple(r for r in present if r not in marked)
    choice = None
    for c in spine_combos:
        lv = c.row.levels or included
        if tuple(lv) == included:
            choice = c
            break
    if choice is None:
        choice = next((c for c in spine_combos if c.row.levels == VERTEBRAE), spine_combos[0])
    levels_ = choice.row.levels or included
    rr = _result(Region.SPINE_TOTAL, None, choice, tuple(levels_))
    if rr is None:
        return []
    out[(Region.SPINE_TOTAL, None)] = rr
    flags = value_flags(rr, choice.readings, choice.table.measures, choice.row.unprinted, sign_disputes,
                        choice.percents)
    flags += label_flags(rr, choice.row, choice.table, choice.page)
    for v in VERTEBRAE:
        if (v, None) in out and v not in levels_ and out[v, None].evaluable is not False:
            out[(v, None)] = out[v, None].replace(evaluable=False)
    return flags


def unread_regions(out: dict[tuple[Region, Side | None], RegionResult]) -> list[Flag]:
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


def _result(region: Region, side: Side | None, pr: PageRow,
            vertebrae: tuple[Region, ...] | None) -> RegionResult | None:
    """One row's readings as a RegionResult (None where it holds no value), boxes on the page as given."""
    row, rds, pno, to_page = pr.row, pr.readings, pr.page, pr.to_page
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
