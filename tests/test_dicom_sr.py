"""bmdkit.dicom.sr: SR detection and NUM items placed by meaning, on SR files written with pydicom.

Every file here is built item by item (no sample generator), written to disk
and read back, so the values asserted are the ones written into the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from bmdkit.dicom import sr, words
from bmdkit.flags import FlagCode
from bmdkit.model import Method, Region, RegionResult, Side

ENHANCED = "1.2.840.10008.5.1.4.1.1.88.22"
COMPREHENSIVE = "1.2.840.10008.5.1.4.1.1.88.33"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"

G_CM2 = ("g/cm2", "UCUM", "g/cm2")
GRAMS = ("g", "UCUM", "g")
T_UNIT = ("{T-score}", "UCUM", "T-score")
Z_UNIT = ("{Z-score}", "UCUM", "Z-score")
ONE = ("1", "UCUM", "no units")


# -- content-item builders ----------------------------------------------------
def _code(value: str, scheme: str, meaning: str) -> Dataset:
    c = Dataset()
    c.CodeValue = value
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = meaning
    return c


def _name(meaning: str, code: tuple[str, str] | None = None) -> list[Dataset]:
    value, scheme = code or ("X" + str(abs(hash(meaning)) % 99991), "99TEST")
    return [_code(value, scheme, meaning)]


def num(meaning: str, value: str, unit: tuple[str, str, str] | None = G_CM2, *,
        code: tuple[str, str] | None = None, children: Sequence[Dataset] = (),
        rel: str = "CONTAINS") -> Dataset:
    it = Dataset()
    it.RelationshipType = rel
    it.ValueType = "NUM"
    it.ConceptNameCodeSequence = _name(meaning, code)
    mv = Dataset()
    mv.NumericValue = value
    if unit is not None:
        mv.MeasurementUnitsCodeSequence = [_code(*unit)]
    it.MeasuredValueSequence = [mv]
    if children:
        it.ContentSequence = list(children)
    return it


def container(meaning: str, children: Sequence[Dataset]) -> Dataset:
    it = Dataset()
    it.RelationshipType = "CONTAINS"
    it.ValueType = "CONTAINER"
    it.ConceptNameCodeSequence = _name(meaning)
    it.ContinuityOfContent = "SEPARATE"
    it.ContentSequence = list(children)
    return it


def text(meaning: str, value: str, rel: str = "CONTAINS", children: Sequence[Dataset] = ()) -> Dataset:
    it = Dataset()
    it.RelationshipType = rel
    it.ValueType = "TEXT"
    it.ConceptNameCodeSequence = _name(meaning)
    it.TextValue = value
    if children:
        it.ContentSequence = list(children)
    return it


def coded(meaning: str, value: tuple[str, str, str], rel: str = "CONTAINS",
          children: Sequence[Dataset] = ()) -> Dataset:
    it = Dataset()
    it.RelationshipType = rel
    it.ValueType = "CODE"
    it.ConceptNameCodeSequence = _name(meaning)
    it.ConceptCodeSequence = [_code(*value)]
    if children:
        it.ContentSequence = list(children)
    return it


def sr_dataset(content: Sequence[Dataset], *, sop: str = COMPREHENSIVE, title: str = "Bone Densitometry Report",
               charset: str = "ISO_IR 192", modality: str = "SR") -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = sop
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientName = "Test^Patient"
    ds.PatientID = "P1"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.ConceptNameCodeSequence = _name(title)
    ds.ContentSequence = list(content)
    return ds


def write_and_read(tmp_path: Path, ds: Dataset, name: str = "sr.dcm") -> Dataset:
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return pydicom.dcmread(path)


def read(tmp_path: Path, content: Sequence[Dataset], context: words.Meaning | None = None,
         **kw: str) -> tuple[dict[tuple[Region, Side | None], RegionResult], list, sr.Collector]:  # type: ignore[type-arg]
    ds = write_and_read(tmp_path, sr_dataset(content, **kw))
    col = sr.read_sr(ds, context or words.Meaning())
    results, flags = col.results()
    return {(r.region, r.side): r for r in results}, flags, col


def codes(flags: list) -> list[FlagCode]:  # type: ignore[type-arg]
    return [f.code for f in flags]


def unplaced_text(flags: list) -> str:  # type: ignore[type-arg]
    return " | ".join(f.message for f in flags if f.code is FlagCode.UNPLACED_DATA)


# -- is_sr ----------------------------------------------------------------------
@pytest.mark.parametrize("sop", sorted(sr.SR_SOP_CLASSES))
def test_is_sr_true_for_every_sr_sop_class(tmp_path: Path, sop: str) -> None:
    ds = write_and_read(tmp_path, sr_dataset([], sop=sop, modality="OT"))
    assert sr.is_sr(ds) is True


def test_is_sr_by_modality_needs_a_content_sequence(tmp_path: Path) -> None:
    with_content = sr_dataset([num("L1 BMD", "0.9")], sop=SECONDARY_CAPTURE)
    assert sr.is_sr(write_and_read(tmp_path, with_content, "a.dcm")) is True
    without = sr_dataset([], sop=SECONDARY_CAPTURE)
    del without.ContentSequence
    assert sr.is_sr(write_and_read(tmp_path, without, "b.dcm")) is False


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
def test_is_sr_false_for_images_and_empty_datasets(tmp_path: Path) -> None:
    image = sr_dataset([], sop=SECONDARY_CAPTURE, modality="OT")
    del image.ContentSequence
    assert sr.is_sr(write_and_read(tmp_path, image)) is False
    assert sr.is_sr(Dataset()) is False
    odd = Dataset()
    odd.Modality = "sr"  # lower case modality with content counts
    odd.ContentSequence = []
    assert sr.is_sr(odd) is True


# -- read_sr: flat names -----------------------------------------------------------
def test_flat_items_placed_by_their_names(tmp_path: Path) -> None:
    got, flags, col = read(tmp_path, [
        num("L2 BMD", "0.912"),
        num("L2 T-score", "-1.4", T_UNIT),
        num("Left Femoral Neck T-score", "-1.3", T_UNIT),
        num("Right Total Hip BMC", "31.25", GRAMS),
    ], sop=ENHANCED)
    assert set(got) == {(Region.L2, None), (Region.FEMORAL_NECK, Side.LEFT), (Region.TOTAL_HIP, Side.RIGHT)}
    assert got[(Region.L2, None)].bmd == 0.912 and got[(Region.L2, None)].t_score == -1.4
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].t_score == -1.3
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].bmd is None
    assert got[(Region.TOTAL_HIP, Side.RIGHT)].bmc == 31.25
    assert got[(Region.L2, None)].method is Method.DICOM_SR
    src = got[(Region.L2, None)].sources["t_score"]
    assert src.location.element == "ContentSequence[1]" and src.raw_text == "-1.4"
    assert not flags and col.unplaced == []


def test_unit_names_the_measure_when_the_name_does_not(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [
        num("L3", "1.021", G_CM2), num("L3", "14.9", ("cm2", "UCUM", "cm2")), num("L3", "15.2", GRAMS),
        num("L3", "-0.2", T_UNIT), num("L3", "0.4", Z_UNIT)])
    r = got[(Region.L3, None)]
    assert (r.bmd, r.area, r.bmc, r.t_score, r.z_score) == (1.021, 14.9, 15.2, -0.2, 0.4)
    assert not flags


def test_unit_against_the_name_decides_and_is_flagged(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("L1 BMD", "-2.1", T_UNIT)])
    r = got[(Region.L1, None)]
    assert r.t_score == -2.1 and r.bmd is None  # a BMD of -2.1 would be the wrong value
    disagree = [f for f in flags if f.code is FlagCode.SOURCES_DISAGREE]
    assert len(disagree) == 1 and "ContentSequence[0]" in disagree[0].message and "L1" in disagree[0].message


def test_foreign_unit_is_not_taken_and_is_reported(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("L1 BMD", "912", ("mg/cm2", "UCUM", "mg/cm2")),
                                    num("L1 BMC", "15.0", ("mg", "UCUM", "mg"))])
    assert got == {}
    assert "mg/cm2" in unplaced_text(flags) and "2 result-like" in unplaced_text(flags)


def test_dimensionless_unit_needs_the_name_to_say_t_or_z(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("L4 T-score", "-0.7", ONE), num("L4 Z-score", "0.3", ONE),
                                    num("L4", "-1.0", ONE)])
    r = got[(Region.L4, None)]
    assert r.t_score == -0.7 and r.z_score == 0.3
    assert "score but not whether T or Z" in unplaced_text(flags)


def test_score_unit_text_names_t_score_us_core_style(tmp_path: Path) -> None:
    got, _, _ = read(tmp_path, [num("L1", "-1.9", ("1", "UCUM", "T-Score"))])
    assert got[(Region.L1, None)].t_score == -1.9


def test_score_unit_under_a_density_name_is_not_taken(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("L1 BMD", "-1.9", ONE)])
    assert got == {} and "does not fit bmd" in unplaced_text(flags)


def test_percentages_are_ignored_not_misread(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("L1 BMD", "0.95"), num("L1 YA %", "88", None),
                                    num("L1 PR", "91", ("%", "UCUM", "%"))])
    assert "'L1 PR'" in unplaced_text(flags) and "'L1 YA %'" not in unplaced_text(flags)
    r = got[(Region.L1, None)]
    assert r.bmd == 0.95 and r.t_score is None and r.z_score is None and r.bmc is None
    assert len(got) == 1


# -- containers, modifiers, site context ----------------------------------------------
def test_nested_containers_give_site_and_side(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [
        container("Left Femur", [container("Neck", [num("BMD", "0.801"), num("T-score", "-1.6", T_UNIT)]),
                                 container("Total", [num("BMD", "0.902")])]),
        container("Right Femur", [container("Total", [num("BMD", "0.933")])]),
        container("Lumbar Spine", [container("L1", [num("BMD", "0.870")]),
                                   container("Total", [num("BMD", "0.990")])]),
    ])
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].bmd == 0.801
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].t_score == -1.6
    assert got[(Region.TOTAL_HIP, Side.LEFT)].bmd == 0.902
    assert got[(Region.TOTAL_HIP, Side.RIGHT)].bmd == 0.933
    assert got[(Region.L1, None)].bmd == 0.870
    assert got[(Region.SPINE_TOTAL, None)].bmd == 0.990
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].sources["bmd"].location.element == (
        "ContentSequence[0].ContentSequence[0].ContentSequence[0]")
    assert FlagCode.UNPLACED_DATA not in codes(flags)


def test_chinese_containers(tmp_path: Path) -> None:
    got, _, _ = read(tmp_path, [container("腰椎", [container("腰2", [num("骨密度", "0.876")])]),
                                container("左侧", [container("股骨颈", [num("T值", "-2.6", T_UNIT)])])])
    assert got[(Region.L2, None)].bmd == 0.876
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].t_score == -2.6


def test_side_is_dropped_for_spine_regions(tmp_path: Path) -> None:
    got, _, _ = read(tmp_path, [container("Left", [num("L3 BMD", "0.9")])])
    assert list(got) == [(Region.L3, None)]


def test_modifiers_give_site_and_laterality(tmp_path: Path) -> None:
    site = coded("Finding Site", ("29627003", "SCT", "Structure of neck of femur"), rel="HAS CONCEPT MOD",
                 children=[coded("Laterality", ("24028007", "SCT", "Right"), rel="HAS CONCEPT MOD")])
    text_site = text("Finding Site", "Trochanter", rel="HAS OBS CONTEXT",
                     children=[text("Laterality", "Left", rel="HAS CONCEPT MOD")])
    got, flags, _ = read(tmp_path, [num("Bone Mineral Density", "0.744", children=[site]),
                                    num("Bone Mineral Density", "0.655", children=[text_site])])
    assert got[(Region.FEMORAL_NECK, Side.RIGHT)].bmd == 0.744
    assert got[(Region.TROCHANTER, Side.LEFT)].bmd == 0.655
    assert FlagCode.UNPLACED_DATA not in codes(flags)


def test_snomed_code_without_meaning_still_places(tmp_path: Path) -> None:
    site = coded("Finding Site", ("14293000", "SCT", ""), rel="HAS CONCEPT MOD")
    got, _, _ = read(tmp_path, [num("BMD", "1.003", children=[site])])
    assert got[(Region.L2, None)].bmd == 1.003


def test_a_contains_child_is_not_a_modifier(tmp_path: Path) -> None:
    site = coded("Finding Site", ("29627003", "SCT", "Structure of neck of femur"), rel="CONTAINS")
    got, flags, _ = read(tmp_path, [num("BMD", "0.744", children=[site])])
    assert got == {}
    assert "no region" in unplaced_text(flags)


def test_group_site_applies_to_sibling_nums(tmp_path: Path) -> None:
    group = container("Measurement Group", [
        coded("Finding Site", ("29836001", "SCT", "Hip region structure"),
              children=[coded("Laterality", ("7771000", "SCT", "Left"), rel="HAS CONCEPT MOD")]),
        num("BMD", "0.888"), num("T-score", "-0.9", T_UNIT)])
    other = container("Measurement Group", [text("Finding Site", "L4"), num("BMD", "1.101")])
    got, flags, _ = read(tmp_path, [group, other])
    assert got[(Region.TOTAL_HIP, Side.LEFT)].bmd == 0.888
    assert got[(Region.TOTAL_HIP, Side.LEFT)].t_score == -0.9
    assert got[(Region.L4, None)].bmd == 1.101
    assert set(got) == {(Region.TOTAL_HIP, Side.LEFT), (Region.L4, None)}  # no leak between groups
    assert not flags


def test_root_title_and_caller_context(tmp_path: Path) -> None:
    got, _, _ = read(tmp_path, [num("Neck BMD", "0.71")], title="Right Femur")
    assert got[(Region.FEMORAL_NECK, Side.RIGHT)].bmd == 0.71
    hip_left = words.Meaning(context="hip", side=Side.LEFT)
    got, _, _ = read(tmp_path, [num("Total BMD", "0.85")], context=hip_left)
    assert list(got) == [(Region.TOTAL_HIP, Side.LEFT)]
    got, _, _ = read(tmp_path, [num("Total BMD", "0.85")], context=words.Meaning(context="spine"))
    assert list(got) == [(Region.SPINE_TOTAL, None)]
    got, flags, _ = read(tmp_path, [num("Total BMD", "0.85")])  # no context: which total is unknown
    assert got == {} and "no region" in unplaced_text(flags)


# -- LOINC ------------------------------------------------------------------------------
def test_loinc_codes_give_measure_side_and_whole_site(tmp_path: Path) -> None:
    neck = coded("Finding Site", ("29627003", "SCT", "Structure of neck of femur"), rel="HAS CONCEPT MOD")
    got, flags, _ = read(tmp_path, [
        num("", "1.045", None, code=("24966-4", "LN")),                   # lumbar spine BMD, no unit
        num("DXA Lumbar spine [T-score] Bone density", "-0.5", None, code=("38267-1", "LN")),
        num("", "0.912", G_CM2, code=("46279-6", "LN")),                  # right hip BMD
        num("", "-1.7", T_UNIT, code=("80948-3", "LN"), children=[neck]),  # left femur T, neck by site
    ])
    assert got[(Region.SPINE_TOTAL, None)].bmd == 1.045
    assert got[(Region.SPINE_TOTAL, None)].t_score == -0.5
    assert got[(Region.TOTAL_HIP, Side.RIGHT)].bmd == 0.912
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].t_score == -1.7
    assert not flags


def test_loinc_code_measure_is_not_overridden_by_a_component_name(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("Bone density", "-0.5", None, code=("38267-1", "LN"))])
    total = got.get((Region.SPINE_TOTAL, None))
    # either read as the T-score the code names, or not used and flagged; never a BMD of -0.5
    assert total is None or total.bmd is None
    assert (total is not None and total.t_score == -0.5) or FlagCode.UNPLACED_DATA in codes(flags)


def test_loinc_femur_code_without_site_is_not_guessed(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("", "0.81", G_CM2, code=("80954-1", "LN"))])
    assert got == {}
    assert "a femur value with no finding site" in unplaced_text(flags)


def test_loinc_code_in_another_scheme_is_not_read_as_loinc(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("", "1.045", None, code=("24966-4", "99LOCAL"))])
    assert got == {} and flags == []


def test_loinc_style_long_name_whole_site(tmp_path: Path) -> None:
    got, _, _ = read(tmp_path, [num("DXA Lumbar spine [T-score] Bone density", "-2.2", None)])
    assert got[(Region.SPINE_TOTAL, None)].t_score == -2.2


# -- totals and exclusions ------------------------------------------------------------------
def test_range_total_covers_its_levels(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("L1 BMD", "0.80"), num("L2 BMD", "0.85"), num("L3 BMD", "0.90"),
                                    num("L4 BMD", "0.95"), num("L2-L4 BMD", "0.90")])
    total = got[(Region.SPINE_TOTAL, None)]
    assert total.bmd == 0.90 and total.label == "L2-L4"
    assert total.vertebrae == (Region.L2, Region.L3, Region.L4)
    assert got[(Region.L1, None)].evaluable is False and got[(Region.L2, None)].evaluable is True
    assert [f.region for f in flags if f.code is FlagCode.VERTEBRA_EXCLUDED] == ["L1"]


def test_exclusion_items_mark_vertebrae(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [
        container("L1", [num("BMD", "0.81")]),
        container("L2", [num("BMD", "0.84"), text("L2 Excluded", "Yes")]),
        container("L3", [num("BMD", "0.88"), text("Included", "No")]),
        container("L4", [num("BMD", "0.93"), text("备注", "排除")]),
        num("L1 BMD", "0.81"), text("L1 Included", "Yes"),
    ], title="Lumbar Spine")
    assert got[(Region.L1, None)].evaluable is True
    assert {r.region for r in got.values() if r.evaluable is False} == {Region.L2, Region.L3, Region.L4}
    assert sorted(f.region for f in flags if f.code is FlagCode.VERTEBRA_EXCLUDED) == ["L2", "L3", "L4"]


def test_coded_exclusion_and_unclear_answers(tmp_path: Path) -> None:
    got, _, col = read(tmp_path, [
        container("L4", [num("BMD", "0.93"), coded("Excluded", ("373066001", "SCT", "Yes"))]),
        container("L1", [num("BMD", "0.81"), text("L1 Excluded", "see comment below")]),
    ], title="Lumbar Spine")
    assert got[(Region.L4, None)].evaluable is False
    assert got[(Region.L1, None)].evaluable is None  # an unclear answer marks nothing
    assert set(col.excluded) == {Region.L4} and col.included == set()


def test_exclusion_words_not_about_a_vertebra_are_ignored(tmp_path: Path) -> None:
    got, flags, col = read(tmp_path, [num("Neck BMD", "0.7"), text("Comment", "Excluded")],
                           title="Left Femur")
    assert col.excluded == {} and col.included == set() and flags == []
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].bmd == 0.7


def test_diff_items_are_skipped_silently(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [container("Neck", [num("Left BMD", "0.70"), num("Right BMD", "0.74"),
                                                       num("Diff BMD", "0.04")])], title="Dual Femur")
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].bmd == 0.70
    assert got[(Region.FEMORAL_NECK, Side.RIGHT)].bmd == 0.74
    assert len(got) == 2 and not flags


def test_two_different_values_for_one_slot_keep_the_first_and_flag(tmp_path: Path) -> None:
    got, flags, _ = read(tmp_path, [num("L1 BMD", "0.81"), num("L1 BMD", "0.91"), num("L2 BMD", "0.9"),
                                    num("L2 BMD", "0.90")])
    assert got[(Region.L1, None)].bmd == 0.81 and got[(Region.L2, None)].bmd == 0.9
    disagree = [f for f in flags if f.code is FlagCode.SOURCES_DISAGREE]
    assert len(disagree) == 1 and "0.81" in disagree[0].message and "0.91" in disagree[0].message


# -- malformed items ---------------------------------------------------------------------------
def test_malformed_items_give_no_value(tmp_path: Path) -> None:
    no_mv = num("L1 BMD", "0.9")
    del no_mv.MeasuredValueSequence
    empty_mv = num("L2 BMD", "0.9")
    empty_mv.MeasuredValueSequence = []
    blank_value = num("L3 BMD", "")
    no_type = num("L4 BMD", "0.9")
    del no_type.ValueType
    no_name = num("", "0.9")
    del no_name.ConceptNameCodeSequence
    got, flags, _ = read(tmp_path, [no_mv, empty_mv, blank_value, no_type, no_name,
                                    num("Neck BMD", "0.77")], title="Left Femur")
    # only the nameless NUM with a unit is result-like: reported as unplaced, not guessed
    assert unplaced_text(flags).count("no region") == 1
    assert list(got) == [(Region.FEMORAL_NECK, Side.LEFT)]
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].bmd == 0.77


def test_unparsable_number_is_not_a_value(tmp_path: Path) -> None:
    ds = sr_dataset([num("L1 BMD", "0.9"), num("L2 BMD", "0.8")])
    path = tmp_path / "bad.dcm"
    ds.save_as(path, enforce_file_format=True)
    data = path.read_bytes()
    assert data.count(b"0.8") == 1
    path.write_bytes(data.replace(b"0.8", b"x.8", 1))  # a DS that is not a number (same length)
    back = pydicom.dcmread(path)
    results, _ = sr.read_sr(back, words.Meaning()).results()
    assert {r.region: r.bmd for r in results} == {Region.L1: 0.9}


def test_empty_sr_gives_nothing(tmp_path: Path) -> None:
    got, flags, col = read(tmp_path, [])
    assert got == {} and flags == [] and not col


# -- size caps -----------------------------------------------------------------------------------
def _nested(levels: int, leaf: Dataset) -> Dataset:
    item = leaf
    for _ in range(levels):
        item = container("Group", [item])
    return item


def test_depth_cap_reads_to_the_limit_and_reports_beyond(tmp_path: Path) -> None:
    limit = sr._MAX_DEPTH
    got, flags, _ = read(tmp_path, [_nested(limit, num("L1 BMD", "0.81"))])
    assert got[(Region.L1, None)].bmd == 0.81 and not flags
    got, flags, _ = read(tmp_path, [_nested(limit + 1, num("L1 BMD", "0.81"))])
    assert got == {}
    assert f"nested deeper than {limit}" in unplaced_text(flags)


def test_item_cap_stops_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sr, "_MAX_ITEMS", 3)
    got, _, _ = read(tmp_path, [num(f"L{i} BMD", f"0.{i}") for i in range(1, 5)])
    assert {r: v.bmd for (r, _), v in got.items()} == {Region.L1: 0.1, Region.L2: 0.2, Region.L3: 0.3}


def test_item_cap_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sr, "_MAX_ITEMS", 3)
    _, flags, _ = read(tmp_path, [num(f"L{i} BMD", f"0.{i}") for i in range(1, 5)])
    assert FlagCode.UNPLACED_DATA in codes(flags)


# -- reading paths ----------------------------------------------------------------------------------
def _tree() -> list[Dataset]:
    return [container("Left Femur", [container("Neck", [num("BMD", "0.801")])]),
            container("腰椎", [container("L2", [num("骨密度", "0.876"), text("备注", "排除")])]),
            num("L2-L4 BMD", "0.95"), num("L3 BMD", "0.91", ("mg/cm2", "UCUM", "mg/cm2"))]


def test_lean_and_pydicom_readings_agree(tmp_path: Path) -> None:
    """The raw-bytes reader (srtree), pydicom's parsed sequence and an in-memory dataset read the same."""
    lean = write_and_read(tmp_path, sr_dataset(_tree()), "lean.dcm")
    parsed = write_and_read(tmp_path, sr_dataset(_tree()), "parsed.dcm")
    assert len(parsed.ContentSequence) == 4  # forces pydicom to parse the sequence first
    memory = sr_dataset(_tree())
    out = [sr.read_sr(d, words.Meaning()).results() for d in (lean, parsed, memory)]
    assert lean.__dict__.get("_bmdkit_content_read") is True  # the lean reader was used
    assert out[0] == out[1] == out[2]
    results, flags = out[0]
    by = {(r.region, r.side): r for r in results}
    assert by[(Region.FEMORAL_NECK, Side.LEFT)].bmd == 0.801
    assert by[(Region.L2, None)].bmd == 0.876 and by[(Region.L2, None)].evaluable is False
    assert by[(Region.SPINE_TOTAL, None)].vertebrae == (Region.L2, Region.L3, Region.L4)
    assert "mg/cm2" in unplaced_text(flags)


@pytest.mark.parametrize("charset,encoding", [("ISO_IR 192", "utf-8"), ("GB18030", "gb18030")])
def test_declared_charsets_decode_names(tmp_path: Path, charset: str, encoding: str) -> None:
    ds = write_and_read(tmp_path, sr_dataset([container("右侧", [container("全髋", [num("骨密度", "0.888")])])],
                                              charset=charset))
    raw = (tmp_path / "sr.dcm").read_bytes()
    assert "全髋".encode(encoding) in raw
    results, _ = sr.read_sr(ds, words.Meaning()).results()
    assert [(r.region, r.side, r.bmd) for r in results] == [(Region.TOTAL_HIP, Side.RIGHT, 0.888)]


def test_public_names() -> None:
    assert set(sr.__all__) >= {"SR_SOP_CLASSES", "is_sr", "read_sr"}
    assert sr.SR_SOP_CLASSES[ENHANCED] == "Enhanced SR" and sr.SR_SOP_CLASSES[COMPREHENSIVE] == "Comprehensive SR"
