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


# --- round two: hand-made hostile inputs by class (issue 18) ---------------------------------
#
# Each maker writes its inputs into a folder and returns them as Cases whose ``path`` is the
# input (a zip archive counts once per member: see :func:`round_two_expected`). Sizes are
# parameters, so tests prove the bounds with small files and lowered caps while bench/fuzz.py
# can make the sizes an attacker would.


def distinct_dicom(tag: str) -> bytes:
    """A small DXA-looking DICOM whose bytes differ for every ``tag`` (a distinct exam)."""
    return _dxa_dataset_with(f"distinct exam {tag}".encode())


def collision_zip_same_name(path: Path) -> list[str]:
    """A zip holding ``x.dcm`` twice, with different content; returns the stored member names."""
    import warnings
    import zipfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the point
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("x.dcm", distinct_dicom("same-name-1"))
            zf.writestr("x.dcm", distinct_dicom("same-name-2"))
    return ["x.dcm", "x.dcm"]


def collision_zip_spellings(path: Path) -> list[str]:
    """A zip holding ``a/b.dcm``, ``a/./b.dcm``, ``a\\b.dcm`` and ``a//b.dcm`` (all shown as one name)."""
    import zipfile

    names = ["a/b.dcm", "a/./b.dcm", "a\\b.dcm", "a//b.dcm"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, name in enumerate(names):
            info = zipfile.ZipInfo(name)  # ZipInfo keeps the name as given (writestr(str) would too)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, distinct_dicom(f"spelling-{i}"))
    return names


def collision_bang_name(folder: Path) -> list[Path]:
    """``a.zip`` holding ``x.dcm`` beside a plain file named ``a.zip!x.dcm`` (both shown alike)."""
    import zipfile

    archive = folder / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.dcm", distinct_dicom("bang-member"))
    plain = folder / "a.zip!x.dcm"
    plain.write_bytes(distinct_dicom("bang-file"))
    return [archive, plain]


def collision_non_utf8(folder: Path) -> list[Path]:
    """A file whose name is not UTF-8 (``odd_\\xff.dcm``) beside one named with that text literally."""
    raw = os.fsencode(folder) + b"/odd_\xff.dcm"
    with open(raw, "wb") as fh:
        fh.write(distinct_dicom("non-utf8"))
    literal = folder / "odd_\\xff.dcm"
    literal.write_bytes(distinct_dicom("literal"))
    return [Path(os.fsdecode(raw)), literal]


def _lie_about_sizes(path: Path, declared: int) -> None:
    """Make every member of the zip at ``path`` declare ``declared`` uncompressed bytes."""
    data = bytearray(path.read_bytes())
    i = data.find(b"PK\x03\x04")
    while i >= 0:
        struct.pack_into("<I", data, i + 22, declared)
        i = data.find(b"PK\x03\x04", i + 30)
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        struct.pack_into("<I", data, i + 24, declared)
        i = data.find(b"PK\x01\x02", i + 46)
    path.write_bytes(bytes(data))


def zip_bomb(path: Path, method: str, member_bytes: int, members: int = 1, declared: int | None = 1000) -> None:
    """A zip of ``members`` members of ``member_bytes`` zeros each, compressed with ``method``
    (``"bzip2"``, ``"lzma"`` or ``"deflate"``), streamed so the maker needs no memory; every member
    declares ``declared`` bytes (an attacker's lie; None keeps the truth)."""
    import zipfile

    method_id = {"bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA, "deflate": zipfile.ZIP_DEFLATED}[method]
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", method_id) as zf:
        for m in range(members):
            with zf.open(f"bomb{m:02d}.dcm", "w", force_zip64=member_bytes >= 1 << 31) as out:
                left = member_bytes
                while left > 0:
                    out.write(zeros[: min(left, len(zeros))])
                    left -= len(zeros)
    if declared is not None:
        _lie_about_sizes(path, declared)


def sparse_big_file(path: Path, size: int) -> None:
    """A file of ``size`` bytes that takes no disk space (a sparse file): too big to hash for nothing."""
    with open(path, "wb") as fh:
        fh.truncate(size)


def tiff_big_second_page(width: int = 12000, height: int = 12000) -> bytes:
    """A two-page TIFF: page 1 is 8x8, page 2's header claims ``width`` x ``height`` (tiny on disk)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, "TIFF", save_all=True, append_images=[Image.new("L", (8, 8), 0)])
    data = bytearray(buf.getvalue())
    second = struct.unpack_from("<I", data, _tiff_next_offset(data, struct.unpack_from("<I", data, 4)[0]))[0]
    count = struct.unpack_from("<H", data, second)[0]
    for e in range(count):
        at = second + 2 + 12 * e
        tag, typ = struct.unpack_from("<HH", data, at)
        if tag in (256, 257):  # ImageWidth, ImageLength
            value = width if tag == 256 else height
            if typ == 3:
                struct.pack_into("<HHIH", data, at, tag, 3, 1, value & 0xFFFF)
            if typ == 3 and value > 0xFFFF or typ == 4:
                struct.pack_into("<HHII", data, at, tag, 4, 1, value)
    return bytes(data)


def _tiff_next_offset(data: bytes | bytearray, ifd: int) -> int:
    """Where the 'next IFD' pointer of the IFD at ``ifd`` sits (little-endian TIFF)."""
    return ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0]


def tiff_ifd_loop() -> bytes:
    """A two-page TIFF whose second IFD points back to the first: an endless page chain."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, "TIFF", save_all=True, append_images=[Image.new("L", (8, 8), 0)])
    data = bytearray(buf.getvalue())
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, _tiff_next_offset(data, first))[0]
    struct.pack_into("<I", data, _tiff_next_offset(data, second), first)
    return bytes(data)


def _pdf_of(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF of the given objects (object 1 the catalog) with a correct xref table."""
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer_extra
            + f">>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out


_TEXT_PAGE = b"BT /F1 12 Tf 72 720 Td (L1-L4 0.912 -1.0) Tj ET"


def _page_objects(content: bytes, catalog_extra: bytes = b"", filter_: bytes = b"") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + filter_ + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def pdf_content_bomb(inflated_bytes: int = 300 * 1024 * 1024) -> bytes:
    """A one-page PDF whose Flate content stream inflates to ``inflated_bytes`` of path operators."""
    ops = b"0 0 m 1 1 l S\n" * 4096
    comp = zlib.compressobj(9)
    parts, left = [], inflated_bytes
    while left > 0:
        chunk = ops[: min(left, len(ops))]
        parts.append(comp.compress(chunk))
        left -= len(chunk)
    parts.append(comp.flush())
    return _pdf_of(_page_objects(b"".join(parts), filter_=b" /Filter /FlateDecode"))


def pdf_with_actions(marker: Path) -> bytes:
    """A text PDF whose open action runs JavaScript and whose page launches a command that would
    create ``marker``: a reader must ignore both (nothing may run)."""
    cmd = f"touch {marker}".encode()
    js = f"app.launchURL('file://{marker}'); this.exportDataObject({{cName: 'x', nLaunch: 2}});".encode()
    objs = _page_objects(_TEXT_PAGE, catalog_extra=b"/OpenAction 6 0 R /Names << /JavaScript 8 0 R >> ")
    objs[2] = objs[2].replace(b"/Contents 4 0 R", b"/Contents 4 0 R /AA << /O 7 0 R >>")
    objs.append(b"<< /Type /Action /S /JavaScript /JS (" + js + b") >>")
    objs.append(b"<< /Type /Action /S /Launch /F (" + cmd + b") /Win << /F (cmd.exe) /P (/c " + cmd
                + b") >> /Unix << /F (/bin/sh) /P (-c '" + cmd + b"') >> >>")
    objs.append(b"<< /Names [(run) 6 0 R] >>")
    return _pdf_of(objs)


_PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def pdf_encrypted(user_password: str = "secret", owner_password: str = "owner") -> bytes:
    """A text PDF encrypted with the standard security handler (RC4 40-bit, revision 2).

    With a user password, it cannot be opened without it; with ``""`` anyone may open it (only
    the owner's rights are restricted), as many exported reports are.
    """
    import hashlib

    def pad(pw: str) -> bytes:
        return (pw.encode("latin-1") + _PDF_PAD)[:32]

    doc_id = hashlib.md5(b"bmdkit hostile encrypted").digest()
    perms = -44
    o_val = _rc4(hashlib.md5(pad(owner_password or user_password)).digest()[:5], pad(user_password))
    key = hashlib.md5(pad(user_password) + o_val + struct.pack("<i", perms) + doc_id).digest()[:5]
    u_val = _rc4(key, _PDF_PAD)
    objs = _page_objects(b"")
    content = _rc4(hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10],
                   _TEXT_PAGE)
    objs[3] = b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream"
    objs.append(b"<< /Filter /Standard /V 1 /R 2 /O <" + o_val.hex().encode() + b"> /U <" + u_val.hex().encode()
                + b"> /P " + str(perms).encode() + b" >>")
    ident = doc_id.hex().encode()
    return _pdf_of(objs, trailer_extra=b"/Encrypt 6 0 R /ID [<" + ident + b"> <" + ident + b">] ")


def cmyk_jpeg() -> bytes:
    """A CMYK JPEG page (as print workflows export)."""
    from PIL import Image, ImageDraw

    im = Image.new("CMYK", (600, 800), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((50, 50), "L1-L4 0.912 -1.0", fill=(0, 0, 0, 255))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def png_16bit() -> bytes:
    """A 16-bit greyscale PNG page whose content uses the full 16-bit range."""
    import numpy as np
    from PIL import Image

    arr = np.full((800, 600), 65535, np.uint16)
    arr[100:140, 50:400] = 0  # a dark bar: lost if 16-bit values were clipped to 8 bits
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def png_palette() -> bytes:
    """A palette (mode P) PNG page with a transparent colour."""
    from PIL import Image, ImageDraw

    im = Image.new("P", (600, 800), 0)
    im.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    ImageDraw.Draw(im).rectangle((50, 100, 400, 140), fill=1)
    buf = io.BytesIO()
    im.save(buf, "PNG", transparency=0)
    return buf.getvalue()


def animated_gif() -> bytes:
    """A three-frame animated GIF (to be saved under a .png name)."""
    from PIL import Image

    frames = [Image.new("P", (64, 64), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], loop=0, duration=100)
    return buf.getvalue()


@dataclass(frozen=True)
class RoundTwoSizes:
    """How big the round-two bombs are: bench sizes by default, small ones for tests."""

    zip_member_bytes: int = 2 * 1024**3
    zip_members: int = 10
    zip_each_bytes: int = 600 * 1024**2
    sparse_bytes: int = 8 * 1024**3
    pdf_inflated_bytes: int = 300 * 1024**2
    tiff_side: int = 12000


def round_two_cases(outdir: Path, sizes: RoundTwoSizes = RoundTwoSizes()) -> list[Case]:
    """Every round-two input class, written into ``outdir``; one Case per file on disk."""
    outdir.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def put(name: str, data: bytes, mutation: str) -> None:
        (outdir / name).write_bytes(data)
        cases.append(Case(outdir / name, mutation, None))

    collision_zip_same_name(outdir / "same_name.zip")
    cases.append(Case(outdir / "same_name.zip", "collide_same_member_name", None))
    collision_zip_spellings(outdir / "spellings.zip")
    cases.append(Case(outdir / "spellings.zip", "collide_member_spellings", None))
    bang = outdir / "bang"
    bang.mkdir(exist_ok=True)
    cases += [Case(p, "collide_bang_name", None) for p in collision_bang_name(bang)]
    odd = outdir / "odd"
    odd.mkdir(exist_ok=True)
    cases += [Case(p, "collide_non_utf8", None) for p in collision_non_utf8(odd)]
    for method in ("bzip2", "lzma", "deflate"):
        zip_bomb(outdir / f"bomb_{method}.zip", method, sizes.zip_member_bytes)
        cases.append(Case(outdir / f"bomb_{method}.zip", f"zip_bomb_{method}", None))
    zip_bomb(outdir / "bomb_many.zip", "deflate", sizes.zip_each_bytes, members=sizes.zip_members)
    cases.append(Case(outdir / "bomb_many.zip", "zip_bomb_many_members", None))
    sparse_big_file(outdir / "sparse_big.dcm", sizes.sparse_bytes)
    cases.append(Case(outdir / "sparse_big.dcm", "sparse_huge_file", None))
    put("tiff_big_page2.tif", tiff_big_second_page(sizes.tiff_side, sizes.tiff_side), "tiff_big_second_page")
    put("pdf_content_bomb.pdf", pdf_content_bomb(sizes.pdf_inflated_bytes), "pdf_content_bomb")
    put("pdf_encrypted.pdf", pdf_encrypted("secret"), "pdf_encrypted_user_password")
    put("pdf_encrypted_open.pdf", pdf_encrypted(""), "pdf_encrypted_no_user_password")
    put("pdf_actions.pdf", pdf_with_actions(outdir / "ACTION_RAN"), "pdf_javascript_launch")
    put("cmyk.jpg", cmyk_jpeg(), "jpeg_cmyk")
    put("grey16.png", png_16bit(), "png_16bit")
    put("palette.png", png_palette(), "png_palette")
    put("animated.png", animated_gif(), "gif_named_png")
    put("tiff_loop.tif", tiff_ifd_loop(), "tiff_ifd_loop")
    return cases


def round_two_expected(case: Case) -> list[str]:
    """The names a batch must show for a round-two case: a zip's members, or the file itself
    (undecodable name bytes as ``\\xNN``); names shown alike count once each."""
    import zipfile

    from bmdkit.batch.walk import ARCHIVE_SEP, member_display_name, safe_member_name
    from bmdkit.read import display_path

    shown = display_path(case.path)
    if case.path.suffix != ".zip":
        return [shown]
    with zipfile.ZipFile(case.path) as zf:
        out = []
        for info in zf.infolist():
            raw = member_display_name(info)
            out.append(f"{shown}{ARCHIVE_SEP}{safe_member_name(raw) or raw}")
        return out
