"""A newcomer's first run: non-scan files skipped (not failed), no hidden skips, clear usage
errors, owner-only files holding patient data. Every test runs the real CLI on real files."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from bmdkit.cli.app import EXIT_SOFTWARE, EXIT_USAGE, main
from bmdkit.detect import Format, sniff

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
PYTHON = sys.executable
DICOMDIR_UID = "1.2.840.10008.1.3.10"


def _dicomdir(path: Path) -> None:
    """A minimal DICOMDIR (Media Storage Directory) written with pydicom."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DICOMDIR_UID
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.FileSetID = "SITE01"
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    ds.DirectoryRecordSequence = pydicom.Sequence([])
    ds.save_as(path, enforce_file_format=True)


def _xlsx(path: Path) -> None:
    """An OOXML workbook's container (the parts Excel writes first)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')


def _odt(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", "<manifest/>")


def _site_folder(root: Path) -> Path:
    """A site's delivery as it arrives: the bad samples, truth files, notes and office clutter."""
    site = root / "site"
    shutil.copytree(SAMPLES / "bad", site / "bad")
    shutil.copytree(SAMPLES / "trial", site / "trial")
    shutil.copytree(SAMPLES / "config", site / "config")
    shutil.copy(SAMPLES / "README.md", site / "README.md")
    (site / "notes.txt").write_text("患者 3 号 复查\nrescan requested\n", encoding="gb18030")
    (site / "utf16.txt").write_bytes("notes\r\n".encode("utf-16"))
    _dicomdir(site / "DICOMDIR")
    _xlsx(site / "values.xlsx")
    _odt(site / "letter.odt")
    (site / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (site / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(100))
    return site


NON_SCANS = {"README.md", "notes.txt", "utf16.txt", "DICOMDIR", "values.xlsx", "letter.odt", "Thumbs.db",
             ".DS_Store", "trial/fractures.csv", "trial/subjects.csv", "config/sites.example.toml"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sniff_tells_non_scans_apart(tmp_path: Path) -> None:
    site = _site_folder(tmp_path)
    for name in NON_SCANS:
        assert sniff(site / name).not_a_scan, name
    assert sniff(site / "DICOMDIR") is Format.DICOMDIR
    assert sniff(site / "values.xlsx") is Format.OFFICE
    for name in ("bad/s7-0023_ct.dcm", "bad/no_report.pdf", "bad/random.bin"):
        assert not sniff(site / name).not_a_scan, name
    plain_zip = tmp_path / "delivery.zip"
    with zipfile.ZipFile(plain_zip, "w") as zf:
        zf.write(SAMPLES / "bad" / "s7-0023_ct.dcm", "ct.dcm")
    assert sniff(plain_zip) is Format.ZIP  # a delivery is still unpacked


def test_non_scans_are_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str], contract) -> None:
    site = _site_folder(tmp_path)
    out = tmp_path / "out"
    assert main(["batch", str(site), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    err = capsys.readouterr().err
    bad = sorted(p.name for p in (SAMPLES / "bad").iterdir() if not p.name.endswith(".truth.json"))
    truths = {f"bad/{p.name}" for p in (SAMPLES / "bad").iterdir() if p.name.endswith(".truth.json")}
    skipped_expected = NON_SCANS | truths
    assert f"{len(bad)} failed, {len(skipped_expected)} skipped (not scans or reports)" in err
    assert "failed (all listed in" in err
    for name in bad:  # the summary names every failure, and only the deliberately bad ones
        assert f"bad/{name}:" in err

    lines = [json.loads(t) for t in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    for line in lines:
        contract.validate(line)
    by_name = {Path(d["source"]["path"]).relative_to(site).as_posix(): d for d in lines}
    assert set(by_name) == skipped_expected | {f"bad/{n}" for n in bad}  # every input listed
    for name in skipped_expected:
        assert by_name[name]["outcome"] == "skipped", name
        assert [f["code"] for f in by_name[name]["flags"]] == ["not_a_scan"]
    for name in bad:
        assert by_name[f"bad/{name}"]["outcome"] == "failed"

    failures = {Path(r["path"]).relative_to(site).as_posix() for r in _rows(out / "failures.csv")}
    skipped = _rows(out / "skipped.csv")
    assert failures == {f"bad/{n}" for n in bad}
    assert {Path(r["path"]).relative_to(site).as_posix() for r in skipped} == skipped_expected
    reasons = {f.not_a_scan for f in Format if f.not_a_scan}
    assert all(r["flag_codes"] == "not_a_scan" and r["reasons"] in reasons for r in skipped)


def test_check_says_a_non_scan_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# visit notes\n", encoding="utf-8")
    assert main(["check", str(notes), "--format", "json"]) == 2
    d = json.loads(capsys.readouterr().out)
    assert d["outcome"] == "skipped" and d["status"] == "failed"


# -- no hidden skips ---------------------------------------------------------------


def _broken_copy(tmp_path: Path, module: str) -> Path:
    """A copy of the package whose ``module`` imports something that does not exist."""
    root = tmp_path / "broken"
    shutil.copytree(ROOT / "bmdkit", root / "bmdkit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "reference_data", root / "bmdkit" / "reference_data")  # where the wheel puts it
    target = root / "bmdkit" / module
    text = target.read_text(encoding="utf-8")
    future = "from __future__ import annotations\n"
    head, sep, rest = text.partition(future)
    broken = "import bmdkit.no_such_module  # noqa\n"
    target.write_text(head + sep + broken + rest if sep else broken + text, encoding="utf-8")
    return root


def _run(args: list[str], pythonpath: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python; with ``pythonpath``, from there (``-c`` and ``-m`` put the working folder first on sys.path)."""
    full_env = {**os.environ, **env}
    if pythonpath is not None:
        full_env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([PYTHON, *args], capture_output=True, text=True, cwd=pythonpath or ROOT, env=full_env,
                          timeout=300)


def test_a_broken_checks_module_breaks_loudly(tmp_path: Path) -> None:
    """One bad import inside checks/ must not turn an exam into an unchecked 'extracted'."""
    root = _broken_copy(tmp_path, "checks/plausibility.py")
    sample = SAMPLES / "dicom" / "s7-0003_hologic_xml.dcm"
    lib = _run(["-c", f"from bmdkit.pipeline import process_file; print(process_file({str(sample)!r}).status)"],
               root)
    assert lib.returncode != 0 and "ModuleNotFoundError" in lib.stderr, lib.stdout
    cli = _run(["-m", "bmdkit", "check", str(sample), "--format", "json"], root)
    assert cli.returncode == EXIT_SOFTWARE, (cli.returncode, cli.stdout[-300:])
    assert "not installed correctly" in cli.stderr and cli.stdout == ""


@pytest.mark.parametrize(("module", "sample"), [
    ("cli/review.py", "dicom/s7-0003_hologic_xml.dcm"),
    ("decisions/records.py", "dicom/s7-0003_hologic_xml.dcm"),
    ("report/pagefiles.py", "reports/s7-0002_hologic_en_png.png"),
    ("dicom/__init__.py", "dicom/s7-0003_hologic_xml.dcm"),
])
def test_a_broken_module_is_never_silently_missing(tmp_path: Path, module: str, sample: str) -> None:
    root = _broken_copy(tmp_path, module)
    proc = _run(["-m", "bmdkit", "check", str(SAMPLES / sample), "--format", "json"], root)
    assert proc.returncode == EXIT_SOFTWARE, (module, proc.returncode, proc.stdout[-300:])
    assert "no_such_module" in proc.stderr


# -- newcomer errors ---------------------------------------------------------------


def test_a_missing_input_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["batch", str(tmp_path / "nonexistent"), "--out", str(out), "--no-progress"]) == EXIT_USAGE
    assert "no such file or folder" in capsys.readouterr().err
    assert not out.exists()  # nothing ran


@pytest.mark.parametrize("case", ["file", "no_parent", "unwritable"])
def test_an_unusable_out_is_one_line(tmp_path: Path, case: str) -> None:
    out = {"file": ROOT / "README.md", "no_parent": tmp_path / "a" / "b" / "c",
           "unwritable": Path("/proc/bmdkit-out")}[case]
    proc = _run(["-m", "bmdkit", "batch", str(SAMPLES / "bad" / "empty.dcm"), "--out", str(out), "--no-progress"])
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(out) in proc.stderr


@pytest.mark.parametrize("flag", [["--dask"], ["--scheduler", "tcp://127.0.0.1:1"]])
def test_dask_without_its_extra_names_the_extra(tmp_path: Path, flag: list[str]) -> None:
    """Without the [dask] extra (distributed made unimportable), --dask says what to install."""
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from bmdkit.cli.app import main\n"
            f"sys.exit(main(['batch', {str(SAMPLES / 'bad' / 'empty.dcm')!r}, '--out', {str(tmp_path / 'o')!r}, "
            f"'--no-progress', *{flag!r}]))")
    proc = _run(["-c", code])
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert "pip install 'bmdkit[dask]'" in proc.stderr and "Traceback" not in proc.stderr


# -- patient data is owner-only -------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_with_identifiers_are_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    site = tmp_path / "in"
    site.mkdir()
    shutil.copy(SAMPLES / "dicom" / "s7-0003_hologic_xml.dcm", site)
    old = os.umask(0o022)
    try:
        assert main(["batch", str(site), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
        assert _mode(out) == 0o700
        line = json.loads((out / "results.jsonl").read_text(encoding="utf-8"))
        assert line["patient"], "the sample must carry identifiers for this test to mean anything"
        written = [p for p in out.iterdir() if p.is_file()]
        assert {"results.jsonl", "state.sqlite", "results.csv", "failures.csv"} <= {p.name for p in written}
        for p in written:
            assert _mode(p) == 0o600, (p.name, oct(_mode(p)))
        # a folder from an older bmdkit, written 0644: the next batch tightens it
        for p in written:
            p.chmod(0o644)
        shutil.copy(SAMPLES / "dicom" / "s7-0013_hologic_xml_attr.dcm", site)
        assert main(["batch", str(site), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
        for p in out.iterdir():
            if p.is_file():
                assert _mode(p) == 0o600, (p.name, oct(_mode(p)))
    finally:
        os.umask(old)


def test_an_existing_out_folder_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir(mode=0o750)
    out.chmod(0o750)
    assert main(["batch", str(SAMPLES / "bad" / "empty.dcm"), "--out", str(out), "--no-progress"]) == 0
    assert _mode(out) == 0o750
    assert _mode(out / "results.jsonl") == 0o600


# -- the README tells the truth -----------------------------------------------------------


def test_readme_points_to_the_shipped_schema() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "shared/contract" not in readme
    assert "bmdkit/contract/exam.schema.json" in readme
    from bmdkit.contract import load_schema

    assert load_schema()["title"] == "bmdkit exam result"


def test_readme_eligibility_usage_matches_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in readme.splitlines() if ln.startswith("bmdkit eligibility"))
    assert "[--fractures CSV]" in line
    assert main(["eligibility", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--fractures" in help_text


def test_readme_says_chromium_is_for_the_tests() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Chromium" in readme
    para = next(p for p in readme.split("\n\n") if "Chromium" in p and "install.sh" in p)
    assert "--test" in para
    install = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    test_branch = install.split("--test)")[-1].split(";;")[0]
    assert "chromium" in test_branch


def test_readme_install_uses_the_lock_files() -> None:
    install = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    assert "requirements/runtime.lock" in install and "requirements/test.lock" in install
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q ." in ci and "bmdkit\" batch samples" in ci


def test_summary_names_are_text_safe(tmp_path: Path) -> None:
    """The summary lists failed files through rich: a name that looks like markup is shown as it is."""
    site = tmp_path / "in"
    site.mkdir()
    (site / "[bold]x.dcm").write_bytes(os.urandom(2048))
    proc = _run(["-m", "bmdkit", "batch", str(site), "--out", str(tmp_path / "o"), "--no-progress"])
    assert proc.returncode == 0, proc.stderr
    assert "1 failed" in proc.stderr and "[bold]x.dcm:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_review_page_and_audit_are_owner_only(tmp_path: Path) -> None:
    """review.html shows crops of pages (names can be on them); audit.csv records decisions."""
    site = tmp_path / "in"
    site.mkdir()
    shutil.copy(SAMPLES / "dicom" / "s7-0003_hologic_xml.dcm", site)
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        assert main(["batch", str(site), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
        assert main(["review", str(out)]) == 0
        assert _mode(out / "review.html") == 0o600
        line = json.loads((out / "results.jsonl").read_text(encoding="utf-8"))
        neck = next(r for r in line["regions"] if r["bmd"] is not None)
        decisions = tmp_path / "decisions.csv"
        with decisions.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["sha256", "region", "side", "measure", "action", "old_value", "new_value", "reason",
                        "reviewer", "decided_at"])
            w.writerow([line["source"]["sha256"], neck["region"], neck["side"] or "", "bmd", "accept",
                        neck["bmd"], "", "looks right", "r", "2026-12-06T10:00:00+00:00"])
        assert main(["apply-decisions", str(out), str(decisions), "--reviewer", "r"]) == 0
        assert (out / "audit.csv").is_file()
        assert _mode(out / "audit.csv") == 0o600
        assert _mode(out / "results.jsonl") == 0o600
    finally:
        os.umask(old)


def test_summary_counts_agree_with_the_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Outcomes decided when the outputs are written (a name collision flags a line) are the ones counted."""
    site = tmp_path / "in"
    site.mkdir()
    a = (SAMPLES / "dicom" / "s7-0003_hologic_xml.dcm").read_bytes()
    b = (SAMPLES / "dicom" / "s7-0013_hologic_xml_attr.dcm").read_bytes()
    with zipfile.ZipFile(site / "a.zip", "w") as zf:
        zf.writestr("x.dcm", a)
    (site / "a.zip!x.dcm").write_bytes(b)  # shown exactly as the member above
    out = tmp_path / "out"
    assert main(["batch", str(site), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    err = capsys.readouterr().err
    lines = [json.loads(t) for t in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and all(d["outcome"] == "flagged" for d in lines)
    assert "0 extracted, 2 flagged" in err
