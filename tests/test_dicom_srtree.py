"""The lean SR content-tree reader (srtree): same readings as pydicom's, bounded on hostile bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.uid import ImplicitVRLittleEndian

from bmdkit.dicom import read_dicom, srtree
from bmdkit.model import InputKind, Source
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.samples import dicom_gen
from bmdkit.samples.truth import TruthGenerator

SR_KINDS = ("sr_flat", "sr_nested", "sr_zh", "sr_loinc_mod", "sr_loinc_lat", "sr_loinc_unitless")


def _read(p: Path):  # type: ignore[no-untyped-def]
    return read_dicom(p, Source(str(p), "0" * 64, InputKind.DICOM), DEFAULT_OPTIONS)


def _pydicom_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> list:  # type: ignore[type-arg]
        raise srtree.Unexpected("test: pydicom reads it")
    monkeypatch.setattr(srtree, "parse_sequence", refuse)


def _undefined_lengths(ds: pydicom.Dataset) -> None:
    for elem in ds:
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for item in elem.value:
                item.is_undefined_length_sequence_item = True
                _undefined_lengths(item)


@pytest.fixture(scope="module")
def srs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("srtree")
    gen = TruthGenerator(4321)
    out: list[Path] = []
    for i, scan in enumerate(("spine", "hip_left", "hip_dual", "spine")):
        t = gen.exam(scan_type=scan, exclude=["L2"] if i == 3 else None)
        out += [p for p, _ in dicom_gen.write_dicom_samples(t, root, SR_KINDS)]
    # the same content written as implicit VR, and with undefined-length sequences and items
    for p in out[:6]:
        ds = pydicom.dcmread(p)
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        implicit = p.with_name(p.stem + "_implicit.dcm")
        ds.save_as(implicit, enforce_file_format=True)
        _undefined_lengths(ds)
        undefined = p.with_name(p.stem + "_undefined.dcm")
        ds.save_as(undefined, enforce_file_format=True)
        out += [implicit, undefined]
    return out


def test_lean_reading_equals_pydicom_reading(srs: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    lean = [_read(p) for p in srs]
    assert all(r.exam is not None and r.exam.regions for r in lean)
    _pydicom_only(monkeypatch)
    assert [_read(p) for p in srs] == lean


def test_lean_reader_is_used_on_plain_trees(srs: list[Path]) -> None:
    raw = 0
    for p in srs:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        elem = ds.get_item(0x0040A730)
        if not isinstance(elem, RawDataElement):  # an undefined-length root: pydicom parsed it already
            continue
        raw += 1
        items = srtree.parse_sequence(elem.value, elem.is_implicit_VR, elem.is_little_endian)
        assert len(items) == len(ds.ContentSequence)
    assert raw >= len(srs) * 2 // 3


def test_undefined_lengths_inside_the_tree() -> None:
    leaf = _explicit(0x0040A040, b"CS", b"NUM ")
    undefined_item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + leaf + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    inner = (struct.pack("<HH2s2xI", 0x0040, 0xA730, b"SQ", 0xFFFFFFFF) + undefined_item
             + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
    raw = _item(_explicit(0x0040A040, b"CS", b"CONTAINER ") + inner + _explicit(0x0040A160, b"UT", b""))
    assert srtree.parse_sequence(raw, False, True) == [
        {0x0040A040: b"CONTAINER ", 0x0040A730: [{0x0040A040: b"NUM "}], 0x0040A160: b""}]


def _explicit(tag: int, vr: bytes, value: bytes) -> bytes:
    g, e = tag >> 16, tag & 0xFFFF
    if vr in (b"SQ", b"UT", b"OB", b"UN"):
        return struct.pack("<HH2s2xI", g, e, vr, len(value)) + value
    return struct.pack("<HH2sH", g, e, vr, len(value)) + value


def _item(body: bytes) -> bytes:
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(body)) + body


@pytest.mark.parametrize("damage", ["truncated", "overrun", "not_item", "deep", "bad_vr", "undefined"])
def test_hostile_bytes_are_refused_not_misread(damage: str) -> None:
    good = _item(_explicit(0x0040A040, b"CS", b"NUM "))
    if damage == "truncated":
        raw = good[:-3]
    elif damage == "overrun":
        raw = struct.pack("<HHI", 0xFFFE, 0xE000, 4) + good[8:]
    elif damage == "not_item":
        raw = _explicit(0x0040A040, b"CS", b"NUM ")
    elif damage == "deep":
        raw = good
        for _ in range(srtree.MAX_DEPTH + 2):
            raw = _item(_explicit(0x0040A730, b"SQ", raw))
    elif damage == "bad_vr":
        raw = _item(_explicit(0x0040A040, b"\x01\x02", b"NUM "))
    else:  # an undefined-length item never closed
        raw = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + _explicit(0x0040A040, b"CS", b"NUM ")
    with pytest.raises(srtree.Unexpected):
        srtree.parse_sequence(raw, False, True)
    assert srtree.parse_sequence(good, False, True) == [{0x0040A040: b"NUM "}]


def test_damaged_content_tree_reads_as_before(srs: list[Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes the lean reader refuses go to pydicom: the reading is pydicom's, whatever it is."""
    src = srs[0].read_bytes()
    at = src.find(struct.pack("<HH", 0x0040, 0xA730))
    outs = []
    for n, cut in enumerate((at + 40, at + 200, at + 777)):
        p = tmp_path / f"damaged{n}.dcm"
        broken = bytearray(src)
        broken[cut:cut + 4] = b"\xff\xff\xff\x7f"
        p.write_bytes(bytes(broken))
        outs.append(p)

    def reading(p: Path) -> object:
        try:
            return _read(p)
        except Exception as exc:  # noqa: BLE001 - the failure is the reading
            return (type(exc).__name__, str(exc))
    lean = [reading(p) for p in outs]
    _pydicom_only(monkeypatch)
    assert [reading(p) for p in outs] == lean


