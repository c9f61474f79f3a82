"""Hostile inputs, round two (issue 18): nothing lost, nothing unbounded, nothing that runs.

Each class is made by :mod:`bmdkit.samples.hostile` as a real file (zip
archives with colliding or bomb members, a sparse huge file, a TIFF with a
huge second page, a PDF content-stream bomb, encrypted and action-laden
PDFs, odd image modes) and must end cleanly: every input is its own line in
``results.jsonl``, a cap ends a file as ``resource_limit`` with memory and
time bounded (caps are lowered here so the files stay small), and nothing
in a file is ever run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from helpers.batch import write_sr

from bmdkit.batch.runner import run_batch
from bmdkit.batch.walk import WalkLimits, walk_inputs
from bmdkit.options import ReadOptions
from bmdkit.read import UNREAD_SHA256, read_file
from bmdkit.report.pagefiles import load_image_bytes
from bmdkit.samples import hostile
from bmdkit.samples.truth import TruthGenerator

NO_OCR = ReadOptions(ocr_engines=())


def _lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines() if x]


def _names(lines: list[dict]) -> list[str]:
    return [n for d in lines for n in d["source"].get("seen_as", [d["source"]["path"]])]


def _codes(d: dict) -> set[str]:
    return {f["code"] for f in d["flags"]}


# --- 1. colliding names -------------------------------------------------------------------------------

def _collisions(site: Path) -> None:
    site.mkdir()
    hostile.collision_zip_same_name(site / "same_name.zip")
    hostile.collision_zip_spellings(site / "spellings.zip")
    hostile.collision_bang_name(site)
    hostile.collision_non_utf8(site)


def test_colliding_names_are_ten_lines_each_flagged(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _collisions(site)
    out = tmp_path / "out"
    run_batch([site], out, workers=2, options=NO_OCR, progress=False)
    lines = _lines(out)
    names = _names(lines)
    # ten distinct exams in: ten lines out, ten distinct shas, no name listed twice
    assert len(lines) == 10, names
    assert len({d["source"]["sha256"] for d in lines}) == 10
    assert len(names) == len(set(names)) == 10
    assert all("name_collision" in _codes(d) for d in lines), [(d["source"]["path"], _codes(d)) for d in lines]
    assert all(d["status"] != "extracted" for d in lines)  # a reviewer sees every one
    shown = " ".join(names)
    assert "(#2 of that name)" in shown  # the same member name twice, told apart
    for spelling in ("'a/./b.dcm'", "'a\\\\b.dcm'", "'a//b.dcm'"):
        assert spelling in shown
    assert "%FF" in shown and "%5Cxff" in shown  # the non-UTF-8 name and its literal look-alike
    # a re-run changes nothing: the same ten lines
    before = (out / "results.jsonl").read_bytes()
    again = run_batch([site], out, workers=2, options=NO_OCR, progress=False)
    assert again.processed == 0 and (out / "results.jsonl").read_bytes() == before


def test_resent_zip_with_same_member_names_keeps_the_earlier_delivery(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    archive = site / "delivery.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x.dcm", hostile.distinct_dicom("first delivery"))
        zf.writestr("y.dcm", hostile.distinct_dicom("unchanged"))
    out = tmp_path / "out"
    run_batch([site], out, workers=1, options=NO_OCR, progress=False)
    first = {d["source"]["sha256"] for d in _lines(out)}
    archive.unlink()
    with zipfile.ZipFile(archive, "w") as zf:  # re-sent: same names, x.dcm holds another exam
        zf.writestr("x.dcm", hostile.distinct_dicom("second delivery"))
        zf.writestr("y.dcm", hostile.distinct_dicom("unchanged"))
    run_batch([site], out, workers=1, options=NO_OCR, progress=False)
    lines = _lines(out)
    assert first <= {d["source"]["sha256"] for d in lines}  # nothing of the first delivery replaced
    assert len(lines) == 3
    x_lines = [d for d in lines if "x.dcm" in d["source"]["path"]]
    assert len(x_lines) == 2 and all("name_collision" in _codes(d) for d in x_lines)
    assert len({d["source"]["path"] for d in x_lines}) == 2  # told apart in the outputs too
    y_line = next(d for d in lines if "y.dcm" in d["source"]["path"])
    assert "name_collision" not in _codes(y_line)


# --- 2. a sub-folder that cannot be listed -----------------------------------------------------------

def _as_nobody(fn) -> int:
    """Run ``fn()`` in a forked child that has dropped root's privileges (uid/gid 65534); its exit code.

    Everything ``fn`` needs is imported before the fork: the interpreter's own
    files may not be readable by that user.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            fn()
            code = 0
        except BaseException:  # noqa: BLE001 - reported through the exit code
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_unlistable_subfolder_is_a_failed_input_with_its_path() -> None:
    """Walked as an unprivileged user (root lists every folder), so the folder really cannot be listed."""
    import bmdkit.review.decisions  # noqa: F401 - imported before privileges are dropped
    from bmdkit.batch.ledger import Ledger
    from bmdkit.batch.plan import plan

    base = Path(tempfile.mkdtemp(prefix="bmdkit-unlisted-"))
    try:
        site = base / "site"
        (site / "locked").mkdir(parents=True)
        (site / "ok.dcm").write_bytes(hostile.distinct_dicom("ok"))
        (site / "locked" / "hidden.dcm").write_bytes(hostile.distinct_dicom("hidden"))
        out = base / "out"
        if os.geteuid() == 0:
            for p in [base, *base.rglob("*")]:
                os.chown(p, 65534, 65534)
        os.chmod(base, 0o755)
        (site / "locked").chmod(0o300)  # enterable, not listable

        def walk_and_record() -> None:
            with Ledger(out) as led:
                tasks = list(plan([site], led, lambda failed: None))
                assert [Path(t.display).name for t in tasks] == ["ok.dcm"]
                led.write_outputs()

        assert _as_nobody(walk_and_record) == 0
        by_path = {d["source"]["path"]: d for d in _lines(out)}
        locked = by_path[str(site / "locked")]
        assert locked["status"] == "failed" and _codes(locked) == {"unreadable"}
        assert "cannot be listed" in locked["flags"][0]["message"]
        assert str(site / "locked") in (out / "failures.csv").read_text(encoding="utf-8")
    finally:
        (base / "site" / "locked").chmod(0o700)
        shutil.rmtree(base, ignore_errors=True)


