"""``bmdkit review`` without a browser: exit codes, crop policy, data block, plots from a harmonize folder."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from helpers.review import make_batch

from bmdkit.cli.app import main
from bmdkit.model import Status
from bmdkit.review.plots import control_charts


def _data(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    assert text.count('id="bmd-data"') == 1  # the data is embedded once
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text  # nothing to fetch
    block = re.search(r'<script type="application/json" id="bmd-data">(.*?)</script>', text, re.DOTALL).group(1)
    return json.loads(block.replace("<\\/", "</"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    out, exams = make_batch(root, 20, seed=3, flagged_share=0.4, failed=1)
    return root, out, exams


def test_not_a_batch_folder(tmp_path, capsys):
    assert main(["review", str(tmp_path)]) == 2
    assert "results.jsonl" in capsys.readouterr().err


def test_bad_line_is_named(tmp_path, capsys):
    (tmp_path / "results.jsonl").write_text('{"source": {"path": "x"}}\n')
    assert main(["review", str(tmp_path)]) == 2
    assert "line 1" in capsys.readouterr().err


def test_crop_policy_and_order(batch, tmp_path):
    root, out, exams = batch
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(["review", str(out), "--out", str(tmp_path / "all.html"), "--jobs", "2"]) == 0
        assert main(["review", str(out), "--out", str(tmp_path / "one.html"), "--jobs", "1"]) == 0
        assert main(["review", str(out), "--out", str(tmp_path / "fl.html"), "--crops", "flagged"]) == 0
    finally:
        os.chdir(cwd)
    all_, fl = _data(tmp_path / "all.html"), _data(tmp_path / "fl.html")
    assert all_["crops"] == _data(tmp_path / "one.html")["crops"]  # two processes make the same crops as one
    statuses = [e["status"] for e in all_["exams"]]
    assert statuses == sorted(statuses, key=["flagged", "failed", "extracted"].index)
    flagged_ids = {str(e["id"]) for e in all_["exams"] if e["status"] != "extracted"}
    assert {k.split("/")[0] for k in fl["crops"]} <= flagged_ids
    assert len(fl["crops"]) < len(all_["crops"])
    ocr_values = sum(1 for e in exams if e.source.kind.value != "dicom" for r in e.regions for _ in r.sources)
    shown = sum(1 for e in all_["exams"] for r in e["regions"] for v in r["vals"] if "win" in v or "crop" in v)
    assert shown == ocr_values
    s = all_["summary"]
    assert s["totals"]["flagged"] == sum(e.status is Status.FLAGGED for e in exams)
    assert sum(r["failed"] for r in s["rows"]) == sum(e.status is Status.FAILED for e in exams)


def test_control_charts_skip_links_and_fakes(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    fig.savefig(outside / "secret_chart.png")
    plt.close(fig)
    h = tmp_path / "h"
    h.mkdir()
    (h / "drift_chart.png").symlink_to(outside / "secret_chart.png")
    (h / "control.png").write_bytes(b"GIF89a....")
    assert control_charts(h) == []
    with open(h / "phantom.csv", "w") as fh:  # no chart yet: a run chart from the phantom scans
        fh.write("scanner_id,phantom_id,date,bmd\n" + "".join(f"A,P,2026-01-{d:02d},1.0{d % 3}\n" for d in range(1, 9)))
    got = control_charts(h)
    assert [g["title"][:17] for g in got] == ["Phantom run chart"]
    (h / "A_P.png").write_bytes((outside / "secret_chart.png").read_bytes())
    got = control_charts(h)
    assert [g["title"] for g in got] == ["A_P.png"] and got[0]["uri"].startswith("data:image/png;base64,")