def _decoded(items: list) -> list:  # type: ignore[type-arg]
    """The texts the SR walker reads, decoded as it decodes them (what ``decode=`` keeps)."""
    from bmdkit.dicom import sr

    out = []
    for item in items:
        kept: dict[int, object] = {}
        for tag, value in item.items():
            if type(value) is list:
                kept[tag] = _decoded(value)
            elif tag in sr._TEXTS:
                kept[tag] = value.decode("latin-1").strip() if value else ""
        out.append(kept)
    return out


def test_decoded_and_memoised_parse_keeps_what_the_walker_reads(srs: list[Path]) -> None:
    memo = srtree.Memo()
    checked = 0
    for p in srs:
        elem = pydicom.dcmread(p, stop_before_pixels=True).get_item(0x0040A730)
        if not isinstance(elem, RawDataElement):
            continue
        plain = srtree.parse_sequence(elem.value, elem.is_implicit_VR, True)
        for _ in range(2):  # the second time, code sequences come from the memo
            lean = srtree.parse_sequence(elem.value, elem.is_implicit_VR, True,
                                         lambda b: b.decode("latin-1").strip(), _sr_texts(), memo)
            assert lean == _decoded(plain)
        checked += 1
    assert checked and memo.seen  # code sequences were kept and shared


def _sr_texts() -> frozenset[int]:
    from bmdkit.dicom import sr

    return sr._TEXTS


def test_memoised_code_sequences_keep_the_depth_and_item_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    code = _explicit(0x0040A043, b"SQ", _item(_explicit(0x00080104, b"LO", b"L1 BMD")))
    num = _item(_explicit(0x0040A040, b"CS", b"NUM ") + code)
    memo = srtree.Memo()
    dec = bytes.decode

    def nested(levels: int) -> bytes:
        raw = num
        for _ in range(levels):
            raw = _item(_explicit(0x0040A730, b"SQ", raw))
        return raw

    srtree.parse_sequence(num, False, True, dec, _sr_texts(), memo)  # the code sequence is now known
    assert memo.seen
    with pytest.raises(srtree.Unexpected):  # too deep, memo or not
        srtree.parse_sequence(nested(srtree.MAX_DEPTH + 2), False, True, dec, _sr_texts(), memo)
    srtree.parse_sequence(nested(srtree.MAX_DEPTH - 2), False, True, dec, _sr_texts(), memo)
    monkeypatch.setattr(srtree, "MAX_ITEMS", 3)
    with pytest.raises(srtree.Unexpected):  # items inside a known code sequence still count
        srtree.parse_sequence(num + num, False, True, dec, _sr_texts(), memo)
    assert srtree.parse_sequence(num, False, True, dec, _sr_texts(), memo) == [
        {0x0040A040: "NUM ", 0x0040A043: [{0x00080104: "L1 BMD"}]}]
