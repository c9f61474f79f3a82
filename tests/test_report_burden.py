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


# --- round three: a closer look at non-sign disputes; a flag names only the measures in doubt ---

def _c(engine: str, text: str) -> vote.Candidate:
    return vote.Candidate(engine, text, 0.9, parse_number(text))


def _hip_bmd(v: float) -> bool:
    from bmdkit.report import repairs

    return repairs.plausible("bmd", "total_hip")(v)


def _disputed(*readings: tuple[str, str], decimals: int = 3) -> vote.Reading:
    return vote.decide([_c(e, t) for e, t in readings], decimals, True)


def test_a_closer_look_settles_a_dispute_whose_rival_readings_are_malformed_or_impossible() -> None:
    # 8.625 is no hip BMD: the other engine reads the cell alone exactly as kept
    rd = _disputed(("rapidocr", "0.625"), ("tesseract", "8.625"), ("rapidocr+reread", "0.625"),
                   ("tesseract+reread", "8.625"))
    assert rd.disagreement and vote.in_doubt_for_closer_look(rd, 3, _hip_bmd)
    assert vote.confirm_by_closer_look(rd, [_c("tesseract+alone", "0.625"), _c("rapidocr+alone", "0.625")], 3,
                                       _hip_bmd)
    assert not rd.disagreement and rd.conf >= vote.MIN_CONFIDENCE and rd.settled.startswith("rapidocr, tesseract read the cell alone")
    region = RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.LEFT, bmd=0.625)
    (f,) = [f for f in _value_flags(region, {"bmd": rd}, {"bmd"}) if f.measure == "bmd"]
    assert f.code is FlagCode.ENGINE_DISAGREEMENT and f.level is Severity.INFO
    assert "8.625" in f.message and "read the cell alone" in f.message


def test_a_plausible_rival_or_a_sign_keeps_the_dispute_for_review() -> None:
    # a well-formed plausible rival (0.652) could be right
    rd = _disputed(("rapidocr", "0.625"), ("tesseract", "0.652"), ("rapidocr+reread", "0.625"),
                   ("tesseract+reread", "0.652"))
    assert rd.disagreement and not vote.in_doubt_for_closer_look(rd, 3, _hip_bmd)
    # T-scores: '18' is -1.8 with its minus (and point) lost: a sign dispute, for the site's rows to settle
    t = _disputed(("rapidocr", "-1.8"), ("tesseract", "18"), ("rapidocr+reread", "-1.8"), ("tesseract+reread", "8"),
                  decimals=1)
    assert t.disagreement and not vote.in_doubt_for_closer_look(t, 1, lambda v: abs(v) <= 6)
    # garbage of other digits ('2', '222' for -2.2) does not dispute the sign: a look may settle it
    t = _disputed(("rapidocr", "-2.2"), ("tesseract", "2"), ("rapidocr+reread", "-2.2"), ("tesseract+reread", "222"),
                  decimals=1)
    assert vote.in_doubt_for_closer_look(t, 1, lambda v: abs(v) <= 6)


def test_a_closer_look_must_match_exactly_and_leave_no_plausible_rival() -> None:
    def fresh() -> vote.Reading:
        return _disputed(("rapidocr", "0.753"), ("tesseract", "0783"), ("rapidocr+reread", "0.753"),
                         ("tesseract+reread", "9.753"))

    rd = fresh()
    assert vote.in_doubt_for_closer_look(rd, 3, _hip_bmd)
    # the look reads another plausible value: no
    assert not vote.confirm_by_closer_look(rd, [_c("tesseract+alone", "0.783"), _c("rapidocr+alone", "0.753")], 3,
                                           _hip_bmd)
    assert rd.disagreement and not rd.settled
    # tesseract never read 0.753 exactly, even alone: no
    rd = fresh()
    assert not vote.confirm_by_closer_look(rd, [_c("tesseract+alone", "753"), _c("rapidocr+alone", "0.753")], 3,
                                           _hip_bmd)
    rd = fresh()
    assert vote.confirm_by_closer_look(rd, [_c("tesseract+alone", "0.753"), _c("rapidocr+alone", "")], 3, _hip_bmd)


def test_a_bmd_bmc_area_mismatch_covers_those_measures_not_the_scores() -> None:
    from bmdkit.checks import apply_all
    from bmdkit.report import crosscheck

    r = RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.LEFT, bmd=0.8849, bmc=33.0, area=37.78,
                     t_score=-0.9, z_score=0.1)
    (f,) = crosscheck.check_regions([r])
    assert f.code is FlagCode.BMD_BMC_AREA_MISMATCH and f.measure is None and f.measures == ("bmd", "bmc", "area")
    assert all(f.covers("total_hip", Side.LEFT, m) for m in ("bmd", "bmc", "area"))
    assert not f.covers("total_hip", Side.LEFT, "t_score") and not f.covers("total_hip", Side.LEFT, "z_score")
    # the exam checks' own flag for the same mismatch is scoped alike, and merged into the reader's
    from bmdkit.model import Exam, InputKind, Source

    exam = Exam(source=Source(path="x.png", sha256="0" * 64, kind=InputKind.IMAGE), regions=(r,), flags=(f,))
    checked = apply_all(exam)
    same = [g for g in checked.flags if g.code is FlagCode.BMD_BMC_AREA_MISMATCH]
    assert len(same) == 1 and not any(g.covers("total_hip", Side.LEFT, "t_score") for g in same)
    with pytest.raises(ValueError):
        Flag(FlagCode.BMD_BMC_AREA_MISMATCH, "x", region="L1", measure="bmd", measures=("bmc",))


