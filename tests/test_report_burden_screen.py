"""Issue 19 on screen-resolution tables (GE Lunar's ~90 ppi pages): review burden from evidence
the reader did not use before, each piece tested where it must hold and where it must not.

- a value cell read again without the slivers of the rows above and below it
  (cellcrop.value_crop): tesseract read almost nothing on tight screen rows, so one engine
  alone backed most values;
- a spine combination row's BMC and area are the sums of its vertebrae's within print rounding
  (sums.confirm_by_sum);
- a misread side word ('Total Rught') whose side the table's other rows of the region leave no
  doubt about (rows.resolve_labels: "paired"), and never where they leave it open.

Pure decisions on readings first, then cells drawn with Pillow at screen size and read by
tesseract (the real engine).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.readings import cand as _cand
from helpers.readings import disputed as _disputed
from helpers.readings import single as _single
from helpers.readings import sure as _sure
from PIL import Image, ImageDraw

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Method, Region, RegionResult, Side
from bmdkit.report import cellcrop, labels, ocr, rows, sums, valueflags, vote
from bmdkit.report.cells import Line, Row, Table
from bmdkit.report.numbers import parse_number
from bmdkit.report.tokens import Token
from bmdkit.samples.report_page.fonts import pil_font

# --- a spine combination is the sum of its vertebrae ----------------------------------------------

#: GE enCORE-like spine rows: BMC and area of L1..L4 and of L1-L4 (the sums, rounded as printed)
_BMC = {"L1": "7.50", "L2": "9.76", "L3": "11.84", "L4": "11.25", "L1-L4": "40.36"}
_AREA = {"L1": "8.46", "L2": "9.20", "L3": "10.40", "L4": "11.40", "L1-L4": "39.47"}


def _rows(disputed: dict[tuple[str, str], vote.Reading]) -> tuple[dict[str, vote.Reading], list[dict[str, vote.Reading]]]:
    def row(k: str) -> dict[str, vote.Reading]:
        return {m: disputed.get((k, m), _sure(src[k])) for m, src in (("bmc", _BMC), ("area", _AREA))}
    return row("L1-L4"), [row(k) for k in ("L1", "L2", "L3", "L4")]


def test_a_combination_value_one_engine_alone_read_is_settled_by_the_sum_of_its_vertebrae() -> None:
    total, parts = _rows({("L1-L4", "bmc"): _single("40.36"), ("L1-L4", "area"): _disputed("39.47", "3", "28")})
    got = sums.confirm_by_sum(total, parts)
    assert got == [total["bmc"], total["area"]]
    for rd in got:
        sums.settle(rd)
        assert not rd.single and not rd.disagreement and rd.conf >= vote.MIN_CONFIDENCE
        assert "sum of its vertebrae" in rd.settled
    region = RegionResult(Region.SPINE_TOTAL, Method.OCR, bmc=40.36, area=39.47)
    flags = [f for f in valueflags.value_flags(region, total, {"bmc", "area"}) if f.measure in ("bmc", "area")]
    assert flags and all(f.level is Severity.INFO for f in flags)


def test_a_vertebra_value_in_dispute_is_settled_by_the_combination_and_the_other_vertebrae() -> None:
    total, parts = _rows({("L1", "bmc"): _disputed("7.50", "73")})
    assert sums.confirm_by_sum(total, parts) == [parts[0]["bmc"]]


@pytest.mark.parametrize("case", [
    {("L1-L4", "bmc"): _single("40.46")},                          # a digit misread: not the sum
    {("L1-L4", "bmc"): _single("40.39")},                          # beyond the parts' print rounding
    {("L1-L4", "bmc"): _single("40.36"), ("L2", "bmc"): _single("9.76")},   # two values in doubt
    {("L1-L4", "area"): _disputed("39.47", "39.46")},              # a rival reading fits as well
    {("L1-L4", "bmc"): _single("40.4")},                           # printed to other decimals: no fit
])
def test_a_value_the_sum_does_not_single_out_stays_in_doubt(case: dict[tuple[str, str], vote.Reading]) -> None:
    total, parts = _rows(case)
    assert sums.confirm_by_sum(total, parts) == []


# --- a misread side word the table's rows leave no doubt about -------------------------------------

def _tok(text: str, y: int) -> Token:
    return Token(text, (10, y, 10 + 10 * len(text), y + 20), 0.9, "rapidocr")


def _line(label: str, y: int, meaning: tuple[object, object]) -> Line:
    vals = [Token("0.777", (200, y, 250, y + 20), 0.9, "rapidocr"), Token("-1.8", (300, y, 340, y + 20), 0.9, "rapidocr")]
    return Line(label, [_tok(label, y)], vals, meaning)  # type: ignore[arg-type]


class _NoReread:
    def read_boxes(self, boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        return [[] for _ in boxes]


@pytest.mark.parametrize(("label", "others", "how"), [
    # a Mean row is of one Left and one Right row: the misread row is the missing side
    ("Total Rught", [("Total Left", (Region.TOTAL_HIP, Side.LEFT)), ("Total Mean", (Region.TOTAL_HIP, Side.MEAN))],
     "paired"),
    ("Total Lent", [("Total Right", (Region.TOTAL_HIP, Side.RIGHT)), ("Total Mean", (Region.TOTAL_HIP, Side.MEAN))],
     "paired"),
    # GE prints a Left - Right difference row under the pair: no side of its own
    ("Total Lent", [("Total Right", (Region.TOTAL_HIP, Side.RIGHT)), ("Total Mean", (Region.TOTAL_HIP, Side.MEAN)),
                    ("Total Diff.", (Region.TOTAL_HIP, "diff"))], "paired"),
    # the other side's own label was misread too, and both engines' readings agreed on it
    ("Total Rught", [("Total Lest", (Region.TOTAL_HIP, Side.LEFT), "agreed"),
                     ("Total Mean", (Region.TOTAL_HIP, Side.MEAN))], "paired"),
    # ... but a row placed by one engine's guess is no witness
    ("Total Rught", [("Total Lest", (Region.TOTAL_HIP, Side.LEFT), "approximate"),
                     ("Total Mean", (Region.TOTAL_HIP, Side.MEAN))], "approximate"),
    # every other region has one Left and one Right row
    ("Total Rught", [("Neck Left", (Region.FEMORAL_NECK, Side.LEFT)), ("Neck Right", (Region.FEMORAL_NECK, Side.RIGHT)),
                     ("Total Left", (Region.TOTAL_HIP, Side.LEFT))], "paired"),
    # the table leaves the side open: only the other side of the region, no other region to tell
    ("Total Rught", [("Total Left", (Region.TOTAL_HIP, Side.LEFT))], "approximate"),
    # another region has one side only: the table is no Left/Right pairing
    ("Total Rught", [("Neck Left", (Region.FEMORAL_NECK, Side.LEFT)), ("Total Left", (Region.TOTAL_HIP, Side.LEFT))],
     "approximate"),
    # the region's rows read are the Mean alone: Left or Right both fit
    ("Total Rught", [("Total Mean", (Region.TOTAL_HIP, Side.MEAN))], "approximate"),
    # the region word itself misread: the table does not make up for it
    ("Tota Rught", [("Total Left", (Region.TOTAL_HIP, Side.LEFT)), ("Total Mean", (Region.TOTAL_HIP, Side.MEAN))],
     None),
])
def test_a_misread_side_word_is_a_note_only_where_the_table_leaves_one_side(
        label: str, others: list[tuple[object, ...]], how: str | None) -> None:
    body = []
    for k, (lab, m, *how_read) in enumerate(others):
        body.append(_line(lab, 10 + 30 * k, m))
        body[-1].how = how_read[0] if how_read else "page"
    lost = _line(label, 10 + 30 * len(others), (None, None))
    body.append(lost)
    rows.resolve_labels(body, 150, _NoReread())
    if how is None:
        assert lost.how != "paired"
        return
    assert lost.how == how
    want = labels.misread_side_word(label)
    assert want is not None and lost.meaning == want


def test_a_paired_label_is_a_note_and_a_guessed_one_a_review_item() -> None:
    tab = Table(header_y=0.0, columns=[], rows=[])
    for how, severity in (("paired", Severity.INFO), ("approximate", None)):
        row = Row(label="Total Rught", region=Region.TOTAL_HIP, side=Side.RIGHT, levels=None, excluded=False,
                  label_read=how)
        rr = RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.RIGHT, bmd=0.8)
        (flag,) = valueflags.row_label_flags(rr, row, tab, 1)
        assert flag.code is FlagCode.LABEL_UNCERTAIN and flag.side is Side.RIGHT
        assert (flag.level is Severity.INFO) == (severity is Severity.INFO), how


@pytest.mark.parametrize(("label", "want"), [
    ("Total Rught", (Region.TOTAL_HIP, Side.RIGHT)),
    ("Neck Lent", (Region.FEMORAL_NECK, Side.LEFT)),
    ("Total Right", None),        # nothing misread
    ("Tota1 Right", None),        # the region word misread, not the side
    ("Total", None),              # no side word at all
])
def test_a_misread_side_word_beside_an_exact_region(label: str, want: tuple[Region, Side] | None) -> None:
    assert labels.misread_side_word(label) == want


# --- a cell read on its own line of print ----------------------------------------------------------

needs_tesseract = pytest.mark.skipif("tesseract" not in ocr.available_engines(), reason="needs tesseract")

_VALUES = ["0.886", "-2.0", "1.061", "-1.2", "1.138", "-0.5", "0.987", "-1.8", "1.022", "-1.3", "11.84", "40.36"]


def _screen_column(values: list[str], px: int = 11, up: float = 2.6) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A column of values as small antialiased screen type (font size ``px``, rows one font size
    apart, as GE prints its tables at ~90 ppi), enlarged ``up`` times as the reader enlarges a
    screen page; and each value's box in the enlarged image, a little taller than its ink as the
    layout engine gives it."""
    img = Image.new("L", (6 * px, px * (len(values) + 2)), 255)
    d = ImageDraw.Draw(img)
    f = pil_font("dejavu-sans", False, px)
    boxes = []
    for k, v in enumerate(values):
        x, y = px, px * (k + 1)
        d.text((x, y), v, font=f, fill=40)
        x0, y0, x1, y1 = d.textbbox((x, y), v, font=f)
        m = 0.15 * (y1 - y0)
        boxes.append((int(x0 * up), int((y0 - m) * up), int(x1 * up), int((y1 + m) * up)))
    big = img.resize((int(img.width * up), int(img.height * up)), Image.Resampling.BICUBIC)
    return np.asarray(big), boxes


