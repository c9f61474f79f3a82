"""Hologic APEX report page as a console screenshot shows it (layout ``hologic_apex``).

What real APEX 5.5 pages look like: a bold sans-serif institution heading,
a pale-yellow demographics box with a heavy black outline and a grey drop
shadow, a "Scan Information:" block beside the scan picture, and under
"DXA Results Summary:" a yellow, outlined, shadowed table in a Times-like
face: Region | Area (cm²) | BMC (g) | BMD (g/cm²) | T-score | PR (%) |
Z-score | AM (%). The spine table lists L1..L4 and every set of two or more
vertebrae (L1-L2, L1,L3 ... up to 15 rows, L1-L4 bold and last); dual hips
group rows under a region header (Neck / Left, Right, Mean, |Diff.|), or
under a side header, or carry a side column. "Total BMD CV 1.0%, ACF, BCF",
"WHO Classification" and "Fracture Risk" lines follow the table.
"""

from __future__ import annotations

import datetime as dt

from bmdkit.samples.report_page.builder import _Builder, _Row
from bmdkit.samples.report_page.ops import Cell, Page, Picture
from bmdkit.samples.report_page.pictures import _graph, scan_picture
from bmdkit.samples.report_page.screen_table import (
    SCol,
    ScreenOptions,
    TableLook,
    draw_table,
    info_box,
    mean_cells,
    pick_variant,
    value,
)
from bmdkit.samples.report_page.screen_values import Derived, hip_diff, hip_mean, spine_set, spine_sets
from bmdkit.samples.report_page.style import Style
from bmdkit.samples.report_page.truth_values import _main_region, _main_ts, _name_en, _percents
from bmdkit.samples.report_page.words import _WHO_EN, fmt, fmt_date, who_category
from bmdkit.samples.truth import TruthExam

APEX_VARIANTS = {"spine": ("combinations", "plain"), "hip_dual": ("region_groups", "side_blocks", "side_column"),
                 "hip_left": ("plain",), "hip_right": ("plain",)}
YELLOW = (255, 255, 175)
SERIF = "liberation-serif"
SANS = "liberation-sans"
_NAMES = {"femoral_neck": "Neck", "trochanter": "Troch", "intertrochanter": "Inter", "total_hip": "Total",
          "wards": "Ward's"}
_ORDER = ("femoral_neck", "trochanter", "intertrochanter", "total_hip", "wards")
_SCAN_TYPE = {"spine": "a Lumbar Spine", "hip_left": "a Left Hip", "hip_right": "a Right Hip",
              "hip_dual": "a Dual Hip"}


def _row_cells(b: _Builder, o: ScreenOptions, truth: TruthExam, region: str | None, side: str | None,
               label: str, d: Derived, in_truth: bool, pct: bool, diff: bool = False) -> list[tuple[str, Cell | None]]:
    """Area, BMC, BMD, T, (PR), Z, (AM) cells of one row; a |Diff.| row tags its values as differences."""
    suffix = "_diff" if diff else ""
    ref_region = region or "L1-L4"
    pr, am = (None, None) if diff or d.bmd is None else _percents(truth, ref_region, d.bmd)
    cells = [(label, Cell(region, side, "label", label, label, in_truth)),
             value(b, o, region, side, "area" + suffix, fmt(d.area, 2), label, in_truth and not diff),
             value(b, o, region, side, "bmc" + suffix, fmt(d.bmc, 2), label, in_truth and not diff),
             value(b, o, region, side, "bmd" + suffix, fmt(d.bmd, 3), label, in_truth and not diff),
             value(b, o, region, side, "t_diff" if diff else "t_score", fmt(d.t, 1), label, in_truth and not diff)]
    if pct:
        cells.append(value(b, o, region, side, "pr_pct", fmt(pr, 0), label, False))
    cells.append(value(b, o, region, side, "z_diff" if diff else "z_score", fmt(d.z, 1), label,
                       in_truth and not diff))
    if pct:
        cells.append(value(b, o, region, side, "am_pct", fmt(am, 0), label, False))
    return cells


