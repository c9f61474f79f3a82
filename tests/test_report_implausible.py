"""Issue 22: a BMD read outside its plausible range (reference_data/plausible_ranges.csv) is read
again alone on its crop, enlarged, by both engines. A new value is taken only where it is
plausible and backed twice over (its column's decimal point restored and a closer look reading
it so, or both engines' closer looks alike); otherwise the value is a misread, flagged before
evaluability runs, so an impossible value never makes a vertebra non-evaluable.

Pure decisions first (fast), then pages drawn with Pillow and read by both real engines (slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Method, Region, RegionResult
from bmdkit.options import ReadOptions
from bmdkit.report import ocr, reading, repairs, valueflags, vote
from bmdkit.report.cells import Row, Table
from bmdkit.report.numbers import parse_number

VERTEBRA = repairs.bmd_range("vertebra")


def _cand(engine: str, text: str) -> vote.Candidate:
    return vote.Candidate(engine, text, 0.9, parse_number(text))


def _reading(raw: str, *page: str) -> vote.Reading:
    p = parse_number(raw)
    assert p is not None
    cands = [_cand(e, t) for e, t in zip(("rapidocr", "tesseract"), page or (raw, raw))]
    return vote.Reading(p.value, False, 0.9, raw, ("rapidocr", "tesseract"), candidates=cands)


def _looks(tess: str, rapid: str) -> list[vote.Candidate]:
    return [_cand("tesseract+alone", tess), _cand("rapidocr+alone", rapid)]


def _bmd_flags(rd: vote.Reading) -> list:
    region = RegionResult(Region.L3, Method.OCR, bmd=rd.value)
    return [f for f in valueflags.value_flags(region, {"bmd": rd}, {"bmd"}) if f.measure == "bmd"]


def test_plausible_bmd_ranges_come_from_the_reference_table() -> None:
    assert VERTEBRA == (0.29, 2.03)
    assert repairs.bmd_range("femoral_neck") == (0.33, 1.63)
    assert repairs.bmd_range("trochanter") == repairs.bmd_range(None)  # no range of its own: the widest
    lo, hi = repairs.bmd_range(None)
    assert lo <= 0.29 and hi >= 2.03
    l3, total = Row("L3", None, None, (Region.L3,), False), Row("Total", Region.TOTAL_HIP, None, None, False)
    spine = Table(0.0, [], [l3, total])
    assert reading.bmd_site(l3, spine) == "vertebra" and reading.bmd_site(total, spine) == "L1-L4"
    assert reading.bmd_site(total, Table(0.0, [], [total])) == "total_hip"


@pytest.mark.parametrize(("raw", "looks", "want", "settled"), [
    # the decimal point restored, and both closer looks read it so: settled, a note
    ("1358", ("1.358", "1.358"), 1.358, True),
    # restored, one closer look reads it so: kept, for review
    ("1358", ("1358", "1.358"), 1.358, False),
    # restored, no closer look confirms it: kept as restore_decimal keeps it, for review
    ("1358", ("1358", "1358"), 1.358, False),
    # too low to be a BMD: both closer looks read the same plausible value: kept, for review
    ("0.100", ("0.700", "0.700"), 0.7, False),
    # both closer looks read alike a plausible value that is not the restored one: theirs, for review
    ("1358", ("1.368", "1.368"), 1.368, False),
])
def test_an_implausible_bmd_takes_a_plausible_value_backed_twice(raw: str, looks: tuple[str, str], want: float,
                                                                 settled: bool) -> None:
    rd = _reading(raw)
    repairs.recheck_implausible(rd, 3, VERTEBRA, _looks(*looks))
    assert rd.value == want and not rd.misread
    assert rd.reread.startswith("read again on its crop alone")
    assert (rd.conf >= vote.MIN_CONFIDENCE) is settled and rd.disagreement is not settled
    assert any(c.engine.endswith("+alone") for c in rd.candidates)  # the closer looks are kept as evidence
    (f,) = _bmd_flags(rd)
    assert f.code is FlagCode.LOW_CONFIDENCE and f.measure == "bmd" and f.region == "L3"
    assert f.level is (Severity.INFO if settled else Severity.REVIEW)
    assert "read again on its crop alone" in f.message and raw in f.message


@pytest.mark.parametrize(("raw", "looks", "page"), [
    ("9999", ("9999", "9.999"), ()),         # 9.999 is no BMD either: nothing plausible
    ("0.100", ("0.700", "0.760"), ()),       # the closer looks disagree: neither is backed twice
    ("0.100", ("0.700", "0.70"), ()),        # one look is not printed to the column's decimals
])
def test_an_implausible_bmd_without_a_backed_plausible_reading_is_a_misread(raw: str, looks: tuple[str, str],
                                                                            page: tuple[str, ...]) -> None:
    rd = _reading(raw, *page)
    repairs.recheck_implausible(rd, 3, VERTEBRA, _looks(*looks))
    assert rd.misread and rd.value == parse_number(raw).value  # type: ignore[union-attr]
    (f,) = _bmd_flags(rd)
    assert f.code is FlagCode.OUT_OF_RANGE and f.level is Severity.REVIEW and f.measure == "bmd"
    assert "misread" in f.message and "read again on its crop alone" in f.message


def test_a_settled_repair_needs_every_page_reading_to_have_its_digits() -> None:
    # one engine read other digits on the page: a closer look that restores the point does not settle it
    rd = _reading("1358", "1358", "1.858")
    repairs.recheck_implausible(rd, 3, VERTEBRA, _looks("1.358", "1.358"))
    assert rd.value == 1.358 and rd.disagreement and rd.conf < vote.MIN_CONFIDENCE


def test_a_plausible_bmd_is_left_alone() -> None:
    rd = _reading("1.358")
    repairs.recheck_implausible(rd, 3, VERTEBRA, _looks("1.858", "1.858"))
    assert rd.value == 1.358 and not rd.reread and not rd.misread and rd.conf == 0.9


# --- pages read by both engines ---------------------------------------------------------------

needs_both = pytest.mark.skipif(not {"tesseract", "rapidocr"} <= set(ocr.available_engines()),
                                reason="needs both OCR engines")
BOTH = ReadOptions(ocr_engines=("tesseract", "rapidocr"))


def _spine_page(l3_bmd: str, path: Path) -> Path:
    """A plain spine results page whose L3 BMD cell prints ``l3_bmd`` (e.g. without its decimal point)."""
    from bmdkit.samples.report_page.fonts import pil_font

    img = Image.new("L", (1700, 1000), 255)
    d = ImageDraw.Draw(img)
    f = pil_font("dejavu-sans", False, 34)
    d.text((120, 90), "Hologic Discovery  DXA Results Summary   Scan date: 2026-03-14", font=f, fill=0)
    d.text((120, 170), "Lumbar Spine", font=f, fill=0)
    rows = [("Region", "BMD (g/cm²)", "T-score", "Z-score"), ("L1", "0.880", "-1.8", "-0.9"),
            ("L2", "0.890", "-1.8", "-0.8"), ("L3", l3_bmd, "2.3", "2.9"), ("L4", "0.950", "-1.4", "-0.5"),
            ("Total", "1.030", "-0.6", "0.2")]
    for k, words in enumerate(rows):
        for x, w in zip((120, 560, 860, 1160), words):
            d.text((x, 260 + 70 * k), w, font=f, fill=0)
    img.save(path)
    return path


def _l3(exam: object) -> tuple[RegionResult, list]:
    l3 = exam.region(Region.L3)  # type: ignore[attr-defined]
    assert l3 is not None
    return l3, [f for f in exam.flags if f.region == "L3" and f.measure in (None, "bmd")]  # type: ignore[attr-defined]


@pytest.mark.slow
@needs_both
def test_a_bmd_printed_without_its_decimal_point_is_read_again_and_restored_for_review(tmp_path: Path) -> None:
    from bmdkit.read import read_file

    exam = read_file(_spine_page("1358", tmp_path / "p.png"), BOTH)
    l3, flags = _l3(exam)
    assert l3.bmd == 1.358 and l3.evaluable is not False
    (f,) = [f for f in flags if f.code is FlagCode.LOW_CONFIDENCE]
    assert f.level is Severity.REVIEW and "read again on its crop alone" in f.message and "1358" in f.message
    assert not any(f.code in (FlagCode.VERTEBRA_OUT_OF_RANGE, FlagCode.TOO_FEW_VERTEBRAE) for f in exam.flags)


@pytest.mark.slow
@needs_both
def test_an_impossible_bmd_that_stays_impossible_is_a_misread_never_non_evaluable(tmp_path: Path) -> None:
    from bmdkit.read import read_file

    exam = read_file(_spine_page("9999", tmp_path / "p.png"), BOTH)
    l3, flags = _l3(exam)
    assert l3.bmd == 9999.0 and l3.evaluable is not False
    misread = [f for f in flags if f.code is FlagCode.OUT_OF_RANGE]
    # flagged once, by the reader, before evaluability (whose own flag it covers)
    assert len(misread) == 1 and "read again on its crop alone" in misread[0].message
    assert "misread" in misread[0].message and misread[0].measure == "bmd"
    assert not any(f.code in (FlagCode.VERTEBRA_OUT_OF_RANGE, FlagCode.TOO_FEW_VERTEBRAE) for f in exam.flags)
    assert all(exam.region(v).evaluable is True for v in (Region.L1, Region.L2, Region.L4))  # type: ignore[union-attr]


@pytest.mark.slow
@needs_both
def test_a_closer_look_that_reads_the_point_settles_it_and_the_json_says_so(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The closer look is the cell alone, enlarged: where it shows the point the page reading lost
    (here: an engine stand-in that does), the repair is settled and noted, with its provenance."""
    from bmdkit.export.jsonout import exam_to_dict
    from bmdkit.read import read_file

    asked: list[tuple[int, ...]] = []

    def look(crop: object, engines: list[str]) -> list[vote.Candidate]:
        asked.append(getattr(crop, "shape", ()))
        return [vote.Candidate(e + "+alone", "1.358", 0.9, parse_number("1.358")) for e in engines]

    monkeypatch.setattr(vote, "closer_look", look)
    exam = read_file(_spine_page("1358", tmp_path / "p.png"), BOTH)
    l3, flags = _l3(exam)
    assert len(asked) == 1 and l3.bmd == 1.358 and l3.evaluable is True
    (f,) = [f for f in flags if f.code is FlagCode.LOW_CONFIDENCE]
    assert f.level is Severity.INFO and "decimal point restored" in f.message
    said = [g for g in exam_to_dict(exam)["flags"] if g.get("region") == "L3" and g.get("measure") == "bmd"]
    assert any("read again on its crop alone: tesseract 1.358; rapidocr 1.358" in g["message"] for g in said)