def test_a_blurred_page_flag_becomes_a_note_only_when_each_doubtful_value_has_its_own() -> None:
    from bmdkit.model import Location, ValueSource
    from bmdkit.report import reading, valueflags

    def page(doubtful_flagged: bool) -> tuple[list[reading.PageResult], list[RegionResult], list[Flag]]:
        res = reading.PageResult(page=1)
        blur = Flag(FlagCode.PAGE_QUALITY, "page 1 is blurred")
        res.flags.append(blur)
        res.rows.append(object())  # type: ignore[arg-type]  # a page with a table read
        src = {"bmd": ValueSource(confidence=0.4, location=Location(page=1)),
               "t_score": ValueSource(confidence=0.9, location=Location(page=1))}
        r = RegionResult(Region.L2, Method.OCR, bmd=0.9, t_score=-1.0, sources=src)
        flags = [blur]
        if doubtful_flagged:
            flags.append(Flag(FlagCode.BMD_BMC_AREA_MISMATCH, "x", region="L2", measures=("bmd", "bmc", "area")))
        return [res], [r], flags

    (f,) = valueflags.scope_page_flags(*page(False))
    assert f.level is Severity.REVIEW  # the doubtful BMD has no flag of its own: the page flag stays
    out = valueflags.scope_page_flags(*page(True))
    (f,) = [f for f in out if f.code is FlagCode.PAGE_QUALITY]
    assert f.level is Severity.INFO and "blurred" in f.message and "flagged on its own" in f.message


@pytest.mark.parametrize(("region", "bmd", "t", "decided"), [
    (Region.FEMORAL_NECK, 0.65, -1.9, True),   # +1.9 would need a young-adult mean near 0.4: none is
    (Region.TOTAL_HIP, 0.75, -1.6, True),
    (Region.SPINE_TOTAL, 0.85, -2.2, True),
    (Region.FEMORAL_NECK, 0.80, -0.8, False),  # either sign fits some plausible reference: undecided
    (Region.TOTAL_HIP, 0.90, -0.4, False),
    (Region.FEMORAL_NECK, 1.10, -1.0, False),  # the sign kept fits no reference: never confirmed
    (Region.WARDS, 0.40, -3.0, False),         # no tabled reference for the region
])
def test_a_one_hip_sign_dispute_is_settled_only_where_the_rows_own_bmd_allows_one_sign(
        region: Region, bmd: float, t: float, decided: bool) -> None:
    from bmdkit.report import crosscheck, valueflags

    side = None if region.is_spine else Side.LEFT
    r = RegionResult(region, Method.OCR, side=side, bmd=bmd, t_score=t)
    assert crosscheck.sign_by_reference(r) is decided
    flag = Flag(FlagCode.ENGINE_DISAGREEMENT, "x", region=region.value, side=side, measure="t_score")
    out = valueflags.settle_signs([r], [flag], {(region, side, "t_score"): valueflags.SignDispute(flag, "")})
    assert out[0].level is (Severity.INFO if decided else Severity.REVIEW)
    if decided:
        assert "young-adult reference" in out[0].message


def test_a_lost_minus_beside_garbage_is_a_sign_dispute_for_the_sites_rows() -> None:
    from bmdkit.report import repairs, valueflags

    ok = repairs.plausible("t_score", None)
    # '18' is -1.8 with its minus and point lost, '8' is garbage: the sign alone is in question
    rd = _disputed(("rapidocr", "-1.8"), ("tesseract", "18"), ("rapidocr+reread", "-1.8"), ("tesseract+reread", "8"),
                   decimals=1)
    assert not rd.sign_only and vote.sign_disputed(rd, ok)
    # a well-formed plausible rival of other digits (-1.28 against -1.20) is more than a sign
    rd2 = _disputed(("rapidocr", "-1.20"), ("tesseract", "74.20"), ("rapidocr+reread", "-1.20"),
                    ("tesseract+reread", "-1.28"), decimals=2)
    assert not vote.sign_disputed(rd2, ok)
    # the spine's other rows fit only -1.8: settled as a note, like a sign_only dispute
    rows = [(Region.L1, 0.880, -1.8), (Region.L2, 0.890, -1.7), (Region.L3, 0.990, -0.9), (Region.L4, 0.950, None)]
    regions = [RegionResult(r, Method.OCR, bmd=b, t_score=t if t is not None else -1.2) for r, b, t in rows]
    disputes: dict = {}
    flags = _value_flags(regions[3], {"t_score": _disputed(("rapidocr", "-1.2"), ("tesseract", "12"),
                                                           ("rapidocr+reread", "-1.2"), ("tesseract+reread", "2"),
                                                           decimals=1)}, {"t_score"}, None, disputes)
    assert (Region.L4, None, "t_score") in disputes
    out = valueflags.settle_signs(regions, flags, disputes)
    (f,) = [f for f in out if f.measure == "t_score"]
    assert f.level is Severity.INFO and "fit only -1.2" in f.message
