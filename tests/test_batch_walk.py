"""Walking folders and zip archives safely."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from bmdkit.batch.walk import WalkLimits, count_inputs, safe_member_name, walk_inputs
from bmdkit.flags import FlagCode


def _zip_with_evil_members(path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok/a.dcm", b"DICM-ish bytes")
        zf.writestr("../../escape.txt", b"should never land outside")
        zf.writestr("/abs/path.txt", b"absolute")
        link = zipfile.ZipInfo("ok/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("big/bomb.bin", b"\0" * 5_000_000)  # compresses to a few KB
        zf.writestr("dir/", b"")


def test_zip_members_are_extracted_safely(tmp_path: Path) -> None:
    archive = tmp_path / "site.zip"
    _zip_with_evil_members(archive)
    work = tmp_path / "work"
    items = list(walk_inputs([archive], work, WalkLimits(max_member_bytes=1_000_000)))
    by_name = {i.display.split("!", 1)[1]: i for i in items}
    assert set(by_name) == {"ok/a.dcm", "../../escape.txt", "/abs/path.txt", "ok/link", "big/bomb.bin"}
    ok = by_name["ok/a.dcm"]
    assert ok.temporary and ok.path is not None and ok.path.parent == work
    assert ok.path.read_bytes() == b"DICM-ish bytes"
    assert by_name["../../escape.txt"].problem[0] is FlagCode.UNSUPPORTED_KIND
    assert by_name["/abs/path.txt"].problem[0] is FlagCode.UNSUPPORTED_KIND
    assert "symbolic link" in by_name["ok/link"].problem[1]
    assert by_name["big/bomb.bin"].problem[0] is FlagCode.RESOURCE_LIMIT
    assert not (tmp_path / "escape.txt").exists() and not Path("/abs/path.txt").exists()
    assert sorted(p.name for p in work.iterdir()) == [ok.path.name]  # the bomb's partial copy is gone
    assert count_inputs([archive]) == len(items)


def test_folder_walk_is_sorted_and_does_not_follow_links(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / "b" / "2.dcm").write_bytes(b"2")
    (root / "a" / "1.dcm").write_bytes(b"1")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.dcm").write_bytes(b"s")
    os.symlink(outside, root / "linked_dir")
    os.symlink(outside / "secret.dcm", root / "a" / "link.dcm")
    items = list(walk_inputs([root], tmp_path / "work"))
    shown = [Path(i.display).relative_to(root).as_posix() for i in items]
    assert shown == ["linked_dir", "a/1.dcm", "a/link.dcm", "b/2.dcm"]
    problems = {Path(i.display).name: i.problem for i in items if i.problem}
    assert set(problems) == {"link.dcm", "linked_dir"}
    assert not any("secret" in i.display for i in items)
    assert count_inputs([root]) == len(items)


def test_corrupt_archive_is_one_failed_item(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04" + b"garbage" * 10)
    items = list(walk_inputs([bad], tmp_path / "w"))
    assert len(items) == 1 and items[0].problem[0] is FlagCode.UNREADABLE


def test_safe_member_name() -> None:
    assert safe_member_name("a/b/c.dcm") == "a/b/c.dcm"
    assert safe_member_name("a\\..\\..\\x") is None
    assert safe_member_name("C:/x") is None
    assert safe_member_name("/x") is None


def test_gbk_member_names_from_chinese_windows_zip_tools(tmp_path: Path) -> None:
    """Names stored in GBK without the UTF-8 flag are shown as written, not as CP437 mojibake."""
    archive = tmp_path / "gbk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("placeholder.dcm", b"x")
        zf.writestr("utf8/骨密度.dcm", b"y")  # zipfile sets the UTF-8 flag for this one
    raw = archive.read_bytes()
    gbk = "报告/腰椎.dcm".encode("gbk")
    assert len(gbk) == len(b"placeholder.dcm") - 2
    patched = raw.replace(b"placeholder.dcm", gbk + b"__")
    (tmp_path / "patched.zip").write_bytes(patched)
    items = list(walk_inputs([tmp_path / "patched.zip"], tmp_path / "w"))
    names = sorted(i.display.split("!", 1)[1] for i in items)
    assert names == sorted(["报告/腰椎.dcm__", "utf8/骨密度.dcm"])