# --- 3. and 4. zip bombs --------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["bzip2", "lzma", "deflate"])
def test_zip_bomb_member_decompresses_in_bounded_steps(tmp_path: Path, method: str) -> None:
    archive = tmp_path / f"bomb_{method}.zip"
    hostile.zip_bomb(archive, method, 96 * 1024 * 1024)  # declares 1000 bytes, holds 96 MiB of zeros
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("after.dcm", hostile.distinct_dicom("after the bomb"))
    tracemalloc.start()
    try:
        items = list(walk_inputs([archive], tmp_path / "w", WalkLimits(max_member_bytes=16 * 1024 * 1024)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1024 * 1024, f"{peak / 2**20:.0f} MiB held at once"  # one block, never the member
    bomb, after = items
    assert bomb.problem is not None and bomb.problem[0].value == "resource_limit"
    assert after.problem is None and after.path is not None  # the archive goes on past the bomb
    assert after.path.read_bytes() == hostile.distinct_dicom("after the bomb")


def test_zip_bomb_in_a_batch_fails_its_member_and_the_batch_goes_on(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    hostile.zip_bomb(site / "bomb.zip", "bzip2", 64 * 1024 * 1024)
    write_sr(site / "good.dcm", TruthGenerator(8).exam(scan_type="spine"))
    out = tmp_path / "out"
    from bmdkit.batch.runner import run_batch as run

    run(sorted(site.iterdir()), out, workers=1, options=NO_OCR, progress=False,
        limits=WalkLimits(max_member_bytes=8 * 1024 * 1024))
    by_name = {Path(d["source"]["path"]).name: d for d in _lines(out)}
    assert _codes(by_name["bomb.zip!bomb00.dcm"]) == {"resource_limit"}
    assert by_name["good.dcm"]["status"] != "failed"


def test_refused_members_count_toward_the_archive_cap(tmp_path: Path) -> None:
    archive = tmp_path / "many.zip"
    hostile.zip_bomb(archive, "deflate", 12 * 1024 * 1024, members=10)  # each lies: "1000 bytes"
    limits = WalkLimits(max_member_bytes=8 * 1024 * 1024, max_archive_bytes=40 * 1024 * 1024)
    t0 = time.monotonic()
    items = list(walk_inputs([archive], tmp_path / "w", limits))
    assert time.monotonic() - t0 < 20
    assert len(items) == 10 and all(i.problem and i.problem[0].value == "resource_limit" for i in items)
    untouched = [i for i in items if "before this member" in i.problem[1]]
    # 40 MiB allow at most five refused members of 8 MiB: the other five are not decompressed at all
    assert len(untouched) >= 5, [i.problem[1] for i in items]
    assert not list((tmp_path / "w").iterdir())  # no partial copy left behind


def test_member_declaring_more_than_its_cap_is_refused_unread(tmp_path: Path) -> None:
    archive = tmp_path / "honest.zip"
    hostile.zip_bomb(archive, "bzip2", 32 * 1024 * 1024, declared=None)
    items = list(walk_inputs([archive], tmp_path / "w", WalkLimits(max_member_bytes=1024 * 1024)))
    assert "declares" in items[0].problem[1]


# --- 5. size before hash ------------------------------------------------------------------------------------

def test_huge_file_is_refused_by_size_before_hashing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    hostile.sparse_big_file(site / "huge.dcm", 8 * 1024**3)  # hashing 8 GiB takes tens of seconds
    out = tmp_path / "out"
    t0 = time.monotonic()
    run_batch([site], out, workers=1, options=NO_OCR, progress=False)
    assert time.monotonic() - t0 < 30
    (d,) = _lines(out)
    assert _codes(d) == {"resource_limit"} and "cap" in d["flags"][0]["message"]
    assert d["source"]["sha256"] == UNREAD_SHA256  # it was not hashed
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "bmdkit", "check", str(site / "huge.dcm"), "--format", "json"],
                          capture_output=True, timeout=120)
    assert proc.returncode == 2 and time.monotonic() - t0 < 30
    assert _codes(json.loads(proc.stdout)) == {"resource_limit"}


# --- 6. every page against the pixel cap -----------------------------------------------------------------------

def test_tiff_second_page_is_checked_before_it_is_decoded(tmp_path: Path) -> None:
    tif = tmp_path / "two_pages.tif"
    tif.write_bytes(hostile.tiff_big_second_page(12000, 12000))
    t0 = time.monotonic()
    exam = read_file(tif, NO_OCR)
    assert time.monotonic() - t0 < 10
    assert [f.code.value for f in exam.flags] == ["resource_limit"]
    assert "page 2" in exam.flags[0].message


# --- 7. PDF content-stream bomb, in check and in batch ----------------------------------------------------------

def test_pdf_content_bomb_is_a_resource_limit(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "bomb.pdf").write_bytes(hostile.pdf_content_bomb(96 * 1024 * 1024))
    exam = read_file(site / "bomb.pdf", ReadOptions(max_pdf_stream_bytes=16 * 1024 * 1024))
    assert [f.code.value for f in exam.flags] == ["resource_limit"]
    proc = subprocess.run([sys.executable, "-m", "bmdkit", "check", str(site / "bomb.pdf"), "--format", "json"],
                          capture_output=True, timeout=120)
    assert proc.returncode == 2, proc.stderr.decode()[-2000:]
    d = json.loads(proc.stdout)
    assert _codes(d) == {"resource_limit"} and "bomb" in d["flags"][0]["message"]
    out = tmp_path / "out"
    run_batch([site], out, workers=1, options=NO_OCR, progress=False)
    assert _codes(_lines(out)[0]) == {"resource_limit"}  # not internal_error


def test_check_runs_under_the_batch_workers_time_and_memory_caps(tmp_path: Path) -> None:
    import numpy as np

    from bmdkit.samples.build import write_report

    page = write_report(TruthGenerator(61).exam(vendor="hologic"), tmp_path, "png", "hologic", "en",
                        np.random.default_rng(61)).path
    for opts, words in ((["--timeout", "0.5"], "time limit"), (["--max-memory", "150M"], "memory")):
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "bmdkit", "check", str(page), "--format", "json", *opts],
                              capture_output=True, timeout=300)
        assert proc.returncode == 2 and b"Traceback" not in proc.stderr, proc.stderr.decode()[-2000:]
        d = json.loads(proc.stdout)
        assert _codes(d) == {"resource_limit"} and words in d["flags"][0]["message"], d["flags"]
        if words == "time limit":
            assert time.monotonic() - t0 < 30
    bad = subprocess.run([sys.executable, "-m", "bmdkit", "check", str(page), "--max-memory", "lots"],
                         capture_output=True, timeout=120)
    assert bad.returncode == 64


