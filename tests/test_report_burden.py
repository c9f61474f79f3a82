"""Flag what is doubtful, not what was read right; empty is not unread (issue 19).

- a clean generated page whose values are all read right raises no review flag on them;
- ENGINE_DISAGREEMENT is never raised on a single reading, and says in plain words what differs;
- blank and "-" columns are reported as not printed (information), never as unread;
- a flag's side (and measure) is honoured in results.csv.

The page tests run OCR (a few seconds each on 2 cores), so they are few.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from bmdkit.export.results_csv import exam_rows
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Flag, Method, Region, RegionResult, Side
from bmdkit.read import read_file
from bmdkit.report import vote
from bmdkit.report.numbers import parse_number
from bmdkit.report.valueflags import value_flags as _value_flags
from bmdkit.samples.report_gen import render_report
from bmdkit.samples.truth import TruthExam, TruthGenerator

_SCORED = ("bmd", "t_score", "z_score")


def _page(truth: TruthExam, layout: str, tmp_path: Path, name: str = "page.png") -> Path:
    img = render_report(truth, layout, "zh" if layout == "chinese" else "en", dpi=200)
    p = tmp_path / name
    img.convert("RGB").save(p)
    return p


def _review_flags_on(exam: object, region: str, side: Side | None, measure: str) -> list[Flag]:
    return [f for f in exam.flags if f.level is not Severity.INFO  # type: ignore[attr-defined]
            and (f.region is None and f.code.value not in ("no_exam_date", "ambiguous_date", "unknown_vendor")
                 or f.region is not None and f.covers(region, side, measure))]


# --- no review flag on values read right -------------------------------------------------------

@pytest.mark.parametrize("layout,scan", [("hologic", "hip_dual"), ("ge_lunar", "spine")])
def test_clean_page_read_right_raises_no_review_flag_on_its_values(tmp_path: Path, layout: str, scan: str) -> None:
    truth = TruthGenerator(19).exam(vendor=layout, scan_type=scan)
    exam = read_file(_page(truth, layout, tmp_path))
    checked = 0
    for tr in truth.contract_regions():
        side = Side(tr.side) if tr.side else None
        got = exam.region(Region(tr.region), side)
        for m in _SCORED:
            want = getattr(tr, m)
            if want is None or got is None or got.value(m) is None:
                continue
            assert got.value(m) == pytest.approx(want, abs=1e-9), (tr.region, tr.side, m)
            assert not _review_flags_on(exam, tr.region, side, m), (tr.region, tr.side, m, exam.flags)
            checked += 1
    assert checked >= 6


# --- engine disagreement: never on one reading, in plain words --------------------------------

def _cand(engine: str, text: str, conf: float = 0.95) -> vote.Candidate:
    return vote.Candidate(engine, text, conf, parse_number(text))


def test_one_engine_reading_is_not_a_disagreement() -> None:
    rd = vote.decide([_cand("rapidocr", "-1.1"), _cand("tesseract", ""), _cand("rapidocr+reread", "-1.1"),
                      _cand("tesseract+reread", "")], 1, True)
    assert rd.value == -1.1 and rd.single and not rd.disagreement
    region = RegionResult(Region.FEMORAL_NECK, Method.OCR, side=Side.LEFT, z_score=-1.1)
    flags = _value_flags(region, {"z_score": rd}, {"bmd", "z_score"})
    assert not any(f.code is FlagCode.ENGINE_DISAGREEMENT for f in flags)
    (f,) = [f for f in flags if f.measure == "z_score"]
    assert f.side is Side.LEFT and f.region == "femoral_neck"
    assert "Only one of the two OCR engines" in f.message and "Z-score of the left femoral neck" in f.message
    assert "[" not in f.message  # no raw OCR lists


def test_disagreement_names_both_readings_in_plain_words() -> None:
    rd = vote.decide([_cand("rapidocr", "-1.1"), _cand("tesseract", "1.1"), _cand("rapidocr+reread", "-1.1"),
                      _cand("tesseract+reread", "1.1")], 1, True)
    assert rd.disagreement and rd.sign_only
    region = RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.RIGHT, bmd=0.8, t_score=-1.1)
    flags = _value_flags(region, {"t_score": rd}, {"bmd", "t_score"})
    (f,) = [f for f in flags if f.code is FlagCode.ENGINE_DISAGREEMENT]
    assert (f.region, f.side, f.measure) == ("total_hip", Side.RIGHT, "t_score")
    assert "The two OCR engines read the T-score of the right total hip differently: -1.1 and 1.1" in f.message
    assert "[" not in f.message


def test_every_value_flag_names_side_and_measure() -> None:
    unread = vote.Reading(None, False, 0.0, "#?", ("rapidocr",), disagreement=True)
    low = vote.Reading(0.812, False, 0.5, "0.812", ("rapidocr", "tesseract"))
    region = RegionResult(Region.FEMORAL_NECK, Method.OCR, side=Side.RIGHT, bmd=0.812)
    flags = _value_flags(region, {"bmd": low, "t_score": unread}, {"bmd", "t_score"})
    assert {f.measure for f in flags} == {"bmd", "t_score"}
    assert all(f.side is Side.RIGHT and f.region == "femoral_neck" for f in flags)


# --- empty is not unread ----------------------------------------------------------------------

@pytest.mark.parametrize("layout,scan,measure", [
    ("hologic", "spine", "t_score"),     # printed blank
    ("ge_lunar", "hip_dual", "t_score"),  # printed "-"
    ("hologic", "hip_dual", "z_score"),  # printed blank
])
def test_blank_or_dash_column_is_not_printed_not_unread(tmp_path: Path, layout: str, scan: str, measure: str) -> None:
    truth = TruthGenerator(7).exam(vendor=layout, scan_type=scan)
    truth.regions = [dataclasses.replace(r, **{measure: None}) for r in truth.regions]
    exam = read_file(_page(truth, layout, tmp_path))
    assert exam.regions
    for tr in truth.contract_regions():
        side = Side(tr.side) if tr.side else None
        got = exam.region(Region(tr.region), side)
        assert got is not None and got.value(measure) is None
        on_it = _review_flags_on(exam, tr.region, side, measure)
        assert not on_it, on_it
    assert not any(f.code is FlagCode.REGION_NOT_READ for f in exam.flags)
    notes = [f for f in exam.flags if f.code is FlagCode.MISSING_VALUE and f.measure == measure]
    if measure in ("bmd", "t_score"):
        assert notes and all(f.level is Severity.INFO and "not printed" in f.message for f in notes)


def test_unread_ink_is_still_flagged() -> None:
    """A cell with print that nothing read stays a review item."""
    import numpy as np

    from bmdkit.report import ink

    page = np.full((60, 400), 255, np.uint8)
    page[20:40, 20:80] = 0       # a read word (masked)
    page[22:38, 200:212] = 0     # a digit-sized mark under the column: ink
    assert ink.classify(page, (20, 40), (190, 260), [(20, 20, 80, 40)], 20) == ink.INK
    page[22:38, 200:212] = 255
    assert ink.classify(page, (20, 40), (190, 260), [(20, 20, 80, 40)], 20) == ink.BLANK
    page[29:32, 205:217] = 0     # a short flat mark: a placeholder dash
    assert ink.classify(page, (20, 40), (190, 260), [(20, 20, 80, 40)], 20) == ink.DASH


# --- side honoured in results.csv ----------------------------------------------------------------

def test_flag_side_is_honoured_in_results_csv(tmp_path: Path) -> None:
    truth = TruthGenerator(11).exam(vendor="hologic", scan_type="hip_dual")
    exam = read_file(_page(truth, "hologic", tmp_path))
    assert exam.region(Region.TOTAL_HIP, Side.LEFT) and exam.region(Region.TOTAL_HIP, Side.RIGHT)
    exam = exam.with_flags([Flag(FlagCode.LABEL_UNCERTAIN, "row label read as '右总', taken as the right total hip",
                                 region="total_hip", side=Side.RIGHT),
                            Flag(FlagCode.LOW_CONFIDENCE, "the T-score of the left femoral neck: check it",
                                 region="femoral_neck", side=Side.LEFT, measure="t_score")])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(exam_rows(exam)[0]))
    w.writeheader()
    w.writerows(exam_rows(exam))
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    for r in rows:
        codes = set(r["flag_codes"].split(";")) - {""}
        if r["region"] == "total_hip":
            assert ("label_uncertain" in codes) == (r["side"] == "right"), r
        if r["region"] == "femoral_neck":
            assert ("low_confidence" in codes) == (r["side"] == "left" and r["measure"] == "t_score"), r
