"""Rows, headings and headers whose words OCR misread, and pages still tilted after deskew.

Pure functions on tokens first (fast), then files drawn with Pillow and read
with both real engines (slow): a misspelled row label is read and flagged
for review, and a tilted page's values land in their rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from bmdkit.flags import FlagCode
from bmdkit.model import Region, Side
from bmdkit.report import labels, preprocess
from bmdkit.report.layout import find_tables
from bmdkit.report.lines import residual_skew
from bmdkit.report.tokens import Box, Token


class _Texts:
    """A CropReader (bmdkit.report.cells) answering from a function: the tests' stand-in
    for re-reading crops of a page."""

    def __init__(self, fn: Callable[[list[Box]], list[list[str]]]) -> None:
        self.fn = fn

    def read_boxes(self, boxes: list[Box]) -> list[list[str]]:
        return self.fn(boxes)
from bmdkit.samples.report_page.fonts import pil_font


@pytest.mark.parametrize(("label", "region", "side"), [
    ("股骨预", Region.FEMORAL_NECK, None),        # 颈 read as 预
    ("全", Region.TOTAL_HIP, None),               # 髋 lost
    ("右总", Region.TOTAL_HIP, Side.RIGHT),
    ("Ward三鱼", Region.WARDS, None),
    ("股骨预左", Region.FEMORAL_NECK, Side.LEFT),
    ("Neck Mcan", Region.FEMORAL_NECK, Side.MEAN),
    ("Tota1", Region.TOTAL_HIP, None),
    ("L1（排除）", Region.L1, None),  # not fuzzy: the full-width exclusion mark is stripped
])
def test_a_misread_label_is_taken_as_its_nearest_label_word(label: str, region: Region, side: Side | None) -> None:
    if region.is_vertebra:
        assert labels.split_label(label) == ((region,), side) and labels.fuzzy_label(label) is None
    else:
        assert labels.fuzzy_label(label) == (region, side)


def test_digits_before_a_level_are_a_misread_not_a_level() -> None:
    assert labels.split_label("12-L4") == (None, None)  # 'L1-L4' misread: not L4
    assert labels.split_label("腰椎L1")[0] == (Region.L1,)


@pytest.mark.parametrize("label", ["L2", "LZ", "L1-L3", "Arms", "Legs", "Trunk", "Head", "Spine", "t", "1.23",
                                   "Total Body", "Pelvis"])
def test_levels_and_other_words_are_never_guessed(label: str) -> None:
    assert labels.fuzzy_label(label) is None


def test_a_side_alone_is_guessed_only_under_a_region_heading() -> None:
    assert labels.fuzzy_label("Lefl") is None
    assert labels.fuzzy_label("Lefl", side_only=True) == (None, Side.LEFT)
    # equally near two meanings: no guess
    assert labels.edit_distance("rt", "lt") == 1 and labels.fuzzy_label("xt", side_only=True) is None


@pytest.mark.parametrize(("text", "side"), [("右航", Side.RIGHT), ("左航", Side.LEFT), ("Lcft Hip", Side.LEFT),
                                            ("Rigt Femur", Side.RIGHT), ("左", None), ("股骨颈", None),
                                            ("WHO分类：正常", None)])
def test_misread_hip_headings(text: str, side: Side | None) -> None:
    assert labels.fuzzy_heading_side(text) == side


@pytest.mark.parametrize(("text", "key"), [("(g/cm²)", "bmd"), ("(g/m)", "bmd"), ("(g)", "bmc"), ("(cm²)", "area"),
                                           ("特矿含量(g)", "bmc"), ("(%)", None), ("BMD", None)])
def test_units_name_columns(text: str, key: str | None) -> None:
    assert labels.unit_measure(text) == key


def _line(y: int, words: list[str], xs: list[int], slope: float = 0.0) -> list[Token]:
    return [Token(w, (x, int(y + slope * x), x + 10 * len(w), int(y + slope * x) + 20), 0.95, "t")
            for w, x in zip(words, xs)]


XS = [20, 200, 320, 440]


def _table(total_label: str) -> list[Token]:
    return (_line(0, ["Region", "BMD", "T-score", "Z-score"], XS)
            + _line(40, ["Neck", "0.712", "-2.1", "-0.9"], XS)
            + _line(80, [total_label, "0.801", "-1.5", "-0.4"], XS))


def test_a_table_row_with_a_misread_label_is_read_and_marked_approximate() -> None:
    (t,), _ = find_tables(_table("Tota1"))
    total = next(r for r in t.rows if r.region is Region.TOTAL_HIP)
    assert total.label_read == "approximate" and total.cells["bmd"].text == "0.801"
    assert t.unread_rows == []


def test_a_second_reading_of_the_label_crop_decides_and_contradictions_leave_it_unread() -> None:
    asked: list[tuple[int, int, int, int]] = []

    def reread(boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        asked.extend(boxes)
        return [["Total"] for _ in boxes]

    (t,), _ = find_tables(_table("T0taI"), _Texts(reread))
    total = next(r for r in t.rows if r.region is Region.TOTAL_HIP)
    assert total.label_read == "reread" and asked == [(20, 80, 70, 100)]

    (t,), _ = find_tables(_table("Xq"), _Texts(lambda boxes: [["Total", "Neck"] for _ in boxes]))
    assert [r.region for r in t.rows] == [Region.FEMORAL_NECK] and t.unread_rows == ["Xq"]


def test_a_guess_that_repeats_another_row_is_refused() -> None:
    (t,), _ = find_tables(_table("Nek"))  # nearest word: Neck, which the table already has
    assert [r.region for r in t.rows] == [Region.FEMORAL_NECK] and t.unread_rows == ["Nek"]


def test_a_misread_heading_gives_the_side_and_is_marked() -> None:
    toks = [Token("右航", (20, -60, 60, -40), 0.9, "t")] + _table("Total")
    (t,), _ = find_tables(toks)
    assert t.heading_side is Side.RIGHT and t.heading_approx


def test_a_header_word_misread_over_its_unit_still_names_the_column() -> None:
    xs = [20, 150, 280, 400, 520]
    toks = (_line(0, ["部位", "面积", "特矿含量", "骨密度", "T值"], xs)
            + _line(24, ["(cm²)", "(g)", "(g/cm²)"], xs[1:4])
            + _line(64, ["股骨颈", "5.12", "3.06", "0.598", "-2.7"], xs))
    (t,), _ = find_tables(toks)
    assert [k for k, _, _ in t.columns] == ["region", "area", "bmc", "bmd", "t_score"]
    assert {k: c.text for k, c in t.rows[0].cells.items()} == {"area": "5.12", "bmc": "3.06", "bmd": "0.598",
                                                               "t_score": "-2.7"}


def test_residual_skew_is_measured_from_the_words() -> None:
    toks = [t for k in range(6) for t in _line(40 * k, ["Neck", "0.712", "-2.1", "-0.9"], XS, slope=0.05)]
    assert residual_skew(toks) == pytest.approx(0.05, abs=0.01)
    flat = [t for k in range(6) for t in _line(40 * k, ["Neck", "0.712", "-2.1", "-0.9"], XS)]
    assert residual_skew(flat) == 0.0


def test_prepared_page_boxes_map_back_to_the_page_as_given() -> None:
    """A mark found in the prepared (deskewed, rescaled) image is located on the original page."""
    page = np.full((900, 700), 255, np.uint8)
    for y in range(80, 860, 40):  # text-like lines so the deskew has something to judge
        cv2.line(page, (60, y), (640, y), 0, 3)
    cv2.rectangle(page, (300, 400), (360, 440), 0, -1)
    m = cv2.getRotationMatrix2D((350, 450), 3.0, 1.0)
    tilted = cv2.warpAffine(page, m, (700, 900), borderValue=255)
    ys, xs = np.nonzero(cv2.erode(255 - tilted, np.ones((15, 15), np.uint8)))
    want = (xs.min(), ys.min(), xs.max(), ys.max())  # the square's core on the page as given
    prep = preprocess.prepare(tilted, max_pixels=10**8, is_render=True)
    assert prep.scale > 1.5 and abs(prep.skew_deg) > 2
    ys, xs = np.nonzero(cv2.erode(255 - prep.with_lines, np.ones((25, 25), np.uint8)))
    got = preprocess.map_box(prep.to_page, (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())))
    assert all(abs(a - b) <= 8 for a, b in zip(got, want)), (got, want)


def test_rotate_with_boxes_moves_boxes_with_the_page() -> None:
    img = np.full((400, 600), 255, np.uint8)
    cv2.rectangle(img, (100, 100), (140, 120), 0, -1)
    turned, (box,) = preprocess.rotate_with_boxes(img, 5.0, [(100, 100, 140, 120)])
    ys, xs = np.nonzero(turned < 128)
    assert abs((xs.min() + xs.max()) / 2 - (box[0] + box[2]) / 2) <= 2
    assert abs((ys.min() + ys.max()) / 2 - (box[1] + box[3]) / 2) <= 2
    back = preprocess.map_box(np.linalg.inv(preprocess.rotation_matrix(img.shape, 5.0)), box)
    assert abs(back[0] - 100) <= 4 and abs(back[1] - 100) <= 4
    k1 = preprocess.rot90_matrix((400, 600), 1)
    assert tuple((k1 @ np.array([599.0, 0.0, 1.0]))[:2]) == (0.0, 0.0)  # top right corner -> top left


def _draw_page(rows: list[tuple[str, str, str, str]], tilt_deg: float, only: str | None = None) -> Image.Image:
    """A plain results page, turned by ``tilt_deg``; ``only``: draw just that word (to find where it lands)."""
    img = Image.new("L", (1700, 1100), 255)
    d = ImageDraw.Draw(img)
    f = pil_font("dejavu-sans", False, 34)
    if only is None:
        d.text((120, 90), "Hologic Discovery  DXA Results Summary   Scan date: 2026-03-14", font=f, fill=0)
    xs = [120, 560, 860, 1160]
    for k, words in enumerate([("Region", "BMD (g/cm²)", "T-score", "Z-score"), *rows]):
        for x, w in zip(xs, words):
            if only is None or w == only:
                d.text((x, 260 + 70 * k), w, font=f, fill=0)
    return img.rotate(tilt_deg, resample=Image.BICUBIC, expand=True, fillcolor=255)


@pytest.mark.slow
def test_a_misspelled_row_label_on_a_tilted_page_is_read_and_flagged(tmp_path: Path) -> None:
    from bmdkit.read import read_file

    rows = [("Neck", "0.712", "-2.1", "-0.9"), ("Trochanter", "0.655", "-1.6", "-0.5"),
            ("Totl", "0.801", "-1.5", "-0.4")]  # "Total" misprinted: what a misread label looks like
    p = tmp_path / "tilted.png"
    _draw_page(rows, 10.0).save(p)  # the page deskew searches 6 degrees: the words' slope must finish it
    exam = read_file(p)
    neck, total = exam.region(Region.FEMORAL_NECK), exam.region(Region.TOTAL_HIP)
    assert neck is not None and (neck.bmd, neck.t_score, neck.z_score) == (0.712, -2.1, -0.9)
    assert total is not None and (total.bmd, total.t_score, total.z_score) == (0.801, -1.5, -0.4)
    assert [f.code for f in exam.flags if f.region == "total_hip"] == [FlagCode.LABEL_UNCERTAIN]
    assert not any(f.region == "femoral_neck" and f.level.value != "info" for f in exam.flags)
    # the box points at 0.712 on the page as given (tilted), not on the straightened copy
    ink = np.asarray(_draw_page(rows, 10.0, only="0.712")) < 128
    ys, xs = np.nonzero(ink)
    x0, y0, x1, y1 = neck.sources["bmd"].location.box
    inside = ink[max(y0, 0):y1, max(x0, 0):x1].sum() / ink.sum()
    assert inside > 0.9 and (x1 - x0) < 2.5 * (xs.max() - xs.min()), (neck.sources["bmd"].location.box,
                                                                         (xs.min(), ys.min(), xs.max(), ys.max()))


def _hologic_hip(neck_heading: str | None, troch_heading: str) -> list[Token]:
    xs = [20, 200, 320]
    toks = _line(0, ["Region", "BMD", "T-score"], xs)
    y = 40
    for heading, rows in ((neck_heading, [("Left", "0.901", "0.0"), ("Right", "0.885", "-0.1")]),
                          (troch_heading, [("Left", "0.711", "-0.4"), ("Right", "0.722", "-0.3")]),
                          ("Total", [("Left", "0.980", "-0.1"), ("Right", "0.953", "-0.3")])):
        if heading is not None:
            toks += _line(y, [heading], xs[:1])
        y += 40  # a lost heading still leaves its line's space
        for r in rows:
            toks += _line(y, list(r), xs)
            y += 40
    return toks


def test_a_misread_heading_does_not_end_the_table() -> None:
    (t,), _ = find_tables(_hologic_hip("Neck", "Trocl"))
    got = {(r.region, r.side): r.label_read for r in t.rows}
    assert got[(Region.TROCHANTER, Side.LEFT)] == "approximate"
    assert got[(Region.TOTAL_HIP, Side.RIGHT)] == "page" and got[(Region.FEMORAL_NECK, Side.LEFT)] == "page"


def test_a_heading_line_ocr_lost_is_read_again_in_its_band() -> None:
    asked: list[tuple[int, int, int, int]] = []

    def reread(boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        asked.extend(boxes)
        return [["Neck"] for _ in boxes]

    (t,), _ = find_tables(_hologic_hip(None, "Troch"))
    assert (Region.FEMORAL_NECK, Side.LEFT) not in {(r.region, r.side) for r in t.rows}
    assert t.unread_rows == ["Left", "Right"]
    (t,), _ = find_tables(_hologic_hip(None, "Troch"), _Texts(reread))
    assert asked == [(20, 20, 194, 80)]  # between the header and the first side row, left of the numbers
    got = {(r.region, r.side): r.label_read for r in t.rows}
    assert got[(Region.FEMORAL_NECK, Side.LEFT)] == "reread" and got[(Region.FEMORAL_NECK, Side.RIGHT)] == "reread"
    assert got[(Region.TROCHANTER, Side.LEFT)] == "page"


def test_each_of_two_hip_tables_takes_the_heading_just_above_it() -> None:
    toks = (_line(-40, ["Right", "Hip"], [20, 90]) + _table("Total")
            + [Token(t.text, (t.box[0], t.box[1] + 200, t.box[2], t.box[3] + 200), t.conf, t.engine)
               for t in _line(-40, ["Left", "Hip"], [20, 90]) + _table("Total")])
    for guess in (True, False):  # an OCR page and a text layer alike
        tables, _ = find_tables(toks, guess=guess)
        assert [t.heading_side for t in tables] == [Side.RIGHT, Side.LEFT]
        assert not any(t.heading_approx for t in tables)


def test_a_lost_heading_after_the_first_group_is_asked_for_when_a_side_repeats() -> None:
    asked: list[tuple[int, int, int, int]] = []

    def reread(boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        asked.extend(boxes)
        return [["Troch"] for _ in boxes]

    (t,), _ = find_tables(_hologic_hip("Neck", None), _Texts(reread))
    # the second 'Left' starts a new group: the band above it (its heading's line) is read again
    assert asked == [(20, 140, 194, 200)]  # below the first group's last row, above the second Left
    got = {(r.region, r.side): (r.label_read, r.cells["bmd"].text) for r in t.rows}
    assert got[(Region.TROCHANTER, Side.LEFT)] == ("reread", "0.711")
    assert got[(Region.FEMORAL_NECK, Side.LEFT)] == ("page", "0.901")


@pytest.mark.parametrize(("text", "taken", "key"), [
    ("传矿含量", set(), "bmc"), ("骨密虔", set(), "bmd"), ("面枳", set(), "area"),
    ("值", {"z_score"}, "t_score"), ("值", {"t_score"}, "z_score"),
    ("值", set(), None),                # one edit from T值 and from Z值: no guess
    ("bmc", {"bmd"}, None),             # spelled right and an exact word of its own: not this function's
    ("bme", set(), None),               # short Latin words allow no edit: 'bme' could be bmd or bmc
    ("T值", {"t_score"}, None),         # already a column
    ("(%)", set(), None), ("PR", set(), None),
])
def test_a_misread_header_word_is_taken_as_the_nearest_free_measure(text: str, taken: set[str],
                                                                    key: str | None) -> None:
    got = labels.fuzzy_measure(text, taken)
    assert got == key or (text == "bmc" and got in (None, "bmc")), got


def _hologic_zh(t_header: str) -> list[Token]:
    xs = [20, 150, 280, 400, 520, 640]
    return (_line(0, ["部位", "面积", "骨矿含量", "骨密度", "PR"], xs[:4] + xs[5:])
            + _line(24, ["(cm²)", "(g)", "(g/cm²)", t_header, "(%)"], xs[1:])
            + _line(64, ["股骨颈", "5.12", "3.06", "0.598", "-2.7", "71"], xs)
            + _line(104, ["总计", "30.10", "25.20", "0.837", "-1.0", "88"], xs))


def test_a_column_whose_header_ocr_lost_is_named_by_a_second_reading() -> None:
    # OCR read 'T值' as '值': the column's header lines are read again on their crops
    asked: list[tuple[int, int, int, int]] = []

    def reread(boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        asked.extend(boxes)
        return [["T值" if b[1] == 24 else "", ""] for b in boxes]

    (t,), _ = find_tables(_hologic_zh("值"))
    assert "t_score" not in {k for k, _, _ in t.columns} and t.unplaced == 2
    (t,), _ = find_tables(_hologic_zh("值"), _Texts(reread))
    assert [k for k, _, _ in t.columns][:5] == ["region", "area", "bmc", "bmd", "t_score"]
    assert t.reread_columns == {"t_score": "reread"} and t.unplaced == 0
    assert {r.region: r.cells["t_score"].text for r in t.rows} == {Region.FEMORAL_NECK: "-2.7",
                                                                    Region.TOTAL_HIP: "-1.0"}
    assert all(b[0] <= 520 <= b[2] for b in asked) and {b[1] for b in asked} == {0, 24}

    # readings that name two measures name none; a reading one edit from the only free measure is approximate
    (t,), _ = find_tables(_hologic_zh("值"), _Texts(lambda boxes: [["T值", "Z值"] for _ in boxes]))
    assert "t_score" not in t.reread_columns
    (t,), _ = find_tables(_hologic_zh("值"), _Texts(lambda boxes: [["T直" if b[1] == 24 else ""] for b in boxes]))
    assert t.reread_columns == {"t_score": "approximate"}


def _spine(l4_label: str) -> list[Token]:
    xs = [20, 200, 320]
    return (_line(0, ["Region", "BMD", "T-score"], xs)
            + _line(40, ["L2", "0.984", "-1.1"], xs) + _line(80, ["L3", "0.931", "-1.5"], xs)
            + _line(120, [l4_label, "0.882", "-2.0"], xs) + _line(160, ["L2-L4", "0.930", "-1.6"], xs))


def test_a_vertebra_whose_l_was_read_as_a_one_is_placed_by_its_neighbours() -> None:
    assert labels.confused_level("14") is Region.L4 and labels.confused_level("I2") is Region.L2
    assert labels.confused_level("L4") is None and labels.confused_level("15") is None
    assert labels.confused_level("24") is None and labels.confused_level("1.4") is None
    (t,), _ = find_tables(_spine("14"))
    l4 = next(r for r in t.rows if r.levels == (Region.L4,))
    assert l4.label_read == "approximate" and l4.cells["bmd"].text == "0.882"
    # '12' after L3 is not L2 (that row is there) and not in sequence: left unread, never guessed
    (t,), _ = find_tables(_spine("12"))
    assert [r.levels for r in t.rows if r.levels and len(r.levels) == 1] == [(Region.L2,), (Region.L3,)]
    assert t.unread_rows == ["12"]


def test_a_single_hip_table_takes_the_side_the_page_names_far_from_it() -> None:
    # 髋 misread, and a chart between the heading and the table
    far = [Token("左脑骨密度", (20, -900, 140, -880), 0.9, "t")] + [Token(f"{v:.1f}", (20, y, 50, y + 20), 0.9, "t")
                                                                   for v, y in ((1.2, -600), (1.0, -400), (0.8, -200))]
    (t,), _ = find_tables(far + _table("Total"))
    assert t.heading_side is Side.LEFT and t.heading_approx
    both = far + [Token("Right Hip", (20, 900, 140, 920), 0.9, "t")]  # two sides named: none taken
    (t,), _ = find_tables(both + _table("Total"))
    assert t.heading_side is None
    (t,), _ = find_tables(far + _table("Total"), guess=False)  # a text layer is read as it is
    assert t.heading_side is None


@pytest.mark.parametrize(("text", "key"), [("骨密度(g/cm-)", "bmd"), ("骨矿含量(R)", "bmc"), ("面积(cm²)", "area"),
                                           ("骨密度(g)", None),  # the unit names another measure: no
                                           ("(g/cm²)", None), ("青年人(%)", "ya_percent")])
def test_a_header_word_names_its_column_whatever_its_unit_was_read_as(text: str, key: str | None) -> None:
    assert labels.header_measure(text) == key


def test_first_line_columns_that_stacking_loses_are_kept() -> None:
    # GE Lunar (zh): the BMD word over a misread unit, and a word over a unit OCR split in two
    top = _line(0, ["部位", "骨密度", "青年人", "同龄人", "骨矿含量", "面积"], [20, 150, 280, 540, 800, 930])
    bottom = _line(24, ["(g/cm-)", "(%)", "T值", "(%)", "Z值", "(R)", "(", "am)"],
                   [150, 280, 410, 540, 670, 800, 925, 945])
    body = _line(64, ["股骨颈左", "0.700", "76", "-1.9", "103", "0.2", "3.47", "4.96"],
                 [20, 150, 280, 410, 540, 670, 800, 930])
    (t,), _ = find_tables(top + bottom + body)
    assert [k for k, _, _ in t.columns] == ["region", "bmd", "ya_percent", "t_score", "am_percent", "z_score", "bmc", "area"]
    assert {k: c.text for k, c in t.rows[0].cells.items()} == {"bmd": "0.700", "t_score": "-1.9", "z_score": "0.2",
                                                               "bmc": "3.47", "area": "4.96"}


def _shifted(toks: list[Token], dy: int) -> list[Token]:
    return [Token(t.text, (t.box[0], t.box[1] + dy, t.box[2], t.box[3] + dy), t.conf, t.engine) for t in toks]


def test_a_hip_table_whose_heading_was_lost_beside_the_other_hip_is_that_hip() -> None:
    # Norland: a table per hip; the first heading lost entirely, the second read
    toks = _table("Total") + _shifted(_line(-40, ["Left", "Hip"], [20, 90]) + _table("Total"), 200)
    tables, _ = find_tables(toks)
    assert [(t.heading_side, t.heading_approx) for t in tables] == [(Side.RIGHT, True), (Side.LEFT, False)]
    # a second table of other regions (a trend table, say) is not taken for the other hip
    other = _line(0, ["Region", "BMD", "T-score", "Z-score"], XS) + _line(40, ["Troch", "0.612", "-1.1", "-0.2"], XS)
    tables, _ = find_tables(other + _shifted(_line(-40, ["Left", "Hip"], [20, 90]) + _table("Total"), 200))
    assert tables[0].heading_side is None


def test_a_side_word_alone_just_above_the_header_is_the_heading() -> None:
    (t,), _ = find_tables(_line(-40, ["右"], [20]) + _table("Total"))  # 右髋 with 髋 lost
    assert (t.heading_side, t.heading_approx) == (Side.RIGHT, True)
    (t,), _ = find_tables(_line(-40, ["Right", "forearm"], [20, 200]) + _table("Total"))  # not alone: no
    assert t.heading_side is None


def test_a_header_whose_first_line_words_ocr_lost_is_found_by_its_units() -> None:
    # GE Lunar (zh) with 骨密度 and 骨矿含量 lost and 面积 misread: units and T值 on the second line name the columns
    top = _line(0, ["部位", "青年人", "同龄人", "而积"], [20, 280, 540, 930])
    bottom = _line(24, ["(g/cm²)", "(%)", "T值", "(%)", "乙值", "(g)", "(cm²)"], [150, 280, 410, 540, 670, 800, 930])
    body = _line(64, ["总计右", "0.971", "98", "-0.1", "110", "0.7", "36.84", "37.95"],
                 [20, 150, 280, 410, 540, 670, 800, 930])
    (t,), _ = find_tables(top + bottom + body)
    assert [k for k, _, _ in t.columns] == ["region", "bmd", "ya_percent", "t_score", "am_percent", "z_score", "bmc", "area"]
    assert t.reread_columns == {"z_score": "approximate"}  # '乙值': one edit from Z值 (T值 is a column)
    assert {k: c.text for k, c in t.rows[0].cells.items()} == {"bmd": "0.971", "t_score": "-0.1", "z_score": "0.7",
                                                               "bmc": "36.84", "area": "37.95"}
    # a line of units alone above the first row is not a header's first line
    units_first = bottom + _shifted(body, 0)
    assert find_tables(units_first)[0] == []


def test_a_units_line_read_as_a_row_does_not_hide_the_header_lines_from_a_second_reading() -> None:
    # '(9)' (for '(g)') parses as a number, so the units line enters the body: the header's
    # second line must still be read again above a column whose header OCR lost
    xs = [20, 150, 280, 400, 520, 640]
    toks = (_line(0, ["部位", "面积", "骨矿含量", "骨密度", "PR"], xs[:4] + xs[5:])
            + _line(24, ["(cm²)", "(9)", "(g/cm²)", "值", "(%)"], xs[1:])
            + _line(64, ["股骨颈", "5.12", "3.06", "0.598", "-2.7", "71"], xs)
            + _line(104, ["总计", "30.10", "25.20", "0.837", "-1.0", "88"], xs))
    asked: list[tuple[int, int, int, int]] = []

    def reread(boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        asked.extend(boxes)
        return [["T值" if b[1] == 24 else ""] for b in boxes]

    (t,), _ = find_tables(toks, _Texts(reread))
    assert {b[1] for b in asked} == {0, 24} and t.reread_columns == {"t_score": "reread"}


def test_a_column_named_by_the_nearest_header_word_flags_its_own_values_only() -> None:
    """A header guessed from the nearest free word puts in doubt the values of that column, not
    every value on the page: each row's values in it are flagged, the other columns (named by
    headers read exactly) are not, and the table's own flag is a note."""
    from bmdkit.flags import Severity
    from bmdkit.model import Method, RegionResult
    from bmdkit.report.reading import table_flags
    from bmdkit.report.valueflags import label_flags

    (t,), _ = find_tables(_hologic_zh("值"), _Texts(lambda boxes: [["T直" if b[1] == 24 else ""] for b in boxes]))
    assert t.reread_columns == {"t_score": "approximate"}
    (page_flag,) = [f for f in table_flags(t, 1) if f.code is FlagCode.LABEL_UNCERTAIN]
    assert page_flag.level is Severity.INFO and page_flag.region is None
    neck = next(r for r in t.rows if r.region is Region.FEMORAL_NECK)
    rr = RegionResult(Region.FEMORAL_NECK, Method.OCR, bmd=0.598, bmc=3.06, area=5.12, t_score=-2.7)
    (f,) = label_flags(rr, neck, t, 1)
    assert f.code is FlagCode.LABEL_UNCERTAIN and f.level is Severity.REVIEW
    assert f.covers("femoral_neck", None, "t_score")
    assert not any(f.covers("femoral_neck", None, m) for m in ("bmd", "bmc", "area"))
    assert "T-score" in f.message or "t-score" in f.message.lower()
    # a row with nothing in the guessed column has nothing in doubt
    assert label_flags(rr.replace(t_score=None), neck, t, 1) == []
