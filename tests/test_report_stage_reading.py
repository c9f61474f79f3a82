"""The stages after layout, one by one, on real sample pages (text layers: no OCR needed):
reading (cells as read), repairs (each repair and the flag it leads to), regions
(RegionResults with side and scan type) and the value flags."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from bmdkit.flags import FlagCode
from bmdkit.model import Method, Region, RegionResult, ScanType, Side, scan_types_of
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.report import driver, reading, regions, repairs, settings, valueflags, vote
from bmdkit.report.layout import find_tables
from bmdkit.report.pagefiles import load_pages

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "reports"
HOLOGIC = SAMPLES / "s7-0018_hologic_en_pdf_text.pdf"


def _page(path: Path) -> reading.PageResult:
    (page,) = load_pages(path, DEFAULT_OPTIONS, None, "pdf")
    return driver.read_page(page, [], DEFAULT_OPTIONS)


def _truth(path: Path) -> dict:
    return json.loads(Path(f"{path}.truth.json").read_text())


def test_read_table_gives_every_cell_as_printed() -> None:
    (page,) = load_pages(HOLOGIC, DEFAULT_OPTIONS, None, "pdf")
    (tab,) = find_tables(page.words, guess=False).tables
    got = reading.read_table(tab, None, [], 1, np.eye(3))
    assert all(isinstance(r, reading.PageRow) and r.page == 1 for r in got)
    truth = {r["region"]: r for r in _truth(HOLOGIC)["regions"]}
    for pr in got:
        want = truth[pr.row.region.value]  # type: ignore[union-attr]
        for m, rd in pr.readings.items():
            if m != "percent":
                assert rd.value == want[m] and rd.conf == 1.0 and rd.engines == ("pdf-text",)
    assert reading.column_decimals(tab)["bmd"] == 3


def test_page_result_holds_rows_lines_and_no_low_confidence_flag() -> None:
    res = _page(HOLOGIC)
    assert res.page == 1 and res.rows and res.lines and res.low_conf is None


def test_regions_from_a_real_page() -> None:
    res = _page(HOLOGIC)
    got, flags = regions.regions_from([res])
    truth = _truth(HOLOGIC)
    side = Side(truth["regions"][0]["side"])
    assert {(r.region.value, r.side) for r in got} == {(t["region"], side) for t in truth["regions"]}
    assert scan_types_of(got) == (ScanType.HIP_LEFT if side is Side.LEFT else ScanType.HIP_RIGHT,)
    neck = next(r for r in got if r.region is Region.FEMORAL_NECK)
    assert neck.location is not None and neck.location.page == 1 and neck.sources["bmd"].raw_text == "0.626"
    assert not [f for f in flags if f.code is FlagCode.REGION_NOT_READ]


def _reading(value: float | None, raw: str, disagreement: bool = False) -> vote.Reading:
    return vote.Reading(value, False, 0.9, raw, ("rapidocr", "tesseract"), disagreement=disagreement)


def test_minus_never_on_a_bmd_and_the_flag_it_raises() -> None:
    rd = _reading(-0.626, "-0.626")
    repairs.minus_never_on_bmd(rd, "bmd")
    assert rd.value == 0.626 and rd.disagreement
    t = _reading(-2.5, "-2.5")
    repairs.minus_never_on_bmd(t, "t_score")
    assert t.value == -2.5 and not t.disagreement  # a score may be negative
    rr = RegionResult(Region.FEMORAL_NECK, Method.OCR, side=Side.LEFT, bmd=0.626)
    (f,) = [f for f in valueflags.value_flags(rr, {"bmd": rd}, {"bmd"}) if f.measure == "bmd"]
    assert f.code is FlagCode.LOW_CONFIDENCE and "without its minus" in f.message


def test_restore_decimal_only_beyond_any_plausible_score() -> None:
    rd = _reading(-25.0, "-25")
    repairs.restore_decimal(rd, 1, "t_score")
    assert rd.value == -2.5 and rd.disagreement and rd.repair
    ok = _reading(-2.0, "-2")
    repairs.restore_decimal(ok, 1, "t_score")
    assert ok.value == -2.0 and not ok.repair


def test_settings_are_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _page(HOLOGIC).rows
    assert reading.low_confidence_flag(rows, 1, settings.SETTINGS.page_quality_min) is None
    monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, page_quality_min=1.5))
    assert reading.low_confidence_flag(rows, 1, settings.SETTINGS.page_quality_min) is not None
