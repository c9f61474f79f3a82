"""A GE study split across several DICOM objects becomes one exam per visit and scan type.

Real files (pydicom): one SR for the spine, one for the hip, a scan image, and a
second SR for the same hip analysis that disagrees on one value, all of one
StudyInstanceUID. The batch keeps one results.jsonl line per file and writes the
merged exams to exams.jsonl (each value's file recorded, the disagreement
flagged); the exports and the trial checks read the merged exams.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import stat
from pathlib import Path

import pytest

from bmdkit.batch.assemble import load_exams
from bmdkit.batch.runner import run_batch
from bmdkit.batchfolder.layout import EXAMS_JSONL
from bmdkit.checks import trial_inputs
from bmdkit.merge import MergedExam, merge_exams
from bmdkit.model import Region, Side
from bmdkit.samples.dicom_kinds.scan_images import write_ge_scan
from bmdkit.samples.dicom_kinds.sr import write_sr
from bmdkit.samples.truth import TruthExam, TruthGenerator


def _study(root: Path) -> dict[str, object]:
    gen = TruthGenerator(2024)
    spine = gen.exam(vendor="ge_lunar", scan_type="spine")
    hip = gen.exam(vendor="ge_lunar", scan_type="hip_left")
    hip = dataclasses.replace(hip, patient=spine.patient, exam_date=spine.exam_date,
                              study_instance_uid=spine.study_instance_uid, scanner_model=spine.scanner_model,
                              scanner_serial=spine.scanner_serial, institution=spine.institution,
                              center=spine.center)
    neck = next(r for r in hip.regions if r.region == "femoral_neck")
    other_bmd = round(neck.bmd + 0.05, 3)  # type: ignore[operator]
    hip2 = dataclasses.replace(hip, sample_id=hip.sample_id + "-reanalysis", regions=[
        dataclasses.replace(r, bmd=other_bmd) if r is neck else r for r in hip.regions])
    study = root / "study"
    study.mkdir(parents=True)
    write_sr(spine, study / "a_spine_sr.dcm", "nested")
    write_sr(hip, study / "b_hip_sr.dcm", "nested")
    write_ge_scan(spine, study / "c_scan.dcm", scan="spine")
    write_sr(hip2, study / "d_hip_sr_again.dcm", "nested")
    return {"spine": spine, "hip": hip, "neck": neck, "other_bmd": other_bmd, "dir": study}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("merge")
    s = _study(root)
    out = root / "out"
    run_batch([s["dir"]], out, workers=1, progress=False)  # type: ignore[list-item]
    return {**s, "out": out}


def _lines(path: Path) -> list[dict]:
    return [json.loads(t) for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]


def test_results_jsonl_keeps_one_line_per_file(batch: dict) -> None:
    lines = _lines(batch["out"] / "results.jsonl")
    assert sorted(Path(d["source"]["path"]).name for d in lines) == [
        "a_spine_sr.dcm", "b_hip_sr.dcm", "c_scan.dcm", "d_hip_sr_again.dcm"]
    assert not any("merged_from" in d for d in lines)


def test_one_exam_per_visit_and_scan_type_with_each_value_file(batch: dict) -> None:
    out = batch["out"]
    assert stat.S_IMODE((out / EXAMS_JSONL).stat().st_mode) == 0o600
    by_name = {Path(d["source"]["path"]).name: d for d in _lines(out / "results.jsonl")}
    sha = {n: d["source"]["sha256"] for n, d in by_name.items()}
    exams = _lines(out / EXAMS_JSONL)
    merged = [d for d in exams if d.get("merged_from")]
    alone = [d for d in exams if not d.get("merged_from")]
    # the hip SRs merged into one exam; the spine SR is alone in its scan type; the scan image (no results) alone
    assert len(merged) == 1
    [hip] = merged
    assert {m["sha256"] for m in hip["merged_from"]} == {sha["b_hip_sr.dcm"], sha["d_hip_sr_again.dcm"]}
    assert hip["source"]["sha256"] == sha["b_hip_sr.dcm"]
    assert hip["scan_types"] == ["hip_left"]
    assert {Path(d["source"]["path"]).name for d in alone} == {"a_spine_sr.dcm", "c_scan.dcm"}
    spine_lines = [d for d in exams if any(r["region"] == "L1-L4" for r in d["regions"])]
    assert len(spine_lines) == 1  # one spine exam for the visit
    hip_lines = [d for d in exams if any(r["region"] == "total_hip" for r in d["regions"])]
    assert len(hip_lines) == 1  # one hip exam for the visit
    # each value's file: the first hip SR (path order, both exact)
    for r in hip["regions"] + hip["extra_regions"]:
        assert set(r["value_files"].values()) == {sha["b_hip_sr.dcm"]}
        assert "b_hip_sr.dcm" in r["location"]["detail"]
    neck = next(r for r in hip["regions"] if r["region"] == "femoral_neck")
    assert neck["bmd"] == pytest.approx(batch["neck"].bmd)
    # the disagreement is flagged, naming region, side and measure, on the kept value's file
    [flag] = [f for f in hip["flags"] if f["code"] == "sources_disagree"]
    assert (flag["region"], flag["side"], flag["measure"]) == ("femoral_neck", "left", "bmd")
    assert flag["file"] == sha["b_hip_sr.dcm"]
    assert "d_hip_sr_again.dcm" in flag["message"] and f"{batch['other_bmd']:g}" in flag["message"]
    assert hip["status"] == "flagged"


def test_consumers_read_the_merged_exams(batch: dict) -> None:
    out = batch["out"]
    exams = list(load_exams(out))
    assert len(exams) == 3
    assert sum(isinstance(e, MergedExam) for e in exams) == 1
    assert len(trial_inputs.load_exams(out)) == 3
    hip = next(e for e in exams if isinstance(e, MergedExam))
    assert len(hip.merged_from) == 2
    assert hip.region(Region.FEMORAL_NECK, Side.LEFT).bmd == pytest.approx(batch["neck"].bmd)


def _mapping(tmp: Path, truth: TruthExam) -> Path:
    path = tmp / "mapping.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["hospital_patient_id", "subject_id", "center", "baseline_date"])
        w.writerow([truth.patient.patient_id, "S-001", "C1", truth.exam_date])
    return path


def test_export_holds_the_merged_values(batch: dict, tmp_path: Path) -> None:
    from bmdkit.batch.assemble import assemble
    from bmdkit.batch.subjects import SubjectMap, load_windows
    from bmdkit.export.edc import select_values

    result = assemble(list(load_exams(batch["out"])), SubjectMap.load(_mapping(tmp_path, batch["spine"])),
                      load_windows(None))
    assert len(result.subjects) == 1
    [sx] = result.subjects
    assert len(sx.sources) == 4 - 1  # the scan image failed (no results): not behind the exam
    regions = [(r.region, r.side) for r, _ in sx.regions]
    assert len(regions) == len(set(regions))  # each region once: the second hip SR merged, not repeated
    values, review = select_values(sx)
    exported = {v.field: v for v in values}
    held = {i.field: i for i in review}
    neck_bmd = [n for n in [*exported, *held] if n.startswith("fn_l_") and "bmd" in n]
    assert neck_bmd and all(n in held and n not in exported for n in neck_bmd)  # the disputed value waits
    assert not [i for i in review if i.reason == "files of this visit disagree"]
    hip_sha, spine_sha = batch_sha(batch, "b_hip_sr.dcm"), batch_sha(batch, "a_spine_sr.dcm")
    assert {v.sha256 for v in values} == {hip_sha, spine_sha}  # the second hip SR gives no value of its own
    assert any(v.sha256 == spine_sha for v in values) and any(v.sha256 == hip_sha for v in values)
    names = {Path(r["path"]).name for r in result.report}
    assert names >= {"a_spine_sr.dcm", "b_hip_sr.dcm", "d_hip_sr_again.dcm"}


def batch_sha(batch: dict, name: str) -> str:
    for d in _lines(batch["out"] / "results.jsonl"):
        if Path(d["source"]["path"]).name == name:
            return d["source"]["sha256"]
    raise KeyError(name)


def test_merge_exams_is_what_the_batch_wrote(batch: dict) -> None:
    from bmdkit.export.jsonout import exam_from_dict

    files = [exam_from_dict(d) for d in _lines(batch["out"] / "results.jsonl")]
    merged = merge_exams(files)
    assert [e.source.path for e in merged] == [d["source"]["path"] for d in _lines(batch["out"] / EXAMS_JSONL)]
