from __future__ import annotations

from bmdkit.detect import Format, sniff, sniff_bytes


def test_magic_numbers() -> None:
    assert sniff_bytes(b"") is Format.EMPTY
    assert sniff_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00") is Format.DICOM
    assert sniff_bytes(b"%PDF-1.7\n") is Format.PDF
    assert sniff_bytes(b"\x89PNG\r\n\x1a\n....") is Format.PNG
    assert sniff_bytes(b"\xff\xd8\xff\xe0") is Format.JPEG
    assert sniff_bytes(b"II*\x00abcd") is Format.TIFF
    assert sniff_bytes(b"PK\x03\x04") is Format.ZIP
    assert sniff_bytes(b"hello world, not a scan") is Format.TEXT
    assert sniff_bytes(bytes(range(256))) is Format.UNKNOWN
    assert sniff_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8)) is Format.OLE2
    dicomdir = b"\x00" * 128 + b"DICM" + b"\x02\x00\x02\x00UI\x14\x001.2.840.10008.1.3.10\x00"
    assert sniff_bytes(dicomdir) is Format.DICOMDIR
    assert sniff_bytes(dicomdir.replace(b"1.3.10\x00", b"1.3.1.2")) is Format.DICOM


def test_preamble_less_dicom() -> None:
    # (0008,0005) CS "ISO_IR 100" explicit VR little endian, no preamble
    head = b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100"
    assert sniff_bytes(head) is Format.DICOM


def test_name_is_ignored(tmp_path) -> None:
    p = tmp_path / "report.dcm"
    p.write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert sniff(p) is Format.PDF


def test_text_report_by_content(tmp_path) -> None:
    """A text file whose lines state DXA results is a report; other text stays TEXT (skipped)."""
    from bmdkit.detect import is_text_report

    report = "检查日期：2026-02-14\n左侧股骨颈 BMD 0.861，T值 -1.3。\n"
    assert is_text_report(report.encode("utf-8"))
    assert is_text_report(report.encode("gb18030"))
    assert is_text_report(("\ufeff" + report).encode("utf-8"))
    assert is_text_report("The BMD measured at AP Spine L1-L4 is 0.823 g/cm²".encode("utf-16"))
    assert not is_text_report(b"BMD is measured at the hip.\n")  # no number
    assert not is_text_report(b"Vitamin D 25.0 ng/mL, repeat in 2 years.\n")  # no DXA words
    assert not is_text_report(b'{"region": "L1-L4", "bmd": 0.823}')  # JSON
    assert not is_text_report(b"<html><p>L1-L4 BMD 0.823</p></html>")  # markup
    assert not is_text_report(b"## Results\nL1-L4 BMD 0.823 g/cm2\n")  # Markdown
    assert not is_text_report(b"region,bmd,t\nL1-L4 BMD,0.823,-3.0\nneck BMD,0.861,-1.3\n")  # CSV
    assert not is_text_report(b"[site]\nnote = 'L1-L4 BMD 0.823'\n")  # TOML
    p = tmp_path / "export.txt"
    p.write_bytes(report.encode("gb18030"))
    assert sniff(p) is Format.TEXT_REPORT and Format.TEXT_REPORT.not_a_scan is None
    p.write_text("meeting notes: call site 3\n", encoding="utf-8")
    assert sniff(p) is Format.TEXT and Format.TEXT.not_a_scan


def test_text_report_probe_is_bounded(tmp_path) -> None:
    """Only the first TEXT_PROBE_BYTES of a text file are looked at."""
    from bmdkit.detect import TEXT_PROBE_BYTES

    p = tmp_path / "long.txt"
    p.write_bytes(b"x" * (TEXT_PROBE_BYTES + 10) + b"\nL1-L4 BMD 0.823 g/cm2\n")
    assert sniff(p) is Format.TEXT
