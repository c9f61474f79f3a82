"""bmdkit.dicom.script: Hologic report scripts, found by content and read by meaning.

Scripts are written here line by line (no sample generator) so every value
asserted is one written into the text; one test round-trips the script
through a DICOM file's private element written with pydicom.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from bmdkit.dicom import read_dicom, script, words
from bmdkit.flags import FlagCode
from bmdkit.model import Method, Region, RegionResult, Side
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.read import make_source

HEAD = ["Region", "Area[cm<sup><small>2</small></sup>]", "BMC[(g)]", "BMD[g/cm<sup><small>2</small></sup>]",
        "T - score", "PR (%)", "Z - score", "AM (%)"]
EL = "(0029,1010)"


def table_lines(rows: Sequence[Sequence[str | None]], table: str = "ResultsTable",
                row_first: bool = False) -> list[str]:
    """``rows[0]`` is the header line; a None cell is left out of the script."""
    out = []
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            a, b = (r, c) if row_first else (c, r)
            out.append(f'{table}[{a:2d}][{b:2d}] = "{cell}";')
    return out


def make_script(rows: Sequence[Sequence[str | None]], fields: dict[str, str] | None = None,
                **kw: object) -> str:
    lines = [f'{k} = "{v}";' for k, v in (fields or {}).items()]
    return "\r\n".join(lines + table_lines(rows, **kw)) + "\r\n"  # type: ignore[arg-type]


def read(text: str, context: words.Meaning | None = None) -> tuple[dict[tuple[Region, Side | None], RegionResult], list]:  # type: ignore[type-arg]
    results, flags = script.read_script(text, EL, context or words.Meaning()).results()
    return {(r.region, r.side): r for r in results}, flags


def unplaced_text(flags: list) -> str:  # type: ignore[type-arg]
    return " | ".join(f.message for f in flags if f.code is FlagCode.UNPLACED_DATA)


SPINE_ROWS = [HEAD,
              ["L1", "14.21", "11.30", "0.795", "-2.1", "78", "-1.0", "88"],
              ["L2", "15.02", "13.11", "0.873", "-1.9", "81", "-0.7", "91"],
              ["L3", "16.40", "14.99", "0.914", "-1.8", "83", "-0.6", "93"],
              ["L4", "18.07", "17.24", "0.954", "-1.7", "85", "-0.4", "95"],
              ["L1-L4", "63.70", "56.64", "0.889", "-1.9", "82", "-0.7", "92"]]


# -- looks_like_script --------------------------------------------------------------
def test_looks_like_script_needs_four_cells() -> None:
    four = "\n".join(f'ResultsTable[{c}][0] = "h{c}";' for c in range(4))
    three = "\n".join(f'ResultsTable[{c}][0] = "h{c}";' for c in range(3))
    assert script.looks_like_script(four) is True
    assert script.looks_like_script(three) is False
    assert script.looks_like_script(make_script(SPINE_ROWS)) is True


@pytest.mark.parametrize("text", [
    "",
    'Scan = "AP Spine";\nPatientName = "X";\nAge = "60";\nSex = "F";',   # fields but no table
    "<Results><ROI name='L1'><BMD>0.8</BMD></ROI></Results>" * 4,       # XML
    "\n".join(f'ResultsTable[{c}][0] = "h{c}"' for c in range(6)),        # no semicolons
    "\n".join(f"ResultsTable[{c}][0] = h{c};" for c in range(6)),         # unquoted values
    "\n".join(f'ResultsTable[{c}] = "h{c}";' for c in range(6)),          # one index only
])
def test_looks_like_script_rejects_other_text(text: str) -> None:
    assert script.looks_like_script(text) is False


def test_looks_like_script_reads_only_the_first_200000_characters() -> None:
    cells = make_script(SPINE_ROWS)
    assert script.looks_like_script(" " * 199_000 + cells) is True
    assert script.looks_like_script(" " * 200_000 + cells) is False


# -- assignments -------------------------------------------------------------------------
def test_assignments_reads_fields_first_occurrence_wins() -> None:
    text = ('Scan = "AP Spine";\r\n  PatientName = " Li^Wei ";\r\nScan = "Left Hip";\r\n'
            'Note = "say \\"hi\\"";\r\nX = "1"; Y = "2";\r\nResultsTable[0][0] = "Region";\r\n'
            'Empty = "";\r\nBroken = "no end\r\n')
    got = script.assignments(text)
    assert got["Scan"] == "AP Spine"          # the first of two
    assert got["PatientName"] == "Li^Wei"     # stripped; indented line still read
    assert got["Note"] == 'say \\"hi\\"'      # an escaped quote does not end the value
    assert got["X"] == "1" and "Y" not in got  # one field per line, at its start
    assert got["Empty"] == ""
    assert "Broken" not in got and "ResultsTable" not in got
    assert set(got) == {"Scan", "PatientName", "Note", "X", "Empty"}


def test_assignments_caps_value_length() -> None:
    assert script.assignments(f'A = "{"x" * 400}";')["A"] == "x" * 400
    assert script.assignments(f'A = "{"x" * 401}";') == {}


# -- tables --------------------------------------------------------------------------------
def test_tables_by_name_with_integer_indices() -> None:
    text = ('ResultsTable[ 0 ][ 1 ] = "L1";\nResultsTable[3][12] = "0.795";\n'
            'ResultsTable1[0][0] = "Region";\nOther = "x";\nResultsTable[3][12] = "0.800";\n')
    got = script.tables(text)
    assert set(got) == {"ResultsTable", "ResultsTable1"}
    assert got["ResultsTable1"] == {(0, 0): "Region"}
    assert got["ResultsTable"][(0, 1)] == "L1"
    assert set(got["ResultsTable"]) == {(0, 1), (3, 12)}
    assert script.tables('T[1][2] = "a";T[99999][1] = "b";') == {"T": {(1, 2): "a"}}  # 5-digit index: not a cell


def test_tables_cell_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(script, "_MAX_CELLS", 5)
    text = "\n".join(f'T[{i}][0] = "v{i}";' for i in range(8))
    assert script.tables(text) == {"T": {(i, 0): f"v{i}" for i in range(5)}}


def test_cell_cap_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(script, "_MAX_CELLS", 8)
    _, flags = read(make_script(SPINE_ROWS, {"Scan": "AP Spine"}))  # 48 cells
    assert FlagCode.UNPLACED_DATA in [f.code for f in flags] or any(
        "cells" in f.message for f in flags)


# -- read_script: shapes ---------------------------------------------------------------------
@pytest.mark.parametrize("row_first,table", [(False, "ResultsTable"), (True, "ResultsTable"),
                                             (False, "ResultsTable1"), (True, "ResultsTable1")])
def test_spine_table_either_orientation(row_first: bool, table: str) -> None:
    text = make_script(SPINE_ROWS, {"Scan": "AP Spine"}, table=table, row_first=row_first)
    got, flags = read(text)
    assert set(got) == {(Region.L1, None), (Region.L2, None), (Region.L3, None), (Region.L4, None),
                        (Region.SPINE_TOTAL, None)}
    for row, region in zip(SPINE_ROWS[1:], (Region.L1, Region.L2, Region.L3, Region.L4, Region.SPINE_TOTAL)):
        r = got[(region, None)]
        assert (r.area, r.bmc, r.bmd, r.t_score, r.z_score) == tuple(
            float(row[i]) for i in (1, 2, 3, 4, 6)), region  # PR/AM (%) columns 5 and 7 are not read
        assert r.method is Method.DICOM_PRIVATE
    total = got[(Region.SPINE_TOTAL, None)]
    assert total.label == "L1-L4" and total.vertebrae == (Region.L1, Region.L2, Region.L3, Region.L4)
    assert not flags
    # the location names the cell that holds the value, in the script's own index order
    where = got[(Region.L2, None)].sources["bmd"].location.element
    assert where == (f"{EL} {table}[2][3]" if row_first else f"{EL} {table}[3][2]")


def test_location_points_at_the_cell_with_the_value() -> None:
    rows = [["Region", "BMD"], ["L1", "0.801"], ["L2", "0.902"]]
    for row_first in (False, True):
        text = make_script(rows, {"Scan": "AP Spine"}, table="T", row_first=row_first)
        got, _ = read(text)
        cells = script.tables(text)["T"]
        for region, value in ((Region.L1, "0.801"), (Region.L2, "0.902")):
            src = got[(region, None)].sources["bmd"]
            idx = src.location.element.removeprefix(f"{EL} T")
            a, b = (int(x) for x in idx.strip("[]").split("]["))
            assert cells[(a, b)] == value == src.raw_text


def test_dual_hip_group_rows_then_sides() -> None:
    rows = [["Region", "BMD", "T-score"],
            ["Neck", " ", " "], ["Left", "0.701", "-1.9"], ["Right", "0.745", "-1.6"], ["Mean", "0.723", "-1.7"],
            ["Total", "", ""], ["Left", "0.850", "-1.2"], ["Right", "0.871", "-1.0"],
            ["Troch Left", "0.655", "-0.8"]]
    got, flags = read(make_script(rows, {"Scan": "Dual Hip"}))
    assert got[(Region.FEMORAL_NECK, Side.LEFT)].bmd == 0.701
    assert got[(Region.FEMORAL_NECK, Side.RIGHT)].t_score == -1.6
    assert got[(Region.FEMORAL_NECK, Side.MEAN)].bmd == 0.723
    assert got[(Region.TOTAL_HIP, Side.LEFT)].bmd == 0.850
    assert got[(Region.TOTAL_HIP, Side.RIGHT)].t_score == -1.0
    assert got[(Region.TROCHANTER, Side.LEFT)].bmd == 0.655
    assert len(got) == 6 and not flags


def test_scan_field_gives_the_context_of_total() -> None:
    rows = [["Region", "BMD"], ["Neck", "0.70"], ["Total", "0.85"]]
    got, _ = read(make_script(rows, {"Scan": "Left Hip"}))
    assert set(got) == {(Region.FEMORAL_NECK, Side.LEFT), (Region.TOTAL_HIP, Side.LEFT)}
    assert got[(Region.TOTAL_HIP, Side.LEFT)].bmd == 0.85
    got, _ = read(make_script(rows, {"Scan": "Right Hip", "ScanType": "Left Hip"}))  # Scan comes first
    assert (Region.TOTAL_HIP, Side.RIGHT) in got and (Region.TOTAL_HIP, Side.LEFT) not in got
    got, _ = read(make_script(rows, {"ScanType": "Right Hip"}))
    assert (Region.TOTAL_HIP, Side.RIGHT) in got
    got, _ = read(make_script(rows), words.Meaning(context="hip", side=Side.RIGHT))  # caller's context
    assert got[(Region.TOTAL_HIP, Side.RIGHT)].bmd == 0.85
    spine = [["Region", "BMD"], ["L1", "0.8"], ["Total", "0.9"]]
    got, _ = read(make_script(spine, {"Scan": "AP Spine"}))
    assert got[(Region.SPINE_TOTAL, None)].bmd == 0.9


def test_total_without_context_is_reported_not_guessed() -> None:
    got, flags = read(make_script([["Region", "BMD"], ["Total", "0.85"]]))
    assert got == {}
    assert "'Total'" in unplaced_text(flags)


# -- read_script: columns ---------------------------------------------------------------------
def test_missing_and_blank_cells_give_no_value() -> None:
    rows = [["Region", "BMD", "T-score", "Z-score"],
            ["L1", "0.795", None, "-1.0"],      # T-score cell absent from the script
            ["L2", "0.873", " ", "-0.7"],       # blank
            ["L3", "--", "-1.8", "N/A"],        # dashes
            ["L4", "0.954*", "-1.7", "-0.4"]]   # a marker after the number
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert got[(Region.L1, None)].t_score is None and got[(Region.L1, None)].bmd == 0.795
    assert got[(Region.L2, None)].t_score is None and got[(Region.L2, None)].z_score == -0.7
    assert got[(Region.L3, None)].bmd is None and got[(Region.L3, None)].z_score is None
    assert got[(Region.L3, None)].t_score == -1.8
    assert got[(Region.L4, None)].bmd == 0.954
    assert got[(Region.L4, None)].sources["bmd"].raw_text == "0.954*"
    assert flags == []


def test_region_column_found_by_content_when_its_header_is_blank() -> None:
    rows = [[" ", "Scan date", "BMD"], ["L1", "2024", "0.81"], ["L2", "2024", "0.85"]]
    got, _ = read(make_script(rows))
    assert {k: r.bmd for k, r in got.items()} == {(Region.L1, None): 0.81, (Region.L2, None): 0.85}


def test_table_without_measure_columns_is_skipped() -> None:
    rows = [["Region", "Date", "Comment"], ["L1", "2024-01-01", "ok"], ["L2", "2024-01-01", "ok"]]
    col = script.read_script(make_script(rows), EL, words.Meaning())
    assert not col and col.unplaced == [] and col.results() == ([], [])


def test_foreign_unit_column_is_reported_not_read() -> None:
    rows = [["Region", "BMD (mg/cm2)", "Area (cm2)"], ["L1", "795", "14.2"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert got[(Region.L1, None)].bmd is None and got[(Region.L1, None)].area == 14.2
    assert "unit does not fit bmd" in unplaced_text(flags)


def test_only_percent_columns_give_nothing() -> None:
    rows = [["Region", "PR (%)", "AM (%)"], ["L1", "88", "92"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert got == {} and flags == []


def test_rows_that_name_no_region_are_ignored() -> None:
    rows = [["Region", "BMD"], ["Comment", "1.5"], ["L1", "0.8"], ["", "0.9"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert {k: r.bmd for k, r in got.items()} == {(Region.L1, None): 0.8}
    assert not flags


def test_diff_rows_are_skipped() -> None:
    rows = [["Region", "BMD"], ["Neck Left", "0.70"], ["Neck Right", "0.74"], ["Neck Diff.", "0.04"]]
    got, flags = read(make_script(rows, {"Scan": "Dual Hip"}))
    assert set(got) == {(Region.FEMORAL_NECK, Side.LEFT), (Region.FEMORAL_NECK, Side.RIGHT)}
    assert not flags


# -- spine totals and exclusions -------------------------------------------------------------------
def test_range_combinations_only_the_widest_is_the_total() -> None:
    rows = [["Region", "BMD"], ["L1", "0.80"], ["L2", "0.85"], ["L3", "0.90"], ["L4", "0.95"],
            ["L1-L2", "0.825"], ["L1-L3", "0.850"], ["L2-L4", "0.900"], ["L1-L4", "0.875"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    total = got[(Region.SPINE_TOTAL, None)]
    assert total.bmd == 0.875 and total.label == "L1-L4"
    assert not [f for f in flags if f.code is FlagCode.SOURCES_DISAGREE]


def test_explicit_total_row_wins_over_ranges() -> None:
    rows = [["Region", "BMD"], ["L1", "0.80"], ["L2-L4", "0.900"], ["Total", "0.875"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert got[(Region.SPINE_TOTAL, None)].bmd == 0.875
    assert not [f for f in flags if f.code is FlagCode.SOURCES_DISAGREE]


def test_single_range_total_excludes_levels_outside_it() -> None:
    rows = [["Region", "BMD"], ["L1", "0.80"], ["L2", "0.85"], ["L3", "0.90"], ["L4", "0.95"],
            ["L2-L4", "0.90"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert got[(Region.SPINE_TOTAL, None)].vertebrae == (Region.L2, Region.L3, Region.L4)
    assert got[(Region.L1, None)].evaluable is False and got[(Region.L3, None)].evaluable is True
    assert [f.region for f in flags if f.code is FlagCode.VERTEBRA_EXCLUDED] == ["L1"]


def test_starred_and_excluded_labels_mark_vertebrae() -> None:
    rows = [["Region", "BMD"], ["L1", "0.80"], ["L2*", "0.99"], ["L3 (Excluded)", "0.90"], ["L4", "0.95"],
            ["Total", "0.85"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert got[(Region.L2, None)].bmd == 0.99 and got[(Region.L2, None)].evaluable is False
    assert got[(Region.L3, None)].evaluable is False
    assert got[(Region.L1, None)].evaluable is True
    assert sorted(f.region for f in flags if f.code is FlagCode.VERTEBRA_EXCLUDED) == ["L2", "L3"]


def test_two_rows_for_one_region_keep_the_first_and_flag() -> None:
    rows = [["Region", "BMD"], ["L1", "0.80"], ["L1", "0.88"]]
    got, flags = read(make_script(rows, {"Scan": "AP Spine"}))
    assert got[(Region.L1, None)].bmd == 0.80
    disagree = [f for f in flags if f.code is FlagCode.SOURCES_DISAGREE]
    assert len(disagree) == 1 and "0.8" in disagree[0].message and "0.88" in disagree[0].message


def test_two_tables_are_both_read() -> None:
    text = make_script([["Region", "BMD"], ["L1", "0.80"]], {"Scan": "AP Spine"}) + make_script(
        [["Region", "T-score"], ["L1", "-2.0"]], table="ResultsTable2")
    got, _ = read(text)
    assert got[(Region.L1, None)].bmd == 0.80 and got[(Region.L1, None)].t_score == -2.0


def test_empty_text_reads_nothing() -> None:
    col = script.read_script("", EL, words.Meaning())
    assert not col and col.results() == ([], [])


# -- in a DICOM file ----------------------------------------------------------------------------------
def _secondary_capture(tmp_path: Path, body: str) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.Manufacturer = "HOLOGIC"
    ds.PatientName = "Test^Patient"
    ds.PatientID = "P1"
    ds.StudyDate = "20240102"
    ds.SpecificCharacterSet = "ISO_IR 100"
    blk = ds.private_block(0x0029, "HOLOGIC", create=True)
    blk.add_new(0x01, "LO", "Report Script")
    blk.add_new(0x10, "LT", body)
    path = tmp_path / "script.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_script_in_a_private_element_of_a_dicom_file(tmp_path: Path) -> None:
    body = make_script(SPINE_ROWS, {"Scan": "AP Spine", "PatientName": "Test"})
    path = _secondary_capture(tmp_path, body)
    back = pydicom.dcmread(path)
    text = back[0x0029, 0x1010].value
    assert script.looks_like_script(text)
    got, flags = read(text)
    assert got[(Region.L3, None)].bmd == 0.914 and got[(Region.SPINE_TOTAL, None)].t_score == -1.9
    assert flags == []
    exam = read_dicom(path, make_source(path), DEFAULT_OPTIONS).exam
    assert exam is not None
    by = {(r.region, r.side): r for r in exam.regions}
    assert by[(Region.L1, None)].bmd == 0.795 and by[(Region.L4, None)].z_score == -0.4
    assert by[(Region.L1, None)].sources["bmd"].location.element.endswith("ResultsTable[3][1]")
