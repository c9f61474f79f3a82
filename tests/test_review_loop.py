"""The review loop closed on real sample files, driven in headless chromium.

``bmdkit batch --mapping`` reads three sample files (the clean Hologic page
``s7-0002`` whose only doubt is its day/month date, the Chinese phone photo
``s7-0006`` with its doubtful values, and a DICOM file that needs no
review). On the review page a reviewer finds each flagged exam by its trial
subject, confirms the date of one, accepts the other page as read where its
page-level doubt is still open (and each value it still doubts), and
downloads the decisions; ``bmdkit
apply-decisions`` applies them and ``bmdkit export`` then holds every value
of both exams, with nothing of theirs in ``_review.csv``.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import assert_valid
from helpers.review import chrome

import bmdkit
from bmdkit.cli.app import main
from bmdkit.model import MEASURES

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DATE_PAGE = "s7-0002_hologic_en_png.png"  # only doubt: the date 02/06/2026 (BMD-002)
PHOTO = "s7-0006_chinese_zh_photo_jpeg.jpg"  # phone photo: page quality (BMD-006)
DICOM = "s7-0001_hologic_script.dcm"  # extracted, needs nothing (BMD-001)


def _results(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def _by_name(out: Path, name: str) -> dict:
    return next(d for d in _results(out) if d["source"]["path"].endswith(name))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    inputs = root / "inputs"
    inputs.mkdir()
    for name in (DATE_PAGE, PHOTO):
        shutil.copy(SAMPLES / "reports" / name, inputs / name)
    shutil.copy(SAMPLES / "dicom" / DICOM, inputs / DICOM)
    out = root / "out"
    mapping = SAMPLES / "trial" / "subjects.csv"
    assert main(["batch", str(inputs), "--out", str(out), "--mapping", str(mapping), "--workers", "2",
                 "--no-progress"]) == 0
    return root, out, mapping


def test_batch_lines_carry_their_subject(batch, contract):
    _, out, _ = batch
    for d in _results(out):
        assert_valid(contract, d)
    assert _by_name(out, DATE_PAGE)["subject"] == {"subject_id": "BMD-002", "center": "beijing", "visit": "baseline"}
    assert _by_name(out, PHOTO)["subject"]["subject_id"] == "BMD-006"
    assert _by_name(out, DATE_PAGE)["status"] == "flagged" and _by_name(out, PHOTO)["status"] == "flagged"
    kept = (out / "mapping.csv")
    assert kept.stat().st_mode & 0o077 == 0
    assert "B4151952" not in kept.read_text(encoding="utf-8")  # BMD-002's hospital ID is kept only hashed


@pytest.fixture(scope="module")
def decided(batch):
    """The page built, both flagged exams decided in chromium, the decisions downloaded and applied."""
    root, out, _ = batch
    assert main(["review", str(out)]) == 0
    page = out / "review.html"
    dl = root / "downloads"
    dl.mkdir()
    driver = chrome(dl, root / "profile")
    try:
        driver.get(page.as_uri())
        for _ in range(100):
            if driver.execute_script("return document.body.dataset.ready") == "1":
                break
            time.sleep(0.05)
        photo_flags = _by_name(out, PHOTO)["flags"]
        # the photo's page-level doubt is open unless every doubtful value on it carries its own flag
        # (then page_quality is an info note): the page offers "accept the page" exactly when it is open
        page_open = any(f["region"] is None and f["severity"] == "review" for f in photo_flags)
        seen = _decide_on_page(driver, page_open)
        driver.find_element("id", "reviewer").send_keys("Dr Li")
        driver.find_element("id", "download").click()
        got = _wait_for_download(dl)
        logs = [x for x in driver.get_log("browser") if x["level"] in ("SEVERE", "WARNING")]
    finally:
        driver.quit()
    assert not logs, logs
    assert main(["apply-decisions", str(out), str(got), "--reviewer", "Dr Li"]) == 0
    return root, out, got, seen


def _search(driver, text: str) -> list:
    box = driver.find_element("id", "f-text")
    box.clear()
    box.send_keys(text)
    return driver.find_elements("css selector", "#list article")


def _decide_on_page(driver, page_open: bool) -> dict[str, str]:
    """Find each exam by its subject ID; confirm the date reading of one, accept the other's page and values."""
    seen = {}
    arts = _search(driver, "BMD-002")
    assert len(arts) == 1
    art = arts[0]
    seen["date_header"] = art.find_element("css selector", "h2").text
    row = art.find_element("css selector", '.xdec[data-key$="/x/exam_date"]')
    picks = {b.get_attribute("data-v"): b for b in row.find_elements("css selector", 'button[data-act="pick"]')}
    assert set(picks) == {"2026-02-06", "2026-06-02"}  # both readings of 02/06/2026 offered
    picks["2026-02-06"].click()  # the date the page means (the truth file's)
    assert "confirmed" in row.text
    assert not art.find_elements("css selector", "td.cell.need")  # nothing else to decide there
    arts = _search(driver, "bmd-006")  # search ignores case
    assert len(arts) == 1
    art = arts[0]
    page_controls = art.find_elements("css selector", '.xdec[data-key$="/x/page"] button[data-act="accept"]')
    assert bool(page_controls) == page_open
    clicks = 0
    while True:
        buttons = art.find_elements("css selector", 'button[data-act="accept"]')
        if not buttons:
            break
        buttons[0].click()
        clicks += 1
        assert clicks < 200
    seen["photo_clicks"] = str(clicks)
    _search(driver, "")
    driver.find_element("id", "f-todo").click()
    todo = driver.find_elements("css selector", "#list article")
    seen["todo_subjects"] = " ".join(a.find_element("css selector", "h2 .subj").text for a in todo)
    driver.find_element("id", "f-todo").click()
    return seen


