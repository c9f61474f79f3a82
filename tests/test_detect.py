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
