"""Plain-text reports as an input kind: detected by content, decoded strictly, read by sentences.

Real files are written to tmp_path and read through ``bmdkit check --format
json`` and :func:`bmdkit.read.read_file`. The last test scores generated
sentence reports (text files and text-layer PDFs, bmdkit.samples.sentence_gen)
against their truth with the tests' scorer: at least 99% of BMD and T-scores
exact and no silent error.
"""

from __future__ import annotations

import json
from pathlib import Path

import heldout_reports as ho
import pytest
from conftest import SAMPLES, assert_valid

from bmdkit.cli.app import main
from bmdkit.detect import Format, sniff
from bmdkit.model import Exam, InputKind, Region, Side
from bmdkit.pipeline import process_file
from bmdkit.read import read_file
from bmdkit.report import textfile

ZH_REPORT = ("北京协和医院\n骨密度检测报告\n姓名：王秀英  性别：女  年龄：65岁\n检查日期：2026年2月14日\n"
             "设备：Hologic Horizon W\n\n腰椎L1-L4骨密度0.823 g/cm²，T值-3.0，Z值-1.2。\n"
             "左侧股骨颈 BMD 0.861，T值 -1.3。\n建议2年后复查，维生素D 25 ng/mL。\n")
EN_REPORT = ("Bone Densitometry Report\r\nExam date: 2026-02-14\r\nScanner: GE Lunar iDXA\r\n"
             "The BMD measured at AP Spine L1-L4 is 0.823 g/cm² with a T-score of -3.0.\r\n"
             "Femur Neck Left … 0.861 g/cm² … T-score of -1.3.\r\nRepeat DXA in 2 years.\r\n")


