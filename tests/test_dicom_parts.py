"""Parts of the DICOM reader: words, charsets, script orientation, source comparison, merge."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from bmdkit.dicom import read_dicom, script, words
from bmdkit.dicom.base import decode_text
from bmdkit.flags import FlagCode
from bmdkit.merge import group_studies, merge_readings, merge_study
from bmdkit.model import Exam, InputKind, Method, Region, RegionResult, Side, Source
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.read import make_source
from bmdkit.samples import dicom_gen
from bmdkit.samples.truth import TruthGenerator


@pytest.mark.parametrize("label,region,side,measure", [
    ("L3", Region.L3, None, None),
    ("Neck Left", Region.FEMORAL_NECK, Side.LEFT, None),
    ("右侧全髋 T值", Region.TOTAL_HIP, Side.RIGHT, "t_score"),
    ("BMD[g/cm<sup><small>2</small></sup>]", None, None, "bmd"),
    ("HTOT_BMC", Region.TOTAL_HIP, None, "bmc"),
    ("Upper Neck", Region.UPPER_NECK, None, None),
    ("AM (%)", None, None, "percent"),
    ("第二腰椎 骨矿含量", Region.L2, None, "bmc"),
])
def test_label_meanings(label: str, region: Region | None, side: Side | None, measure: str | None) -> None:
    m = words.meaning(label)
    assert (m.region, m.side, m.measure) == (region, side, measure)


@pytest.mark.parametrize("label,levels", [
    ("L2-L4", ("L2", "L3", "L4")), ("L1,L3", ("L1", "L3")), ("L1-L2,L4", ("L1", "L2", "L4")),
    ("腰椎1-4", ("L1", "L2", "L3", "L4")), ("L3", None), ("Total", None),
])
def test_vertebra_ranges(label: str, levels: tuple[str, ...] | None) -> None:
    got = words.vertebra_set(label)
    assert (tuple(v.value for v in got) if got else None) == levels


def test_total_resolves_by_context() -> None:
    assert words.resolve_region(words.meaning("Total").merged_under(words.Meaning(context="spine"))) \
        is Region.SPINE_TOTAL
    assert words.resolve_region(words.meaning("Total").merged_under(words.Meaning(context="hip"))) \
        is Region.TOTAL_HIP


@pytest.mark.parametrize("name,declared,encoding", [
    ("王秀英", ["GB18030"], "gb18030"),
    ("王秀英", ["GBK"], "gbk"),
    ("王秀英", ["ISO_IR 192"], "utf-8"),
    ("王秀英", ["ISO_IR 100"], "utf-8"),      # declared wrongly: UTF-8 bytes still decode
    ("王秀英", [], "gb18030"),                # nothing declared: GB18030 fallback
    ("Müller", ["ISO_IR 100"], "latin-1"),
])
def test_decode_text_fallback_order(name: str, declared: list[str], encoding: str) -> None:
    assert decode_text(name.encode(encoding), declared) == name


def test_iso2022_ir58_with_escapes() -> None:
    raw = b"\x1b$)A" + "张桂兰".encode("gb2312")
    assert decode_text(raw, ["", "ISO 2022 IR 58"]) == "张桂兰"


def test_wrongly_declared_charset_in_a_file(tmp_path: Path) -> None:
    """A header that says ISO_IR 100 over UTF-8 bytes (a common misconfiguration) still decodes."""
    t = TruthGenerator(3).exam(scan_type="spine")
    path = tmp_path / "x.dcm"
    dicom_gen.write_sr(t, path, "nested", charset="ISO_IR 192")
    data = path.read_bytes()
    assert data.count(b"ISO_IR 192") == 1
    path.write_bytes(data.replace(b"ISO_IR 192", b"ISO_IR 100"))
    exam = read_dicom(path, make_source(path), DEFAULT_OPTIONS).exam
    assert exam is not None and exam.patient is not None
    assert exam.patient.name == t.patient.name_zh
    assert exam.institution == t.institution
    assert pydicom.dcmread(path).SpecificCharacterSet == "ISO_IR 100"


@pytest.mark.parametrize("row_first,table", [(False, "ResultsTable"), (True, "ResultsTable1"),
                                             (True, "ResultsTable")])
def test_script_orientation_and_name_do_not_matter(row_first: bool, table: str) -> None:
    t = TruthGenerator(11).exam(scan_type="hip_dual")
    body = dicom_gen.script_text(t, "A", table=table, row_first=row_first)
    regions, _ = script.read_script(body, "(0029,1010)", words.Meaning()).results()
    got = {(r.region.value, r.side.value if r.side else None): r.bmd for r in regions}
    want = {(r.region, r.side): r.bmd for r in t.regions}
    assert got == want


def test_two_sources_in_one_file_are_compared(tmp_path: Path) -> None:
    t = TruthGenerator(12).exam(scan_type="spine")
    wrong = replace(t, regions=[replace(r, bmd=round(r.bmd + 0.05, 3)) if r.region == "L2" else r
                                for r in t.regions])
    for truth_for_xml, expect in ((t, False), (wrong, True)):
        path = tmp_path / f"both_{expect}.dcm"
        dicom_gen.write_hologic_script(t, path, "A", page_dpi=20)
        ds = pydicom.dcmread(path)
        blk = ds.private_block(0x0021, "HOLOGIC", create=True)
        blk.add_new(0x01, "LT", dicom_gen.xml_text(truth_for_xml, "elements"))
        ds.save_as(path)
        exam = read_dicom(path, make_source(path), DEFAULT_OPTIONS).exam
        assert exam is not None
        flags = [f for f in exam.flags if f.code is FlagCode.SOURCES_DISAGREE]
        assert bool(flags) is expect
        if expect:  # both are exact sources: one value is kept (first found), the other flagged
            assert flags[0].region == "L2"
            kept = exam.region(Region.L2).bmd
            values = {next(r.bmd for r in x.regions if r.region == "L2") for x in (t, wrong)}
            assert kept in values and all(str(v) in flags[0].message for v in values)


def _exam(regions: tuple[RegionResult, ...], path: str = "a.dcm", uid: str | None = "1.2.3") -> Exam:
    return Exam(source=Source(path, "0" * 64, InputKind.DICOM), regions=regions,
                study_instance_uid=uid, exam_date=dt.date(2026, 3, 1))


def test_merge_keeps_dicom_values_and_flags_disagreements() -> None:
    d = _exam((RegionResult(Region.FEMORAL_NECK, Method.DICOM_PRIVATE, side=Side.LEFT, bmd=0.8234,
                            t_score=-1.2),))
    same = _exam((RegionResult(Region.FEMORAL_NECK, Method.OCR, side=Side.LEFT, bmd=0.823, t_score=-1.2),
                  RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.LEFT, bmd=0.9, t_score=-0.5)))
    merged = merge_readings(d, same)
    assert not [f for f in merged.flags if f.code is FlagCode.SOURCES_DISAGREE]
    assert merged.region(Region.FEMORAL_NECK, Side.LEFT).bmd == 0.8234
    assert merged.region(Region.TOTAL_HIP, Side.LEFT).method is Method.OCR
    differs = _exam((RegionResult(Region.FEMORAL_NECK, Method.OCR, side=Side.LEFT, bmd=0.823, t_score=1.2),))
    merged = merge_readings(d, differs)
    flags = [f for f in merged.flags if f.code is FlagCode.SOURCES_DISAGREE]
    assert len(flags) == 1 and flags[0].region == "femoral_neck/left" and "t_score" in flags[0].message
    assert merged.region(Region.FEMORAL_NECK, Side.LEFT).t_score == -1.2


def test_merge_study_joins_files_of_one_study() -> None:
    spine = _exam((RegionResult(Region.SPINE_TOTAL, Method.DICOM_SR, bmd=0.9, t_score=-1.0),), "s.dcm")
    hip = _exam((RegionResult(Region.TOTAL_HIP, Method.DICOM_SR, side=Side.LEFT, bmd=0.8, t_score=-1.1),), "h.dcm")
    other = _exam((RegionResult(Region.L1, Method.DICOM_SR, bmd=0.7, t_score=-2.0),), "o.dcm", uid="9.9")
    groups = group_studies([spine, hip, other])
    assert len(groups) == 2
    merged = merge_study(groups[("uid", "1.2.3")])
    assert {r.region for r in merged.regions} == {Region.SPINE_TOTAL, Region.TOTAL_HIP}
    assert all("file " in (r.location.detail or "") for r in merged.regions)  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", dicom_gen.REPORT_KINDS)
def test_report_pages_are_handed_to_the_report_reader(tmp_path: Path, kind: str) -> None:
    t = TruthGenerator(21).exam(vendor="hologic", scan_type="spine")
    [(path, truth)] = dicom_gen.write_dicom_samples(t, tmp_path, [kind], page_dpi=30)
    reading = read_dicom(path, make_source(path), DEFAULT_OPTIONS)
    assert reading.payload is not None
    assert reading.exam is not None and not reading.exam.regions
    assert not any(f.code is FlagCode.NO_RESULTS for f in reading.exam.flags)
    if kind == "report_pdf":
        assert reading.payload.pdf_bytes is not None and reading.payload.pdf_bytes.startswith(b"%PDF")
        assert reading.payload.pdf_bytes.rstrip().endswith(b"%%EOF")
    else:
        [img] = reading.payload.images
        assert img.dtype.name == "uint8" and img.ndim == 3 and img.shape[0] > img.shape[1]
    assert truth["expect_method"] == "ocr"


def test_merge_drops_ocr_quality_flags_only_where_dicom_is_exact() -> None:
    from bmdkit.model import Flag
    d = _exam((RegionResult(Region.FEMORAL_NECK, Method.DICOM_PRIVATE, side=Side.LEFT, bmd=0.82, t_score=-1.2),))
    rep = _exam((RegionResult(Region.FEMORAL_NECK, Method.OCR, side=Side.LEFT, bmd=0.82, t_score=-1.2),
                 RegionResult(Region.TOTAL_HIP, Method.OCR, side=Side.LEFT, bmd=0.9, t_score=-0.4)))
    rep = rep.with_flags([Flag(FlagCode.LOW_CONFIDENCE, "neck bmd: confidence 0.4", region="femoral_neck"),
                          Flag(FlagCode.LOW_CONFIDENCE, "total bmd: confidence 0.4", region="total_hip")])
    merged = merge_readings(d, rep)
    assert [f.region for f in merged.flags if f.code is FlagCode.LOW_CONFIDENCE] == ["total_hip"]


def test_values_in_a_foreign_unit_are_not_taken(tmp_path: Path) -> None:
    """A 'BMD' in mg/cm2 (Norland's standardized sBMD) is not the scanner's BMD: flagged, not used."""
    t = TruthGenerator(31).exam(scan_type="spine")
    total = next(r for r in t.regions if r.region == "L1-L4")
    content = [dicom_gen.container("L1-L4", [
        dicom_gen.num_item("BMD", total.bmd, dicom_gen.UNITS["bmd"]),
        dicom_gen.num_item("BMD", round(total.bmd * 1000 * 0.97, 1), ("mg/cm2", "UCUM", "mg/cm2")),
        dicom_gen.num_item("T-score", total.t_score, ("1", "UCUM", "no units"))])]
    path = tmp_path / "sbmd.dcm"
    dicom_gen.write_sr(t, path, "custom", content=content, sop_class=dicom_gen.ENHANCED_SR)
    exam = read_dicom(path, make_source(path), DEFAULT_OPTIONS).exam
    assert exam is not None
    r = exam.region(Region.SPINE_TOTAL)
    assert r is not None and r.bmd == total.bmd and r.t_score == total.t_score
    assert not [f for f in exam.flags if f.code is FlagCode.SOURCES_DISAGREE]
    assert any(f.code is FlagCode.UNPLACED_DATA and "mg/cm2" in f.message for f in exam.flags)
    body = dicom_gen.script_text(t, "A").replace("BMD[g/cm<sup><small>2</small></sup>]", "BMD (mg/cm2)")
    regions, flags = script.read_script(body, "(0029,1010)", words.Meaning()).results()
    assert all(x.bmd is None for x in regions) and all(x.area is not None for x in regions)
    assert any(f.code is FlagCode.UNPLACED_DATA for f in flags)