def _spine_rows(b: _Builder, o: ScreenOptions, truth: TruthExam, variant: str, pct: bool) -> list[_Row]:
    by = {r.region: r for r in truth.regions}
    total = by["L1-L4"]
    rows = [_Row(_row_cells(b, o, truth, v, None, v, Derived.of(by[v]), True, pct))
            for v in ("L1", "L2", "L3", "L4") if v not in truth.excluded]
    if variant == "combinations":
        for run in spine_sets(truth, contiguous_only=False):
            if list(run) == list(total.vertebrae or []):
                continue
            d = spine_set(truth, run)
            rows.append(_Row(_row_cells(b, o, truth, None, None, d.label, d, False, pct)))
    rows.append(_Row(_row_cells(b, o, truth, "L1-L4", None, total.label, Derived.of(total), True, pct), bold=True))
    return rows


def _hip_side_rows(b: _Builder, o: ScreenOptions, truth: TruthExam, reg: str, pct: bool,
                   label_of: dict[str, str], extra: list[str] | None = None) -> list[_Row]:
    """Left, Right, Mean and |Diff.| rows of one hip region (``extra`` prepends a side column value)."""
    by = {r.side: r for r in truth.regions if r.region == reg}
    rows: list[_Row] = []
    for side in ("left", "right"):
        if side in by:
            cells = _row_cells(b, o, truth, reg, side, label_of[side], Derived.of(by[side]), True, pct)
            rows.append(_Row(cells))
    mean = hip_mean(truth, reg)
    if mean is not None:
        in_truth = "mean" in by
        cells = _row_cells(b, o, truth, reg, "mean", label_of["mean"], mean, in_truth, pct)
        cells = mean_cells(cells, reg, in_truth)
        rows.append(_Row(cells))
    diff = hip_diff(truth, reg)
    if diff is not None:
        rows.append(_Row(_row_cells(b, o, truth, reg, None, label_of["diff"], diff, False, pct, diff=True)))
    return rows


def _hip_rows(b: _Builder, o: ScreenOptions, truth: TruthExam, variant: str, pct: bool) -> list[_Row]:
    side_names = {"left": "Left", "right": "Right", "mean": "Mean", "diff": "|Diff.|"}
    rows: list[_Row] = []
    if truth.scan_type != "hip_dual":
        by = {r.region: r for r in truth.regions}
        for reg in _ORDER:
            r = by[reg]
            rows.append(_Row(_row_cells(b, o, truth, reg, r.side, _NAMES[reg], Derived.of(r), True, pct),
                             bold=reg == "total_hip"))
        return rows
    if variant == "region_groups":
        for reg in _ORDER:
            rows.append(_Row([(_NAMES[reg], None)], span=True))
            rows += _hip_side_rows(b, o, truth, reg, pct, side_names)
    elif variant == "side_blocks":
        for side in ("left", "right"):
            rows.append(_Row([(side_names[side], None)], span=True))
            for reg in _ORDER:
                r = next(x for x in truth.regions if x.region == reg and x.side == side)
                rows.append(_Row(_row_cells(b, o, truth, reg, side, _NAMES[reg], Derived.of(r), True, pct)))
    else:  # side_column: the region in the first column, the side in the second
        for reg in _ORDER:
            for row in _hip_side_rows(b, o, truth, reg, pct, side_names):
                label, cell = row.cells[0]
                region_cell = (_NAMES[reg], None if cell is None else Cell(cell.region, cell.side, "label",
                                                                          _NAMES[reg], label, cell.in_truth))
                rows.append(_Row([region_cell, (label, None)] + row.cells[1:]))
    return rows


