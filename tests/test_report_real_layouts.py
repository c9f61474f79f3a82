"""What real vendor screenshots taught the layout stages (issue 22), on word boxes as OCR gives
them: GE Lunar's two-line headers (YA over T-score, AM over Z-score, with the % columns between
them), a column named only by a unit that another column's word already names, the vendor's
footer far below the table, rows the vocabulary knows are no result of ours (T12, whole-body
and forearm regions), and a whole-body page's 'Total' rows."""

from __future__ import annotations

from bmdkit.model import Region
from bmdkit.report import headers, layout, scope
from bmdkit.report.cells import Column
from bmdkit.report.tokens import Token

H = 14  # text height in pixels, as on a 90 ppi page enlarged for OCR


def _line(y: int, words: list[tuple[str, int]]) -> list[Token]:
    """Tokens of one text line: (text, left x), each 8 px a character wide."""
    return [Token(t, (x, y, x + 8 * len(t), y + H), 0.95, "rapidocr") for t, x in words]


# GE Lunar enCORE: Region | BMD (g/cm²) | YA (%) | YA T-score | AM (%) | AM Z-score, two lines
_TOP = [("BMD", 300), ("YA", 420), ("YA", 520), ("AM", 640), ("AM", 740)]
_BOTTOM = [("Region", 40), ("(g/cm²)", 280), ("(%)", 416), ("score", 510), ("(%)", 636), ("Z-soore", 730)]


def _row(y: int, label: str, values: list[str]) -> list[Token]:
    xs = (300, 420, 520, 640, 740)
    return _line(y, [(label, 40)] + [(v, x) for v, x in zip(values, xs, strict=False)])


def test_ge_two_line_header_with_ocr_garbled_score_words() -> None:
    lines = [_line(100, _TOP), _line(118, _BOTTOM)]
    head = headers.header_at(lines, 0, guess=True)
    assert head.columns is not None and head.n_lines == 2
    measures = [c.measure for c in head.columns if c.measure != "region"]
    # YA over 'score' (its T- lost) is the T-score; AM over 'Z-soore' the Z-score; YA/AM over (%) no score
    assert measures == ["bmd", "ya_percent", "t_score", "am_percent", "z_score"]


def test_ge_table_is_read_with_its_percent_columns_kept_out() -> None:
    toks = _line(100, _TOP) + _line(118, _BOTTOM) + _row(140, "L1-L4", ["1.022", "87", "-1.3", "115", "1.1"])
    (tab,) = layout.find_tables(toks, None, guess=False).tables
    (row,) = tab.rows
    assert {m: c.text for m, c in row.cells.items()} == {"bmd": "1.022", "t_score": "-1.3", "z_score": "1.1"}
    assert tab.unplaced == 0 and not tab.unread_rows


def test_a_column_named_only_by_its_unit_never_shares_a_named_measure() -> None:
    # 'Area (cm²)' named by its word; 'Hcight (cm)' misread, named by its unit only: not a second area
    line = _line(100, [("BMD", 100), ("T-score", 200), ("Area", 320), ("(cm²)", 360), ("Hcight", 460), ("(cm)", 520)])
    cols = headers._header_columns(line, None)
    assert cols is not None
    assert [c.measure for c in cols] == ["bmd", "t_score", "area", "other"]


def test_vendor_footer_far_below_the_table_is_not_a_row() -> None:
    head = _line(100, [("Region", 40), ("BMD", 300), ("T-score", 420), ("Z-score", 540)])
    body = _line(122, [("L1-L4", 40), ("1.022", 300), ("-1.3", 420), ("1.1", 540)])
    footer = _line(900, [("Statistically", 40), ("68%", 160), ("of", 200), ("repeat", 230), ("scans", 290),
                         ("1SD", 340), ("(±0.010", 380), ("g/cm²", 450)])
    (tab,) = layout.find_tables(head + body + footer, None, guess=False).tables
    assert [r.label for r in tab.rows] == ["L1-L4"]
    assert not tab.unread_rows  # the footer is not "a row whose label names no region"


def test_rows_known_to_be_no_result_are_accounted_for_not_unread() -> None:
    head = _line(100, [("Region", 40), ("BMD", 300), ("T-score", 420), ("Z-score", 540)])
    rows = [_line(122 + 20 * k, [(lab, 40), ("0.773", 300), ("-1.0", 420), ("0.2", 540)])
            for k, lab in enumerate(["T12", "L1", "Zorblat"])]
    (tab,) = layout.find_tables(head + [t for r in rows for t in r], None, guess=False).tables
    assert [r.levels for r in tab.rows] == [(Region.L1,)]
    assert tab.unread_rows == ["Zorblat"]  # T12 is a thoracic vertebra: known, not lost


def _table_with_totals() -> list[Token]:
    head = _line(100, [("Region", 40), ("BMD", 300), ("T-score", 420), ("Z-score", 540)])
    rows = [_line(122 + 20 * k, [(lab, 40), ("0.992", 300), ("-0.9", 420), ("1.6", 540)])
            for k, lab in enumerate(["Head", "Total", "Total Right", "Total Left"])]
    return head + [t for r in rows for t in r]


