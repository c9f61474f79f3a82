"""Unit tests of the report reader's text rules: numbers, labels, dates (no OCR)."""

from __future__ import annotations

import datetime as dt

import pytest

from bmdkit.model import Region, Side
from bmdkit.report import exam_facts, labels
from bmdkit.report.layout import find_tables
from bmdkit.report.numbers import parse_number
from bmdkit.report.tokens import Token


@pytest.mark.parametrize("text,value,decimals", [
    ("-1.2", -1.2, 1), ("\u22121.2", -1.2, 1), ("\u20130.8", -0.8, 1), ("0,835", 0.835, 3),
    ("O.835", 0.835, 3), ("l.2", 1.2, 1), ("12.66", 12.66, 2), ("0.9027", 0.9027, 4), ("109", 109.0, 0),
    (".1.5", -1.5, 1),  # a faint minus read as a point: a number has one decimal point
    ("0.712 g/cm²", 0.712, 3), ("-2.1†", -2.1, 1), ("0.801¹", 0.801, 3), ("12.10 cm2", 12.1, 2),
])
def test_numbers_parse_with_repairs(text: str, value: float, decimals: int) -> None:
    p = parse_number(text)
    assert p is not None and p.value == value and p.decimals == decimals


@pytest.mark.parametrize("text", ["-", "\u2014", "--"])
def test_a_printed_dash_is_blank_not_zero(text: str) -> None:
    p = parse_number(text)
    assert p is not None and p.blank and p.value is None


@pytest.mark.parametrize("text", ["Neck", "Left", "T", "L1", "1.2.3", ""])
def test_words_are_not_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize("header,key", [
    ("BMD (g/cm\u00b2)", "bmd"), ("骨密度(g/cm²)", "bmd"), ("Area (cm2)", "area"), ("面积", "area"),
    ("BMC (g)", "bmc"), ("骨矿含量", "bmc"), ("T-score", "t_score"), ("Young-Adult T-score", "t_score"),
    ("T值", "t_score"), ("T-值", "t_score"), ("Z-score", "z_score"), ("Z值", "z_score"),
    ("PR (%)", "ya_percent"), ("YA %", "ya_percent"), ("Region", "region"), ("部位", "region"),
])
def test_headers_map_to_measures(header: str, key: str) -> None:
    assert labels.measure_of(header) == key


@pytest.mark.parametrize("label,region,side", [
    ("L1", (Region.L1,), None), ("Ll", (Region.L1,), None), ("L2-L4", (Region.L2, Region.L3, Region.L4), None),
    ("腰椎L1*", (Region.L1,), None), ("L1,L3", (Region.L1, Region.L3), None),
    ("Neck Left", Region.FEMORAL_NECK, Side.LEFT), ("Total Mean", Region.TOTAL_HIP, Side.MEAN),
    ("左股骨颈", Region.FEMORAL_NECK, Side.LEFT), ("右全髋", Region.TOTAL_HIP, Side.RIGHT),
    ("髋部总体", Region.TOTAL_HIP, None), ("Troch", Region.TROCHANTER, None), ("Right", None, Side.RIGHT),
    ("Femoral Neck (L)", Region.FEMORAL_NECK, Side.LEFT), ("Neck-Right", Region.FEMORAL_NECK, Side.RIGHT),
    ("股骨颈(左)", Region.FEMORAL_NECK, Side.LEFT), ("全髋（右）", Region.TOTAL_HIP, Side.RIGHT),
    ("股骨颈 Neck", Region.FEMORAL_NECK, None), ("全髋 Total Hip", Region.TOTAL_HIP, None),
    ("左 Left 股骨颈 Neck", Region.FEMORAL_NECK, Side.LEFT),
    ("股骨颈 Troch", None, None),  # the two languages disagree: no region
    ("|Diff.|", None, "diff"), ("Inter-troch", Region.INTERTROCHANTER, None),
])
def test_row_labels(label: str, region: object, side: object) -> None:
    assert labels.split_label(label) == (region, side)


def test_exclusion_marks() -> None:
    assert labels.is_excluded_mark("L1*") and labels.is_excluded_mark("L1 (excluded)")
    assert not labels.is_excluded_mark("L1")


@pytest.mark.parametrize("line", [
    "Scan Date: 2026-03-14", "Scan Date: 03/14/2026", "Exam date 14.03.2026", "检查日期: 2026年3月14日",
    "Scan Date: 14-Mar-2026", "检查日期：2026/03/14",
])
def test_exam_date_forms(line: str) -> None:
    found = exam_facts.find_exam_date(["DOB: 1950-01-02", line])
    assert found.date == dt.date(2026, 3, 14) and not found.ambiguous


