"""Subjects, visits and grouping on exams stored by a real batch ledger."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from helpers.batch import store_exams, truth_to_exam, visit_series

from bmdkit.batch.assemble import assemble, load_exams
from bmdkit.batch.grouping import group_exams
from bmdkit.batch.subjects import SubjectMap, VisitWindow, assign_visit, load_windows
from bmdkit.errors import ConfigError
from bmdkit.samples.truth import TruthGenerator


def write_mapping(path: Path, rows: list[tuple[str, ...]], header=("center", "hospital_patient_id", "subject_id", "institution")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def series_exams(seed: int = 3, subjects: int = 3):
    bases, series = visit_series(seed, subjects)
    exams = []
    for t, off in series:
        e = truth_to_exam(t, f"/site/{t.sample_id}_{off}.dcm")
        exams.append(e.replace(exam_date=e.exam_date + dt.timedelta(days=off),
                               study_instance_uid=f"{t.study_instance_uid}.{off}"))
    return bases, exams


def test_spine_and_hip_of_one_study_are_grouped() -> None:
    _, exams = series_exams()
    groups = group_exams(exams)
    assert len(groups) == len(exams) // 2
    assert all(len(g) == 2 for g in groups)
    assert all(len({e.study_instance_uid for e in g}) == 1 for g in groups)
    # without a UID, patient + date still join the two files
    stripped = [e.replace(study_instance_uid=None) for e in exams]
    assert [len(g) for g in group_exams(stripped)] == [2] * (len(exams) // 2)


def test_visits_assigned_unmapped_and_out_of_window_reported(tmp_path: Path) -> None:
    bases, exams = series_exams(subjects=3)
    # subject 3 gets an extra study 90 days after baseline: outside every default window
    extra = exams[0].replace(source=exams[0].source.__class__(
        path="/site/extra.dcm", sha256="ab" * 32, kind=exams[0].source.kind),
        exam_date=exams[0].exam_date + dt.timedelta(days=90), study_instance_uid="1.2.3.extra")
    out = tmp_path / "out"
    store_exams(out, exams + [extra])
    mapping = write_mapping(tmp_path / "map.csv", [
        (b.center, b.patient.patient_id, f"S{i + 1:03d}", b.institution) for i, b in enumerate(bases[:2])])
    result = assemble(list(load_exams(out)), SubjectMap.load(mapping), load_windows())
    visits = sorted((s.subject_id, s.visit) for s in result.subjects)
    assert visits == [(s, v) for s in ("S001", "S002") for v in ("baseline", "month_12", "month_6")]
    problems = {r["path"]: r["problem"] for r in result.report if r["problem"]}
    unmapped = [p for p, why in problems.items() if why.startswith("unmapped_patient")]
    assert len(unmapped) == 6  # subject 3: 3 visits x spine + hip
    assert problems["/site/extra.dcm"].startswith("outside_visit_window")
    assert all(s.subject_id != bases[2].patient.patient_id for s in result.subjects)


def test_mapping_matches_within_center_only(tmp_path: Path) -> None:
    t = TruthGenerator(4).exam(scan_type="spine")
    exam = truth_to_exam(t, "/x.dcm")
    same_id_elsewhere = write_mapping(tmp_path / "m1.csv", [("other", t.patient.patient_id, "S9", "别的医院")])
    row, why = SubjectMap.load(same_id_elsewhere).lookup(exam)
    assert row is None and "another center" in why
    here = write_mapping(tmp_path / "m2.csv", [("other", t.patient.patient_id, "S9", "别的医院"),
                                                (t.center, t.patient.patient_id, "S1", t.institution)])
    row, _ = SubjectMap.load(here).lookup(exam)
    assert row is not None and row.subject_id == "S1"
    conflict = write_mapping(tmp_path / "m3.csv", [("a", "P1", "S1", ""), ("a", "P1", "S2", "")])
    with pytest.raises(ConfigError):
        SubjectMap.load(conflict)
    with pytest.raises(ConfigError):
        SubjectMap.load(write_mapping(tmp_path / "m4.csv", [("a", "P1")], header=("center", "patient")))


def test_visit_windows_are_configurable(tmp_path: Path) -> None:
    base = dt.date(2026, 1, 10)
    default = load_windows()
    assert assign_visit(base + dt.timedelta(days=183), base, default)[0].visit == "month_6"
    assert assign_visit(base + dt.timedelta(days=100), base, default)[0] is None
    custom = tmp_path / "w.csv"
    custom.write_text("visit,event,target_day,window_before_days,window_after_days\n"
                      "baseline,v1,0,0,0\nmonth_3,v2,91,20,20\n")
    windows = load_windows(custom)
    assert assign_visit(base + dt.timedelta(days=100), base, windows)[0].event == "v2"
    assert assign_visit(None, base, windows)[1] == "no exam date"
    w = VisitWindow("a", "a", 10, 5, 5)
    assert w.contains(5) and w.contains(15) and not w.contains(16)
