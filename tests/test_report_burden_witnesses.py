"""Issue 19: a flag fires only where a value is in doubt. Each review flag these rules turn into a
note is replaced by evidence the value is right:

- a minus the engines disputed, that the cell's own pixels show (cellcrop.leading_minus), where
  the site's rows fit it (valueflags.settle_signs);
- a Mean row's BMD, BMC or area that is the mean of its Left and Right values both engines read
  alike (repairs.confirm_by_mean), and a value one engine alone read that BMD = BMC / area backs
  (repairs.confirm_by_ratio);
- a misread row label that two engines' own readings of its crop both come nearest to
  (rows.resolve_labels: "agreed").

And the closer looks keep to the page's time budget (reading.read_table with the page's
PageRereader). Pure decisions on real readings first, then cells drawn with Pillow, then a page
read by both real engines (slow).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers.readings import disputed as _disputed
from helpers.readings import single as _single
from helpers.readings import sure as _sure
from PIL import Image, ImageDraw

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Method, Region, RegionResult, Side
from bmdkit.options import ReadOptions
from bmdkit.report import cellcrop, ocr, reading, repairs, rows, valueflags, vote
from bmdkit.report.cells import Line
from bmdkit.report.rereading import Budget, PageRereader
from bmdkit.samples.report_page.fonts import pil_font

# --- a Mean row is the mean of its sides ----------------------------------------------------------

def test_a_mean_row_value_one_engine_read_is_settled_by_both_sides_read_alike() -> None:
    mean = {"bmc": _single("22.34"), "area": _disputed("28.34", "34", "2834")}
    left, right = {"bmc": _sure("21.93"), "area": _sure("28.22")}, {"bmc": _sure("22.76"), "area": _sure("28.46")}
    assert repairs.confirm_by_mean(mean, left, right) == ["bmc", "area"]
    for rd in mean.values():
        assert not rd.single and not rd.disagreement and rd.conf >= vote.MIN_CONFIDENCE
        assert "mean of the left and right values" in rd.settled
    region = RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.MEAN, bmc=22.34, area=28.34)
    flags = [f for f in valueflags.value_flags(region, mean, {"bmc", "area"}) if f.measure in ("bmc", "area")]
    assert {f.measure for f in flags} == {"bmc", "area"} and all(f.level is Severity.INFO for f in flags)


@pytest.mark.parametrize(("kept", "left", "right"), [
    ("22.84", "21.93", "22.76"),   # a digit misread: not their mean
    ("0.790", "0.777", "0.800"),   # off by two in the last digit: beyond print rounding
    ("22.3", "21.93", "22.76"),    # printed to other decimals than its sides
])
def test_a_mean_row_value_that_is_not_the_mean_stays_flagged(kept: str, left: str, right: str) -> None:
    m = "bmc" if "." in kept and len(kept.split(".")[1]) != 3 else "bmd"
    mean = {m: _single(kept)}
    assert repairs.confirm_by_mean(mean, {m: _sure(left)}, {m: _sure(right)}) == []
    assert mean[m].single and mean[m].conf < vote.MIN_CONFIDENCE


def test_a_mean_needs_both_sides_read_alike_and_no_rival_that_fits_too() -> None:
    # the left side is itself one engine's reading: no witness
    assert repairs.confirm_by_mean({"bmd": _single("0.788")}, {"bmd": _single("0.777")},
                                   {"bmd": _sure("0.800")}) == []
    # a rival reading of the cell fits the mean as well (0.789 against 0.788 for 0.7885): no choice
    rd = _disputed("0.788", "0.789")
    assert repairs.confirm_by_mean({"bmd": rd}, {"bmd": _sure("0.777")}, {"bmd": _sure("0.800")}) == []
    assert rd.disagreement
    # T- and Z-scores are no mean of their sides (recomputed from the mean BMD): never settled so
    rd = _single("-1.7")
    assert repairs.confirm_by_mean({"t_score": rd}, {"t_score": _sure("-1.8")}, {"t_score": _sure("-1.6")}) == []


def test_bmd_equal_to_bmc_over_area_settles_a_value_one_engine_alone_read() -> None:
    rds = {"bmd": _sure("0.886"), "bmc": _single("13.47"), "area": _sure("15.20")}
    assert repairs.confirm_by_ratio(rds) == "bmc"
    assert not rds["bmc"].single and "BMD = BMC / area" in rds["bmc"].settled
    (f,) = valueflags.value_flags(RegionResult(Region.L1, Method.OCR, bmd=0.886, bmc=13.47, area=15.2),
                                  {"bmc": rds["bmc"]}, {"bmc"})[:1]
    assert f.level is Severity.INFO and f.code is FlagCode.LOW_CONFIDENCE and "only one of the two" in f.message.lower()
    wrong = {"bmd": _sure("0.886"), "bmc": _single("18.47"), "area": _sure("15.20")}
    assert repairs.confirm_by_ratio(wrong) is None and wrong["bmc"].single


# --- a minus the pixels show ---------------------------------------------------------------------

def _cell(text: str, px: int = 15, scale: int = 1) -> np.ndarray:
    """One score drawn as small screen type (``px`` high), grey, with paper around it."""
    img = Image.new("L", (8 * px, 3 * px), 255)
    ImageDraw.Draw(img).text((2 * px, px // 2), text, font=pil_font("dejavu-sans", False, px), fill=0)
    a = np.asarray(img)
    return np.asarray(Image.fromarray(a).resize((a.shape[1] * scale, a.shape[0] * scale))) if scale > 1 else a


@pytest.mark.parametrize("px", [11, 13, 15, 20])
@pytest.mark.parametrize("scale", [1, 3])
def test_a_leading_minus_is_seen_in_the_pixels_and_no_minus_is_invented(px: int, scale: int) -> None:
    for neg in ("-0.8", "-1.2", "-2.5", "-0.4", "\u22120.7"):
        assert cellcrop.leading_minus(_cell(neg, px, scale)) is True, neg
    for pos in ("0.8", "1.2", "2.5", "0.4", "4.1", "7.0"):
        assert cellcrop.leading_minus(_cell(pos, px, scale)) is not True, pos


def test_marks_that_are_no_minus_are_not_taken_for_one() -> None:
    # an underscore (a flat mark on the baseline) and a blank cell
    assert cellcrop.leading_minus(_cell("_0.8")) is not True
    assert cellcrop.leading_minus(np.full((40, 120), 255, np.uint8)) is None
    # a long rule through the middle of the cell, left of the digits: too wide for a minus
    a = _cell("0.8").copy()
    a[a.shape[0] // 2: a.shape[0] // 2 + 2, : 2 * 15 - 2] = 0
    assert cellcrop.leading_minus(a) is not True


def _sign_dispute(raw: str) -> vote.Reading:
    """rapidocr read the minus, tesseract the same digits without it."""
    rd = _disputed(raw, raw.lstrip("-"), raw.lstrip("-").replace(".", ""))
    rd.sign_only = True
    return rd


def _hips(z: dict[Side, float]) -> list[RegionResult]:
    bmd = {Side.LEFT: 0.835, Side.RIGHT: 0.840, Side.MEAN: 0.838}
    return [RegionResult(Region.TOTAL_HIP, Method.OCR, side=s, bmd=bmd[s], z_score=v) for s, v in z.items()]


def test_a_sign_the_pixels_show_is_a_note_where_the_sites_rows_fit_it() -> None:
    z = {Side.LEFT: -0.8, Side.RIGHT: -0.7, Side.MEAN: -0.7}
    regions = _hips(z)
    disputes: dict = {}
    flags = []
    for r in regions:
        rd = _sign_dispute(f"{z[r.side]:.1f}")  # type: ignore[index]
        rd.minus_in_print = r.side is not Side.RIGHT
        flags += [f for f in valueflags.value_flags(r, {"z_score": rd}, {"z_score"}, sign_disputes=disputes)
                  if f.measure == "z_score"]
    assert all(f.level is Severity.REVIEW for f in flags) and len(disputes) == 3
    out = valueflags.settle_signs(regions, flags, disputes)
    by_side = {f.side: f for f in out}
    assert by_side[Side.LEFT].level is Severity.INFO and "print shows a minus" in by_side[Side.LEFT].message
    assert by_side[Side.MEAN].level is Severity.INFO
    assert by_side[Side.RIGHT].level is Severity.REVIEW  # no witness of its own


def test_a_sign_the_pixels_show_alone_on_its_site_stays_for_review() -> None:
    (r,) = _hips({Side.LEFT: -0.8})
    rd = _sign_dispute("-0.8")
    rd.minus_in_print = True
    disputes: dict = {}
    flags = [f for f in valueflags.value_flags(r, {"z_score": rd}, {"z_score"}, sign_disputes=disputes)
             if f.measure == "z_score"]
    assert [f.level for f in valueflags.settle_signs([r], flags, disputes)] == [Severity.REVIEW]


# --- a label two engines agree on ------------------------------------------------------------------

class _Crops:
    """Stands in for PageRereader.read_boxes: each box's readings, one per engine (rapidocr, tesseract)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def read_boxes(self, boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        return [list(self.texts) for _ in boxes]


