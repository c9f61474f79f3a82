"""Issue 22: the percent columns printed beside the scores witness a disputed score's sign.

A young-adult percent (Hologic PR, GE Lunar YA / Young-Adult) below 100 means a negative
T-score, above 100 a positive one; the age-matched percent (AM, Age-Matched) does the same for
the Z-score. Where the engines dispute a score's sign, the row's matching percent cell is read
by both engines on its own crop (bmdkit.report.percents); a percent both read alike settles
the dispute as a note where it fits only the sign kept, and keeps (or makes) it a review flag
where it fits only the other sign. A percent near 100, one of a size no plausible reference
gives, or one engine's reading alone decides nothing, and no value is ever changed by it.

The decision rule first (readings as the vote makes them), then a GE-like page rendered at
screen resolution and read by the real engines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.readings import cand, disputed, single, sure

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Method, Region, RegionResult
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.report import labels, ocr, pageimage, percents, valueflags, vote
from bmdkit.report.cells import Column, Row, Table
from bmdkit.report.pagefiles import load_pages
from bmdkit.report.rereading import Budget
from bmdkit.samples.real_like import ScreenOptions, render_real_like
from bmdkit.samples.truth import TruthGenerator

# --- the column headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "key"), [
    ("PR (%)", "ya_percent"), ("YA %", "ya_percent"), ("YA(%)", "ya_percent"), ("Young-Adult (%)", "ya_percent"),
    ("青年人(%)", "ya_percent"), ("AM (%)", "am_percent"), ("Age-Matched (%)", "am_percent"),
    ("同龄人(%)", "am_percent"), ("(%)", "percent"), ("YA T-score", "t_score"), ("AM Z-score", "z_score")])
def test_the_young_adult_percent_is_told_from_the_age_matched_one(text: str, key: str) -> None:
    assert labels.header_measure(text) == key


def test_a_bare_percent_sign_beside_a_percent_word_is_its_unit_not_a_column() -> None:
    assert labels.same_column("percent", "ya_percent") and labels.same_column("percent", "am_percent")
    assert not labels.same_column("ya_percent", "am_percent") and not labels.same_column("percent", "t_score")


# --- the decision rule ------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "pct", "want"), [
    (-1.3, 87, percents.FITS),          # below 100: only a negative T
    (1.1, 115, percents.FITS),          # above 100: only a positive score
    (1.3, 87, percents.CONTRADICTS),    # below 100 but kept positive
    (-0.9, 112, percents.CONTRADICTS),
    (-1.3, 99, ""),                     # within PERCENT_MARGIN of 100: rounding decides nothing
    (0.1, 101, ""),
    (-1.8, 7, ""),                      # '77' read as '7': no plausible reference gives it
    (-0.5, 60, ""),                     # far too low for so small a score
])
def test_a_percent_decides_a_sign_only_when_clear_of_100_and_of_a_plausible_size(
        score: float, pct: float, want: str) -> None:
    assert percents.verdict(score, pct) == want


def test_a_percent_whose_lost_leading_one_would_fit_the_other_sign_decides_nothing_without_the_bmd() -> None:
    # T -2.9 and 69%: 169% (its 1 lost) would fit +2.9 for some plausible SD-to-mean ratio
    assert percents.verdict(-2.9, 69) == ""
    # the row's BMD settles it: 0.721 / 0.69 is a young-adult spine mean, 0.721 / 1.69 is none
    means = percents.young_mean_fits(0.721, Region.SPINE_TOTAL)
    assert means is not None and percents.verdict(-2.9, 69, mean_fits=means) == percents.FITS
    # a percent that gives no plausible mean with the row's BMD is a misread: it decides nothing
    assert percents.verdict(-1.3, 87, mean_fits=percents.young_mean_fits(0.4, Region.SPINE_TOTAL)) == ""


def _percent_reading(*looks: tuple[str, str]) -> vote.Reading:
    """A percent cell voted as vote.read_cells votes it, from each engine's reading."""
    return vote.decide([cand(e, t) for e, t in looks], None, True)


