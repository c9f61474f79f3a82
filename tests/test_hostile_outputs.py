"""Outputs that could be turned against their reader (issue 18, items 8-11 and the row label holding a name).

Real DICOM files are written with hostile fields: a file name that is a
spreadsheet formula, a model name holding Rich markup and terminal escape
sequences, an InstitutionName that opens an HTML comment and holds
``{{js}}``, a row label that closes the page's script element, a row label
and a model field that hold the patient's name, and two names for one
content, one containing ``;``. The real CLI runs on them (batch, review,
export, check); the CSVs are read with :mod:`csv`, the review page is loaded
in headless Chromium, and the terminal output is searched byte by byte.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from helpers.review import chrome

from bmdkit.batchfolder.cells import FORMULA_STARTS, split_list, unescape_cell
from bmdkit.review.decisions import audit_csv_text, parse_decisions
from bmdkit.samples.dicom_kinds.hologic_script import write_hologic_script
from bmdkit.samples.truth import TruthGenerator

PATIENT = "Quixotl^Zebadiah"
NAME_PARTS = ("Quixotl", "Zebadiah")
FORMULA_NAME = '=HYPERLINK("evil.example","open").dcm'  # a file name cannot hold '/'
MODEL = "=cmd|'/C calc'!A0 iDXA [/bold] x \x1b]0;PWNED\x07\x1b[2J \x9b31m"
INSTITUTION = "Clinic <!-- main {{js}} {{data}}"
SCRIPT_LABEL = "Total </script><script>alert(1)</script>"
NAME_LABEL = "Total Quixotl Zebadiah"
#: the failing file, under two names (a name cannot hold "/", so the markup spans a folder):
#: its model field holds the patient's name, which its error message quotes
FAILING_NAMES = ("![/bold]fail\x1b[2J.dcm", "a;b.dcm")
RAW_CONTROLS = (b"\x1b", b"\x07", "\x9b".encode())
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_PIXEL_TAGS = ("PixelData", "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
               "SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration")


def _script_dicom(path: Path, seed: int, *, total_label: str | None = None, total_bmd: str | None = None,
                  model: str | None = None, institution: str | None = None, keep_script: bool = True) -> None:
    """A Hologic report-script DICOM (no page pixels, so no OCR) with the given fields replaced.

    ``total_label`` and ``total_bmd`` replace the spine total row's label and BMD cell (a BMD
    that does not fit the vertebrae makes the checks quote the label in a flag message).
    """
    truth = TruthGenerator(seed).exam(vendor="hologic", scan_type="spine")
    write_hologic_script(truth, path)
    ds = pydicom.dcmread(path)
    for tag in _PIXEL_TAGS:
        if tag in ds:
            delattr(ds, tag)
    ds.PatientName = PATIENT
    if model is not None:
        ds.ManufacturerModelName = model
    if institution is not None:
        ds.InstitutionName = institution
    block = ds.private_block(0x0029, "HOLOGIC")
    if not keep_script:
        del ds[block.get_tag(0x10)]
    elif total_label is not None:
        script = block[0x10].value
        total = re.search(r'ResultsTable\[\s*0\]\[\s*(\d+)\] = "(L1-L4|Total)";', script)
        assert total is not None
        row = total.group(1)
        script = script.replace(total.group(0), f'ResultsTable[ 0][{row}] = "{total_label}";')
        if total_bmd is not None:  # column 3 is BMD in the style A script
            script = re.sub(rf'(ResultsTable\[\s*3\]\[\s*{int(row)}\] = ")[^"]*', rf"\g<1>{total_bmd}", script)
        block[0x10].value = script
    ds.save_as(path)


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bmdkit", *args], capture_output=True, timeout=300,
                          check=False, cwd=cwd)


def _no_traceback_or_raw_controls(proc: subprocess.CompletedProcess[bytes]) -> None:
    both = proc.stdout + proc.stderr
    assert b"Traceback" not in both, both.decode("utf-8", "replace")[-3000:]
    assert [c for c in RAW_CONTROLS if c in both] == [], both.decode("utf-8", "replace")[-3000:]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The hostile inputs, a batch over them (with --mapping), its review page and an export."""
    root = tmp_path_factory.mktemp("hostile_outputs")
    site = root / "site"
    site.mkdir()
    _script_dicom(site / FORMULA_NAME, 31, total_label=SCRIPT_LABEL, model=MODEL, institution=INSTITUTION)
    _script_dicom(site / "name_label.dcm", 32, total_label=NAME_LABEL, total_bmd="0.500")
    (site / FAILING_NAMES[0]).parent.mkdir()
    _script_dicom(site / FAILING_NAMES[0], 33, model="Quixotl Zebadiah", keep_script=False)
    shutil.copyfile(site / FAILING_NAMES[0], site / FAILING_NAMES[1])
    mapping = root / "mapping.csv"
    mapping.write_text("center,hospital_patient_id,subject_id\nC1,NOBODY-1,S001\n", encoding="utf-8")
    out = root / "out"
    # the inputs named one by one from inside the folder, so results name them as they are (a
    # path starting with "=")
    names = [FORMULA_NAME, "name_label.dcm", *FAILING_NAMES]
    proc = _run("batch", *names, "--out", str(out), "--workers", "1", "--no-progress", "--mapping", str(mapping),
                cwd=site)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    review = _run("review", str(out), "--jobs", "1", cwd=site)
    assert review.returncode == 0, review.stderr.decode("utf-8", "replace")[-3000:]
    export = _run("export", str(out), "--format", "redcap", "--mapping", str(mapping), "--out", str(root / "edc.csv"))
    assert export.returncode == 0, export.stderr.decode("utf-8", "replace")[-3000:]
    return {"root": root, "site": site, "out": out, "procs": [proc, review, export]}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _people_csvs(batch) -> dict[str, Path]:
    out, root = batch["out"], batch["root"]
    return {"results": out / "results.csv", "failures": out / "failures.csv", "subjects": out / "subjects.csv",
            "export_subjects": root / "edc_subjects.csv", "export_review": root / "edc_review.csv"}