def _cols(s: float, pct: bool, side_column: bool) -> list[SCol]:
    cols = [SCol("Region", s * 6.2, "left")]
    if side_column:
        cols.append(SCol("Side", s * 4.2, "left"))
    cols += [SCol("Area\n(cm²)", s * 5.2, "center"), SCol("BMC\n(g)", s * 5.2, "center"),
             SCol("BMD\n(g/cm²)", s * 5.6, "center"), SCol("T -\nscore", s * 4.6, "center")]
    if pct:
        cols.append(SCol("PR\n(%)", s * 3.6, "center"))
    cols.append(SCol("Z -\nscore", s * 4.6, "center"))
    if pct:
        cols.append(SCol("AM\n(%)", s * 3.6, "center"))
    return cols


def build_apex(truth: TruthExam, st: Style, o: ScreenOptions) -> Page:
    """The page of ``truth`` in the ``hologic_apex`` layout; blank columns as ``o`` says."""
    b = _Builder(st, "en")
    b.m = 8.0
    s = st.size
    variant = pick_variant(b, o, APEX_VARIANTS[truth.scan_type], "APEX", f" for {truth.scan_type}")
    pct = b.rng.random() < 0.6
    y = _header(b, truth, s)
    y = _scan_block(b, truth, st, y)
    b.text(b.m + 10, y, "DXA Results Summary:", s * 1.25, bold=True, font=SANS)
    y += s * 0.6
    rows = _spine_rows(b, o, truth, variant, pct) if truth.scan_type == "spine" else \
        _hip_rows(b, o, truth, variant, pct)
    look = TableLook(SERIF, fill=YELLOW, border=1.6, shadow=True, row_h=1.32, header_align_bottom=False)
    cols = _cols(s, pct, variant == "side_column")
    y = draw_table(b, b.m + 10, y, cols, rows, look, s) + s * 1.3
    _below_table(b, truth, o, y)
    return b.page


def _header(b: _Builder, truth: TruthExam, s: float) -> float:
    """Institution heading, telephone, the yellow demographics box; returns the y below them."""
    w = b.page.width
    y = 12 + s * 1.6
    b.text(w / 2, y, truth.institution if truth.institution.isascii() else "Bone Density Unit",
           s * 1.65, bold=True, align="center", font=SANS)
    y += s * 1.3
    b.text(w / 2, y, f"Department of Radiology, Building {b.rng.randint(2, 9)}", s * 1.1, bold=True,
           align="center", font=SANS)
    y += s * 1.8
    b.text(b.m, y, f"Telephone:  {b.rng.randint(200, 899)}-{b.rng.randint(200, 899)}-{b.rng.randint(1000, 9999)}",
           s * 0.95, bold=True, font=SANS)
    y += s * 0.9
    b.line(b.m, y, b.right, y, 0.8)
    p = truth.patient
    ycol = [[("Name:", _name_en(truth), None), ("Patient ID:", p.patient_id, Cell(None, None, "patient_id", "")),
             ("DOB:", fmt_date(p.birth_date, "%B %d, %Y"), Cell(None, None, "birth_date", ""))],
            [("Sex:", "Female" if p.sex == "F" else "Male", Cell(None, None, "sex", "")),
             ("Ethnicity:", "Asian", None)],
            [("Height:", f"{p.height_cm:.1f} cm", None), ("Weight:", f"{p.weight_kg:.1f}  kg", None),
             ("Age:", str(p.age), None)]]
    y = info_box(b, b.m, y + s * 0.8, b.right - b.m - 6, ycol, s, SERIF, None, YELLOW, 1.6, True) + s * 1.6
    b.text(b.m, y, "Referring Physician: ", s, font=SERIF)
    y += s * 1.2
    return y