# --- not yet tried: encrypted and active PDFs, odd images -----------------------------------------------------------

def test_encrypted_pdfs_read_or_fail_with_the_reason(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(hostile.pdf_encrypted("secret"))
    exam = read_file(locked, NO_OCR)
    assert [f.code.value for f in exam.flags] == ["unreadable"] and "password" in exam.flags[0].message
    open_ = tmp_path / "open.pdf"
    open_.write_bytes(hostile.pdf_encrypted(""))  # no user password: opens, its text layer is read
    from bmdkit.report.pagefiles import load_pdf_bytes

    pages = load_pdf_bytes(open_.read_bytes(), NO_OCR, "open.pdf")
    assert [w.text for w in pages[0].words] == ["L1-L4", "0.912", "-1.0"]
    assert "internal_error" not in {f.code.value for f in read_file(open_, NO_OCR).flags}


def test_pdf_javascript_and_launch_actions_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ACTION_RAN"
    pdf = tmp_path / "actions.pdf"
    pdf.write_bytes(hostile.pdf_with_actions(marker))
    proc = subprocess.run([sys.executable, "-m", "bmdkit", "check", str(pdf), "--format", "json"],
                          capture_output=True, timeout=120, cwd=tmp_path)
    assert proc.returncode in (0, 1, 2) and b"Traceback" not in proc.stderr
    assert "internal_error" not in _codes(json.loads(proc.stdout))
    assert not marker.exists() and not list(tmp_path.glob("*ACTION*"))


@pytest.mark.parametrize("maker,suffix", [(hostile.cmyk_jpeg, ".jpg"), (hostile.png_16bit, ".png"),
                                          (hostile.png_palette, ".png"), (hostile.tiff_ifd_loop, ".tif")])
def test_odd_image_modes_decode_to_rgb_pages(tmp_path: Path, maker, suffix: str) -> None:
    data = maker()
    frames = load_image_bytes(data, ReadOptions(), "x")
    assert frames and all(f.ndim == 3 and f.shape[2] == 3 and f.dtype.name == "uint8" for f in frames)
    if maker is hostile.png_16bit:  # the dark bar survives (16-bit values are scaled, not clipped)
        assert frames[0][120, 100].max() == 0 and frames[0][500, 300].min() == 255
    if maker is hostile.png_palette:  # the transparent colour is paper white, the ink black
        assert frames[0][5, 5].min() == 255 and frames[0][120, 100].max() == 0
    if maker is hostile.tiff_ifd_loop:
        assert len(frames) == 2  # the loop back to page 1 is not followed
    path = tmp_path / f"page{suffix}"
    path.write_bytes(data)
    assert not {"internal_error", "resource_limit"} & {f.code.value for f in read_file(path, NO_OCR).flags}


def test_animated_gif_named_png_fails_cleanly(tmp_path: Path) -> None:
    gif = tmp_path / "page.png"
    gif.write_bytes(hostile.animated_gif())
    exam = read_file(gif, NO_OCR)
    assert exam.status.value == "failed"
    assert [f.code.value for f in exam.flags] == ["unsupported_kind"]


# --- the whole round-two set through the batch, as bench/fuzz.py runs it ------------------------------------------

def test_round_two_set_every_input_listed_none_crashed(tmp_path: Path) -> None:
    sizes = hostile.RoundTwoSizes(zip_member_bytes=48 * 1024**2, zip_members=10, zip_each_bytes=8 * 1024**2,
                                  sparse_bytes=2 * 1024**3, pdf_inflated_bytes=96 * 1024**2, tiff_side=12000)
    cases = hostile.round_two_cases(tmp_path / "cases", sizes)
    out = tmp_path / "out"
    run_batch([tmp_path / "cases"], out, workers=2, options=NO_OCR, progress=False,
              limits=WalkLimits(max_member_bytes=16 * 1024**2, max_archive_bytes=48 * 1024**2,
                                max_file_bytes=1024**3))
    lines = _lines(out)
    expected = [n for c in cases for n in hostile.round_two_expected(c)]
    names = _names(lines)
    assert len(names) == len(set(names)) == len(expected)  # every input once, none merged away
    assert not [d["source"]["path"] for d in lines if "internal_error" in _codes(d)]
    assert not (tmp_path / "cases" / "ACTION_RAN").exists()
