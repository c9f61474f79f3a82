"""GE Lunar enCORE page layout: borderless table, % columns, spine combinations, trend table."""

from __future__ import annotations

import datetime as dt

from bmdkit.samples.report_page.builder import _Builder, _cell, _Col, _Row
from bmdkit.samples.report_page.ops import Cell, Page
from bmdkit.samples.report_page.pictures import _figures
from bmdkit.samples.report_page.sections import _footer, _header_en, _who_lines_en
from bmdkit.samples.report_page.style import Style
from bmdkit.samples.report_page.truth_values import _main_region, _percents, _ref
from bmdkit.samples.report_page.words import fmt, fmt_date
from bmdkit.samples.truth import TruthExam


def _ge_row(b: _Builder, truth: TruthExam, region: str | None, side: str | None, label: str,
            bmd: float | None, bmc: float | None, area: float | None, t: float | None, z: float | None,
            in_truth: bool, pct_region: str) -> _Row:
    m = b.st.minus
    yam, am = _percents(truth, pct_region, bmd)
    cells = [(label, Cell(region, side, "label", label, label, in_truth)),
             _cell(b, region, side, "bmd", fmt(bmd, 3), label, in_truth),
             _cell(b, region, side, "ya_pct", fmt(yam, 0), label, False),
             _cell(b, region, side, "t_score", fmt(t, 1, m, "-"), label, in_truth)]
    if b.st.show_z:
        cells += [_cell(b, region, side, "am_pct", fmt(am, 0), label, False),
                  _cell(b, region, side, "z_score", fmt(z, 1, m, "-"), label, in_truth)]
    if b.st.detail:
        cells += [_cell(b, region, side, "bmc", fmt(bmc, 2), label, in_truth),
                  _cell(b, region, side, "area", fmt(area, 2), label, in_truth)]
    return _Row(cells)


def _spine_combos(truth: TruthExam) -> list[tuple[str, list[str]]]:
    """Contiguous runs of included vertebrae as enCORE lists them (L1-L2 ... L3-L4)."""
    inc = [r.region for r in truth.regions if r.region in ("L1", "L2", "L3", "L4") and r.region not in truth.excluded]
    levels = ["L1", "L2", "L3", "L4"]
    out = []
    for i in range(4):
        for j in range(i + 1, 4):
            run = levels[i:j + 1]
            if all(v in inc for v in run):
                out.append((f"{run[0]}-{run[-1]}", run))
    return out


def _ge_trend(b: _Builder, truth: TruthExam, y: float) -> float:
    """enCORE's "Trend" table: this exam and earlier ones on the same page (distractor values).

    Earlier BMDs are made up for the page (a loss of up to ~2%/year going forward), tagged
    ``in_truth=False``; only the current row repeats the truth's main BMD.
    """
    region, bmd = _main_region(truth)
    if bmd is None:
        return y
    s = b.st.size
    label = {"L1-L4": next((r.label for r in truth.regions if r.region == "L1-L4"), "L1-L4"),
             "total_hip": "Total"}[region]
    b.text(b.m, y, f"Trend: {label}", s, bold=True)
    cols = [_Col("Measured\nDate", s * 8, "left"), _Col("Age\n(years)", s * 5), _Col("BMD\n(g/cm²)", s * 5.5),
            _Col("Change vs Previous\n(g/cm²)", s * 10), _Col("\n(%)", s * 4)]
    d = dt.date.fromisoformat(truth.exam_date)
    visits = [(d, bmd)]
    for _ in range(b.rng.randint(1, 2)):
        prev_d = visits[-1][0] - dt.timedelta(days=b.rng.randint(330, 800))
        visits.append((prev_d, round(visits[-1][1] * (1 + b.rng.uniform(-0.005, 0.04)), 3)))
    rows = []
    for i, (when, v) in enumerate(visits):
        age = truth.patient.age - (d - when).days / 365.25
        prev = visits[i + 1][1] if i + 1 < len(visits) else None
        ch = None if prev is None else v - prev
        pct = None if prev is None else 100 * (v - prev) / prev
        rows.append(_Row([(fmt_date(when.isoformat(), b.st.date_format), None), (f"{age:.1f}", None),
                          _cell(b, region, None, "trend_bmd", fmt(v, 3), label, False),
                          (fmt(ch, 3, b.st.minus), None), (fmt(pct, 1, b.st.minus), None)]))
    return b.table(b.m, y + 4, cols, rows, False) + s * 1.6