def test_ambiguous_day_month_is_reported() -> None:
    found = exam_facts.find_exam_date(["Scan Date: 03/04/2026"])
    assert found.ambiguous and set(found.alternatives) == {dt.date(2026, 3, 4), dt.date(2026, 4, 3)}


def test_birth_date_is_not_the_exam_date() -> None:
    assert exam_facts.find_exam_date(["Birth date: 1950-01-02"]).date is None


def test_vendor_and_model() -> None:
    assert exam_facts.find_vendor("HOLOGIC Horizon W APEX 13.6") == "hologic"
    assert exam_facts.find_vendor("GE Healthcare Lunar iDXA") == "ge_lunar"
    assert exam_facts.find_model("Scanner: Lunar Prodigy Advance (S/N 1)") == "Lunar Prodigy Advance"


def test_a_minus_set_apart_stays_with_its_number() -> None:
    from bmdkit.report.lines import group_lines, split_tokens
    from bmdkit.report.tokens import Token

    toks = [Token("Neck - 1.2 0.5", (0, 0, 140, 20), 0.9, "t"), Token("L1", (0, 40, 20, 60), 1.0, "t"),
            Token("-", (100, 40, 108, 60), 1.0, "t"), Token("0.8", (110, 40, 140, 60), 1.0, "t"),
            Token("-", (200, 40, 208, 60), 1.0, "t"), Token("95", (260, 40, 290, 60), 1.0, "t")]
    texts = [t.text for line in group_lines(split_tokens(toks)) for t in line]
    assert texts == ["Neck", "-1.2", "0.5", "L1", "-0.8", "-", "95"]


def test_label_csv_rows_all_cite_a_source() -> None:
    from bmdkit import reference

    rows = reference.table("report_labels")
    assert rows and all(r["source"] for r in rows)
    assert {r["kind"] for r in rows} >= {"measure", "region", "side", "vendor", "excluded"}


def _cand(engine: str, text: str, conf: float = 0.95) -> object:
    from bmdkit.report.vote import Candidate

    return Candidate(engine, text, conf, parse_number(text))


def test_vote_agreement_is_confident() -> None:
    from bmdkit.report.vote import MIN_CONFIDENCE, decide

    r = decide([_cand("rapidocr", "-1.2"), _cand("tesseract", "-1.2")], 1, True)  # type: ignore[list-item]
    assert r.value == -1.2 and not r.disagreement and r.conf >= MIN_CONFIDENCE
    assert r.engines == ("rapidocr", "tesseract")


def test_vote_sign_conflict_keeps_the_minus_and_flags() -> None:
    from bmdkit.report.vote import decide

    cands = [_cand("rapidocr", "1.2", 0.99), _cand("tesseract", "-1.2", 0.6),
             _cand("rapidocr+reread", "1.2", 0.99), _cand("tesseract+reread", "1.2", 0.9)]
    r = decide(cands, 1, True)  # type: ignore[arg-type]
    assert r.value == -1.2 and r.disagreement


def test_vote_lost_decimal_point_backs_digits_not_value() -> None:
    from bmdkit.report.vote import decide

    r = decide([_cand("rapidocr", "-2.3"), _cand("tesseract", "-23")], 1, True)  # type: ignore[list-item]
    assert r.value == -2.3 and not r.disagreement
    r = decide([_cand("rapidocr", "-23"), _cand("tesseract", "-23")], 1, True)  # type: ignore[list-item]
    assert r.conf < 0.75  # both lost the point: the column says 1 decimal, so not trusted


def test_regions_implied_but_not_read_are_flagged() -> None:
    from bmdkit.flags import FlagCode
    from bmdkit.model import Method, RegionResult
    from bmdkit.report.regions import unread_regions as _unread_regions

    def rr(region: Region, side: Side | None = None, **kw: object) -> RegionResult:
        return RegionResult(region=region, side=side, method=Method.OCR, bmd=0.8, **kw)  # type: ignore[arg-type]

    spine = {(v, None): rr(v) for v in (Region.L2, Region.L3, Region.L4)}
    spine[(Region.SPINE_TOTAL, None)] = rr(Region.SPINE_TOTAL, vertebrae=(Region.L1, Region.L2, Region.L3, Region.L4))
    flags = _unread_regions(spine)
    assert [(f.code, f.region) for f in flags] == [(FlagCode.REGION_NOT_READ, "L1")]
    hips = {(Region.FEMORAL_NECK, Side.LEFT): rr(Region.FEMORAL_NECK, Side.LEFT),
            (Region.TROCHANTER, Side.LEFT): rr(Region.TROCHANTER, Side.LEFT)}
    assert [(f.code, f.region) for f in _unread_regions(hips)] == [(FlagCode.REGION_NOT_READ, "total_hip")]
    only_totals = {(Region.TOTAL_HIP, Side.LEFT): rr(Region.TOTAL_HIP, Side.LEFT)}
    assert _unread_regions(only_totals) == []  # Lunar main pages print only the totals