def test_only_a_percent_both_engines_read_alike_is_a_witness() -> None:
    kept = disputed("-1.3", "13")
    both = percents._witness("ya_percent", kept, _percent_reading(("rapidocr", "87"), ("tesseract", "87")))
    assert (both.percent, both.verdict) == (87, percents.FITS)
    alone = percents._witness("ya_percent", kept, _percent_reading(("rapidocr", "87"), ("tesseract", "")))
    assert (alone.percent, alone.verdict) == (None, "")
    differ = percents._witness("ya_percent", kept, _percent_reading(("rapidocr", "87"), ("tesseract", "81")))
    assert (differ.percent, differ.verdict) == (None, "")


def test_only_an_open_sign_dispute_asks_for_the_percent() -> None:
    assert percents.sign_in_dispute(disputed("-1.3", "13"), "t_score")
    assert percents.sign_in_dispute(disputed("-1.7", "7", "17"), "t_score")
    assert not percents.sign_in_dispute(sure("-1.3"), "t_score")
    assert not percents.sign_in_dispute(single("-1.3"), "t_score")
    assert not percents.sign_in_dispute(disputed("-1.3", "-1.8"), "t_score")  # a digit, not the sign
    assert not percents.sign_in_dispute(disputed("0.873", "-0.873"), "bmd")


def test_a_percent_header_split_in_two_is_one_column_but_two_tables_worth_are_none() -> None:
    # GE: 'YA' over '(%)' and 'YA' over 'T-score' gave two young-adult columns, nothing between
    split = Table(0.0, [Column("bmd", 422, 509), Column("ya_percent", 608, 651), Column("ya_percent", 755, 773),
                        Column("t_score", 773, 838)], [])
    assert percents._column(split, "ya_percent") == Column("ya_percent", 608, 773)
    two = Table(0.0, [Column("ya_percent", 100, 140), Column("t_score", 160, 200), Column("ya_percent", 300, 340),
                      Column("t_score", 360, 400)], [])
    assert percents._column(two, "ya_percent") is None and percents._column(two, "am_percent") is None


# --- settling the flag ------------------------------------------------------------------------------

def _one_row(t: float) -> tuple[list[RegionResult], list, dict]:
    """An L1-L4 row whose T-score the engines read with different signs, its flag and dispute,
    and nothing else on the page to witness it."""
    rr = RegionResult(Region.SPINE_TOTAL, Method.OCR, bmd=1.022, t_score=t, z_score=1.1)
    disputes: dict = {}
    flags = valueflags.value_flags(rr, {"t_score": disputed(f"{t:g}", f"{-t * 10:g}")}, {"bmd", "t_score"},
                                   sign_disputes=disputes)
    return [rr], flags, disputes


def _with_witness(disputes: dict, pct: float | None, verdict: str) -> dict:
    return {k: d._replace(percent=percents.PercentWitness("ya_percent", pct, (), verdict)) for k, d in disputes.items()}


def test_without_a_witness_the_sign_dispute_stays_for_review() -> None:
    regions, flags, disputes = _one_row(-1.3)
    (key,) = disputes
    assert key == (Region.SPINE_TOTAL, None, "t_score")
    out = valueflags.settle_signs(regions, flags, disputes)
    (f,) = [f for f in out if f.measure == "t_score"]
    assert f.code is FlagCode.ENGINE_DISAGREEMENT and f.level is Severity.REVIEW


def test_a_percent_that_fits_only_the_sign_kept_settles_it_as_a_note() -> None:
    regions, flags, disputes = _one_row(-1.3)
    out = valueflags.settle_signs(regions, flags, _with_witness(disputes, 87, percents.FITS))
    (f,) = [f for f in out if f.measure == "t_score"]
    assert f.level is Severity.INFO
    assert "the young-adult percent printed in its row, 87%" in f.message and "fits only -1.3" in f.message
    assert regions[0].t_score == -1.3  # never changed


def test_a_percent_that_fits_only_the_other_sign_keeps_the_flag_and_says_so() -> None:
    regions, flags, disputes = _one_row(1.3)
    out = valueflags.settle_signs(regions, flags, _with_witness(disputes, 87, percents.CONTRADICTS))
    (f,) = [f for f in out if f.measure == "t_score"]
    assert f.level is Severity.REVIEW
    assert "87%" in f.message and "below 100" in f.message and "fits only -1.3, not the 1.3 kept" in f.message
    assert regions[0].t_score == 1.3  # the percent witnesses; it never changes a value