def check_json(path: Path, capsys) -> tuple[int, dict]:
    code = main(["check", str(path), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_text_report_through_the_cli(tmp_path, capsys, contract, encoding) -> None:
    p = tmp_path / "report.txt"
    p.write_bytes(ZH_REPORT.encode(encoding))
    assert sniff(p) is Format.TEXT_REPORT
    code, doc = check_json(p, capsys)
    assert_valid(contract, doc)
    assert doc["status"] == "extracted", doc["flags"]
    assert doc["exam_date"] == "2026-02-14" and doc["vendor"] == "hologic"
    got = {(r["region"], r["side"]): (r["bmd"], r["t_score"], r["z_score"]) for r in doc["regions"]}
    assert got == {("L1-L4", None): (0.823, -3.0, -1.2), ("femoral_neck", "left"): (0.861, -1.3, None)}
    src = next(r for r in doc["regions"] if r["region"] == "L1-L4")["sources"]["t_score"]
    assert src["raw_text"] == "-3.0" and src["engines"] == ["text-file"] and src["confidence"] == 1.0
    assert code == 0


def test_english_text_report_with_crlf(tmp_path) -> None:
    p = tmp_path / "ris_export.txt"
    p.write_bytes(EN_REPORT.encode("utf-8"))
    exam = read_file(p)
    assert exam.status.value == "extracted", exam.flags
    assert exam.vendor.value == "ge_lunar" and str(exam.exam_date) == "2026-02-14"
    neck = exam.region(Region.FEMORAL_NECK, Side.LEFT)
    assert neck is not None and (neck.bmd, neck.t_score) == (0.861, -1.3)
    assert exam.reader == "bmdkit.report.textfile(text-file)" and exam.source.kind is InputKind.UNKNOWN


def test_text_report_input_form_is_kept_and_the_contract_allows_it(tmp_path, contract) -> None:
    """The contract's source kinds have no text kind (never widened): kind stays ``unknown`` and the
    optional ``source.input_form`` says the file was a text report. The schema's ``source`` object
    allows extra properties, so the JSON with that field still validates against the contract."""
    from bmdkit.export.jsonout import exam_to_dict

    p = tmp_path / "report.txt"
    p.write_bytes(ZH_REPORT.encode("gb18030"))
    exam = read_file(p)
    assert exam.source.kind is InputKind.UNKNOWN
    assert exam.source.input_form == textfile.INPUT_FORM == "text_report"
    doc = exam_to_dict(exam)
    assert doc["source"]["input_form"] == "text_report"
    assert_valid(contract, doc)
    assert doc["source"]["kind"] == "unknown"
    from bmdkit.model import Source

    assert Source("scan.png", "0" * 64, InputKind.IMAGE).input_form is None  # other inputs: no input form


def test_content_not_extension_decides(tmp_path) -> None:
    p = tmp_path / "report.dat"
    p.write_bytes(EN_REPORT.encode("gb18030"))
    assert sniff(p) is Format.TEXT_REPORT
    assert read_file(p).region(Region.SPINE_TOTAL) is not None


@pytest.mark.parametrize("name,text", [
    ("README.txt", "# Sample inputs\n\nThe BMD of L1-L4 is 0.823 g/cm² in the sample `s7-0001`.\n"),
    ("notes.txt", "Call the site on Monday about the missing hip scans.\nThree subjects pending.\n"),
    ("truth.json", json.dumps({"region": "L1-L4", "bmd": 0.823, "t_score": -3.0, "label": "Femoral neck BMD 0.9"})),
    ("values.csv", ("subject,region,bmd,t_score\nS01,L1-L4,0.823,-3.0\nS02,femoral neck,0.861,-1.3\n"
                    "S03,total hip,0.9,-0.8\n")),
    ("sites.toml", "[site.beijing]\nscanner = \"Hologic\"\nnote = \"L1-L4 BMD 0.823\"\n"),
])
def test_other_text_is_still_skipped(tmp_path, name, text) -> None:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    assert sniff(p) is Format.TEXT
    exam = read_file(p)
    assert exam.outcome.value == "skipped" and [f.code.value for f in exam.flags] == ["not_a_scan"]


def test_sample_folder_text_files_stay_skipped() -> None:
    """Notes, truth files, tables and configuration stay plain text; the sample text reports (a
    truth file beside them) are text reports."""
    files = [p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix in (".md", ".json", ".csv", ".toml", ".txt")]
    reports = [p for p in files if (p.parent / (p.name + ".truth.json")).is_file()]
    texts = [p for p in files if p not in reports]
    assert texts and reports
    assert {p.name: sniff(p) for p in texts} == {p.name: Format.TEXT for p in texts}
    assert {p.name: sniff(p) for p in reports} == {p.name: Format.TEXT_REPORT for p in reports}


def test_oversized_text_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(textfile, "MAX_TEXT_BYTES", 64)
    p = tmp_path / "big.txt"
    p.write_bytes(EN_REPORT.encode())
    exam = read_file(p)
    assert exam.status.value == "failed"
    (f,) = exam.flags
    assert f.code.value == "resource_limit" and "cap for text reports" in f.message


def test_report_words_but_no_result(tmp_path) -> None:
    p = tmp_path / "ambiguous.txt"
    p.write_text("DXA report\nThe BMD of the femoral neck and total hip is 0.861 g/cm².\n", encoding="utf-8")
    exam = read_file(p)
    assert exam.status.value == "failed" and not exam.regions
    assert {"unplaced_data", "no_results"} <= {f.code.value for f in exam.flags}


def test_decoding_is_strict() -> None:
    assert textfile.decode_report("腰椎".encode("gb18030"), "x") == "腰椎"
    assert textfile.decode_report("\ufeff腰椎".encode(), "x") == "腰椎"
    with pytest.raises(Exception, match="neither UTF-8 nor GB18030"):
        textfile.decode_report(b"\xff\xfe\xfd\x80\x80", "x")


def _read_generated(page) -> Exam:
    """A generated sentence report as ``bmdkit check`` and the batch report it: read, then checked
    (the checks' one-cell guard once withdrew every value of a sentence image or PDF)."""
    return process_file(page.path)


def test_generated_text_and_pdf_reports_score(tmp_path) -> None:
    from bmdkit.samples.sentence_gen import make_sentence_pages

    pages = make_sentence_pages(20, tmp_path, seed=2226, forms=("txt", "pdf"))
    assert {p.lang for p in pages} == {"en", "zh", "bi"} and {p.encoding for p in pages if p.encoding} == {
        "utf-8", "utf-8-sig", "gb18030"}
    total = {"values": 0, "exact": 0, "silent": 0}
    silent: list[str] = []
    for p in pages:
        if p.form == "txt":
            assert sniff(p.path) is Format.TEXT_REPORT
        score = ho.score_exam(_read_generated(p), p.truth, ("bmd", "t_score"), set(p.printed))
        for k in total:
            total[k] += score[k]
        silent += [f"{p.path.name}: {s}" for s in score["silent_values"]]
    assert total["values"] >= 80
    assert total["silent"] == 0, silent
    assert total["exact"] >= 0.99 * total["values"], total


def test_sentence_report_images_are_read_through_the_report_reader(tmp_path) -> None:
    """A scanned page of prose results: the OCR'd lines go to the sentence reader when the page
    has no results table (issue 22: a photo of such a page used to fail "no results table")."""
    from bmdkit.samples.sentence_gen import make_sentence_pages

    pages = make_sentence_pages(2, tmp_path, seed=31, forms=("scan",), langs=("en",))
    total = {"values": 0, "exact": 0, "silent": 0}
    for p in pages:
        ex = _read_generated(p)
        assert ex.status.value != "failed", [f.message for f in ex.flags]
        score = ho.score_exam(ex, p.truth, ("bmd", "t_score"), set(p.printed))
        for k in total:
            total[k] += score[k]
    assert total["values"] >= 4 and total["silent"] == 0
    assert total["exact"] >= 0.75 * total["values"], total