def test_whole_body_totals_are_never_a_total_hip() -> None:
    tabs = layout.find_tables(_table_with_totals(), None, guess=False).tables
    assert any(r.region is Region.TOTAL_HIP for t in tabs for r in t.rows)  # what the words alone say
    flags = scope.drop_other_totals(tabs, "Total Body Bone Density ANCILLARY RESULTS: Total Body", 1)
    assert not any(r.region is Region.TOTAL_HIP for t in tabs for r in t.rows)
    assert flags and flags[0].severity.value == "info" and "whole-body" in flags[0].message


def test_a_hip_page_keeps_its_totals() -> None:
    tabs = layout.find_tables(_table_with_totals(), None, guess=False).tables
    assert scope.drop_other_totals(tabs, "DualFemur Bone Density Total Body composition note", 1) == []
    assert any(r.region is Region.TOTAL_HIP for t in tabs for r in t.rows)
    assert scope.other_scan("Right Forearm Bone Density Radius 33%") == "forearm"
    assert scope.other_scan("AP Spine L1-L4") is None


def test_column_type_is_named() -> None:
    c = Column("bmd", 1.0, 2.0)
    assert (c.measure, c.x0, c.x1) == ("bmd", 1.0, 2.0)


def _cands(readings: list[tuple[str, str]]) -> list:
    from bmdkit.report import vote
    from bmdkit.report.numbers import parse_number

    return [vote.Candidate(engine, text, 0.8, parse_number(text)) for engine, text in readings]


def test_each_engine_reading_the_digits_confirms_them_despite_malformed_passes() -> None:
    """Small screen type: tesseract's passes read '-1.3' once and '43' once; RapidOCR read '-1.3'.
    Both engines read the digits: confirmed. A well-formed rival (0.782 against 0.752) is a dispute."""
    from bmdkit.report import vote

    rd = vote.decide(_cands([("rapidocr", "-1.3"), ("tesseract", "43"), ("tesseract+crop", "-1.3")]), 1, True)
    assert rd.value == -1.3 and not rd.disagreement and rd.conf >= vote.MIN_CONFIDENCE
    rd = vote.decide(_cands([("rapidocr", "0.752"), ("tesseract", "0.782"), ("tesseract+crop", "0.752")]), 3, True)
    assert rd.disagreement and rd.conf < vote.MIN_CONFIDENCE
    rd = vote.decide(_cands([("rapidocr", "-1.3"), ("tesseract", "43")]), 1, True)  # tesseract never read it
    assert rd.conf < vote.MIN_CONFIDENCE


def test_an_unread_row_is_named_by_its_place_not_its_text() -> None:
    from bmdkit.report.reading import table_flags

    head = _line(100, [("Region", 40), ("BMD", 300), ("T-score", 420), ("Z-score", 540)])
    rows = [_line(122 + 20 * k, [(lab, 40), ("0.773", 300), ("-1.0", 420), ("0.2", 540)])
            for k, lab in enumerate(["L1", "L2", "Wang Xiuying"])]
    (tab,) = layout.find_tables(head + [t for r in rows for t in r], None, guess=False).tables
    (flag,) = [f for f in table_flags(tab, 1) if f.code.value == "unplaced_data"]
    assert "the row below L2" in flag.message and "Wang" not in flag.message


def test_two_tables_side_by_side_are_read_apart() -> None:
    """Norland prints the right and the left hip as two tables on the same lines: a cell never
    joins the same column of the other table ('0.62630.6377')."""

    head = _line(100, [("Region", 40), ("BMD", 200), ("T-Score", 280), ("Z-Score", 360),
                       ("Region", 460), ("BMD", 620), ("T-Score", 700), ("Z-Score", 780)])
    rows = _line(122, [("Neck", 40), ("0.6263", 200), ("-0.60", 360), ("Neck", 460), ("0.6377", 620), ("-0.50", 780)])
    tabs = layout.find_tables(head + rows, None, guess=False).tables
    assert [{m: c.text for m, c in t.rows[0].cells.items()} for t in tabs] == [
        {"bmd": "0.6263", "z_score": "-0.60"}, {"bmd": "0.6377", "z_score": "-0.50"}]


def test_side_headings_over_region_rows_give_each_block_its_side() -> None:
    """Hologic's Left / Neck, Total / Right / Neck, Total blocks."""
    from bmdkit.model import Side

    head = _line(100, [("Region", 40), ("BMD", 300), ("T-score", 420), ("Z-score", 540)])
    body = []
    for k, (lab, vals) in enumerate([("Left", None), ("Neck", "0.947"), ("Total", "1.020"),
                                     ("Right", None), ("Neck", "0.916"), ("Total", "1.010")]):
        words = [(lab, 40)] + ([(vals, 300), ("-1.0", 420), ("0.5", 540)] if vals else [])
        body += _line(122 + 20 * k, words)
    (tab,) = layout.find_tables(head + body, None, guess=False).tables
    got = [(r.region, r.side, r.cells["bmd"].text) for r in tab.rows]
    assert got == [(Region.FEMORAL_NECK, Side.LEFT, "0.947"), (Region.TOTAL_HIP, Side.LEFT, "1.020"),
                   (Region.FEMORAL_NECK, Side.RIGHT, "0.916"), (Region.TOTAL_HIP, Side.RIGHT, "1.010")]