def test_csv_cells_cannot_run_as_formulas(batch) -> None:
    files = _people_csvs(batch)
    for name, path in files.items():
        for row in _rows(path):
            for col, cell in row.items():
                if cell and cell.startswith(FORMULA_STARTS):
                    assert _NUMBER.fullmatch(cell), (name, col, cell)
    results = _rows(files["results"])
    hostile = [r for r in results if unescape_cell(r["path"]) == FORMULA_NAME]
    assert hostile and all(r["path"] == "'" + FORMULA_NAME for r in hostile)
    assert {unescape_cell(r["scanner_model"]) for r in hostile} == {MODEL}
    # numbers stay numbers: negative T-scores are written as they are
    t_scores = [r["value"] for r in results if r["measure"] == "t_score"]
    assert any(v.startswith("-") for v in t_scores) and all(_NUMBER.fullmatch(v) for v in t_scores)
    assert "'" + FORMULA_NAME in {r["path"] for r in _rows(files["export_subjects"])}
    assert "'" + FORMULA_NAME in {r["path"] for r in _rows(files["subjects"])}


def test_seen_as_names_holding_a_semicolon_read_back(batch) -> None:
    failures = _rows(_people_csvs(batch)["failures"])
    assert len(failures) == 1
    assert sorted(split_list(unescape_cell(failures[0]["seen_as"]) or "")) == sorted(FAILING_NAMES)


def test_patient_name_in_labels_and_messages_stays_out_of_outputs(batch) -> None:
    site, out = batch["site"], batch["out"]
    # the inputs really carry the name in a row label and in a field an error message quotes
    assert NAME_LABEL.encode() in (site / "name_label.dcm").read_bytes()
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines() if x]
    assert {d["patient"]["name"] for d in lines} == {PATIENT}
    named = next(d for d in lines if d["source"]["path"] == "name_label.dcm")
    # the checks quote the label; the name in it is masked already where the pipeline stores results
    assert [f for f in named["flags"] if "Total <redacted> <redacted>" in f["message"]]
    stored = json.dumps([{k: v for k, v in d.items() if k != "patient"} for d in lines], ensure_ascii=False)
    assert not [p for p in NAME_PARTS if p.lower() in stored.lower()]
    assert "Total <redacted> <redacted>" in {r["label"] for r in _rows(out / "results.csv")
                                             if r["path"] == "name_label.dcm"}
    failures = _rows(out / "failures.csv")
    assert "<redacted>" in failures[0]["reasons"] and failures[0]["flag_codes"] == "no_results"
    page = (out / "review.html").read_text(encoding="utf-8")
    for text in [(out / "results.csv").read_text(encoding="utf-8"), (out / "failures.csv").read_text(encoding="utf-8"),
                 page]:
        assert not [p for p in NAME_PARTS if p.lower() in text.lower()]
    assert "spine total Total \\u003credacted\\u003e \\u003credacted\\u003e" in page  # messages shown, masked