def test_a_percent_that_contradicts_the_sign_outweighs_the_sites_other_rows() -> None:
    # three vertebrae and the total on one line: the site's rows alone would settle L1-L4's sign
    rows = [RegionResult(v, Method.OCR, bmd=b, t_score=t) for v, b, t in
            ((Region.L1, 0.90, -1.5), (Region.L2, 0.95, -1.0), (Region.L3, 1.00, -0.6))]
    total = RegionResult(Region.SPINE_TOTAL, Method.OCR, bmd=0.96, t_score=-0.9)
    disputes: dict = {}
    flags = valueflags.value_flags(total, {"t_score": disputed("-0.9", "9")}, {"t_score"}, sign_disputes=disputes)
    settled = valueflags.settle_signs([*rows, total], flags, disputes)
    assert [f.level for f in settled if f.measure == "t_score"] == [Severity.INFO]
    kept_review = valueflags.settle_signs([*rows, total], flags, _with_witness(disputes, 109, percents.CONTRADICTS))
    (f,) = [f for f in kept_review if f.measure == "t_score"]
    assert f.level is Severity.REVIEW and "above 100" in f.message


def test_a_percent_that_decides_nothing_leaves_the_flag_as_it_was() -> None:
    regions, flags, disputes = _one_row(-1.3)
    out = valueflags.settle_signs(regions, flags, _with_witness(disputes, 99, ""))
    assert [f.message for f in out] == [f.message for f in flags]
    assert all(f.level is Severity.REVIEW for f in out if f.measure == "t_score")


# --- a GE-like page at screen resolution, read by the real engines ----------------------------------

ENGINES = ["rapidocr", "tesseract"]


GePage = tuple[np.ndarray, Table, dict[str, str], float, float]


@pytest.fixture(scope="module")
def ge_page(tmp_path_factory: pytest.TempPathFactory) -> GePage:
    """A GE enCORE-like spine page (YA % and AM % columns), laid out by the layout engine: the
    image read, the results table, the L1-L4 row's printed YA % and AM %, T and Z."""
    if not set(ENGINES) <= set(ocr.available_engines()):
        pytest.skip("both OCR engines are needed")
    truth = TruthGenerator(8).exam(vendor="ge_lunar", scan_type="spine")  # L1-L4: T -1.3 (86%), Z 0.9 (113%)
    page = render_real_like(truth, "ge_encore", "png90", ScreenOptions(), 1)
    path = page.save(Path(tmp_path_factory.mktemp("pct")) / f"page{page.suffix}")
    (pg,) = load_pages(path, DEFAULT_OPTIONS, None, "png")
    read = pageimage.read_image_page(pg, ENGINES, DEFAULT_OPTIONS, Budget())
    (tab,) = [t for t in read.layout.tables if any(r.levels and len(r.levels) == 4 for r in t.rows)]
    printed = {c.cell.measure: c.cell.text for c in page.cells if c.cell.region == "L1-L4"}
    total = next(r for r in truth.contract_regions() if r.region == "L1-L4")
    return read.image, tab, printed, float(total.t_score), float(total.z_score)  # type: ignore[arg-type]


def _total_row(tab: Table) -> Row:
    return next(r for r in tab.rows if r.levels and len(r.levels) == 4)


def test_the_rendered_header_names_both_percent_columns(ge_page: GePage) -> None:
    _, tab, printed, _, _ = ge_page
    kinds = [c.measure for c in tab.columns]
    assert "ya_percent" in kinds and "am_percent" in kinds
    assert kinds.index("ya_percent") < kinds.index("t_score") < kinds.index("am_percent") < kinds.index("z_score")
    assert "ya_pct" in printed and "am_pct" in printed