def _wait_for_download(dl: Path) -> Path:
    for _ in range(100):
        done = [p for p in dl.glob("decisions-*.csv")]
        if done and not list(dl.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError("no decisions CSV downloaded")


def test_page_shows_subject_visit_and_one_center(decided):
    _, out, _, seen = decided
    assert "BMD-002 · baseline" in seen["date_header"]
    assert "beijing" in seen["date_header"] and "北京协和医院" in seen["date_header"]  # code, institution beside it
    assert "BMD-002" not in seen["todo_subjects"] and "BMD-006" not in seen["todo_subjects"]
    data = (out / "review.html").read_text(encoding="utf-8")
    assert data.count("BMD-00") >= 3


def test_decisions_recorded_as_accepted_not_corrected(decided):
    _, out, got, _ = decided
    rows = list(csv.DictReader(got.open(encoding="utf-8")))
    fields = {(r["sha256"][:12], r["measure"]): r for r in rows}
    date_sha = _by_name(out, DATE_PAGE)["source"]["sha256"][:12]
    photo_sha = _by_name(out, PHOTO)["source"]["sha256"][:12]
    assert fields[(date_sha, "exam_date")]["action"] == "accept"
    assert fields[(date_sha, "exam_date")]["old_value"] == "2026-02-06"
    if (photo_sha, "page") in fields:  # offered (and taken) exactly when the page-level doubt was open
        assert fields[(photo_sha, "page")]["action"] == "accept"
    assert any(sha == photo_sha for sha, _ in fields)  # the photo's open doubts were decided on the page
    audit = list(csv.DictReader((out / "audit.csv").open(encoding="utf-8")))
    assert len(audit) == len(rows) and all(r["applied_by"] == "Dr Li" for r in audit)
    for name in (DATE_PAGE, PHOTO):
        d = _by_name(out, name)
        codes = {f["code"] for f in d["flags"]}
        assert "accepted" in codes and "corrected" not in codes
        assert d["status"] == "extracted" and not [f for f in d["flags"] if f["severity"] == "review"]


def test_export_holds_both_exams_and_review_holds_nothing_of_theirs(decided, batch):
    root, out, _, _ = decided
    mapping = batch[2]
    edc = root / "edc.csv"
    assert main(["export", str(out), "--format", "redcap", "--mapping", str(mapping), "--out", str(edc)]) == 0
    shas = {_by_name(out, n)["source"]["sha256"] for n in (DATE_PAGE, PHOTO)}
    review = list(csv.DictReader((root / "edc_review.csv").open(encoding="utf-8")))
    assert not [r for r in review if r["sha256"] in shas]
    body = {r["record_id"]: r for r in csv.DictReader(edc.open(encoding="utf-8"))}
    assert body["BMD-002"]["dxa_date"] == "2026-02-06" and body["BMD-002"]["fn_l_bmd"]
    assert body["BMD-006"]["th_r_bmd"] and body["BMD-006"]["th_l_t"] and not body["BMD-006"]["dxa_review"]
    photo = _by_name(out, PHOTO)
    neck = next(r for r in photo["regions"] if r["region"] == "femoral_neck" and r["side"] == "left")
    assert body["BMD-006"]["fn_l_bmd"] == f"{neck['bmd']:.3f}"


def test_results_csv_and_read_results_agree_with_results_jsonl(decided):
    _, out, _, _ = decided
    lines = _results(out)
    with (out / "results.csv").open(encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    from_csv = {(r["sha256"], r["region"], r["side"], r["measure"]): (float(r["value"]), r["status"], r["exam_date"])
                for r in csv_rows if r["measure"]}
    from_jsonl = {}
    for d in lines:
        for r in [*d["regions"], *d["extra_regions"]]:
            for m in MEASURES:
                if r.get(m) is not None:
                    key = (d["source"]["sha256"], r["region"], r.get("side") or "", m)
                    from_jsonl.setdefault(key, (float(r[m]), d["status"], d["exam_date"] or ""))
    assert from_csv == from_jsonl
    photo = _by_name(out, PHOTO)
    assert {r["status"] for r in csv_rows if r["sha256"] == photo["source"]["sha256"]} == {"extracted"}
    df = bmdkit.read_results(out)
    assert set(df[df.sha256 == photo["source"]["sha256"]].status) == {"extracted"}


def test_decisions_survive_a_batch_rerun(decided, batch, tmp_path):
    """A later batch regenerates the outputs from its state and audit.csv: the exams stay decided."""
    root, out, _, _ = decided
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    inputs = root / "inputs"
    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(SAMPLES / "dicom" / "s7-0003_hologic_xml.dcm", more / "s7-0003_hologic_xml.dcm")
    assert main(["batch", str(inputs), str(more), "--out", str(copy), "--mapping", str(batch[2]), "--workers", "1",
                 "--no-progress"]) == 0
    for name in (DATE_PAGE, PHOTO):
        d = _by_name(copy, name)
        assert d["status"] == "extracted" and "subject" in d
    assert _by_name(copy, "s7-0003_hologic_xml.dcm")["subject"]["subject_id"] == "BMD-003"
    rows = list(csv.DictReader((copy / "results.csv").open(encoding="utf-8")))
    photo = _by_name(copy, PHOTO)["source"]["sha256"]
    assert {r["status"] for r in rows if r["sha256"] == photo} == {"extracted"}