def test_a_value_crop_keeps_its_own_line_and_paints_the_neighbours_paper() -> None:
    image, boxes = _screen_column(_VALUES)
    for b in boxes[1:-1]:
        padded, own = cellcrop.crop(image, b), cellcrop.value_crop(image, b)
        assert padded.shape == own.shape
        top = b[1] - max(0, int(b[1] - 0.3 * max(b[3] - b[1], 8)))
        inside = slice(top, top + b[3] - b[1])
        assert np.array_equal(padded[inside], own[inside])  # every mark of the value is kept
        assert padded.min(axis=1)[:2].min() < 200          # the padding takes in the row above
        assert own[:2].min() > 200 and own[-2:].min() > 200  # ... and is paper now
    blank = np.full((40, 80), 255, np.uint8)
    assert cellcrop.own_line_only(blank) is blank


@pytest.mark.slow
@needs_tesseract
def test_tesseract_reads_tight_screen_rows_cut_to_their_own_line() -> None:
    image, boxes = _screen_column(_VALUES)
    got = [t for t, _ in ocr.tesseract_crops([cellcrop.value_crop(image, b) for b in boxes])]
    exact = sum(g == v for g, v in zip(got, _VALUES))
    same_digits = sum(g.replace(".", "") == v.replace(".", "") for g, v in zip(got, _VALUES))
    assert exact >= len(_VALUES) - 2, got
    assert same_digits >= len(_VALUES) - 1, got