def test_the_percent_cells_of_a_disputed_row_are_read_and_witness_the_signs(ge_page: GePage) -> None:
    image, tab, printed, t, z = ge_page
    row = _total_row(tab)
    kept = {"bmd": sure(row.cells["bmd"].text), "t_score": disputed(f"{t:g}", f"{-t * 10:g}"),
            "z_score": disputed(f"{z:g}", f"{-z:g}")}
    assert percents.sign_in_dispute(kept["t_score"], "t_score") and percents.sign_in_dispute(kept["z_score"], "z_score")
    (got,) = percents.witnesses(tab, [(row, kept)], image, ENGINES)
    assert got["t_score"].column == "ya_percent" and got["t_score"].percent == float(printed["ya_pct"])
    assert got["z_score"].column == "am_percent" and got["z_score"].percent == float(printed["am_pct"])
    assert got["t_score"].verdict == percents.FITS and got["z_score"].verdict == percents.FITS
    # the same percents with the other sign kept: they contradict it
    flipped = {"bmd": kept["bmd"], "t_score": disputed(f"{-t:g}", f"{t * 10:g}")}
    (got,) = percents.witnesses(tab, [(row, flipped)], image, ENGINES)
    assert got["t_score"].percent == float(printed["ya_pct"]) and got["t_score"].verdict == percents.CONTRADICTS


def test_a_row_without_a_sign_dispute_reads_no_percent(ge_page: GePage, monkeypatch: pytest.MonkeyPatch) -> None:
    image, tab, _, t, z = ge_page
    row = _total_row(tab)
    calls: list[int] = []
    real = vote.read_cells

    def counted(*args: object, **kwargs: object) -> list[vote.Reading]:  # the real vote, counted
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vote, "read_cells", counted)
    rds = {"bmd": sure(row.cells["bmd"].text), "t_score": sure(f"{t:g}"), "z_score": sure(f"{z:g}")}
    assert percents.witnesses(tab, [(row, rds)], image, ENGINES) == [{}]
    assert calls == []
    assert percents.witnesses(tab, [(row, {"t_score": disputed(f"{t:g}", f"{-t * 10:g}")})], image, ENGINES)[0]
    assert calls == [1]


@pytest.fixture(scope="module")
def apex_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, Table, dict[str, str], float]:
    """A Hologic APEX-like dual-hip page (PR (%) and AM (%) after the T- and Z-score) of an
    osteoporotic hip: the image read, the table, the left total hip's printed percents and T."""
    if not set(ENGINES) <= set(ocr.available_engines()):
        pytest.skip("both OCR engines are needed")
    truth = TruthGenerator(7).exam(vendor="hologic", scan_type="hip_dual")  # total hip left: T -2.8, PR 62%
    page = render_real_like(truth, "hologic_apex", "png90", ScreenOptions(), 1)
    path = page.save(Path(tmp_path_factory.mktemp("apex")) / f"page{page.suffix}")
    (pg,) = load_pages(path, DEFAULT_OPTIONS, None, "png")
    read = pageimage.read_image_page(pg, ENGINES, DEFAULT_OPTIONS, Budget())
    (tab,) = [t for t in read.layout.tables if "ya_percent" in t.measures]
    printed = {c.cell.measure: c.cell.text for c in page.cells if (c.cell.region, c.cell.side) == ("total_hip", "left")}
    left = next(r for r in truth.contract_regions() if (r.region, r.side) == ("total_hip", "left"))
    return read.image, tab, printed, float(left.t_score)  # type: ignore[arg-type]


def test_a_hologic_pr_column_witnesses_a_low_t_score_with_the_rows_bmd(
        apex_page: tuple[np.ndarray, Table, dict[str, str], float]) -> None:
    image, tab, printed, t = apex_page
    kinds = [c.measure for c in tab.columns]
    assert kinds.index("t_score") < kinds.index("ya_percent") < kinds.index("z_score") < kinds.index("am_percent")
    row = next(r for r in tab.rows if r.region is Region.TOTAL_HIP and r.side is not None and r.side.value == "left")
    kept = {"bmd": sure(row.cells["bmd"].text), "t_score": disputed(f"{t:g}", f"{-t * 10:g}")}
    (got,) = percents.witnesses(tab, [(row, kept)], image, ENGINES)
    pct = float(printed["pr_pct"])
    assert got["t_score"].column == "ya_percent" and got["t_score"].percent == pct
    # so low a percent with so low a T-score: 1xx% with its 1 lost would fit +T, were it not that
    # the row's BMD over 1xx% is no young-adult mean; the BMD decides it
    assert percents.verdict(t, pct) == "" and got["t_score"].verdict == percents.FITS
    # without a BMD both engines read alike the percent decides nothing
    (got,) = percents.witnesses(tab, [(row, {"t_score": kept["t_score"]})], image, ENGINES)
    assert got["t_score"].percent == pct and got["t_score"].verdict == ""
