"""The review page in a real headless chromium: loads clean, shows crops, filters, and decisions round-trip.

A batch folder is built from real PNG and PDF report pages (see
tests/helpers/review.py); the page is written by ``bmdkit review``, opened from
disk in Debian's chromium through selenium, used with clicks and keys, and
the CSV it downloads is applied by ``bmdkit apply-decisions``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers.review import chrome, make_batch

from bmdkit.cli.app import main
from bmdkit.export.jsonout import exam_from_dict
from bmdkit.model import Status

# Chromium and ChromeDriver come with the test install (scripts/install.sh --test): their absence
# is a broken test machine and fails here, it is not a reason to skip.
N_EXAMS = 300


def _harmonize_dir(root: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = root / "harmonize"
    h.mkdir()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 2, 3], [1.0, 1.01, 0.99])
    fig.savefig(h / "S1_ESP-1.png")  # named as `bmdkit harmonize --charts` names them
    plt.close(fig)
    with open(h / "phantom_scans.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["scanner", "date", "measured_bmd", "phantom_id"])
        for d in range(1, 25):
            w.writerow(["S1", f"2026-03-{d:02d}", 1.0 + (d % 5) * 0.002, "ESP-1"])
    (h / "notes_chart.png").write_bytes(b"not a png at all")  # wrong magic: must be skipped
    return h


HOSTILE = '</script><img src=x onerror="window.pwned=1">'


def _hostile_text(out: Path) -> None:
    """Markup in a label and a flag message of the first exam (text from a page can be anything)."""
    path = out / "results.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    d = json.loads(lines[0])
    d["regions"][0]["label"] = HOSTILE
    d["flags"].append({"code": "page_quality", "message": HOSTILE, "region": None, "severity": "info"})
    lines[0] = json.dumps(d, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    out, exams = make_batch(root, N_EXAMS, seed=21, flagged_share=0.35, failed=2)
    _hostile_text(out)
    harm = _harmonize_dir(root)
    page = out / "review.html"
    cwd = os.getcwd()
    os.chdir(root)  # results.jsonl paths are relative to where the batch ran
    try:
        assert main(["review", str(out), "--out", str(page), "--harmonize", str(harm)]) == 0
    finally:
        os.chdir(cwd)
    return root, out, exams, page


@pytest.fixture(scope="module")
def browser(site):
    root = site[0]
    dl = root / "downloads"
    dl.mkdir()
    driver = chrome(dl, root / "profile")
    driver.get(site[3].as_uri())
    for _ in range(100):
        if driver.execute_script("return document.body.dataset.ready") == "1":
            break
        time.sleep(0.05)
    yield driver, dl
    driver.quit()


def _count(driver) -> int:
    return int(driver.find_element("id", "count").text.split()[1])


def _select(driver, elem_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", elem_id)).select_by_value(value)


def test_loads_without_console_errors(site, browser):
    driver, _ = browser
    assert driver.execute_script("return document.body.dataset.ready") == "1"
    logs = driver.get_log("browser")
    assert not [x for x in logs if x["level"] in ("SEVERE", "WARNING")], logs
    _, _, exams, _ = site
    assert _count(driver) == len(exams)
    meta = driver.find_element("id", "meta").text
    n_flagged = sum(e.status is Status.FLAGGED for e in exams)
    assert f"{n_flagged} flagged" in meta
    driver.save_screenshot(str(site[0] / "top.png"))


def test_entries_render_lazily_flagged_first(site, browser):
    driver, _ = browser
    arts = driver.find_elements("css selector", "#list article")
    assert 0 < len(arts) < N_EXAMS  # a chunk, not everything
    seen = len(arts)
    for _ in range(40):  # scrolling down renders the next chunk, until all are there
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        time.sleep(0.3)
        now = len(driver.find_elements("css selector", "#list article"))
        if now == seen and now == N_EXAMS + 2:
            break
        seen = now
    arts = driver.find_elements("css selector", "#list article")
    assert len(arts) == N_EXAMS + 2
    statuses = [a.get_attribute("class").split()[1] for a in arts]
    first_other = next(i for i, s in enumerate(statuses) if s != "flagged")
    assert first_other > 0 and all(s != "flagged" for s in statuses[first_other:])
    driver.execute_script("window.scrollTo(0, 0)")


def test_crops_and_plots_show(site, browser):
    driver, _ = browser
    sizes = driver.execute_script(
        "return [...document.querySelectorAll('img.crop, img.strip')].map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) > 100
    assert all(c and w > 0 for c, w in sizes)
    plots = driver.execute_script(
        "return [...document.querySelectorAll('#plots img')].map(i => [i.alt, i.naturalWidth])")
    titles = " | ".join(t for t, _ in plots)
    assert all(w > 0 for _, w in plots)
    assert "BMD by center" in titles and "S1_ESP-1.png" in titles
    assert "notes_chart" not in titles and "Phantom run chart" not in titles  # the harmonizer's own chart wins


def test_no_identifiers_in_page(site):
    _, _, exams, page = site
    text = page.read_text(encoding="utf-8")
    for e in exams:
        if e.patient:
            assert e.patient.name not in text
            assert e.patient.patient_id not in text
        assert e.source.path not in text


def test_text_from_files_is_shown_not_run(site, browser):
    driver, _ = browser
    _, _, exams, _ = site
    box = driver.find_element("id", "f-text")
    box.send_keys(exams[0].source.sha256[:12])
    assert _count(driver) == 1
    art = driver.find_element("css selector", "#list article")
    assert HOSTILE in art.text
    assert driver.execute_script("return window.pwned") is None
    assert not driver.find_elements("css selector", "#list article img[src=x]")
    box.clear()
    driver.execute_script("document.getElementById('f-text').dispatchEvent(new Event('input'))")


def test_filters(site, browser):
    driver, _ = browser
    _, _, exams, _ = site
    lines = [json.loads(x) for x in (site[1] / "results.jsonl").read_text().splitlines()]
    centers = Counter((ln.get("subject") or {}).get("center") or ln.get("institution") or "?" for ln in lines)
    driver.find_element("id", "f-flagged").click()
    n_flagged = sum(e.status is Status.FLAGGED for e in exams)
    assert _count(driver) == n_flagged
    assert {a.get_attribute("class") for a in driver.find_elements("css selector", "#list article")} == {"exam flagged"}
    driver.find_element("id", "f-flagged").click()
    assert _count(driver) == len(exams)
    center, n = centers.most_common(1)[0]
    _select(driver, "f-center", center)
    assert _count(driver) == n
    _select(driver, "f-center", "")
    _select(driver, "f-code", "unreadable")
    assert _count(driver) == 2
    _select(driver, "f-code", "low_confidence")
    assert _count(driver) == n_flagged
    _select(driver, "f-code", "")
    driver.find_element("id", "f-todo").click()  # nothing decided yet: every flagged exam is to decide
    assert _count(driver) == n_flagged
    driver.find_element("id", "f-todo").click()
    # decide every value of one flagged exam: it leaves the "to decide" list; undo restores it
    flagged = next(e for e in exams if e.status is Status.FLAGGED)
    box = driver.find_element("id", "f-text")
    box.send_keys(flagged.source.sha256[:16])
    assert _count(driver) == 1
    for b in driver.find_elements("css selector", "#list button[data-act=accept]"):
        b.click()
    driver.find_element("id", "f-todo").click()
    assert _count(driver) == 0
    driver.find_element("id", "f-todo").click()
    for b in driver.find_elements("css selector", "#list button[data-act=undo]"):
        b.click()
    assert driver.find_element("id", "ndec").text == "0 decisions"
    box.clear()
    box = driver.find_element("id", "f-text")
    box.send_keys(exams[0].source.sha256[:10])
    assert _count(driver) == 1
    box.clear()
    box.send_keys(" ")
    box.clear()
    driver.execute_script("document.getElementById('f-text').dispatchEvent(new Event('input'))")
    assert _count(driver) == len(exams)


def test_decisions_download_and_apply(site, browser, capsys):
    from selenium.webdriver.common.keys import Keys

    driver, dl = browser
    root, out, exams, _ = site
    body = driver.find_element("tag name", "body")
    # accept the first value to decide, by clicking
    first = driver.find_element("css selector", "td.cell.need")
    first_key = first.get_attribute("data-key")
    first.find_element("css selector", "button[data-act=accept]").click()
    # move on with the keyboard and correct the next one
    body.send_keys("j")
    focused = driver.find_element("css selector", "td.focus")
    key2 = focused.get_attribute("data-key")
    assert key2 != first_key
    old_text = focused.find_element("css selector", ".v").text
    body.send_keys("c")
    nv = focused.find_element("css selector", "input.nv")
    assert driver.switch_to.active_element == nv
    new_value = f"{float(old_text) + 1:.3f}"
    nv.send_keys(new_value, Keys.TAB, "digit misread on the page", Keys.ENTER)
    assert "done-correct" in driver.find_element("css selector", f'td[data-key="{key2}"]').get_attribute("class")
    assert driver.find_element("id", "ndec").text == "2 decisions"
    driver.save_screenshot(str(root / "decided.png"))
    # no reviewer yet: the page asks for one instead of downloading
    driver.find_element("id", "download").click()
    assert "reviewer" in driver.find_element("id", "msg").text
    driver.find_element("id", "reviewer").send_keys("Dr Li")
    driver.find_element("id", "download").click()
    for _ in range(100):
        got = [p for p in dl.glob("decisions-*.csv")]
        if got:
            break
        time.sleep(0.05)
    assert got, "no CSV downloaded"
    csv_path = got[0]
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [r["action"] for r in rows] == ["accept", "correct"]
    assert all(r["reviewer"] == "Dr Li" for r in rows)
    assert all(r["method"] in ("ocr", "dicom-private") for r in rows)
    before = (out / "results.jsonl").read_text(encoding="utf-8")
    assert main(["apply-decisions", str(out), str(csv_path), "--reviewer", "Dr Li"]) == 0
    after = (out / "results.jsonl").read_text(encoding="utf-8")
    assert after != before
    corrected = [exam_from_dict(json.loads(x)) for x in after.splitlines()
                 if json.loads(x)["source"]["sha256"] == rows[1]["sha256"]][0]
    region = corrected.region(*_key(rows[1]))
    assert getattr(region, rows[1]["measure"]) == float(new_value)
    audit = list(csv.DictReader((out / "audit.csv").open(encoding="utf-8")))
    assert len(audit) == 2 and audit[1]["reason"] == "digit misread on the page"
    assert float(audit[1]["old_value"]) == float(old_text)
    shutil.copy(csv_path, root / "kept.csv")
    # the page made again shows both values as decided, and asks no more about them
    page2 = root / "again.html"
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(["review", str(out), "--out", str(page2)]) == 0
    finally:
        os.chdir(cwd)
    driver.get(page2.as_uri())
    for _ in range(100):
        if driver.execute_script("return document.body.dataset.ready") == "1":
            break
        time.sleep(0.05)
    for key, word in ((first_key, "accepted"), (key2, "corrected")):
        td = driver.find_element("css selector", f'td[data-key="{key}"]')
        classes = td.get_attribute("class").split()
        assert "decided" in classes and "need" not in classes
        assert f"{word} earlier" in td.text
    assert not [x for x in driver.get_log("browser") if x["level"] == "SEVERE"]


def _key(row: dict):
    from bmdkit.model import Region, Side

    return Region(row["region"]), Side(row["side"]) if row["side"] else None