def test_review_page_renders_any_field_content_in_chromium(batch) -> None:
    root, out = batch["root"], batch["out"]
    page = out / "review.html"
    html = page.read_text(encoding="utf-8")
    assert html.count("<script") == 2 and "<!--" not in html.split('id="bmd-data">', 1)[1].split("</script>")[0]
    dl = root / "downloads"
    dl.mkdir(exist_ok=True)
    driver = chrome(dl, root / "profile")
    try:
        driver.get(page.as_uri())
        ready = None
        for _ in range(100):
            ready = driver.execute_script("return document.body.dataset.ready")
            if ready == "1":
                break
            time.sleep(0.05)
        assert ready == "1", driver.get_log("browser")
        assert driver.execute_script("return document.scripts.length") == 2
        assert driver.execute_script("return document.querySelectorAll('article.exam').length") == 3
        text = driver.execute_script("return document.body.innerText")
        data = driver.execute_script("return JSON.parse(document.getElementById('bmd-data').textContent)")
    finally:
        driver.quit()
    assert INSTITUTION in text  # the center is the institution: shown as text, whole
    assert SCRIPT_LABEL in text
    assert MODEL.replace("\x1b", "").replace("\x07", "").replace("\x9b", "")[:20] in text
    models = {e["model"] for e in data["exams"]}
    assert MODEL in models  # the data block parses to the exact field value
    assert "{{js}}" in json.dumps(data, ensure_ascii=False)


def test_check_shows_markup_and_escape_sequences_as_text(batch, tmp_path: Path) -> None:
    folder = tmp_path / "x[/bold]y"
    target = folder / "scan[/red].dcm"
    target.parent.mkdir(parents=True)
    shutil.copyfile(batch["site"] / FORMULA_NAME, target)
    table = _run("check", str(target))
    assert table.returncode in (0, 1), table.stderr.decode("utf-8", "replace")[-3000:]
    _no_traceback_or_raw_controls(table)
    shown = table.stdout.decode("utf-8")
    assert "x[/bold]y/scan[/red].dcm" in shown and "iDXA [/bold] x \\x1b]0;PWNED\\x07\\x1b[2J" in shown
    as_csv = _run("check", str(target), "--format", "csv")
    _no_traceback_or_raw_controls(as_csv)
    rows = list(csv.DictReader(as_csv.stdout.decode("utf-8").splitlines()))
    assert rows and all(r["scanner_model"].startswith("'=cmd") for r in rows)
    as_json = _run("check", str(target), "--format", "json")
    _no_traceback_or_raw_controls(as_json)
    assert json.loads(as_json.stdout)["scanner_model"] == MODEL  # escaped for the terminal, same value


def test_batch_and_error_messages_escape_file_text(batch, tmp_path: Path) -> None:
    for proc in batch["procs"]:
        _no_traceback_or_raw_controls(proc)
    assert "![/bold]fail\\x1b[2J.dcm" in batch["procs"][0].stderr.decode("utf-8")
    hostile_dir = tmp_path / "d[/red]\x1b[2J"
    hostile_dir.mkdir(parents=True)
    for args, code in ((["review", str(hostile_dir)], 2),
                       (["export", str(hostile_dir), "--format", "redcap", "--mapping", str(hostile_dir / "m.csv"),
                         "--out", str(tmp_path / "e.csv")], 64)):
        proc = _run(*args)
        assert proc.returncode == code, proc.stderr.decode("utf-8", "replace")[-3000:]
        _no_traceback_or_raw_controls(proc)
        assert "d[/red]\\x1b[2J" in proc.stderr.decode("utf-8").replace("\n", "")


def test_decisions_with_formula_text_round_trip_through_audit(tmp_path: Path) -> None:
    """A reason or reviewer that starts like a formula is written safe and read back exactly."""
    header = "sha256,region,side,measure,action,old_value,new_value,reason,reviewer,decided_at\n"
    # as the review page writes them: a leading "'" on formula-like text, numbers as they are
    text = header + f"{'a' * 64},L1,,bmd,correct,0.812,-0.5,'=2+3 misread,'@bob,2026-01-01T00:00:00Z\n"
    [d] = parse_decisions(text)
    assert (d.reason, d.reviewer, d.new_value) == ("=2+3 misread", "@bob", -0.5)
    audit = audit_csv_text([d], header=True)
    row = next(csv.DictReader(audit.splitlines()))
    assert row["reason"] == "'=2+3 misread" and row["reviewer"] == "'@bob" and row["new_value"] == "-0.5"
    [again] = parse_decisions(audit)
    assert again.decision_id == d.decision_id and again.reason == d.reason
