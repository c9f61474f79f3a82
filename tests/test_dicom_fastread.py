"""The fast header path (issue 20): the same dataset and the same answers as pydicom, for less work.

- ``fastread.read_plain`` gives, element for element, what
  ``dcmread(defer_size=..., force=True)`` gives (the elements dcmread
  converts while reading are converted on demand, to the same values), or
  None (then dcmread reads it), on generated scan images, SRs and report
  objects, on implicit and explicit VR, and on damaged copies of them;
- ``base.value_of`` answers as ``Dataset.get``;
- ``decode_text``'s ASCII shortcut rests on every DICOM character set
  decoding 7-bit bytes as ASCII;
- ``script.looks_like_script`` answers as the full cell count did;
- a scan image is decided without its pixel data being read.
"""

from __future__ import annotations

import random
from pathlib import Path

import pydicom
import pytest
from pydicom.charset import python_encoding
from pydicom.dataelem import RawDataElement

from bmdkit.dicom import base, fastread, read_dicom, script
from bmdkit.model import InputKind, Source
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.samples import dicom_gen, hostile
from bmdkit.samples.dicom_kinds.scan_images import GE_SCANS, write_ge_scan
from bmdkit.samples.truth import TruthGenerator

KINDS = ("lunar_cr", "lunar_raw", "hologic_display", "sr_flat", "sr_zh", "sr_loinc_mod",
         "hologic_script", "hologic_xml", "xml_nested_child", "report_pdf")
