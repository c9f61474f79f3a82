"""Shared builder for the export tests: a stored batch of three subjects over three visits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from helpers.batch import store_exams, truth_to_exam, visit_series
from test_batch_subjects import write_mapping

from bmdkit.batch.assemble import Assembly, assemble, load_exams
from bmdkit.batch.subjects import SubjectMap, load_windows
from bmdkit.flags import FlagCode
from bmdkit.model import Flag


def build_assembly(tmp_path: Path, flag_first_neck: bool = True) -> tuple[Assembly, list, Path, Path]:
    """Three subjects; the first file gets a review flag on its left femoral neck if asked."""
    bases, series = visit_series(31, 3)
    exams = []
    for t, off in series:
        e = truth_to_exam(t, f"/site/{t.sample_id}_{off}.dcm")
        e = e.replace(exam_date=e.exam_date + dt.timedelta(days=off), study_instance_uid=f"{t.study_instance_uid}.{off}")
        exams.append(e)
    if flag_first_neck:
        i = next(i for i, e in enumerate(exams) if any(r.region.value == "femoral_neck" for r in e.regions))
        exams[i] = exams[i].with_flags([Flag(FlagCode.OUT_OF_RANGE, "test: doubtful neck", "femoral_neck")])
    out = tmp_path / "out"
    store_exams(out, exams)
    mapping = write_mapping(tmp_path / "map.csv", [
        (b.center, b.patient.patient_id, f"S{i + 1:03d}", b.institution) for i, b in enumerate(bases)])
    result = assemble(list(load_exams(out)), SubjectMap.load(mapping), load_windows())
    return result, exams, out, mapping


def test_assembly_has_nine_visits(tmp_path: Path) -> None:
    result, _, _, _ = build_assembly(tmp_path)
    assert len(result.subjects) == 9
    assert not [r for r in result.report if r["problem"]]