# --- a closer look that lost only the decimal point -------------------------------------------------

@pytest.mark.parametrize(("kept", "look", "confirms"), [
    ("0.5", "05", True),      # every digit and the sign: the column's decimals put the point back
    ("-1.7", "-17", True),
    ("0.886", "0886", True),
    ("0.5", "0.5", True),     # exactly
    ("0.5", "5", False),      # a digit lost, not only the point
    ("-1.7", "17", False),    # the minus lost: a sign dispute, not a confirmation
    ("1.7", "-17", False),    # a minus gained
    ("0.5", "06", False),     # another digit
    ("0.5", "0.50", False),   # other decimals
])
def test_a_closer_look_confirms_the_kept_digits_and_sign(kept: str, look: str, confirms: bool) -> None:
    p = parse_number(kept)
    assert p is not None and p.value is not None
    assert vote._matches_kept(_cand("tesseract+alone", look), p.value, p) is confirms


# --- an impossible score never outvotes a plausible reading -----------------------------------------

def test_an_impossible_score_is_never_kept_over_a_plausible_reading() -> None:
    from bmdkit.report import repairs

    # a photo: tesseract read the minus as a 7 twice, RapidOCR read -1.3 and, enlarged, 1.3
    rd = vote.decide([_cand("rapidocr", "-1.3"), _cand("tesseract", "71.3"), _cand("tesseract+reread", "71.3"),
                      _cand("rapidocr+reread", "1.3")], 1, True)
    assert rd.value == 71.3 and rd.disagreement  # the vote alone keeps the impossible reading
    repairs.impossible_never_kept(rd, 1, "t_score")
    assert rd.value == -1.3 and rd.disagreement and rd.conf < vote.MIN_CONFIDENCE  # still for review
    assert rd.engines == ("rapidocr",)
    # nothing plausible to take instead: the impossible value stays, disputed, for its own flags
    alone = vote.decide([_cand("rapidocr", "71.3"), _cand("tesseract", "71.3")], 1, True)
    repairs.impossible_never_kept(alone, 1, "t_score")
    assert alone.value == 71.3
    # a plausible score is left alone
    fine = vote.decide([_cand("rapidocr", "-1.3"), _cand("tesseract", "-1.8")], 1, True)
    repairs.impossible_never_kept(fine, 1, "t_score")
    assert fine.value == -1.3
