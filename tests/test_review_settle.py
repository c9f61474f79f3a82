"""Whole-exam decisions, settled flags, per-value hold-back, and everything derived following the decisions.

Exams are the ones a perfect reader gives for generated truth (stored in a
real batch ledger, see tests/helpers/batch.py), with review flags added as the
readers raise them; decisions go through the real ``apply-decisions`` and
``export`` commands.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from helpers.batch import store_exams, truth_to_exam, visit_series
from test_batch_subjects import write_mapping

from bmdkit.batch.assemble import assemble, load_exams
from bmdkit.batch.subjects import SubjectMap, load_windows
from bmdkit.cli.app import main
from bmdkit.export.edc import select_values
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Exam, Flag, Region, ScanType, Side, Status
from bmdkit.review.decisions import DecisionError, apply_decisions, parse_decisions
from bmdkit.review.settle import open_doubts
from bmdkit.samples.truth import TruthGenerator

HEAD = "sha256,region,side,measure,action,old_value,new_value,reason,reviewer,decided_at\n"
WHEN = "2026-11-25T10:00:00Z"


def _hip_exam(seed: int = 5) -> Exam:
    t = TruthGenerator(seed).exam(scan_type="hip_left")
    return truth_to_exam(t, f"/site/{t.sample_id}.png").replace(scan_types=(ScanType.HIP_LEFT,))


def _row(sha: str, measure: str, action: str, old: object = "", new: object = "", region: str = "", side: str = "",
         reason: str = "") -> str:
    return f"{sha},{region},{side},{measure},{action},{old},{new},{reason},dr x,{WHEN}\n"


def test_date_and_page_decisions_settle_their_own_flags_only() -> None:
    e = _hip_exam().with_flags([
        Flag(FlagCode.AMBIGUOUS_DATE, "exam date '02/06/2026' reads as 2026-02-06, 2026-06-02"),
        Flag(FlagCode.PAGE_QUALITY, "page 1 is blurred"),
    ])
    old = e.exam_date.isoformat()
    assert e.status is Status.FLAGGED and set(open_doubts(e).fields) == {"exam_date", "page"}
    page_only = parse_decisions(HEAD + _row(e.source.sha256, "page", "accept"))
    [after_page], _ = apply_decisions([e], page_only)
    assert after_page.status is Status.FLAGGED and set(open_doubts(after_page).fields) == {"exam_date"}
    date = parse_decisions(HEAD + _row(e.source.sha256, "exam_date", "correct", old, "2026-06-02",
                                       reason="day first on this page"))
    [done], audit = apply_decisions([after_page], date)
    assert done.status is Status.EXTRACTED and done.exam_date == dt.date(2026, 6, 2)
    assert audit[0].value_before == old and audit[0].value_after == "2026-06-02"  # first reading kept
    codes = [(f.code, f.level) for f in done.flags]
    assert (FlagCode.AMBIGUOUS_DATE, Severity.INFO) in codes and (FlagCode.PAGE_QUALITY, Severity.INFO) in codes
    assert [f.code for f in done.flags if f.code in (FlagCode.ACCEPTED, FlagCode.CORRECTED)] == [
        FlagCode.ACCEPTED, FlagCode.CORRECTED]  # the page accepted, the date corrected
    again, rows = apply_decisions([done], page_only + date)
    assert again == [done] and not any(r.applied for r in rows)


@pytest.mark.parametrize("row,message", [
    (lambda s: _row(s, "page", "correct", reason="x"), "can only be accepted"),
    (lambda s: _row(s, "exam_date", "correct", "", "2026-13-01", reason="x"), "not a date"),
    (lambda s: _row(s, "scan_type", "correct", "hip_left", "elbow", reason="x"), "not one of"),
    (lambda s: _row(s, "exam_date", "accept", region="total_hip"), "names no region"),
])
def test_malformed_exam_decisions_are_refused(row, message) -> None:
    with pytest.raises(DecisionError, match=message):
        parse_decisions(HEAD + row(_hip_exam().source.sha256))


def test_stale_date_decision_and_confirming_no_date_are_refused() -> None:
    e = _hip_exam()
    stale = parse_decisions(HEAD + _row(e.source.sha256, "exam_date", "accept", "1999-01-01"))
    with pytest.raises(DecisionError, match="stale"):
        apply_decisions([e], stale)
    undated = e.replace(exam_date=None).with_flags([Flag(FlagCode.NO_EXAM_DATE, "no date printed")])
    with pytest.raises(DecisionError, match="enter it"):
        apply_decisions([undated], parse_decisions(HEAD + _row(e.source.sha256, "exam_date", "accept")))
    [entered], _ = apply_decisions([undated], parse_decisions(
        HEAD + _row(e.source.sha256, "exam_date", "correct", "", "2026-03-04", reason="from the request form")))
    assert entered.exam_date == dt.date(2026, 3, 4) and entered.status is Status.EXTRACTED


def test_scan_side_decision_moves_the_hip_results_and_settles_side_doubt() -> None:
    e = _hip_exam().with_flags([Flag(FlagCode.LABEL_UNCERTAIN, "page 1: femoral_neck (left): the side comes from "
                                     "a misread table heading", region="femoral_neck")])
    assert "scan_type" in open_doubts(e).fields
    lefts = {r.region for r in e.regions if r.side is Side.LEFT}
    [got], _ = apply_decisions([e], parse_decisions(HEAD + _row(
        e.source.sha256, "scan_type", "correct", "hip_left", "hip_right", reason="right hip on the image")))
    assert got.scan_types == (ScanType.HIP_RIGHT,)
    assert {r.region for r in got.regions if r.side is Side.RIGHT} == lefts
    assert not any(r.side is Side.LEFT for r in got.regions)
    assert got.status is Status.EXTRACTED


def _flag_t_right(e: Exam) -> Exam:
    return e.with_flags([Flag(FlagCode.ENGINE_DISAGREEMENT, "the two OCR engines read the T-score differently",
                              region="total_hip", side=Side.RIGHT, measure="t_score")])


def _subject_visits(tmp_path: Path, change) -> tuple[list, list[Exam], Path, Path]:
    bases, series = visit_series(41, 1)
    exams = []
    for t, off in series:
        e = truth_to_exam(t, f"/site/{t.sample_id}_{off}.dcm")
        e = e.replace(exam_date=e.exam_date + dt.timedelta(days=off), study_instance_uid=f"{t.study_instance_uid}.{off}")
        exams.append(e)
    exams = [change(e) for e in exams]
    out = tmp_path / "out"
    store_exams(out, exams)
    b = bases[0]
    mapping = write_mapping(tmp_path / "map.csv", [(b.center, b.patient.patient_id, "S001", b.institution)])
    return bases, exams, out, mapping


def test_one_doubtful_measure_holds_back_only_itself(tmp_path: Path) -> None:
    def change(e: Exam) -> Exam:
        return _flag_t_right(e) if e.region(Region.TOTAL_HIP, Side.RIGHT) else e

    _, exams, out, mapping = _subject_visits(tmp_path, change)
    result = assemble(list(load_exams(out)), SubjectMap.load(mapping), load_windows())
    sx = next(s for s in result.subjects if any(r.region is Region.TOTAL_HIP for r, _ in s.regions))
    values, held = select_values(sx)
    assert [h.field for h in held] == ["th_r_t"]
    assert "t_score of total_hip (right)" in held[0].detail and held[0].reason == "engine_disagreement"
    exported = {v.field for v in values}
    assert {"th_r_bmd", "th_r_bmc", "th_r_area", "th_r_z", "th_l_t"} <= exported


def test_value_decisions_release_values_one_by_one(tmp_path: Path) -> None:
    def change(e: Exam) -> Exam:
        return e.with_flags([Flag(FlagCode.OUT_OF_RANGE, "doubtful neck", region="femoral_neck")]) \
            if e.region(Region.FEMORAL_NECK, Side.LEFT) else e

    _, exams, out, mapping = _subject_visits(tmp_path, change)
    target = next(e for e in exams if e.region(Region.FEMORAL_NECK, Side.LEFT))
    neck = target.region(Region.FEMORAL_NECK, Side.LEFT)
    dec = tmp_path / "d.csv"
    dec.write_text(HEAD + _row(target.source.sha256, "bmd", "accept", neck.bmd, region="femoral_neck", side="left"),
                   encoding="utf-8")
    assert main(["apply-decisions", str(out), str(dec), "--reviewer", "dr x"]) == 0
    result = assemble(list(load_exams(out)), SubjectMap.load(mapping), load_windows())
    sx = next(s for s in result.subjects if any(sha == target.source.sha256 for _, sha in s.sources))
    values, held = select_values(sx)
    assert "fn_l_bmd" in {v.field for v in values}  # decided: released
    assert {"fn_l_t", "fn_r_bmd"} <= {h.field for h in held}  # the flag still covers the rest of the neck


def test_date_decision_moves_the_visit_and_every_output_follows(tmp_path: Path) -> None:
    from bmdkit.batch.assemble import place_after_batch
    from bmdkit.checks.change import changes_from_files

    _, exams, out, mapping = _subject_visits(tmp_path, lambda e: e)
    place_after_batch(out, mapping, None)  # what `batch --mapping` does after its run
    later = max(exams, key=lambda e: e.exam_date)

    def lines() -> dict[str, dict]:
        return {d["source"]["sha256"]: d for d in map(json.loads, (out / "results.jsonl").read_text().splitlines())}

    assert lines()[later.source.sha256]["subject"]["visit"] == "month_12"
    assert any(r.visit == "month_12" for r in changes_from_files(out, None)[0])
    new = (min(e.exam_date for e in exams) + dt.timedelta(days=5)).isoformat()
    dec = tmp_path / "d.csv"
    dec.write_text(HEAD + _row(later.source.sha256, "exam_date", "correct", later.exam_date.isoformat(), new,
                               reason="printed date was the report date"), encoding="utf-8")
    assert main(["apply-decisions", str(out), str(dec), "--reviewer", "dr x"]) == 0
    got = lines()[later.source.sha256]
    assert got["exam_date"] == new and got["subject"] == {"subject_id": "S001", "center": got["subject"]["center"],
                                                          "visit": "baseline"}
    placed = {r["sha256"]: r for r in csv.DictReader((out / "subjects.csv").open(encoding="utf-8"))}
    assert placed[later.source.sha256]["visit"] == "baseline"
    rows = [r for r in csv.DictReader((out / "results.csv").open(encoding="utf-8")) if r["sha256"] == later.source.sha256]
    assert rows and {r["exam_date"] for r in rows} == {new}
    assert not any(r.visit == "month_12" for r in changes_from_files(out, None)[0])
    audit = list(csv.DictReader((out / "audit.csv").open(encoding="utf-8")))
    assert audit[0]["old_value"] == later.exam_date.isoformat()  # the date first read stays on record


def test_plots_use_a_cjk_font_without_missing_glyphs(recwarn, caplog) -> None:
    from bmdkit.review.plots import bmd_by_center, plot_fonts

    class _Line:
        def __init__(self, exam: Exam) -> None:
            self.exam = exam

    exams = [truth_to_exam(TruthGenerator(s).exam(scan_type="hip_left"), f"/x/{s}.dcm") for s in range(6)]
    names = ["北京协和医院", "昆山市中医医院", "江西省人民医院"]
    plots = bmd_by_center([_Line(e) for e in exams], lambda ln: names[hash(ln.exam.source.sha256) % 3])
    assert plots and plots[0]["uri"].startswith("data:image/png;base64,")
    assert plot_fonts()[0].startswith("Noto Sans CJK")
    text = " ".join(str(w.message) for w in recwarn) + caplog.text
    assert "Glyph" not in text and "missing from font" not in text


def test_results_rows_mark_only_the_side_and_measure_a_flag_names() -> None:
    from bmdkit.export.results_csv import exam_rows

    t = TruthGenerator(9).exam(scan_type="hip_dual")
    e = _flag_t_right(truth_to_exam(t, "/site/dual.png"))
    marked = {(r["region"], r["side"], r["measure"]) for r in exam_rows(e) if "engine_disagreement" in r["flag_codes"]}
    assert marked == {("total_hip", "right", "t_score")}
