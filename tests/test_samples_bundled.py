"""Every bundled sample, checked against the ground truth written beside it.

- the output validates against the JSON contract;
- bad inputs fail with their path and the expected reason;
- DICOM files give exactly the stored values;
- report pages are not failed, and no value that differs from the truth
  goes out unflagged (a wrong number must always be visible).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bmdkit.cli.app import main
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.model import Status
from bmdkit.pipeline import process_file
from bmdkit.samples.build import TRUTH_SUFFIX
from conftest import SAMPLES, assert_valid

MEASURES = ("bmd", "bmc", "area", "t_score", "z_score")


def _bundled() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and (p.parent / (p.name + TRUTH_SUFFIX)).is_file())


BUNDLED = _bundled()


def _truth(path: Path) -> dict:
    return json.loads((path.parent / (path.name + TRUTH_SUFFIX)).read_text(encoding="utf-8"))


def _key(d: dict) -> tuple[str, str | None]:
    return (d["region"], d.get("side"))


def test_bundled_set_is_present_and_small() -> None:
    assert len(BUNDLED) >= 20
    kinds = {_truth(p)["kind"] for p in BUNDLED}
    assert any(k.startswith("report_") for k in kinds) and "ct" in kinds and "truncated" in kinds
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 12 * 1024 * 1024


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_sample_against_truth(path: Path, contract) -> None:
    truth = _truth(path)
    exam = process_file(path)
    doc = exam_to_dict(exam)
    assert_valid(contract, doc)
    assert doc["source"]["path"] == str(path)
    assert doc["source"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    expect = truth["expect_status"]
    if expect == "failed":
        assert exam.status is Status.FAILED
        assert truth["expect_flag"] in {f.code.value for f in exam.flags}
        return
    assert exam.status is not Status.FAILED, [f.message for f in exam.flags]
    read = {(r.region.value, r.side.value if r.side else None): r for r in exam.regions
            if r.method.value != "computed"}
    expected = {_key(r): r for r in truth["regions"]}
    if expect == "extracted":  # exact sources (DICOM): every stored value, exactly
        for key, t in expected.items():
            assert key in read, f"{key} not read"
            for m in MEASURES:
                assert read[key].value(m) == t[m], (key, m)
        return
    # report pages: whatever was read must be right, or the exam must say it needs review
    wrong = []
    for key, r in read.items():
        t = expected.get(key)
        for m in MEASURES:
            v = r.value(m)
            if v is None:
                continue
            tol = 0.0006 if m == "bmd" else 1e-9
            if t is None or t[m] is None or abs(v - t[m]) > tol:
                wrong.append((key, m, v, None if t is None else t[m]))
    if wrong:
        assert exam.status is Status.FLAGGED, f"wrong values went out unflagged: {wrong}"


@pytest.mark.parametrize("path", [p for p in BUNDLED if _truth(p)["expect_status"] == "failed"], ids=lambda p: p.name)
def test_bad_samples_fail_cleanly_from_the_cli(path: Path, capsys) -> None:
    assert main(["check", str(path), "--format", "json"]) == 2
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["status"] == "failed" and doc["flags"][0]["message"]
    assert "Traceback" not in out.err


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """Two runs in two processes (different hash salts) write byte-identical files and truths."""
    import os
    import subprocess
    import sys

    outs = []
    for salt in ("1", "2"):
        out = tmp_path / f"run{salt}"
        subprocess.run([sys.executable, "-m", "bmdkit.samples", str(out), "--seed", "3", "--count", "7", "--no-fixed"],
                       check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": salt}, timeout=600)
        outs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outs[0].keys() == outs[1].keys() and len(outs[0]) >= 14
    differing = [str(k) for k in outs[0] if outs[0][k] != outs[1][k]]
    assert not differing