def _body(label: str) -> list[Line]:
    from bmdkit.report.tokens import Token

    def tok(text: str, x: int, y: int) -> Token:
        return Token(text, (x, y, x + 10 * len(text), y + 20), 0.9, "rapidocr")

    placed = Line("Neck Left", [tok("Neck Left", 10, 10)], [tok("0.741", 200, 10), tok("-2.0", 300, 10)],
                  (Region.FEMORAL_NECK, Side.LEFT))
    lost = Line(label, [tok(label, 10, 40)], [tok("0.777", 200, 40), tok("-1.8", 300, 40)], (None, None))
    return [placed, lost]


@pytest.mark.parametrize(("texts", "how"), [
    (["Total Let", "Total Lett"], "agreed"),      # both engines' own misreadings come nearest Total Left
    (["Toal Let", ""], "approximate"),            # one engine alone: a guess, for review
    (["Total Let", "Total Rlght"], None),         # the readings guess two meanings: left unread
])
def test_a_misread_label_is_settled_only_where_two_engines_agree(texts: list[str], how: str | None) -> None:
    body = _body("Total Lest")
    rows.resolve_labels(body, 150, _Crops(texts))
    lost = body[1]
    if how is None:
        assert not lost.placed
        return
    assert lost.meaning == (Region.TOTAL_HIP, Side.LEFT) and lost.how == how