def _build_ge(truth: TruthExam, lang: str, st: Style) -> Page:
    from bmdkit.samples.truth import _z_shift, t_score

    b = _Builder(st, lang)
    y = _header_en(b, truth, 52, "enCORE:")
    title = {"spine": "AP Spine Bone Density", "hip_left": "Left Femur Bone Density",
             "hip_right": "Right Femur Bone Density", "hip_dual": "DualFemur Bone Density"}[truth.scan_type]
    b.text(b.m, y, title, st.size + 3, bold=True)
    region, _ = _main_region(truth)
    spine_total = next((r.label for r in truth.regions if r.region == "L1-L4"), "L1-L4")
    ref_label = spine_total if region == "L1-L4" else "Total"
    b.text(b.m + 210, y, f"Reference: {ref_label} (BMD)", st.size)
    y = _figures(b, truth, y + 10, lang == "zh")
    s = st.size
    cols = [_Col("Region", s * 7.5, "left"), _Col("BMD\n(g/cm²)", s * 5.5), _Col("Young-Adult\n(%)", s * 6.5),
            _Col("\nT-score", s * 5)]
    if st.show_z:
        cols += [_Col("Age-Matched\n(%)", s * 6.5), _Col("\nZ-score", s * 5)]
    if st.detail:
        cols += [_Col("BMC\n(g)", s * 5.2), _Col("Area\n(cm²)", s * 5.2)]
    rows: list[_Row] = []
    if truth.scan_type == "spine":
        by = {r.region: r for r in truth.regions}
        for v in ("L1", "L2", "L3", "L4"):
            if v not in truth.excluded:
                r = by[v]
                rows.append(_ge_row(b, truth, v, None, v, r.bmd, r.bmc, r.area, r.t_score, r.z_score, True, v))
        total = by["L1-L4"]
        combos = _spine_combos(truth)
        if total.label not in [c[0] for c in combos]:
            combos.append((total.label, list(total.vertebrae or [])))
        mean_sd = _ref(truth.reference, "L1-L4")
        for label, run in combos:
            if label == total.label:
                rows.append(_ge_row(b, truth, "L1-L4", None, label, total.bmd, total.bmc, total.area,
                                    total.t_score, total.z_score, True, "L1-L4"))
                continue
            area = round(sum(by[v].area or 0 for v in run), 2)
            bmc = round(sum(by[v].bmc or 0 for v in run), 2)
            bmd = round(bmc / area, 3)
            t = t_score(bmd, truth.reference, "L1-L4")
            z = None
            if mean_sd:
                mean, sd = mean_sd
                z = round((bmd - mean * (1 - _z_shift(truth.patient.age))) / sd, 1) + 0.0
            rows.append(_ge_row(b, truth, None, None, label, bmd, bmc, area, t, z, False, "L1-L4"))
    else:
        names = {"femoral_neck": "Neck", "wards": "Wards", "trochanter": "Troch", "total_hip": "Total"}
        for reg in ("femoral_neck", "wards", "trochanter", "total_hip"):
            by_side = {r.side: r for r in truth.regions if r.region == reg}
            for side in ("left", "right", "mean"):
                hit = by_side.get(side)
                if hit is not None:
                    r = hit
                    label = f"{names[reg]} {side.capitalize()}"
                    rows.append(_ge_row(b, truth, reg, side, label, r.bmd, r.bmc, r.area, r.t_score,
                                        r.z_score, True, reg))
            if reg == "total_hip" and "mean" in by_side:
                d = round((by_side["left"].bmd or 0) - (by_side["right"].bmd or 0), 3)
                rows.append(_ge_row(b, truth, None, None, "Total Diff.", d, None, None, None, None, False, "x"))
    y = b.table(b.m, y + 4, cols, rows, False) + s * 1.6
    if b.rng.random() < 0.35:
        y = _ge_trend(b, truth, y + s * 0.5)
    small = s * 0.85
    for line in ("1 - See appendices for precision and accuracy.",
                 f"Demographics: {truth.reference}; matched for Age, Weight, Ethnic.",
                 "2 - Statistically 68% of repeat scans fall within 1SD."):
        b.text(b.m, y, line, small)
        y += small * 1.45
    y = _who_lines_en(b, truth, y + s, fracture=False)
    _footer(b, f"GE Healthcare   {truth.scanner_model}   enCORE {truth.scanner_software}",
            f"Printed: {fmt_date(truth.exam_date, st.date_format)}")
    return b.page
