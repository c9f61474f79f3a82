"""Hologic report DICOM: Secondary Capture with a ``ResultsTable[c][r]`` script in a private tag.

Shapes follow ``shared/domain/vendor_dicom.md``: style A (LT, group 0029)
and style B (another column order, "*" on excluded levels, UT in group 0019).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bmdkit.samples.dicom_kinds.base import SC, _dec, _fmt, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _status, _truth_dict, file_regions
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, report_page_pixels
from bmdkit.samples.truth import TruthExam, TruthRegion

_SCRIPT_COLS_A = (("Region", None), ("Area[cm<sup><small>2</small></sup>]", "area"),
                  ("BMC[(g)]", "bmc"), ("BMD[g/cm<sup><small>2</small></sup>]", "bmd"),
                  ("T - score", "t_score"), ("PR (%)", "pr"), ("Z - score", "z_score"),
                  ("AM (%)", "am"))
_SCRIPT_COLS_B = (("Region", None), ("BMD<br>(g/cm<sup>2</sup>)", "bmd"),
                  ("T-Score", "t_score"), ("Z-Score", "z_score"),
                  ("BMC<br>(g)", "bmc"), ("Area<br>(cm<sup>2</sup>)", "area"))
_HIP_ORDER = ("femoral_neck", "trochanter", "intertrochanter", "total_hip", "wards")
_HIP_LABEL = {"femoral_neck": "Neck", "trochanter": "Troch", "intertrochanter": "Inter",
              "total_hip": "Total", "wards": "Ward's"}


def _script_rows(truth: TruthExam, style: str) -> list[tuple[str, TruthRegion | None]]:
    """(row label, region) rows in the order Hologic prints them; None = a group header row."""
    rows: list[tuple[str, TruthRegion | None]] = []
    if truth.scan_type == "spine":
        for r in truth.regions:
            if r.region in ("L1", "L2", "L3", "L4"):
                star = "*" if (style == "B" and r.evaluable is False) else ""
                rows.append((r.region + star, r))
        total = next(r for r in truth.regions if r.region == "L1-L4")
        rows.append(("Total" if style == "B" else total.label, total))
        return rows
    by = {(r.region, r.side): r for r in truth.regions}
    dual = truth.scan_type == "hip_dual"
    for reg in _HIP_ORDER:
        if dual and style == "A":
            rows.append((_HIP_LABEL[reg], None))
        for side in ("left", "right", "mean"):
            hit = by.get((reg, side))
            if hit is None:
                continue
            if not dual:
                rows.append((_HIP_LABEL[reg], hit))
            elif style == "A":
                rows.append((side.capitalize(), hit))
            else:
                rows.append((f"{_HIP_LABEL[reg]} {side.capitalize()}", hit))
    return rows


def script_text(truth: TruthExam, style: str = "A", table: str = "ResultsTable",
                row_first: bool = False) -> str:
    """The report script: header assignments then the results table cells (CRLF lines)."""
    cols = _SCRIPT_COLS_A if style == "A" else _SCRIPT_COLS_B
    p = truth.patient
    scan = {"spine": "AP Spine", "hip_left": "Left Hip", "hip_right": "Right Hip",
            "hip_dual": "Dual Hip"}[truth.scan_type]
    lines = [f'Scan = "{scan}";', f'PatientName = "{p.name_pinyin}";', f'PatientSex = "{p.sex}";',
             f'DOB = "{p.birth_date}";', f'Age = "{p.age}";', f'Height = "{p.height_cm}";',
             f'Weight = "{p.weight_kg}";', 'Ethnicity = "Asian";', 'ImageXPos = "40";',
             'ImageYPos = "120";', 'ImageXSize = "300";', 'ImageYSize = "360";']
    rows = _script_rows(truth, style)
    cells: list[tuple[int, int, str]] = []
    for c, (head, _) in enumerate(cols):
        cells.append((c, 0, head))
    for i, (label, reg) in enumerate(rows, start=1):
        for c, (_, key) in enumerate(cols):
            if key is None:
                text = label
            elif reg is None:
                text = " "
            elif key in ("pr", "am"):
                text = " " if reg.t_score is None else str(int(round(100 + 10 * (reg.t_score if key == "pr" else (reg.z_score or 0.0)))))
            else:
                text = _fmt(getattr(reg, key), _dec(key))
            cells.append((c, i, text))
    for c, r, text in cells:
        a, b = (r, c) if row_first else (c, r)
        lines.append(f'{table}[{a:2d}][{b:2d}] = "{text}";')
    return "\r\n".join(lines) + "\r\n"


def write_hologic_script(truth: TruthExam, path: Path, style: str = "A",
                         charset: Any = "GB18030", page_dpi: int = 90) -> dict[str, Any]:
    ds = base_dataset(truth, SC, "OT", "script" + style, charset=charset)
    ds.ConversionType = "WSD"
    ds.SeriesDescription = "Report"
    if style == "A":
        blk = ds.private_block(0x0029, "HOLOGIC", create=True)
        blk.add_new(0x01, "LO", "Report Script")
        blk.add_new(0x10, "LT", script_text(truth, "A"))
    else:
        blk = ds.private_block(0x0019, "HOLOGIC", create=True)
        blk.add_new(0x20, "UT", script_text(truth, "B"))
    _add_pixels(ds, report_page_pixels(truth, page_dpi))
    _write(ds, path)
    return _truth_dict(path, f"hologic_script{'' if style == 'A' else '_alt'}", truth,
                       file_regions(truth), _status(truth), None, charset, truth.patient.name_zh)
