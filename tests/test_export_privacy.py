"""No patient name or hospital ID in any output or log, from DICOM input to all three EDC exports.

Fake names (Latin and Chinese) and hospital IDs are seeded into real DICOM
files; the batch and every export run through the CLI at debug log level;
every file written and all log output are searched. The only place the
identifiers may appear is the ``patient`` object of results.jsonl (and the
same contract lines kept in the batch's state database).
"""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

from helpers.batch import write_sr

from bmdkit.privacy import RedactingFilter
from bmdkit.samples.truth import TruthGenerator

PEOPLE = [
    ("Testpatient^Alpha", "HOSPX90001"),
    ("测试^患者甲", "京A7781234"),
    ("Zzyzx^Quentin", "HOSPX90003"),
    ("王^测试乙", "HOSPX90004"),
]


def _run(args: list[str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "bmdkit", "-vv", *args], capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
    return proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")


def _needles() -> list[str]:
    out = []
    for name, pid in PEOPLE:
        out += [pid] + [p for p in name.split("^")]
    return out


def test_identifiers_never_leave_the_patient_field(tmp_path: Path) -> None:
    gen = TruthGenerator(41)
    site = tmp_path / "in"
    site.mkdir()
    rows = []
    for i, (name, pid) in enumerate(PEOPLE):
        spine = gen.exam(scan_type="spine")
        hip = gen.exam(scan_type="hip_dual")
        hip.exam_date, hip.study_instance_uid, hip.institution = spine.exam_date, spine.study_instance_uid, spine.institution
        write_sr(site / f"p{i}_spine.dcm", spine, name=name, patient_id=pid)
        write_sr(site / f"p{i}_hip.dcm", hip, name=name, patient_id=pid)
        if i < 3:  # the fourth patient stays unmapped
            rows.append((spine.center, pid, f"S{i + 1:03d}", spine.institution))
    mapping = tmp_path / "mapping.csv"
    with mapping.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["center", "hospital_patient_id", "subject_id", "institution"])
        w.writerows(rows)
    out = tmp_path / "out"
    logs = _run(["batch", str(site), "--out", str(out), "--workers", "2", "--no-progress", "--mapping", str(mapping)])
    exports = tmp_path / "exports"
    for fmt, ext in (("redcap", "csv"), ("odm", "xml"), ("fhir", "json")):
        logs += _run(["export", str(out), "--format", fmt, "--mapping", str(mapping), "--out", str(exports / f"edc.{ext}")])

    needles = _needles()
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    extracted = [d for d in lines if d["status"] != "failed"]
    # the identifiers did reach the patient field (so the search below is not vacuous)
    if extracted:
        assert any(d["patient"] and d["patient"]["id"] in {p for _, p in PEOPLE} for d in extracted)
    merged = [json.loads(x) for x in (out / "exams.jsonl").read_text(encoding="utf-8").splitlines()]
    for d in [*lines, *merged]:  # exams.jsonl (the merged exams) keeps identifiers in the patient field too
        d.pop("patient")
        text = json.dumps(d, ensure_ascii=False)
        assert not [n for n in needles if n in text]
    db = sqlite3.connect(out / "state.sqlite")
    for (line,) in db.execute("SELECT line FROM files"):
        d = json.loads(line)
        d.pop("patient")
        assert not [n for n in needles if n in json.dumps(d, ensure_ascii=False)]
    assert not [n for (display,) in db.execute("SELECT display FROM names") for n in needles if n in display]
    db.close()
    searched = 0
    for f in [*out.rglob("*"), *exports.rglob("*")]:
        if not f.is_file() or f.name in ("results.jsonl", "exams.jsonl") or f.name.startswith("state.sqlite"):
            continue
        text = f.read_bytes().decode("utf-8", "replace")
        assert not [n for n in needles if n in text], f.name
        searched += 1
    assert searched >= 10
    assert not [n for n in needles if n in logs]
    # EDC files carry no file paths either (site folders may be named after patients)
    for f in ("edc.csv", "edc.xml", "edc.json"):
        assert str(site) not in (exports / f).read_text(encoding="utf-8")
    if extracted:
        assert "S001" in (exports / "edc.csv").read_text(encoding="utf-8")
        subjects = (exports / "edc_subjects.csv").read_text(encoding="utf-8")
        assert subjects.count("unmapped_patient") == 2  # spine + hip of the fourth patient


def test_log_filter_redacts_registered_identifiers(caplog) -> None:
    filt = RedactingFilter()
    filt.register("王^测试乙", "HOSPX90004")
    logger = logging.getLogger("bmdkit.test.privacy")
    logger.addFilter(filt)
    with caplog.at_level(logging.DEBUG, logger="bmdkit.test.privacy"):
        logger.debug("reading %s for %s (%s)", "file.dcm", "王^测试乙", "HOSPX90004")
        logger.debug("given name alone: %s", "测试乙")
    text = caplog.text
    assert "HOSPX90004" not in text and "测试乙" not in text and "file.dcm" in text
