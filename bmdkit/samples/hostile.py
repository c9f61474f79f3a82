"""Corrupt, strange and hostile inputs made from good ones, for fuzzing.

Each case is a file (or a name, link or permission oddity) written into a
folder, with a note of what was done to it. The mutations follow what
arrives from outside the imaging core: bit rot, truncated transfers, broken
DICOM lengths and VRs, huge declared lengths, XML bombs and external
entities in private elements, broken PDFs and PDFs with thousands of pages,
images whose header claims enormous dimensions, odd file names, symlink
loops and unreadable files. Deterministic for a seed.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


@dataclass(frozen=True)
class Case:
    path: Path
    mutation: str
    base: str | None


def _flip_bits(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 64)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, max(2, len(data)))]


def _overwrite_run(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    start = rng.randrange(len(b))
    n = min(len(b) - start, rng.randint(1, 512))
    b[start : start + n] = bytes(rng.randrange(256) for _ in range(n))
    return bytes(b)


def _dicom_offsets(data: bytes) -> list[int]:
    """Offsets of plausible explicit-VR element headers (group, elem, 2-letter VR)."""
    out = []
    for i in range(132, min(len(data) - 8, 1 << 20)):
        vr = data[i + 4 : i + 6]
        if vr in (b"LO", b"SH", b"CS", b"DA", b"UI", b"PN", b"LT", b"UT", b"OB", b"SQ", b"UN", b"US", b"UL", b"DS"):
            out.append(i)
    return out


def _dicom_length(data: bytes, rng: random.Random) -> bytes:
    offs = _dicom_offsets(data)
    if not offs:
        return _flip_bits(data, rng)
    b = bytearray(data)
    i = rng.choice(offs)
    vr = bytes(b[i + 4 : i + 6])
    huge = rng.choice([0xFFFFFFF0, 0x7FFFFFFF, 0xFFFFFFFF, len(data) * 4 + 17])
    if vr in (b"OB", b"UT", b"SQ", b"UN", b"OW"):
        struct.pack_into("<I", b, i + 8, huge)
    else:
        struct.pack_into("<H", b, i + 6, huge & 0xFFFF)
    return bytes(b)


def _dicom_vr(data: bytes, rng: random.Random) -> bytes:
    offs = _dicom_offsets(data)
    if not offs:
        return _flip_bits(data, rng)
    b = bytearray(data)
    i = rng.choice(offs)
    b[i + 4 : i + 6] = rng.choice([b"SQ", b"UN", b"XX", b"\x00\x00", b"OB", b"FD"])
    return bytes(b)


BYTE_MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "bit_flips": _flip_bits,
    "truncated": _truncate,
    "overwritten_run": _overwrite_run,
}
DICOM_MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "dicom_bad_length": _dicom_length,
    "dicom_bad_vr": _dicom_vr,
}


def _dxa_dataset_with(private_value: bytes, vr: str = "OB") -> bytes:
    """A small DXA-looking DICOM with one private element holding ``private_value``."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["hostile", str(len(private_value))])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("hostile", {}, file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Manufacturer = "HOLOGIC"
    ds.BodyPartExamined = "LSPINE"
    ds.StudyDate = "20260314"
    ds.add_new(0x00210010, "LO", "HOLOGIC")
    ds.add_new(0x00211001, vr, private_value)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _xml_bomb() -> bytes:
    ents = ['<!ENTITY a0 "lol">'] + [f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    return ("<?xml version=\"1.0\"?><!DOCTYPE r [" + "".join(ents) + "]><r><L1 BMD=\"&a9;\"/></r>").encode()


def _xml_external() -> bytes:
    return (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<ResultsXML><Region name="L1"><BMD>&x;</BMD></Region></ResultsXML>')


def _xml_deep(depth: int = 5000) -> bytes:
    return b"<?xml version=\"1.0\"?>" + b"<L1>" * depth + b"0.9" + b"</L1>" * depth


def _png_bomb(width: int = 200_000, height: int = 200_000) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but whose data is tiny."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _many_page_pdf(pages: int) -> bytes:
    """A valid PDF with ``pages`` near-empty pages, written by hand (tiny on disk)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages)).encode()
    objs.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>")
    for _ in range(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _broken_pdf(data: bytes, rng: random.Random) -> bytes:
    """Damage a PDF's structure: drop the xref, or mangle an object header."""
    if rng.random() < 0.5 and b"xref" in data:
        i = data.rfind(b"xref")
        return data[:i] + b"garbage" + data[i + 40 :]
    i = data.find(b" obj")
    if i < 0:
        return _overwrite_run(data, rng)
    return data[:i] + b" obj <<<< /Length 99999999 >> stream\n" + data[i + 4 :]


def _dicom_huge_dimensions() -> bytes:
    """A secondary-capture DICOM whose header claims 65535 x 65535 x 1000 frames over 64 bytes of pixels."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["hostile", "huge"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("hostile", {}, file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.Manufacturer, ds.ConversionType = "OT", "HOLOGIC", "WSD"
    ds.Rows, ds.Columns, ds.NumberOfFrames = 65535, 65535, 1000
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = b"\x00" * 64
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _dicom_deep_sequence(depth: int = 3000) -> bytes:
    """A DICOM whose private sequence nests ``depth`` levels (undefined lengths, as a parser meets them)."""
    head = _dxa_dataset_with(b"x")
    item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff"  # item, undefined length
    item_end = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
    seq_end = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    seq = b"\x21\x00\x02\x10SQ\x00\x00\xff\xff\xff\xff"  # (0021,1002) SQ, undefined length
    body = (seq + item) * depth + (item_end + seq_end) * depth
    return head + body


def _tiff_many_frames(frames: int = 400) -> bytes:
    """A multi-page TIFF of ``frames`` tiny pages (a page-count bomb)."""
    from PIL import Image

    buf = io.BytesIO()
    first = Image.new("L", (8, 8), 255)
    first.save(buf, "TIFF", save_all=True, append_images=[Image.new("L", (8, 8), 0)] * (frames - 1))
    return buf.getvalue()


def _pdf_huge_page() -> bytes:
    """A one-page PDF whose MediaBox is 200,000 points square (a render-size bomb)."""
    return _many_page_pdf(1).replace(b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 200000 200000]")


def special_cases() -> list[tuple[str, Callable[[], bytes]]]:
    """Crafted hostile files that do not need a base sample."""
    return [
        ("xml_entity_bomb", lambda: _dxa_dataset_with(_xml_bomb())),
        ("xml_external_entity", lambda: _dxa_dataset_with(_xml_external(), vr="LT")),
        ("xml_deep_nesting", lambda: _dxa_dataset_with(_xml_deep())),
        ("png_decompression_bomb", _png_bomb),
        ("pdf_3000_pages", lambda: _many_page_pdf(3000)),
        ("zero_bytes", lambda: b""),
        ("dicom_preamble_only", lambda: b"\x00" * 128 + b"DICM"),
        ("pdf_header_only", lambda: b"%PDF-1.7\n"),
        ("jpeg_header_only", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
        ("dicom_huge_dimensions", _dicom_huge_dimensions),
        ("dicom_deep_sequence", _dicom_deep_sequence),
        ("tiff_many_frames", _tiff_many_frames),
        ("pdf_huge_page", _pdf_huge_page),
    ]


def make_cases(bases: list[Path], outdir: Path, count: int, seed: int) -> list[Case]:
    """Write ``count`` fuzz cases into ``outdir`` (plus the file-system oddities)."""
    rng = random.Random(seed)
    outdir.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    specials = special_cases()
    blobs = {p: p.read_bytes() for p in bases}
    usable = [p for p in bases if blobs[p]] or [Path("blank.pdf")]
    blobs.setdefault(usable[0], b"%PDF-1.4\n")
    for n in range(count):
        if n < len(specials):
            name, make = specials[n]
            path = outdir / f"case{n:05d}_{name}"
            path.write_bytes(make())
            cases.append(Case(path, name, None))
            continue
        base = rng.choice(usable)
        data = blobs[base]
        is_dicom = len(data) > 132 and data[128:132] == b"DICM"
        is_pdf = data.startswith(b"%PDF")
        table = dict(BYTE_MUTATIONS)
        if is_dicom:
            table.update(DICOM_MUTATIONS)
        if is_pdf:
            table["pdf_broken_structure"] = _broken_pdf
        name = rng.choice(sorted(table))
        path = outdir / f"case{n:05d}_{name}{base.suffix}"
        path.write_bytes(table[name](data, rng))
        cases.append(Case(path, name, base.name))
    cases.extend(_filesystem_oddities(outdir, [b for b in bases if blobs[b]]))
    return cases


def _filesystem_oddities(outdir: Path, bases: list[Path]) -> list[Case]:
    """Names and links that trip naive walkers: non-UTF-8 names, symlink loops, no permission.

    The files with odd names get different non-empty bases (when there are
    several), so each is read through a reader and not merged as a duplicate.
    """
    out: list[Case] = []

    def pick(i: int) -> tuple[bytes, str | None]:
        if not bases:
            return b"%PDF-1.4\n", None
        b = bases[i % len(bases)]
        return b.read_bytes(), b.name

    data, name = pick(0)
    raw = os.fsencode(outdir) + b"/bad_name_\xff\xfe.dcm"
    with open(raw, "wb") as fh:
        fh.write(data)
    out.append(Case(Path(os.fsdecode(raw)), "non_utf8_name", name))
    data, name = pick(1)
    odd = outdir / "名字 with spaces & 'quotes'.dcm"
    odd.write_bytes(data)
    out.append(Case(odd, "unicode_name", name))
    loop = outdir / "loop_dir"
    loop.mkdir(exist_ok=True)
    link = loop / "again"
    if not link.is_symlink():
        link.symlink_to(loop, target_is_directory=True)
    out.append(Case(link, "symlink_loop", None))
    dangling = outdir / "dangling.dcm"
    if not dangling.is_symlink():
        dangling.symlink_to(outdir / "does_not_exist.dcm")
    out.append(Case(dangling, "dangling_symlink", None))
    data, name = pick(2)
    locked = outdir / "unreadable.dcm"
    if locked.exists():
        locked.chmod(0o600)
    locked.write_bytes(data)
    locked.chmod(0)  # note: root reads it anyway
    out.append(Case(locked, "unreadable", name))
    return out
