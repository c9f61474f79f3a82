"""``bmdkit eligibility`` and ``bmdkit change`` on results.jsonl files: constructed exams and real pipeline output."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from test_checks_factory import hip_exam, spine_exam

from bmdkit.cli.app import main
from bmdkit.export.jsonout import dumps
from bmdkit.model import Exam, PatientIdentity
from bmdkit.samples.truth import TruthGenerator

D0, D12 = dt.date(2026, 1, 10), dt.date(2027, 1, 12)
HOSPITAL_ID = "H7654321"


def write_results(folder: Path, exams: list[Exam], extra_lines: list[str] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [dumps(e) for e in exams] + list(extra_lines)
    (folder / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def _with_id(e: Exam) -> Exam:
    return e.replace(patient=PatientIdentity(name="王秀英", patient_id=HOSPITAL_ID, sex="F"))


def TH(bmd: float, t: float) -> dict[str, tuple[float, float, float]]:
    """A left total hip (area typical of adults)."""
    return {"left": (bmd, t, 30.5)}


@pytest.fixture
def study(tmp_path: Path) -> dict[str, Path]:
    """Three subjects: S1 eligible by T, S2 T exactly -2.0 (not eligible), S3 no fracture row (undetermined)."""
    spec_low = {"L1": (0.80, -1.2), "L2": (0.85, -1.1), "L3": (0.88, -1.0), "L4": (0.90, -0.9)}
    exams = {
        ("S1", "baseline"): [spine_exam(spec_low, date=D0), hip_exam({"left": (0.62, -2.5, 5.1)}, TH(0.70, -1.9), date=D0)],
        ("S1", "month_12"): [spine_exam({k: (round(b * 1.06, 3), t) for k, (b, t) in spec_low.items()}, date=D12),
                             hip_exam({"left": (0.64, -2.3, 5.1)}, TH(0.71, -1.8), date=D12)],
        ("S2", "baseline"): [spine_exam(spec_low, date=D0), hip_exam({"left": (0.70, -2.0, 5.1)}, TH(0.78, -1.5), date=D0)],
        ("S3", "baseline"): [spine_exam(spec_low, date=D0), hip_exam({"left": (0.75, -1.6, 5.1)}, TH(0.80, -1.3), date=D0)],
    }
    flat = [_with_id(e) for es in exams.values() for e in es]
    rows = [[e.source.sha256, sid, visit] for (sid, visit), es in exams.items() for e in es]
    unmapped = _with_id(hip_exam({"left": (0.5, -3.0, 5.1)}))
    res = write_results(tmp_path / "batch", flat + [unmapped], extra_lines=["{not json"])
    subjects = write_csv(tmp_path / "subjects.csv", ["sha256", "subject_id", "visit"], rows)
    fractures = write_csv(tmp_path / "fractures.csv",
                          ["subject_id", "hip_or_vertebral_fracture", "other_fragility_fracture"],
                          [["S1", "no", "no"], ["S2", "否", "否"]])
    return {"results": res, "subjects": subjects, "fractures": fractures, "dir": tmp_path}


def test_eligibility_cli_table_and_csv(study, capsys) -> None:
    out_csv = study["dir"] / "elig.csv"
    code, text = run(["eligibility", str(study["results"]), "--subjects", str(study["subjects"]),
                      "--fractures", str(study["fractures"]), "--out", str(out_csv)], capsys)
    assert code == 1  # S3 is undetermined
    rows = {r["subject_id"]: r for r in read_csv(out_csv)}
    assert rows["S1"]["outcome"] == "eligible" and rows["S1"]["site"] == "femoral_neck (left)"
    assert rows["S1"]["t_score"] == "-2.5" and rows["S1"]["criterion"] == "5.3"
    assert rows["S2"]["outcome"] == "not eligible"  # -2.0 is not < -2.0
    assert rows["S3"]["outcome"] == "undetermined" and "fracture history missing" in rows["S3"]["reasons"]
    assert rows["S1"]["evaluable_vertebrae"] == "L1,L2,L3,L4"
    assert "1 unreadable line(s), 1 unmapped exam(s)" in text
    for blob in (text, out_csv.read_text(encoding="utf-8")):
        assert HOSPITAL_ID not in blob and "王秀英" not in blob


def test_eligibility_spine_setting_and_missing_fracture_file(study, capsys) -> None:
    out_csv = study["dir"] / "e2.csv"
    code, text = run(["eligibility", str(study["results"] / "results.jsonl"), "--subjects", str(study["subjects"]),
                      "--spine", "spine_total", "--out", str(out_csv)], capsys)
    assert code == 1 and "spine setting: spine_total" in text and "fracture history unknown" in text
    rows = {r["subject_id"]: r for r in read_csv(out_csv)}
    assert rows["S1"]["outcome"] == "eligible"  # T -2.5 needs no fracture history
    assert rows["S2"]["outcome"] == "undetermined" and rows["S2"]["spine_setting"] == "spine_total"


def test_eligibility_by_patient_id_mapping(study, capsys, tmp_path) -> None:
    subjects = write_csv(tmp_path / "by_pid.csv", ["center", "hospital_patient_id", "subject_id"],
                         [["beijing", HOSPITAL_ID, "S9"]])
    out_csv = tmp_path / "pid.csv"
    run(["eligibility", str(study["results"]), "--subjects", str(subjects), "--out", str(out_csv)], capsys)
    rows = read_csv(out_csv)
    assert [r["subject_id"] for r in rows] == ["S9"]  # every exam carries that ID


def test_change_cli(study, capsys) -> None:
    out_csv = study["dir"] / "change.csv"
    code, text = run(["change", str(study["results"]), "--subjects", str(study["subjects"]), "--out", str(out_csv)],
                     capsys)
    rows = read_csv(out_csv)
    spine = next(r for r in rows if r["subject_id"] == "S1" and r["site"] == "L1-L4")
    assert float(spine["pct_change"]) == pytest.approx(6.0, abs=0.2)
    assert spine["significant"] == "yes" and "ISCD" in spine["lsc_source"]
    neck = next(r for r in rows if r["site"] == "femoral_neck")
    assert float(neck["abs_change"]) == pytest.approx(0.02)
    assert {r["subject_id"] for r in rows} == {"S1"}  # only S1 has a follow-up
    assert "precision from ISCD minimum" in text
    assert code == 0
    assert HOSPITAL_ID not in text and HOSPITAL_ID not in out_csv.read_text(encoding="utf-8")


def test_missing_results_file_is_an_error_not_a_traceback(tmp_path, capsys) -> None:
    subjects = write_csv(tmp_path / "s.csv", ["sha256", "subject_id", "visit"], [])
    code, text = run(["eligibility", str(tmp_path / "nowhere"), "--subjects", str(subjects)], capsys)
    assert code == 2 and "no results.jsonl" in text
    code, _ = run(["change", str(tmp_path / "nowhere"), "--subjects", str(subjects)], capsys)
    assert code == 2


def test_real_pipeline_outputs(tmp_path, capsys) -> None:
    """DICOM files written with pydicom, read by the real pipeline, then eligibility and change."""
    from bmdkit.pipeline import process_file
    from bmdkit.samples import dicom_gen

    g = TruthGenerator(606)
    plan = [("P1", "baseline", "spine", {"t_shift": 0.0}), ("P1", "baseline", "hip_left", {"force_t": -2.0}),
            ("P1", "month_12", "spine", {"t_shift": 0.3}),
            ("P2", "baseline", "spine", {"exclude": ["L1", "L2", "L3"], "t_shift": -2.5}),
            ("P2", "baseline", "hip_left", {"t_shift": -2.8})]
    exams, rows, truths = [], [], {}
    for i, (sid, visit, kind, kw) in enumerate(plan):
        truth = g.exam(vendor="hologic", scan_type=kind, **kw)
        path = tmp_path / f"{i}.dcm"
        dicom_gen.write_hologic_xml(truth, path)
        exam = process_file(path)
        assert exam.status.value != "failed", [f.code.value for f in exam.flags]
        exams.append(exam)
        rows.append([exam.source.sha256, sid, visit])
        truths[(sid, visit, kind)] = truth
    res = write_results(tmp_path / "batch", exams)
    subjects = write_csv(tmp_path / "subjects.csv", ["sha256", "subject_id", "visit"], rows)
    fractures = write_csv(tmp_path / "fx.csv", ["subject_id", "hip_or_vertebral_fracture", "other_fragility_fracture"],
                          [["P1", "no", "no"], ["P2", "no", "no"]])
    out_csv = tmp_path / "e.csv"
    run(["eligibility", str(res), "--subjects", str(subjects), "--fractures", str(fractures), "--out", str(out_csv)],
        capsys)
    got = {r["subject_id"]: r for r in read_csv(out_csv)}
    # P2: the scanner excluded three vertebrae -> inclusion 6 not met, whatever the T-scores
    assert got["P2"]["inclusion_6"] == "not met" and got["P2"]["outcome"] == "not eligible"
    # P1: expected from the truth: lowest printed T among neck, total hip and the vertebrae, strictly < -2.0
    t1 = truths[("P1", "baseline", "spine")].regions + truths[("P1", "baseline", "hip_left")].regions
    ts = [r.t_score for r in t1 if r.t_score is not None and r.region in ("L1", "L2", "L3", "L4", "femoral_neck", "total_hip")]
    expected = "eligible" if round(min(ts) * 10) < -20 else "not eligible"
    assert got["P1"]["outcome"] == expected, got["P1"]["reasons"]
    assert got["P1"]["inclusion_6"] == "met"

    ch_csv = tmp_path / "c.csv"
    run(["change", str(res), "--subjects", str(subjects), "--out", str(ch_csv)], capsys)
    spine = next(r for r in read_csv(ch_csv) if r["subject_id"] == "P1" and r["site"] == "L1-L4")
    b = next(r for r in truths[("P1", "baseline", "spine")].regions if r.region == "L1-L4")
    v = next(r for r in truths[("P1", "month_12", "spine")].regions if r.region == "L1-L4")
    assert float(spine["pct_change"]) == pytest.approx(100 * (v.bmd - b.bmd) / b.bmd, abs=0.01)


def test_subjects_default_to_the_batch_placement_report(study, capsys) -> None:
    placement = study["results"] / "subjects.csv"
    rows = read_csv(study["subjects"])
    write_csv(placement, ["path", "sha256", "status", "exam_date", "subject_id", "visit", "problem"],
              [["x", r["sha256"], "extracted", "", r["subject_id"], r["visit"], ""] for r in rows]
              + [["y", "0" * 64, "failed", "", "", "", "outside every visit window"]])
    out_csv = study["dir"] / "d.csv"
    run(["eligibility", str(study["results"]), "--fractures", str(study["fractures"]), "--out", str(out_csv)], capsys)
    assert {r["subject_id"] for r in read_csv(out_csv)} == {"S1", "S2", "S3"}
    placement.unlink()
    code, text = run(["change", str(study["results"])], capsys)
    assert code == 2 and "no subject mapping" in text


def test_patient_id_at_two_centers_needs_the_institution(tmp_path) -> None:
    from bmdkit.checks.trial_inputs import LoadReport, group_by_subject
    a = _with_id(hip_exam({"left": (0.7, -1.5, 5.1)})).replace(institution="Kunshan Hospital")
    b = _with_id(hip_exam({"left": (0.7, -1.5, 5.1)}))  # names no institution
    mapping = write_csv(tmp_path / "m.csv", ["center", "hospital_patient_id", "subject_id", "visit"],
                        [["kunshan hospital", HOSPITAL_ID, "K1", "baseline"], ["beijing", HOSPITAL_ID, "B1", "baseline"]])
    report = LoadReport()
    grouped = group_by_subject([a, b], mapping, report)
    assert list(grouped) == ["K1"] and grouped["K1"]["baseline"] == [a]
    assert report.ambiguous == 1


def test_config_file_sets_thresholds(study, capsys) -> None:
    cfg = study["dir"] / "bmdkit.toml"
    cfg.write_text('[checks]\nspine_setting = "spine_total"\narea_change_pct = 0.1\n')
    out_csv = study["dir"] / "cfg.csv"
    _, text = run(["eligibility", str(study["results"]), "--subjects", str(study["subjects"]),
                   "--config", str(cfg), "--out", str(out_csv)], capsys)
    assert "spine setting: spine_total" in text
    assert {r["spine_setting"] for r in read_csv(out_csv)} == {"spine_total"}
    bad = study["dir"] / "bad.toml"
    bad.write_text("[checks]\nno_such_setting = 1\n")
    code, text = run(["change", str(study["results"]), "--subjects", str(study["subjects"]), "--config", str(bad)],
                     capsys)
    assert code == 2 and "no_such_setting" in text
