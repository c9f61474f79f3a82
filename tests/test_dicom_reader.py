"""The DICOM reader against real files written with pydicom, compared with ground truth.

Development shapes come from bmdkit.samples.dicom_gen; held-out shapes from
tests/heldout_dicom.py (made differently, not developed against). Values
must equal the truth exactly; bad inputs must fail with the path and a reason.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bmdkit.dicom import read_dicom
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, ScanType
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.pipeline import process_file
from bmdkit.read import make_source, read_file
from bmdkit.samples import dicom_gen
from bmdkit.samples.truth import TruthGenerator
from tests.conftest import assert_valid
from tests.heldout_dicom import HELDOUT2_KINDS, HELDOUT_KINDS, compare, write_heldout

SCANS = (("spine", ["L1"]), ("spine", None), ("spine", ["L4"]), ("hip_left", None),
         ("hip_right", None), ("hip_dual", None))


def _truths(seed: int) -> list[Any]:
    gen = TruthGenerator(seed)
    return [gen.exam(scan_type=s, exclude=ex) for s, ex in SCANS]


def _read(path: Path, options: ReadOptions = DEFAULT_OPTIONS) -> Exam:
    reading = read_dicom(path, make_source(path), options)
    assert reading.exam is not None, reading.no_results_reason
    return reading.exam


@pytest.fixture(scope="module")
def dev_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("dicom_dev")
    files = []
    for t in _truths(20261125):
        files += dicom_gen.write_dicom_samples(t, out, dicom_gen.ALL_KINDS, page_dpi=24)
    return files


@pytest.fixture(scope="module")
def heldout_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("dicom_heldout")
    files = []
    for t in _truths(4242):
        files += write_heldout(t, out, HELDOUT_KINDS + HELDOUT2_KINDS)
    return files


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("kind", dicom_gen.GOOD_KINDS)
def test_development_values_equal_truth(dev_files: list, kind: str) -> None:
    for path, truth in (f for f in dev_files if f[1]["kind"] == kind):
        exam = _read(path)
        assert compare(exam, truth) == [], path.name
        assert all(r.method.value in ("dicom-sr", "dicom-private") for r in exam.regions)
        assert all(r.location is not None and r.location.element for r in exam.regions)
        for r in exam.regions:  # provenance per measure
            for m in ("bmd", "t_score"):
                if r.value(m) is not None:
                    assert r.sources[m].location.element  # type: ignore[union-attr]
                    assert r.sources[m].confidence == 1.0


@pytest.mark.parametrize("kind", [k for k in HELDOUT_KINDS + HELDOUT2_KINDS if k != "xml_unplaceable"])
def test_heldout_values_equal_truth(heldout_files: list, kind: str) -> None:
    for path, truth in (f for f in heldout_files if f[1]["kind"] == kind):
        exam = _read(path)
        assert compare(exam, truth) == [], path.name


def test_excluded_vertebra_is_flagged_not_dropped(dev_files: list) -> None:
    for path, truth in dev_files:
        if truth["kind"] not in dicom_gen.GOOD_KINDS or not truth["excluded"]:
            continue
        exam = _read(path)
        for v in truth["excluded"]:
            r = next(x for x in exam.regions if x.region.value == v)
            assert r.evaluable is False and r.bmd is not None
            assert any(f.code is FlagCode.VERTEBRA_EXCLUDED and f.region == v for f in exam.flags), path.name


def test_metadata(dev_files: list) -> None:
    for path, truth in dev_files:
        if truth["expect_status"] == "failed" and truth["expect_flag"] != "no_results":
            continue
        exam = _read(path)
        assert exam.vendor.value == truth["vendor"], path.name
        assert exam.exam_date == dt.date.fromisoformat(truth["exam_date"])
        assert exam.study_instance_uid == truth["study_instance_uid"]
        assert exam.scanner_model == truth["scanner_model"]
        assert exam.patient is not None and exam.patient.patient_id == truth["patient_id"]
        assert exam.patient.name == truth["patient_name"], (path.name, truth["charset"])
        if truth["regions"] or truth["kind"] == "lunar_cr":
            assert exam.scan_types == (ScanType(truth["scan_type"]),), path.name


def test_heldout_patient_names_in_every_charset(heldout_files: list) -> None:
    for path, truth in heldout_files:
        exam = _read(path)
        assert exam.patient is not None and exam.patient.name == truth["patient_name"], truth["charset"]


# ----------------------------------------------------------------------------- contract
def test_contract_json_for_every_kind(dev_files: list, heldout_files: list, contract: Any) -> None:
    """Pipeline output validates; report-page kinds use the DICOM reading (OCR is another test's job)."""
    for path, truth in dev_files[: len(dicom_gen.ALL_KINDS) * 2] + heldout_files[:len(HELDOUT_KINDS)]:
        if truth["kind"].startswith("hologic_script") or truth["kind"] == "ho_script_rows":
            exam = _read(path)
        else:
            exam = process_file(path)
        d = exam_to_dict(exam)
        assert_valid(contract, d)
        assert d["status"] in ("extracted", "flagged", "failed")
        if truth["expect_status"] == "failed":
            assert d["status"] == "failed", path.name
            assert truth["expect_flag"] in {f["code"] for f in d["flags"]}, (path.name, d["flags"])
        elif truth["regions"]:
            assert d["status"] != "failed", (path.name, d["flags"])


# ----------------------------------------------------------------------------- no results / bad
@pytest.mark.parametrize("kind", dicom_gen.NO_RESULT_KINDS)
def test_scan_images_fail_with_no_results_and_keep_metadata(dev_files: list, kind: str) -> None:
    for path, truth in (f for f in dev_files if f[1]["kind"] == kind):
        exam = read_file(path)
        assert exam.status.value == "failed"
        assert exam.source.path == str(path)
        flag = next(f for f in exam.flags if f.code is FlagCode.NO_RESULTS)
        assert "report page" in flag.message and "SR" in flag.message
        assert exam.vendor.value == truth["vendor"]
        assert not exam.regions
        if kind == "lunar_raw":
            assert "GEMS_LUNAR_RAW" in flag.message


@pytest.mark.parametrize("kind,code,words", [
    ("ct", "not_dxa", "Modality CT"),
    ("truncated", "unreadable", "truncated"),
    ("hostile_xml", "unplaced_data", "hostile XML"),
])
def test_bad_inputs_fail_with_path_and_reason(dev_files: list, kind: str, code: str, words: str) -> None:
    path = next(p for p, t in dev_files if t["kind"] == kind)
    exam = read_file(path)
    assert exam.status.value == "failed"
    assert exam.source.path == str(path)
    flag = next(f for f in exam.flags if f.code.value == code)
    assert words in flag.message
    assert "Traceback" not in flag.message


def test_unplaceable_xml_is_flagged_never_guessed(heldout_files: list) -> None:
    for path, _ in (f for f in heldout_files if f[1]["kind"] == "xml_unplaceable"):
        exam = read_file(path)
        assert exam.status.value == "failed" and not exam.regions
        assert any(f.code is FlagCode.UNPLACED_DATA for f in exam.flags)


def test_oversize_private_element_is_skipped_with_reason(dev_files: list) -> None:
    path = next(p for p, t in dev_files if t["kind"] == "hologic_xml")
    exam = read_file(path, ReadOptions(max_xml_bytes=256))
    assert exam.status.value == "failed"
    msg = " ".join(f.message for f in exam.flags)
    assert "over the size cap" in msg and "(0021,1001)" in msg


def test_deeply_nested_xml_is_refused(tmp_path: Path) -> None:
    t = TruthGenerator(5).exam(scan_type="spine")
    body = "<a>" * 200 + "1" + "</a>" * 200
    dicom_gen.write_hologic_xml(t, tmp_path / "deep.dcm", body=body)
    exam = read_file(tmp_path / "deep.dcm")
    assert exam.status.value == "failed"
    assert any(f.code is FlagCode.UNPLACED_DATA and "deeper" in f.message for f in exam.flags)


def test_not_dicom_bytes_are_unreadable(tmp_path: Path) -> None:
    p = tmp_path / "fake.dcm"
    p.write_bytes(b"\x00" * 128 + b"DICM" + b"\xff" * 64)
    exam = read_file(p)
    assert exam.status.value == "failed" and exam.flags[0].code in (FlagCode.UNREADABLE,
                                                                    FlagCode.UNSUPPORTED_KIND)


def test_damaged_files_never_crash(dev_files: list, tmp_path: Path) -> None:
    """Random byte damage and cuts: every file ends with a status, never an internal error."""
    import random
    import warnings

    rng = random.Random(7)
    sources = [p for p, t in dev_files if t["kind"] in dicom_gen.GOOD_KINDS + dicom_gen.NO_RESULT_KINDS
               and not t["kind"].startswith("hologic_script")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(60):
            data = bytearray(rng.choice(sources).read_bytes())
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[: rng.randrange(len(data))]
            q = tmp_path / f"m{i}.dcm"
            q.write_bytes(bytes(data))
            exam = read_file(q)
            assert not any(f.code is FlagCode.INTERNAL_ERROR for f in exam.flags), exam.flags
