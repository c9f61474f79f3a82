"""``bmdkit check`` end to end on real files: exit codes, contract JSON, CSV, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bmdkit.cli.app import main
from conftest import assert_valid


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "empty": tmp_path / "empty.dcm",
        "random": tmp_path / "random.bin",
        "text": tmp_path / "notes.pdf",
    }
    files["empty"].write_bytes(b"")
    files["random"].write_bytes(bytes(range(256)) * 7)
    files["text"].write_text("just some text with a misleading name\n")
    return files


@pytest.mark.parametrize("name,code", [("empty", "empty_file"), ("random", "unsupported_kind"), ("text", "not_a_scan")])
def test_bad_inputs_fail_with_reason(bad_files, name, code, capsys, contract) -> None:
    rc, out, err = run(["check", str(bad_files[name]), "--format", "json"], capsys)
    assert rc == 2
    doc = json.loads(out)
    assert_valid(contract, doc)
    assert doc["status"] == "failed"
    assert doc["source"]["path"] == str(bad_files[name])
    assert [f["code"] for f in doc["flags"]] == [code]
    assert "Traceback" not in err


def test_missing_file_and_directory(tmp_path, capsys, contract) -> None:
    rc, out, _ = run(["check", str(tmp_path / "nope.dcm"), "--format", "json"], capsys)
    assert rc == 2 and json.loads(out)["flags"][0]["message"] == "no such file"
    rc, out, _ = run(["check", str(tmp_path), "--format", "json"], capsys)
    doc = json.loads(out)
    assert rc == 2 and "directory" in doc["flags"][0]["message"]
    assert_valid(contract, doc)


def test_usage_errors_exit_64(capsys) -> None:
    assert run(["check"], capsys)[0] == 64
    assert run(["check", "x", "--format", "xml"], capsys)[0] == 64
    assert run(["no-such-command"], capsys)[0] == 64


def test_version(capsys) -> None:
    from bmdkit import __version__

    rc, out, _ = run(["--version"], capsys)
    assert rc == 0 and out.strip() == f"bmdkit {__version__}"


def test_csv_and_table_formats(bad_files, capsys) -> None:
    rc, out, _ = run(["check", str(bad_files["random"]), "--format", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 2 and len(rows) == 1 and rows[0]["status"] == "failed"
    assert rows[0]["flag_codes"] == "unsupported_kind"
    rc, out, _ = run(["check", str(bad_files["random"])], capsys)
    assert rc == 2 and "unsupported_kind" in out and "failed" in out


def test_installed_entry_point_runs(bad_files) -> None:
    """The console script, as a user runs it, exits 2 on a bad file with no traceback."""
    exe = Path(sys.executable).with_name("bmdkit")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bmdkit"]
    r = subprocess.run([*cmd, "check", str(bad_files["empty"])], capture_output=True, text=True,
                       env={**os.environ, "COLUMNS": "120"}, timeout=120)
    assert r.returncode == 2
    assert "empty_file" in r.stdout
    assert "Traceback" not in r.stderr


def test_table_prints_values_as_reports_do(capsys) -> None:
    """The readable table keeps printed decimals (-1.0, 1.020) and names the spine total's range."""
    from conftest import SAMPLES

    path = SAMPLES / "dicom" / "s7-0016_hologic_script.dcm"
    truth = json.loads((path.parent / (path.name + ".truth.json")).read_text(encoding="utf-8"))
    rc, out, _ = run(["check", str(path)], capsys)
    assert rc == 0
    total = next(r for r in truth["regions"] if r["region"] == "L1-L4")
    assert f"L1-L4 [{total['label']}]" in out
    l2 = next(r for r in truth["regions"] if r["region"] == "L2")
    assert f"{l2['bmd']:.3f}" in out and f"{l2['t_score']:.1f}" in out
    assert "vertebra_excluded" in out


def test_a_flag_repeated_per_measure_is_printed_once(tmp_path) -> None:
    """A shared-cell flag is one Flag per measure with one message: the readable table prints it once,
    and a different message about the same region still prints."""
    from rich.console import Console

    from bmdkit.cli.check import render_table
    from bmdkit.flags import FlagCode
    from bmdkit.model import Exam, Flag, InputKind, Source

    msg = "femoral neck (left): BMD 0.721, T-score -1.7 were read from the same place on the page"
    flags = [Flag(FlagCode.SHARED_CELL, msg, "femoral_neck", measure=m) for m in ("bmd", "t_score")]
    flags.append(Flag(FlagCode.LOW_CONFIDENCE, "the Z-score was read with low confidence", "femoral_neck",
                      measure="z_score"))
    exam = Exam(source=Source(path="r.png", sha256="0" * 64, kind=InputKind.IMAGE), flags=flags)
    console = Console(file=io.StringIO(), width=400, highlight=False)
    render_table(exam, console)
    out = console.file.getvalue()
    assert out.count("read from the same place") == 1
    assert out.count("low confidence") == 1
