"""Decide what an input file is from its first bytes, never from its name."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from bmdkit.model import InputKind


class Format(str, Enum):
    """Finer than :class:`InputKind`: which container the bytes are."""

    DICOM = "dicom"
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    BMP = "bmp"
    ZIP = "zip"
    EMPTY = "empty"
    UNKNOWN = "unknown"

    @property
    def kind(self) -> InputKind:
        if self is Format.DICOM:
            return InputKind.DICOM
        if self is Format.PDF:
            return InputKind.PDF
        if self in (Format.PNG, Format.JPEG, Format.TIFF, Format.BMP):
            return InputKind.IMAGE
        return InputKind.UNKNOWN


_HEAD = 1024


def sniff_bytes(head: bytes) -> Format:
    """The format of a file whose first bytes (up to 1 KiB) are ``head``."""
    if not head:
        return Format.EMPTY
    if len(head) >= 132 and head[128:132] == b"DICM":
        return Format.DICOM
    if head.lstrip(b"\x00\t\r\n ")[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return Format.PDF
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return Format.PNG
    if head[:3] == b"\xff\xd8\xff":
        return Format.JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Format.TIFF
    if head[:2] == b"BM" and len(head) > 14:
        return Format.BMP
    if head[:4] == b"PK\x03\x04":
        return Format.ZIP
    if _looks_like_raw_dicom(head):
        return Format.DICOM
    return Format.UNKNOWN


def _looks_like_raw_dicom(head: bytes) -> bool:
    """A DICOM stream without the 128-byte preamble (some PACS exports).

    It starts with a group 0x0002 or 0x0008 element in little endian; the
    element number and a plausible explicit VR or implicit length are checked
    to keep random bytes out.
    """
    if len(head) < 8:
        return False
    group = int.from_bytes(head[0:2], "little")
    elem = int.from_bytes(head[2:4], "little")
    if group not in (0x0002, 0x0008) or elem > 0x0100:
        return False
    vr = head[4:6]
    if vr.isalpha() and vr.isupper():
        return True
    length = int.from_bytes(head[4:8], "little")
    return 0 < length < 256


def sniff(path: str | Path) -> Format:
    """The format of the file at ``path`` (reads at most 1 KiB)."""
    with open(path, "rb") as fh:
        return sniff_bytes(fh.read(_HEAD))
