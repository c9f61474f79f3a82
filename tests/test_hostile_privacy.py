"""No patient name or hospital ID leaves the patient field: report pages, DICOM kinds, review page, debug logs.

``tests/test_export_privacy.py`` covers SR DICOM through the batch and the
three EDC exports. This adds what it does not reach: names printed on
report pages (text PDFs, a PDF inside DICOM, a page read by OCR), names in
Hologic script and XML DICOM and in DICOM files that fail, the review page,
and the debug log of every command. Fake Latin and Chinese names and
hospital IDs are seeded; every byte written is searched.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np

from bmdkit.samples.build import write_report
from bmdkit.samples.dicom_gen import write_dicom_samples
from bmdkit.samples.truth import TruthGenerator

#: (pinyin as DICOM PN, Chinese name, hospital ID): made up, unlike any word a report prints
PEOPLE = [
    ("Quixotl^Zebadiah", "贾测乙", "HX7730001"),
    ("Vortigern^Ysolde", "欧阳测丙", "沪B5520017"),
]


def _needles() -> list[str]:
    out = []
    for pinyin, zh, pid in PEOPLE:
        out += [*pinyin.split("^"), zh, zh[1:] if len(zh) == 3 else zh[2:], pid]
    return out


def _run(args: list[str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "bmdkit", "-vv", *args], capture_output=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
    return proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")


def _seeded_inputs(site: Path) -> list[tuple[str, str, str]]:
    """Write the inputs; returns mapping rows (center, hospital ID, subject)."""
    gen = TruthGenerator(83)
    rng = np.random.default_rng(83)
    rows = []
    for i, (pinyin, zh, pid) in enumerate(PEOPLE):
        truth = gen.exam(vendor="hologic", scan_type="spine")
        truth.patient.name_pinyin, truth.patient.name_zh, truth.patient.patient_id = pinyin, zh, pid
        kinds = ["hologic_script", "hologic_xml", "sr_zh", "lunar_cr", "truncated"] if i == 0 else \
            ["hologic_script_alt", "sr_flat", "hologic_display"]
        write_dicom_samples(truth, site, kinds)
        if i == 0:
            write_report(truth, site, "pdf_text", "hologic", "en", rng)
            write_report(truth, site, "dicom_pdf", "hologic", "en", rng)
        else:
            write_report(truth, site, "pdf_text", "chinese", "zh", rng)
            write_report(truth, site, "png", "chinese", "zh", rng)  # read by OCR
        rows.append((truth.center, pid, f"S{i + 1:03d}", truth.institution))
    return rows


def test_names_and_ids_stay_in_the_patient_field(tmp_path: Path) -> None:
    site = tmp_path / "in"
    site.mkdir()
    rows = _seeded_inputs(site)
    mapping = tmp_path / "mapping.csv"
    with mapping.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["center", "hospital_patient_id", "subject_id", "institution"])
        w.writerows(rows)
    # the names really are in the inputs (so the search below is not vacuous)
    raw = b"".join(p.read_bytes() for p in site.iterdir())
    assert PEOPLE[0][0].split("^")[0].encode() in raw and PEOPLE[1][2].encode("utf-8") in raw

    out = tmp_path / "out"
    logs = _run(["batch", str(site), "--out", str(out), "--workers", "2", "--no-progress",
                 "--mapping", str(mapping)])
    logs += _run(["review", str(out), "--jobs", "1"])
    exports = tmp_path / "exports"
    logs += _run(["export", str(out), "--format", "redcap", "--mapping", str(mapping),
                  "--out", str(exports / "edc.csv")])

    needles = _needles()
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").split("\n") if x]
    assert len(lines) == len([p for p in site.iterdir()])
    # identifiers were read into the patient field of extracted files
    ids = {d["patient"]["id"] for d in lines if d.get("patient") and d["patient"].get("id")}
    assert {PEOPLE[0][2], PEOPLE[1][2]} <= ids
    merged = [json.loads(x) for x in (out / "exams.jsonl").read_text(encoding="utf-8").split("\n") if x]
    for d in [*lines, *merged]:  # both hold the patient field, and identifiers nowhere else
        d.pop("patient", None)
        text = json.dumps(d, ensure_ascii=False)
        assert not [n for n in needles if n in text], d["source"]["path"]
    db = sqlite3.connect(out / "state.sqlite")
    for (line,) in db.execute("SELECT line FROM files"):
        d = json.loads(line)
        d.pop("patient", None)
        assert not [n for n in needles if n in json.dumps(d, ensure_ascii=False)]
    db.close()
    searched = []
    for f in [*out.rglob("*"), *exports.rglob("*")]:
        if not f.is_file() or f.name in ("results.jsonl", "exams.jsonl") or f.name.startswith("state.sqlite"):
            continue
        text = f.read_bytes().decode("utf-8", "replace")
        assert not [n for n in needles if n in text], f.name
        searched.append(f.name)
    assert "review.html" in searched and "edc.csv" in searched and "failures.csv" in searched
    assert "input names" in logs  # the commands' own output was captured too
    assert not [n for n in needles if n in logs]