def _scan_block(b: _Builder, truth: TruthExam, st: Style, y: float) -> float:
    """Scan picture (left), "Scan Information:" and a reference graph (right); returns the y below."""
    s = st.size
    # scan picture (left) and Scan Information (right)
    pic_top = y + s
    kind = "spine" if truth.scan_type == "spine" else ("hip_right" if truth.scan_type == "hip_right" else "hip_left")
    pic_h = 190.0 if truth.scan_type == "spine" else 175.0
    b.page.ops.append(Picture(60, pic_top, 60 + pic_h * 0.75, pic_top + pic_h, scan_picture(kind, st.seed % 2**32)))
    b.text(60, pic_top + pic_h + s, "Image not for diagnostic use", s * 0.75, font=SERIF)
    ix = 290.0
    yy = pic_top + s
    date = fmt_date(truth.exam_date, "%B %d, %Y")
    b.text(ix, yy, "Scan Information:", s * 1.2, bold=True, font=SANS)
    when = dt.datetime.fromisoformat(truth.exam_date) + dt.timedelta(hours=b.rng.randint(8, 16),
                                                                     minutes=b.rng.randint(0, 59))
    scan_id = f"A{b.rng.randint(10**8, 10**9 - 1)}{chr(65 + b.rng.randint(0, 7))}"
    info = [("Scan Date:", date, Cell(None, None, "exam_date", "")), ("Scan Type:", _SCAN_TYPE[truth.scan_type], None),
            ("Analysis:", f"{date} {when:%H:%M} Version {truth.scanner_software}", None),
            ("Operator:", "".join(chr(65 + b.rng.randint(0, 25)) for _ in range(2)), None),
            ("Model:", f"{truth.scanner_model} (S/N {truth.scanner_serial})", Cell(None, None, "scanner_model", "")),
            ("Comment:", "", None)]
    yy += s * 1.35
    for label, val, cell in info:
        b.text(ix, yy, label, s, font=SERIF)
        if cell is not None:
            cell = Cell(None, None, cell.measure, val)
        b.text(ix + s * 6.5, yy, val, s, cell=cell, font=SERIF)
        if label == "Scan Date:":
            b.text(ix + s * 19, yy, f"ID: {scan_id}", s, font=SERIF)
        yy += s * 1.2
    region, bmd = _main_region(truth)
    graph_h = pic_top + pic_h - yy - s * 2
    if truth.scan_type != "spine" and graph_h >= 60 and b.rng.random() < 0.7:
        _graph(b, ix + 10, yy + s, b.right - ix - 40, graph_h, truth, region, bmd, False)
    y = max(pic_top + pic_h + s * 2.5, yy + s)
    return y


def _below_table(b: _Builder, truth: TruthExam, o: ScreenOptions, y: float) -> None:
    """CV/ACF/BCF line, WHO Classification and Fracture Risk (not with a blank T column), footer."""
    s = b.st.size
    acf, bcf = b.rng.randint(20, 60), b.rng.randint(10, 50)
    small = s * 0.8
    b.text(b.m + 10, y, f"Total BMD CV 1.0%, ACF = 1.0{acf:02d}, BCF = 0.9{bcf:02d}", small, font=SERIF)
    y += s * 2.2
    cat = who_category(_main_ts(truth) if "t_score" not in o.blank else [])
    if cat != "unknown":
        b.text(b.m + 10, y, "WHO Classification:", s, bold=True, font=SERIF)
        tab = b.m + 10 + b.width("WHO Classification:", s, True) + s * 0.6
        b.text(tab, y, _WHO_EN[cat], s, cell=Cell(None, None, "who_class", _WHO_EN[cat]), font=SERIF)
        y += s * 1.35
        risk = {"normal": "Not Increased", "low_bone_mass": "Increased", "osteoporosis": "High"}[cat]
        b.text(b.m + 10, y, "Fracture Risk:", s, bold=True, font=SERIF)
        b.text(tab, y, risk, s, font=SERIF)
        y += s * 1.35
    b.text(b.m + 10, y + s, "Comment:", s * 1.2, bold=True, font=SANS)
    b.page.content_bottom = y + s
    foot = b.page.height - 40
    b.text(b.m, foot, f"{'T-score vs. ' + truth.reference + '. ' if 't_score' not in o.blank else ''}"
           f"Source: {truth.reference}. Z-score vs. {truth.reference}.", s * 0.7, font=SERIF)
    b.text(b.right - 10, b.page.height - 14, "HOLOGIC", s * 1.5, bold=True, align="right", font=SANS)