def _line(y: int, words: list[str], xs: list[int]) -> list[Token]:
    return [Token(w, (x, y, x + 8 * len(w), y + 20), 0.95, "t") for w, x in zip(words, xs)]


def test_rows_with_numbers_under_an_unknown_label_are_reported_not_dropped() -> None:
    xs = [20, 200, 320, 440]
    toks = (_line(0, ["Region", "BMD", "T-score", "Z-score"], xs)
            + _line(40, ["Neck", "0.712", "-2.1", "-0.9"], xs)
            + _line(80, ["Meam", "0.733", "-1.9", "-0.7"], xs)  # a misread "Mean"
            + _line(120, ["Total", "0.801", "-1.5", "-0.4"], xs)
            + _line(160, ["1", "See appendices"], [20, 60]))  # a footnote with one number
    tables, _ = find_tables(toks)
    assert len(tables) == 1
    t = tables[0]
    assert [r.region.value for r in t.rows if r.region] == ["femoral_neck", "total_hip"]
    assert t.unread_rows == ["Meam"]


def _words(y: int, cells: list[str], xs: list[int]) -> list[Token]:
    out = []
    for text, x in zip(cells, xs):
        for w in text.split(" "):
            out.append(Token(w, (x, y, x + 9 * len(w), y + 18), 0.95, "t"))
            x += 9 * len(w) + 6
    return out


@pytest.mark.parametrize("header", [["部位 Region", "骨密度 BMD", "T值 T-score", "Z值 Z-score"],
                                    ["Region", "BMD g/cm2", "T-Score", "Z-Score"]])
def test_a_column_named_twice_in_its_header_is_one_column(header: list[str]) -> None:
    xs = [20, 220, 380, 540]
    toks = (_words(0, header, xs) + _words(40, ["股骨颈 Neck", "0.712", "-2.1", "-0.9"], xs)
            + _words(80, ["全髋 Total Hip", "0.801", "-1.5", "-0.4"], xs))
    (t,), _ = find_tables(toks)
    assert [k for k, _, _ in t.columns] == ["region", "bmd", "t_score", "z_score"]
    assert [(r.region, r.cells["bmd"].text, r.cells["t_score"].text) for r in t.rows] == [
        (Region.FEMORAL_NECK, "0.712", "-2.1"), (Region.TOTAL_HIP, "0.801", "-1.5")]


def _tok(text: str, x: int, y: int) -> Token:
    return Token(text, (x, y, x + 9 * len(text), y + 18), 0.95, "t")


def test_labels_wrapped_onto_two_lines_name_their_rows_and_do_not_end_the_table() -> None:
    head = [_tok("Region", 20, 0), _tok("BMD", 200, 0), _tok("T-score", 320, 0)]
    rows = [  # 'Femoral' above its values' line, 'Hip' below, 'Upper' beside its values and 'Neck' below
        _tok("Femoral", 20, 40), _tok("Neck", 20, 60), _tok("0.712", 200, 60), _tok("-2.1", 320, 60),
        _tok("Total", 20, 100), _tok("0.801", 200, 100), _tok("-1.5", 320, 100), _tok("Hip", 20, 120),
        _tok("Upper", 20, 160), _tok("0.655", 200, 160), _tok("-2.4", 320, 160), _tok("Neck", 20, 180),
        _tok("Troch", 20, 220), _tok("0.601", 200, 220), _tok("-1.5", 320, 220),
    ]
    (t,), _ = find_tables(head + rows)
    assert [(r.region, r.cells["bmd"].text) for r in t.rows] == [
        (Region.FEMORAL_NECK, "0.712"), (Region.TOTAL_HIP, "0.801"), (Region.UPPER_NECK, "0.655"),
        (Region.TROCHANTER, "0.601")]
    assert t.unread_rows == []