DEFER = 64 * 1024


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Generated DICOM of every shape in the bench mix, and damaged copies of them."""
    root = tmp_path_factory.mktemp("fastread")
    t = TruthGenerator(2020).exam(scan_type="spine")
    out = [p for p, _ in dicom_gen.write_dicom_samples(t, root, KINDS, page_dpi=60)]
    for j, scan in enumerate(list(GE_SCANS)[:4]):
        p = root / f"ge_{scan}.dcm"
        write_ge_scan(t, p, scan, ("cr", "bmd", "ot", "cr")[j])
        out.append(p)
    rng = random.Random(7)
    mutations = {**hostile.BYTE_MUTATIONS, **hostile.DICOM_MUTATIONS}
    for p in list(out):
        data = p.read_bytes()
        for name in sorted(mutations):
            q = root / f"{p.stem}_{name}.dcm"
            q.write_bytes(mutations[name](data, rng))
            out.append(q)
    return out


def _same_dataset(mine: pydicom.FileDataset, ref: pydicom.FileDataset) -> None:
    assert list(mine._dict) == list(ref._dict)
    for tag, a in list(mine._dict.items()):
        b = ref._dict[tag]
        if tag == 0x00080005 and isinstance(a, RawDataElement) and not isinstance(b, RawDataElement):
            assert mine[tag].value == b.value  # dcmread converts the character set, fastread on demand
            continue
        assert type(a) is type(b), tag
        if isinstance(a, RawDataElement):
            assert tuple(a) == tuple(b), tag
            assert type(a.VR) is type(b.VR) and type(a.value) is type(b.value), tag
        else:
            assert (a.VR, a.value, a.file_tell) == (b.VR, b.value, b.file_tell), tag
    assert list(mine.file_meta.keys()) == list(ref.file_meta.keys())
    for elem in ref.file_meta:  # some are converted by dcmread, raw here: same values
        assert mine.file_meta[elem.tag].value == elem.value
    assert mine.original_encoding == ref.original_encoding
    assert mine.original_character_set == ref.original_character_set
    for attr in ("preamble", "filename", "timestamp", "fileobj_type", "buffer"):
        assert getattr(mine, attr) == getattr(ref, attr), attr


def test_read_plain_gives_dcmreads_dataset(files: list[Path]) -> None:
    taken = 0
    for p in files:
        mine = fastread.read_plain(p, DEFER)
        if mine is None:
            continue
        taken += 1
        _same_dataset(mine, pydicom.dcmread(p, defer_size=DEFER, force=True))
    clean = [p for p in files if not any(m in p.stem for m in ("bit_flips", "truncated", "overwritten",
                                                               "dicom_bad"))]
    assert all(fastread.read_plain(p, DEFER) is not None for p in clean)  # every generated file is plain
    assert taken > len(clean)  # and so are some damaged ones


def test_read_plain_refuses_what_is_not_plain(tmp_path: Path, files: list[Path]) -> None:
    data = files[0].read_bytes()
    cases = {
        "no_preamble": data[132:],
        "trailing_bytes": data + b"\x01\x02\x03",
        "cut_inside_a_value": data[:-5],
    }
    for name, body in cases.items():
        p = tmp_path / f"{name}.dcm"
        p.write_bytes(body)
        assert fastread.read_plain(p, DEFER) is None, name
    with pytest.raises(OSError):
        fastread.read_plain(tmp_path / "absent.dcm", DEFER)


def _two_reads(p: Path) -> tuple[pydicom.FileDataset, pydicom.FileDataset] | None:
    try:
        return (pydicom.dcmread(p, defer_size=DEFER, force=True), pydicom.dcmread(p, defer_size=DEFER, force=True))
    except Exception:  # noqa: BLE001
        return None


def test_value_of_answers_as_get(files: list[Path]) -> None:
    keywords = ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated", "NumberOfFrames", "SOPClassUID",
                "Modality", "PhotometricInterpretation", "PatientName")
    for p in files:
        pair = _two_reads(p)
        if pair is None:  # a file pydicom refuses has nothing to compare
            continue
        ref, ds = pair
        for kw in keywords:
            try:
                want: object = ("value", ref.get(kw, "absent"))
            except Exception as exc:  # noqa: BLE001 - the same exception is the same answer
                want = ("raised", type(exc))
            try:
                got: object = ("value", base.value_of(ds, kw, "absent"))
            except Exception as exc:  # noqa: BLE001
                got = ("raised", type(exc))
            if want[0] == "value" and got[0] == "value" and kw in ("SOPClassUID", "Modality"):
                want, got = str(want[1]), str(got[1])  # a UID is compared as text
            assert got == want, (p.name, kw)


def test_every_dicom_character_set_decodes_7bit_text_as_ascii() -> None:
    raw = bytes(b for b in range(128) if b != 0x1B)  # ESC starts an ISO 2022 escape: not shortcut
    for term, encoding in python_encoding.items():
        try:
            codec = base._codec(encoding)
        except LookupError:
            continue
        assert raw.decode(codec) == raw.decode("ascii"), term
        assert base.decode_text(raw + b"  ", [term]) == raw.rstrip(b"\x00").decode("ascii") + "  "


def test_looks_like_script_answers_as_the_full_count() -> None:
    def full_count(text: str) -> bool:  # the definition before the shortcut
        return len(script._CELL.findall(text[:200000])) >= 4

    rng = random.Random(3)
    cell = 'ResultsTable[{}][{}] = "{}";\n'
    texts = [
        "".join(cell.format(i, j, "L1") for i in range(3) for j in range(2)),
        "".join(cell.format(i, 0, "x") for i in range(3)),
        "<Root><Region><Name>L1</Name><BMD>0.9</BMD></Region></Root>" * 200,
        "<a>[1][2]</a>" * 500,
        "x" * 60 + '[1][2] = "v";' * 5,
        "T [ 1 ] [ 2 ] = \"a\" ;" * 4,
    ]
    alphabet = 'ab_[]=" ;\n0123'
    texts += ["".join(rng.choice(alphabet) for _ in range(400)) for _ in range(300)]
    for text in texts:
        assert script.looks_like_script(text) is full_count(text), text[:80]


def test_scan_image_is_decided_without_reading_its_pixels(files: list[Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    scans = [p for p in files if p.stem in {f"ge_{scan}" for scan in GE_SCANS}]
    assert scans
    src = [(p, Source(str(p), "0" * 64, InputKind.DICOM)) for p in scans]
    before = [read_dicom(p, s, DEFAULT_OPTIONS) for p, s in src]

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("pixel data read")
    monkeypatch.setattr(pydicom.filereader, "read_deferred_data_element", refuse)
    after = [read_dicom(p, s, DEFAULT_OPTIONS) for p, s in src]
    assert after == before
    assert all(r.exam is not None and r.no_results_reason and "scan image" in r.no_results_reason
               for r in after)
