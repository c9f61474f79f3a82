"""``bmdkit batch --retry-failed``: a file that timed out is read again with a larger limit, its failure kept.

A real report page (OCR takes seconds) fails under a 0.2 s time limit; a
plain re-run leaves it failed ("0 processed now"); ``--retry-failed`` with
a generous limit reads it, and its line keeps the earlier failure in
``history``.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from conftest import assert_valid

from bmdkit.cli.app import main

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "reports" / "s7-0020_ge_lunar_en_png.png"


def _line(out: Path) -> dict:
    [line] = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    return line


def test_retry_failed_reads_a_timed_out_file_again_and_keeps_its_history(tmp_path: Path, capsys, contract) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    shutil.copy(SAMPLE, inputs / SAMPLE.name)
    args = ["batch", str(inputs), "--out", str(out), "--workers", "1", "--no-progress"]
    assert main([*args, "--timeout", "0.2"]) == 0
    first = _line(out)
    assert first["status"] == "failed" and [f["code"] for f in first["flags"]] == ["resource_limit"]
    capsys.readouterr()
    assert main([*args, "--timeout", "0.2"]) == 0  # a plain re-run does not touch it
    assert "0 processed now" in capsys.readouterr().err and _line(out) == first
    assert main([*args, "--timeout", "300", "--retry-failed"]) == 0
    err = capsys.readouterr().err
    assert "1 processed now" in err and "0 failed" in err
    got = _line(out)
    assert_valid(contract, got)
    assert got["status"] in ("extracted", "flagged") and got["regions"]
    [past] = got["history"]
    assert past["outcome"] == "failed" and past["flag_codes"] == ["resource_limit"] and "0.2 s" in past["reasons"]
    with (out / "failures.csv").open(encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == []
    assert main([*args, "--timeout", "300", "--retry-failed"]) == 0  # nothing failed now: nothing to retry
    assert "0 processed now" in capsys.readouterr().err and _line(out)["history"] == got["history"]
