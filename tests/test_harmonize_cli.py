"""``bmdkit harmonize`` end to end on results.jsonl files built from constructed exams."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pytest

from bmdkit.cli.app import main
from bmdkit.export.jsonout import dumps
from bmdkit.harmonize.crosscal import to_vendor
from bmdkit.harmonize.sbmd import to_sbmd
from bmdkit.harmonize.simulate import daily_dates, phantom_series
from bmdkit.model import (
    Exam,
    InputKind,
    Method,
    PatientIdentity,
    Region,
    RegionResult,
    ScanType,
    Side,
    Source,
    Vendor,
)
from bmdkit.samples.truth import TruthGenerator

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "samples" / "config" / "sites.example.toml"
SHA = "ab" * 32


def truth_exam(t, i: int) -> Exam:
    """An Exam as a reader would give it, from a synthetic truth exam."""
    regions = []
    for r in t.contract_regions():
        if r.region == "L1-L4" or r.region.startswith("L"):
            side = None
        else:
            side = Side(r.side) if r.side else None
        regions.append(RegionResult(
            region=Region(r.region), side=side, bmd=r.bmd, bmc=r.bmc, area=r.area, t_score=r.t_score,
            method=Method.DICOM_PRIVATE, label=r.label, evaluable=r.evaluable if Region(r.region).is_vertebra else None,
            vertebrae=tuple(Region(v) for v in r.vertebrae) if r.vertebrae else None, reference=r.reference))
    return Exam(
        source=Source(f"in/{t.sample_id}.dcm", f"{i:064x}", InputKind.DICOM), vendor=Vendor(t.vendor),
        scanner_model=t.scanner_model, scanner_serial=t.scanner_serial, institution=t.institution,
        exam_date=dt.date.fromisoformat(t.exam_date), scan_types=(ScanType(t.scan_type),),
        patient=PatientIdentity(name=t.patient.name_pinyin, patient_id=t.patient.patient_id,
                                sex="female" if t.patient.sex == "F" else "male"),
        regions=tuple(regions), reader="test")


@pytest.fixture(scope="module")
def truth_exams() -> list[Exam]:
    gen = TruthGenerator(seed=707)
    return [truth_exam(gen.exam(), i) for i in range(30)]


def write_jsonl(path: Path, exams: list[Exam]) -> Path:
    path.write_text("".join(dumps(e) + "\n" for e in exams), encoding="utf-8")
    return path


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_sbmd_and_to_vendor_on_truth_exams(tmp_path: Path, truth_exams, capsys) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    write_jsonl(folder / "results.jsonl", truth_exams)
    out = tmp_path / "h.csv"
    rc = main(["harmonize", str(folder), "--method", "sbmd", "--method", "to-vendor:hologic", "--out", str(out)])
    assert rc in (0, 1)
    rows = read_csv(out.read_text())
    assert len(rows) == sum(len(e.regions) for e in truth_exams)
    by_sha = {e.source.sha256: e for e in truth_exams}
    checked = 0
    for row in rows:
        e = by_sha[row["sha256"]]
        r = next(x for x in e.regions if x.region.value == row["region"] and (x.side.value if x.side else "") == row["side"])
        assert float(row["bmd"]) == r.bmd  # original untouched
        expect = to_sbmd(r.bmd, e.vendor, r)
        if expect.ok:
            assert float(row["sbmd_mg_cm2"]) == pytest.approx(expect.value, abs=1e-3)
            assert row["sbmd_mg_cm2_equation_set"] == "hui_hanson_lu_1997 v1"
            checked += 1
        else:
            assert row["sbmd_mg_cm2"] == "" and "no_equation" in row["harmonize_flags"]
        conv = to_vendor(r.bmd, e.vendor, Vendor.HOLOGIC, r)
        assert (row["bmd_as_hologic"] != "") == conv.ok
    assert checked >= 10
    text = out.read_text()
    for e in truth_exams:  # no identifiers in the export
        assert e.patient.name not in text and e.patient.patient_id not in text


def _hip_exam(sha: str, vendor: Vendor, model: str, day: dt.date, bmd: float, institution: str) -> Exam:
    return Exam(
        source=Source(f"{sha[:4]}.dcm", sha, InputKind.DICOM), vendor=vendor, scanner_model=model,
        institution=institution, exam_date=day, patient=PatientIdentity(sex="F"),
        regions=(RegionResult(Region.TOTAL_HIP, Method.DICOM_PRIVATE, side=Side.LEFT, bmd=bmd, t_score=-1.0),
                 RegionResult(Region.FEMORAL_NECK, Method.DICOM_PRIVATE, side=Side.LEFT, bmd=0.7),
                 RegionResult(Region.SPINE_TOTAL, Method.DICOM_PRIVATE, bmd=0.95, label="L1-L4")))


def test_site_calibration_drift_tscore_and_charts(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(21)
    dates = daily_dates(120, dt.date(2026, 1, 1))
    lines = ["scanner_id,date,bmd,phantom_id"]
    bj = phantom_series(120, rng, true_bmd=1.02, cv_pct=0.4, change_at=80, step_pct=2.0)  # drifts from day 80
    ha = phantom_series(120, rng, true_bmd=0.97, cv_pct=0.4)
    lines += [f"bj-1,{d},{v:.4f},ESP-EXAMPLE" for d, v in zip(dates, bj)]
    lines += [f"ha-1,{d},{v:.4f},ESP-EXAMPLE" for d, v in zip(dates, ha)]
    phantoms = tmp_path / "phantoms.csv"
    phantoms.write_text("\n".join(lines) + "\n")
    exams = [
        _hip_exam("a" * 64, Vendor.HOLOGIC, "Horizon A", dates[30], 0.80, "北京协和医院"),
        _hip_exam("b" * 64, Vendor.HOLOGIC, "Horizon A", dates[100], 0.80, "Peking Union Medical College Hospital"),
        _hip_exam("c" * 64, Vendor.GE_LUNAR, "Lunar iDXA", dates[100], 0.90, "淮安市第一人民医院"),
        _hip_exam("d" * 64, Vendor.NORLAND, "XR-800", dates[100], 0.90, "Somewhere else"),
    ]
    res = write_jsonl(tmp_path / "r.jsonl", exams)
    out = tmp_path / "h.jsonl"
    charts = tmp_path / "charts"
    rc = main(["harmonize", str(res), "--method", "site", "--method", "to-vendor:hologic",
               "--sites", str(SITES), "--phantoms", str(phantoms), "--out", str(out),
               "--tscore-population", "NHANES III", "--charts", str(charts)])
    assert rc == 1  # some rows flagged
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    get = {(r["sha256"][0], r["region"]): r for r in rows}
    # site calibration: spine only, factor = nominal / baseline mean
    a_spine = get[("a", "L1-L4")]
    assert a_spine["scanner_id"] == "bj-1" and a_spine["calibration_factor"] == pytest.approx(1 / 1.02, rel=0.004)
    assert a_spine["bmd_site_calibrated"] == pytest.approx(0.95 * a_spine["calibration_factor"], rel=1e-3)
    assert "phantom ESP-EXAMPLE" in a_spine["bmd_site_calibrated_equation_set"]
    assert get[("a", "total_hip")]["bmd_site_calibrated"] == ""
    assert a_spine["site_precision_pct"] == 1.0  # from the site configuration
    # drift: bj-1 drifted from about day 80; exam a (day 30) before, exam b (day 100) after
    onset = dt.date.fromisoformat(a_spine["drift_onset"])
    assert abs((onset - dates[80]).days) <= 2
    assert a_spine["drift_flag"] == "false" and "after_drift" not in a_spine["harmonize_flags"]
    assert get[("b", "L1-L4")]["drift_flag"] == "true" and "after_drift" in get[("b", "L1-L4")]["harmonize_flags"]
    assert get[("c", "L1-L4")]["drift_flag"] == "false"
    # unmatched scanner flagged
    assert "scanner_unmatched" in get[("d", "total_hip")]["harmonize_flags"]
    # T-score: Hologic hip recomputed with NHANES; Lunar hip has no hip pairwise -> refused, explained
    th = get[("a", "total_hip")]
    assert th["t_score_recomputed"] == round((0.80 - 0.942) / 0.122, 1) and th["t_score"] == -1.0
    assert "NHANES III female total_hip" in th["t_score_recomputed_reference"]
    c_hip = get[("c", "total_hip")]
    assert c_hip["t_score_recomputed"] == "" and "no_equation" in c_hip["harmonize_flags"]
    assert sorted(p.name for p in charts.glob("*.png")) == ["bj-1_ESP-EXAMPLE.png", "ha-1_ESP-EXAMPLE.png"]
    err = capsys.readouterr().err
    assert "bj-1" in err and "drift from" in err and "1 exams after it" in err


def test_bad_usage_exit_codes(tmp_path: Path, capsys) -> None:
    res = write_jsonl(tmp_path / "r.jsonl", [_hip_exam("e" * 64, Vendor.HOLOGIC, "x", dt.date(2026, 1, 1), 0.8, "")])
    assert main(["harmonize", str(res), "--method", "magic"]) == 64
    assert main(["harmonize", str(res), "--method", "to-vendor:unknown"]) == 64
    assert main(["harmonize", str(res), "--method", "site"]) == 64
    assert main(["harmonize", str(tmp_path / "missing"), "--method", "sbmd"]) == 64
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "an exam"}\n')
    assert main(["harmonize", str(bad), "--method", "sbmd"]) == 64
    assert "line 1" in capsys.readouterr().err


def test_stdout_csv_and_vertebra_refusal(tmp_path: Path, capsys) -> None:
    e = Exam(source=Source("s.dcm", SHA, InputKind.DICOM), vendor=Vendor.GE_LUNAR,
             regions=(RegionResult(Region.L2, Method.OCR, bmd=1.0),
                      RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.RIGHT, bmd=1.0)))
    res = write_jsonl(tmp_path / "r.jsonl", [e])
    rc = main(["harmonize", str(res), "--method", "sbmd"])
    rows = read_csv(capsys.readouterr().out)
    assert rc == 1
    hip = next(r for r in rows if r["region"] == "total_hip")
    assert float(hip["sbmd_mg_cm2"]) == pytest.approx(948.0)
    l2 = next(r for r in rows if r["region"] == "L2")
    assert l2["sbmd_mg_cm2"] == "" and l2["harmonize_flags"] == "no_equation" and "no sBMD equation" in l2["harmonize_notes"]


def test_crosscal_fit_command_and_applying_the_row(tmp_path: Path, capsys, monkeypatch) -> None:
    import shutil

    from bmdkit import reference

    rng = np.random.default_rng(31)
    truth = rng.uniform(0.6, 1.3, 40)
    old = truth + rng.normal(0, 0.015, 40)
    new = 0.93 * truth - 0.01 + rng.normal(0, 0.015, 40)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("pid,jx1,jx2\n" + "".join(f"p{i},{a:.3f},{b:.3f}\n" for i, (a, b) in enumerate(zip(old, new))))
    row_csv = tmp_path / "row.csv"
    rc = main(["crosscal-fit", str(pairs), "--x-col", "jx1", "--y-col", "jx2", "--from-vendor", "ge_lunar",
               "--to-vendor", "hologic", "--derived-on", "jx-1 vs jx-2", "--source", "test pairs",
               "--name", "jx_switch", "--out", str(row_csv)])
    assert rc == 0
    assert "n=40" in capsys.readouterr().out
    (row,) = read_csv(row_csv.read_text())
    assert float(row["slope"]) == pytest.approx(0.93, abs=0.03) and row["status"] == "site_fit"
    # apply it through a copy of reference_data with the row added
    ref = tmp_path / "ref"
    shutil.copytree(reference.reference_dir(), ref)
    table = ref / "pairwise_equations.csv"
    fields = next(csv.reader(io.StringIO(table.read_text())))
    with table.open("a", newline="") as fh:
        csv.DictWriter(fh, fieldnames=fields).writerow(row)
    monkeypatch.setenv("BMDKIT_REFERENCE_DATA", str(ref))
    reference.clear_cache()
    try:
        e = Exam(source=Source("s.dcm", SHA, InputKind.DICOM), vendor=Vendor.GE_LUNAR,
                 regions=(RegionResult(Region.SPINE_TOTAL, Method.OCR, bmd=1.0, label="L1-L4"),))
        res = write_jsonl(tmp_path / "r.jsonl", [e])
        rc = main(["harmonize", str(res), "-m", "to-vendor:hologic", "--allow-status", "site_fit",
                   "--pairwise-set", "jx_switch"])
        out = read_csv(capsys.readouterr().out)[0]
        assert float(out["bmd_as_hologic"]) == pytest.approx(float(row["slope"]) + float(row["intercept"]), abs=1e-4)
        assert out["bmd_as_hologic_equation_set"] == "jx_switch v1"
    finally:
        monkeypatch.delenv("BMDKIT_REFERENCE_DATA")
        reference.clear_cache()
    assert main(["crosscal-fit", str(pairs), "--x-col", "jx1", "--y-col", "nope", "--from-vendor", "ge_lunar",
                 "--to-vendor", "hologic", "--derived-on", "x", "--source", "y"]) == 64
