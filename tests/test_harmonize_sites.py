"""Site configuration: parsing, checks, and matching scans to scanners by serial, model, site and date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bmdkit.errors import ConfigError
from bmdkit.harmonize.sites import load_sites, match_scanner, parse_sites
from bmdkit.model import Exam, InputKind, Source, Vendor

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "samples" / "config" / "sites.example.toml"


def exam(**kw) -> Exam:
    return Exam(source=Source("x.dcm", "0" * 64, InputKind.DICOM), **kw)


@pytest.fixture(scope="module")
def cfg():
    return load_sites(EXAMPLE)


def test_example_loads(cfg) -> None:
    assert {c.id for c in cfg.centers} == {"beijing", "huaian", "jiangxi", "kunshan"}
    assert cfg.scanner("bj-1").precision_pct["L1-L4"] == 1.0
    assert cfg.calibration_reference == "nominal"


def test_match_by_serial(cfg) -> None:
    m = match_scanner(exam(vendor=Vendor.HOLOGIC, scanner_serial="example-300512"), cfg)
    assert m.ok and m.scanner.id == "bj-1" and m.how.startswith("serial")


def test_wrong_serial_not_matched_to_a_configured_serial(cfg) -> None:
    m = match_scanner(exam(vendor=Vendor.HOLOGIC, scanner_model="Horizon A", scanner_serial="999"), cfg)
    assert not m.ok


def test_match_by_model_and_chinese_institution(cfg) -> None:
    m = match_scanner(exam(vendor=Vendor.GE_LUNAR, scanner_model="Lunar iDXA", institution="淮安市第一人民医院"), cfg)
    assert m.ok and m.scanner.id == "ha-1"


def test_dates_in_service_pick_the_scanner(cfg) -> None:
    before = match_scanner(exam(institution="江西省人民医院", exam_date=dt.date(2025, 6, 1)), cfg)
    after = match_scanner(exam(institution="江西省人民医院", exam_date=dt.date(2026, 3, 1)), cfg)
    assert before.scanner.id == "jx-1" and after.scanner.id == "jx-2"


def test_ambiguous_and_unmatched_are_not_guessed(cfg) -> None:
    amb = match_scanner(exam(vendor=Vendor.HOLOGIC), cfg)  # bj-1, jx-2 and ks-1 all fit
    assert not amb.ok and "ambiguous" in amb.reason
    none = match_scanner(exam(vendor=Vendor.NORLAND), cfg)
    assert not none.ok and "no configured scanner" in none.reason
    hint = match_scanner(exam(vendor=Vendor.HOLOGIC), cfg, center_hint="kunshan")
    assert hint.ok and hint.scanner.id == "ks-1"


def test_exact_model_beats_containing_model() -> None:
    cfg = parse_sites({"centers": [{"id": "c", "scanners": [
        {"id": "a", "vendor": "ge_lunar", "model": "Lunar Prodigy"},
        {"id": "b", "vendor": "ge_lunar", "model": "Lunar Prodigy Advance"}]}]})
    assert match_scanner(exam(vendor=Vendor.GE_LUNAR, scanner_model="LUNAR PRODIGY"), cfg).scanner.id == "a"
    assert match_scanner(exam(scanner_model="Lunar Prodigy Advance"), cfg).scanner.id == "b"


@pytest.mark.parametrize("data", [
    {"centers": [{"scanners": []}]},
    {"centers": [{"id": "c", "scanners": [{"id": "a", "vendor": "siemens"}]}]},
    {"centers": [{"id": "c", "scanners": [{"id": "a", "vendor": "hologic"}, {"id": "a", "vendor": "hologic"}]}]},
    {"centers": [{"id": "c", "scanners": [{"id": "a", "vendor": "hologic", "in_service_from": "2026-01-01",
                                           "in_service_to": "2025-01-01"}]}]},
    {"centers": [], "calibration": {"reference": "nope"}},
])
def test_bad_config_refused(data) -> None:
    with pytest.raises(ConfigError):
        parse_sites(data)


def test_unreadable_toml(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text("[[centers]\nid=")
    with pytest.raises(ConfigError):
        load_sites(p)


def test_institution_text_must_name_the_center(cfg) -> None:
    # "Beijing Hospital" is not PUMCH even though the center id is "beijing"
    m = match_scanner(exam(vendor=Vendor.HOLOGIC, scanner_model="Horizon A", institution="Beijing Hospital"), cfg)
    assert not m.ok
    m = match_scanner(exam(scanner_model="Horizon A", institution="PUMCH Dept. of Radiology"), cfg)
    assert m.ok and m.scanner.id == "bj-1"
    # a bare "医院" (hospital) names no center: nothing fits rather than everything
    assert not match_scanner(exam(vendor=Vendor.GE_LUNAR, institution="医院"), cfg).ok
