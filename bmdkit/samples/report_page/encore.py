"""GE Lunar enCORE report page as a console screenshot shows it (layout ``ge_encore``).

What real enCORE 16 pages look like: a Tahoma-like face throughout, a cream
demographics box with a thin outline and bold labels (Patient, Birth Date,
Height, Sex / Age, Weight, Ethnicity / Referring Physician, Patient ID,
Measured, Analyzed), and a borderless results grid: one heavy or thin rule
under a two-line header, no row rules, columns Region | BMD (g/cm²) | YA (%)
| YA T-score | AM (%) | AM Z-score, the % columns between BMD, T and Z.
"ancillary" pages add BMC and Area and list every row (L1 ... L4, L1-L2 ...
L3-L4; Neck/Wards/Troch/Total each Left, Right, Mean, Diff.); "main" pages
show a scan picture and reference graph above a small grid captioned
"Densitometry: ..." with only the total rows. A "-" stands for a score with
no reference.
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
from bmdkit.samples.report_page.truth_values import _main_region, _percents
from bmdkit.samples.report_page.words import fmt, fmt_date
from bmdkit.samples.truth import TruthExam

ENCORE_VARIANTS = ("ancillary", "main")
FONT = "dejavu-sans-condensed"
CREAM = (255, 255, 240)
_NAMES = {"femoral_neck": "Neck", "wards": "Wards", "trochanter": "Troch", "total_hip": "Total"}
_TITLE = {"spine": "AP Spine", "hip_left": "Left Femur", "hip_right": "Right Femur", "hip_dual": "DualFemur"}


def _cells(b: _Builder, o: ScreenOptions, truth: TruthExam, region: str | None, side: str | None, label: str,
           d: Derived, in_truth: bool, pct_region: str, detail: bool, diff: bool = False) -> list[tuple[str, Cell | None]]:
    """BMD, YA %, T, AM %, Z (and BMC, Area) of one row; "-" where a score has no reference."""
    sfx = "_diff" if diff else ""
    keep = in_truth and not diff
    if diff:
        ya = am = None
        left = next((r for r in truth.regions if r.region == region and r.side == "left"), None)
        right = next((r for r in truth.regions if r.region == region and r.side == "right"), None)
        if left and right:
            pl, pr = _percents(truth, pct_region, left.bmd), _percents(truth, pct_region, right.bmd)
            ya = abs(pl[0] - pr[0]) if pl[0] is not None and pr[0] is not None else None
            am = abs(pl[1] - pr[1]) if pl[1] is not None and pr[1] is not None else None
    else:
        ya, am = _percents(truth, pct_region, d.bmd)
    cells = [(label, Cell(region, side, "label", label, label, in_truth)),
             value(b, o, region, side, "bmd" + sfx, fmt(d.bmd, 3), label, keep),
             value(b, o, region, side, "ya_pct" + sfx, fmt(ya, 0, blank="-"), label, False),
             value(b, o, region, side, "t_diff" if diff else "t_score", fmt(d.t, 1, blank="-"), label, keep),
             value(b, o, region, side, "am_pct" + sfx, fmt(am, 0, blank="-"), label, False),
             value(b, o, region, side, "z_diff" if diff else "z_score", fmt(d.z, 1, blank="-"), label, keep)]
    if detail:
        cells += [value(b, o, region, side, "bmc" + sfx, fmt(d.bmc, 2), label, keep),
                  value(b, o, region, side, "area" + sfx, fmt(d.area, 2), label, keep)]
    return cells


def _spine_rows(b: _Builder, o: ScreenOptions, truth: TruthExam, main: bool, detail: bool) -> list[_Row]:
    by = {r.region: r for r in truth.regions}
    total = by["L1-L4"]
    tot_row = _Row(_cells(b, o, truth, "L1-L4", None, total.label, Derived.of(total), True, "L1-L4", detail))
    if main:
        return [tot_row]
    rows = [_Row(_cells(b, o, truth, v, None, v, Derived.of(by[v]), True, v, detail))
            for v in ("L1", "L2", "L3", "L4") if v not in truth.excluded]
    for run in sorted(spine_sets(truth, contiguous_only=True), key=lambda r: (r[0], len(r))):  # L1-L2, L1-L3 ...
        if list(run) == list(total.vertebrae or []):
            rows.append(tot_row)
        else:
            d = spine_set(truth, run)
            rows.append(_Row(_cells(b, o, truth, None, None, d.label, d, False, "L1-L4", detail)))
    if tot_row not in rows:  # a total over non-contiguous levels (L1,L3-L4) comes last
        rows.append(tot_row)
    return rows


def _hip_rows(b: _Builder, o: ScreenOptions, truth: TruthExam, main: bool, detail: bool) -> list[_Row]:
    regions = ("total_hip",) if main else ("femoral_neck", "wards", "trochanter", "total_hip")
    rows: list[_Row] = []
    if truth.scan_type != "hip_dual":
        by = {r.region: r for r in truth.regions}
        for reg in ("femoral_neck", "wards", "trochanter", "total_hip") if not main else ("femoral_neck", "total_hip"):
            r = by[reg]
            rows.append(_Row(_cells(b, o, truth, reg, r.side, _NAMES[reg], Derived.of(r), True, reg, detail)))
        return rows
    for reg in regions:
        by = {r.side: r for r in truth.regions if r.region == reg}
        for side in ("left", "right"):
            label = f"{_NAMES[reg]} {side.capitalize()}"
            rows.append(_Row(_cells(b, o, truth, reg, side, label, Derived.of(by[side]), True, reg, detail)))
        mean = hip_mean(truth, reg)
        if mean is not None:
            label = f"{_NAMES[reg]} Mean"
            cells = _cells(b, o, truth, reg, "mean", label, mean, "mean" in by, reg, detail)
            cells = mean_cells(cells, reg, "mean" in by)
            rows.append(_Row(cells))
        diff = hip_diff(truth, reg)
        if diff is not None:
            rows.append(_Row(_cells(b, o, truth, reg, None, f"{_NAMES[reg]} Diff.", diff, False, reg, detail,
                                    diff=True)))
    return rows


def build_encore(truth: TruthExam, st: Style, o: ScreenOptions) -> Page:
    """The page of ``truth`` in the ``ge_encore`` layout; blank columns as ``o`` says."""
    b = _Builder(st, "en")
    b.m = 36.0
    s = st.size
    variant = pick_variant(b, o, ENCORE_VARIANTS, "enCORE")
    main = variant == "main"
    y = _header(b, truth, s)
    detail = not main
    if main:
        kind = "spine" if truth.scan_type == "spine" else ("hip_right" if truth.scan_type == "hip_right" else "hip_left")
        b.text(b.m + 90, y, f"{_TITLE[truth.scan_type]} Bone Density", s, bold=True, align="center", font=FONT)
        b.page.ops.append(Picture(b.m + 10, y + 4, b.m + 170, y + 214, scan_picture(kind, st.seed % 2**32)))
        region, bmd = _main_region(truth)
        gx = b.m + 220
        label = "L1-L4" if truth.scan_type == "spine" else "Total"
        b.text(gx + 120, y, f"{_TITLE[truth.scan_type]}: {label} (BMD)", s, bold=True, align="center", font=FONT)
        _graph(b, gx + 20, y + 16, b.right - gx - 50, 150, truth, region, bmd, False)
        y += 240
        tx = gx
        cols_w = [s * 6.2, s * 5.2, s * 3.6, s * 5.2, s * 3.6, s * 5.2]
    else:
        b.text(b.m, y, f"ANCILLARY RESULTS: {_TITLE[truth.scan_type]}", s * 1.45, bold=True, font=FONT)
        y += s * 0.5
        tx = b.m
        cols_w = [s * 7.5, s * 6.2, s * 4.6, s * 6.2, s * 4.6, s * 6.2, s * 5.4, s * 5.4]
        stretch = (b.right - b.m) / sum(cols_w)  # ancillary grids span the page
        cols_w = [c * max(1.0, stretch) for c in cols_w]
    heads = [("Region", "left"), ("BMD\n(g/cm²)", "right"), ("YA\n(%)", "right"), ("YA\nT-score", "right"),
             ("AM\n(%)", "right"), ("AM\nZ-score", "right"), ("BMC\n(g)", "right"), ("Area\n(cm²)", "right")]
    tcols = [SCol(h, wd, a) for (h, a), wd in zip(heads, cols_w)]
    rows = _spine_rows(b, o, truth, main, detail) if truth.scan_type == "spine" else \
        _hip_rows(b, o, truth, main, detail)
    boxed = b.rng.random() < 0.5
    look = TableLook(FONT, border=1.1 if boxed else 0.0, header_rule=1.1 if boxed else 0.5,
                     top_rule=0.0 if boxed else 0.5, bottom_rule=0.0 if boxed else 0.5,
                     row_h=b.rng.choice((1.1, 1.2, 1.3)), body_bold=b.rng.random() < 0.5)
    if main:
        tw = sum(cols_w)
        b.text(tx + tw / 2, y - s * 0.4, f"Densitometry: {truth.reference}", s * 0.95, bold=True, align="center",
               font=FONT)
    y = draw_table(b, tx, y, tcols, rows, look, s * 0.95) + s * 2
    b.text(b.m, y, "COMMENTS:", s * 0.9, bold=True, font=FONT)
    b.page.content_bottom = y
    fine = s * 0.62
    yf = b.page.height - 70
    lines = ((f"Statistically 68% of repeat scans fall within 1SD (\u00b1 0.010 g/cm\u00b2 for "
              f"{_TITLE[truth.scan_type]}); {truth.reference} reference population."),
             (f"Matched for Age, Weight (females 25-100 kg), Ethnic. Date created: "
              f"{fmt_date(truth.exam_date, '%m/%d/%Y')}; Filename: {truth.patient.patient_id.lower()}.dfb"))
    for line in lines:
        b.text(b.m, yf, line, fine, font=FONT)
        yf += fine * 1.3
    b.text(b.m + 20, b.page.height - 34, "GE Healthcare", s * 0.9, font=FONT)
    b.text(b.page.width / 2, b.page.height - 34, "Page: 1 of 1", s * 0.9, align="center", font=FONT)
    b.text(b.right, b.page.height - 38, truth.scanner_model, s * 0.9, align="right", font=FONT)
    return b.page


def _header(b: _Builder, truth: TruthExam, s: float) -> float:
    """Laboratory heading and the cream demographics box (Measured: the exam date); returns the y below."""
    w = b.page.width
    y = 24 + s * 1.4
    name = truth.institution if truth.institution.isascii() else "Bone Density Research Laboratory"
    b.text(w / 2, y, name, s * 1.55, align="center", font=FONT)
    y += s * 1.3
    b.text(w / 2, y, f"Phone: {b.rng.randint(200, 899)}-{b.rng.randint(200, 899)}-{b.rng.randint(1000, 9999)}",
           s * 1.05, align="center", font=FONT)
    p = truth.patient
    when = dt.datetime.fromisoformat(truth.exam_date) + dt.timedelta(hours=b.rng.randint(8, 16),
                                                                     minutes=b.rng.randint(0, 59),
                                                                     seconds=b.rng.randint(0, 59))
    measured = f"{fmt_date(truth.exam_date, '%m/%d/%Y')} {when:%I:%M:%S %p} ({truth.scanner_software[:2]} [SP 2])"
    analyzed_d = when + dt.timedelta(days=b.rng.randint(0, 30), hours=1)
    analyzed = f"{analyzed_d:%m/%d/%Y %I:%M:%S %p} ({truth.scanner_software[:2]} [SP 2])"
    cols = [[("Patient:", _name_en(truth), None), ("Birth Date:", fmt_date(p.birth_date, "%m/%d/%Y"),
                                                   Cell(None, None, "birth_date", "")),
             ("Height:", f"{p.height_cm:.1f} cm", None), ("Sex:", "Female" if p.sex == "F" else "Male",
                                                           Cell(None, None, "sex", ""))],
            [("", "", None), ("Age:", f"{p.age:.1f} years", None), ("Weight:", f"{p.weight_kg:.1f} kg", None),
             ("Ethnicity:", "Asian", None)],
            [("Referring Physician:", "(not specified)", None),
             ("Patient ID:", p.patient_id, Cell(None, None, "patient_id", "")),
             ("Measured:", measured, Cell(None, None, "exam_date", "")), ("Analyzed:", analyzed, None)]]
    y = info_box(b, b.m, y + s * 0.9, b.right - b.m, cols, s * 0.9, FONT, FONT, CREAM, 0.9, False,
                 label_w=s * 6.8, starts=(0.0, 0.3, 0.58)) + s * 2.2
    return y


def _name_en(truth: TruthExam) -> str:
    fam, _, given = truth.patient.name_pinyin.partition("^")
    return f"{fam.upper()}, {given.upper()}"
