"""What the SR reader shares between items and files (srtree.Memo, srtree.Shared, srplace.Placements)
changes no reading and keeps every bound: memoised content sequences count their items and nest as
deep as parsed ones, sequences holding values are never shared, the placements stay bounded, and
files read again, in another order or with every memo cleared, read the same.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bmdkit.dicom import read_dicom, sr, srplace, srtree
from bmdkit.model import InputKind, Source
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.samples import dicom_gen
from bmdkit.samples.truth import TruthGenerator

SR_KINDS = ("sr_flat", "sr_nested", "sr_zh", "sr_loinc_mod", "sr_loinc_lat", "sr_loinc_unitless")


def _explicit(tag: int, vr: bytes, value: bytes) -> bytes:
    g, e = tag >> 16, tag & 0xFFFF
    if vr in (b"SQ", b"UT"):
        return struct.pack("<HH2s2xI", g, e, vr, len(value)) + value
    return struct.pack("<HH2sH", g, e, vr, len(value)) + value


def _item(body: bytes) -> bytes:
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(body)) + body


def _code_seq(tag: int, meaning: bytes) -> bytes:
    return _explicit(tag, b"SQ", _item(_explicit(0x00080100, b"SH", b"123456") + _explicit(0x00080104, b"LO", meaning)))


#: a CODE modifier "Finding Site" = "First lumbar vertebra" with a Laterality beneath it (3 levels)
_LATERALITY = _item(_explicit(0x0040A010, b"CS", b"HAS CONCEPT MOD ") + _explicit(0x0040A040, b"CS", b"CODE")
                    + _code_seq(0x0040A043, b"Laterality") + _code_seq(0x0040A168, b"Left"))
_MODIFIERS = _explicit(0x0040A730, b"SQ", _item(
    _explicit(0x0040A010, b"CS", b"HAS CONCEPT MOD ") + _explicit(0x0040A040, b"CS", b"CODE")
    + _code_seq(0x0040A043, b"Finding Site") + _code_seq(0x0040A168, b"First lumbar vertebra")
    + _explicit(0x0040A730, b"SQ", _LATERALITY)))
_MEASURED = _explicit(0x0040A300, b"SQ", _item(_code_seq(0x004008EA, b"g/cm2") + _explicit(0x0040A30A, b"DS", b"0.81")))
_NUM = _item(_explicit(0x0040A040, b"CS", b"NUM ") + _code_seq(0x0040A043, b"BMD") + _MEASURED + _MODIFIERS)


def _nested(levels: int, inner: bytes = _NUM) -> bytes:
    raw = inner
    for _ in range(levels):
        raw = _item(_explicit(0x0040A040, b"CS", b"CONTAINER ") + _explicit(0x0040A730, b"SQ", raw))
    return raw


def _parse(raw: bytes, memo: srtree.Memo | None) -> list[dict[int, object]]:
    return srtree.parse_sequence(raw, False, True, lambda b: b.decode("latin-1").strip(), sr._TEXTS, memo)


def _outcome(raw: bytes, memo: srtree.Memo | None) -> object:
    try:
        return _parse(raw, memo)
    except srtree.Unexpected:
        return "refused"


def test_value_free_content_sequences_are_shared_once() -> None:
    memo = srtree.Memo()
    first, second = _parse(_NUM * 2, memo)
    mods = first[0x0040A730]
    assert type(mods) is srtree.Shared and second[0x0040A730] is mods  # the same list for the same bytes
    assert _parse(_NUM, memo)[0][0x0040A730] is mods  # and in the next file read with this memo
    assert _parse(_NUM * 2, memo) == _parse(_NUM * 2, None) == _parse(_NUM * 2, srtree.Memo())


def test_content_sequences_holding_values_are_not_shared() -> None:
    memo = srtree.Memo()
    group = _parse(_nested(1), memo)[0][0x0040A730]  # a container whose content holds a NUM
    assert type(group) is list
    assert type(_parse(_nested(1), memo)[0][0x0040A730]) is list
    assert type(_parse(_NUM, memo)[0][0x0040A300]) is list  # a measured value is never kept


@pytest.mark.parametrize("levels", range(srtree.MAX_DEPTH - 6, srtree.MAX_DEPTH + 2))
def test_shared_sequences_nest_as_deep_as_parsed_ones(levels: int) -> None:
    warm = srtree.Memo()
    _parse(_NUM, warm)  # the modifiers (3 sequence levels) are now in the memo
    fresh = _outcome(_nested(levels), None)
    assert _outcome(_nested(levels), warm) == fresh == _outcome(_nested(levels), srtree.Memo())


def test_the_depth_range_above_straddles_the_bound() -> None:
    assert _outcome(_nested(srtree.MAX_DEPTH - 6), None) != "refused"
    assert _outcome(_nested(srtree.MAX_DEPTH + 1), None) == "refused"


@pytest.mark.parametrize("limit", range(15, 25))
def test_shared_sequences_count_their_items(limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    warm = srtree.Memo()
    _parse(_NUM, warm)
    monkeypatch.setattr(srtree, "MAX_ITEMS", limit)
    fresh = _outcome(_NUM * 2, None)
    assert _outcome(_NUM * 2, warm) == fresh
    # 10 items a NUM: itself, its name, value and unit, 2 modifiers and their 4 codes
    assert (fresh == "refused") == (limit < 2 * 10)


def test_placements_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from bmdkit.dicom import words

    monkeypatch.setattr(srplace, "PLACED_ENTRIES", 3)
    placed = srplace.Placements()
    contexts = [words.meaning(t) for t in ("Left Femur", "Lumbar Spine", "Right Femur")]
    cleared = [placed.keep(contexts[i % 3], (i,), (None, None, None, None, None)) for i in range(10)]
    assert cleared == [False, False, False, True, False, False, True, False, False, True]
    assert placed.count == 1 == sum(len(t) for t in placed.by_context.values())


@pytest.fixture(scope="module")
def srs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("sr_shared")
    gen = TruthGenerator(977)
    out: list[Path] = []
    for i, scan in enumerate(("spine", "hip_left", "hip_right", "hip_dual", "spine")):
        t = gen.exam(scan_type=scan, exclude=["L3"] if i == 4 else None)
        out += [p for p, _ in dicom_gen.write_dicom_samples(t, root, SR_KINDS)]
    return out


def _readings(paths: list[Path]) -> list[object]:
    return [read_dicom(p, Source(str(p), "0" * 64, InputKind.DICOM), DEFAULT_OPTIONS) for p in paths]


def test_readings_do_not_depend_on_what_was_read_before(srs: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    first = _readings(srs)
    assert all(r.exam is not None and r.exam.regions for r in first)
    assert _readings(srs) == first  # every memo warm
    assert _readings(srs[::-1])[::-1] == first  # another order
    for memo in sr._MEMOS.values():
        memo.seen.clear()
        memo.texts.clear()
    monkeypatch.setattr(srplace, "PLACED", srplace.Placements())
    monkeypatch.setattr(srplace, "PLACED_ENTRIES", 2)  # placements forgotten within every file
    monkeypatch.setattr(sr, "PLACED", srplace.PLACED)
    assert _readings(srs) == first