# --- the closer looks keep to the page's time budget ------------------------------------------------

needs_both = pytest.mark.skipif(not {"tesseract", "rapidocr"} <= set(ocr.available_engines()),
                                reason="needs both OCR engines")


def _spine() -> np.ndarray:
    """A spine table whose L3 BMD prints without its decimal point (read again on its crop)."""
    img = Image.new("L", (1500, 700), 255)
    d = ImageDraw.Draw(img)
    f = pil_font("dejavu-sans", False, 34)
    lines = [("Region", "BMD (g/cm²)", "T-score", "Z-score"), ("L1", "0.880", "-1.8", "-0.9"),
             ("L2", "0.890", "-1.8", "-0.8"), ("L3", "1358", "2.3", "2.9"), ("L4", "0.950", "-1.4", "-0.5"),
             ("Total", "1.030", "-0.6", "0.2")]
    for k, words in enumerate(lines):
        for x, w in zip((100, 500, 800, 1100), words):
            d.text((x, 80 + 70 * k), w, font=f, fill=0)
    return np.asarray(img)


@pytest.mark.slow
@needs_both
@pytest.mark.parametrize("spent", [True, False])
def test_closer_looks_stop_past_the_pages_soft_time_budget(spent: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from bmdkit.report.layout import find_tables

    image = _spine()
    engines = ["rapidocr", "tesseract"]
    now = time.monotonic()
    budget = Budget(soft=now - 1.0) if spent else Budget(soft=now + 600.0)
    rereader = PageRereader(image, engines, ReadOptions(ocr_engines=tuple(engines)), budget)
    (tab,) = [t for t in find_tables(rereader.page_tokens("rapidocr"), rereader).tables if t.rows]
    looked: list[int] = []
    real = vote.closer_look

    def counted(crop: np.ndarray, engines: list[str]) -> list[vote.Candidate]:
        looked.append(1)
        return real(crop, engines)

    monkeypatch.setattr(vote, "closer_look", counted)
    got = reading.read_table(tab, image, engines, 1, np.eye(3), rereader)
    (l3,) = [pr.readings["bmd"] for pr in got if pr.row.levels == (Region.L3,)]
    if spent:
        # nothing read again: the value stays flagged (a restored point no closer look confirmed)
        assert looked == [] and "not done" in l3.reread
        assert l3.disagreement and l3.conf < vote.MIN_CONFIDENCE
    else:
        assert looked and "tesseract" in l3.reread
