"""Hologic APEX "DXA Results Summary" page layout (``shared/domain/reports.md``)."""

from __future__ import annotations

from bmdkit.samples.report_page.builder import _Builder, _cell, _Col, _Row
from bmdkit.samples.report_page.ops import Cell, Page
from bmdkit.samples.report_page.pictures import _figures
from bmdkit.samples.report_page.sections import _footer, _header_en, _who_lines_en
from bmdkit.samples.report_page.style import Style
from bmdkit.samples.report_page.truth_values import _percents
from bmdkit.samples.report_page.words import fmt
from bmdkit.samples.truth import TruthExam

_SCAN_TITLE = {"spine": "AP Spine", "hip_left": "Left Hip", "hip_right": "Right Hip", "hip_dual": "Dual Hip"}
_HIP_ORDER = ("femoral_neck", "trochanter", "intertrochanter", "total_hip", "wards")
_HOLOGIC_LABEL = {"femoral_neck": "Neck", "trochanter": "Troch", "intertrochanter": "Inter",
                  "total_hip": "Total", "wards": "Ward's"}


def _hologic_values(b: _Builder, truth: TruthExam, r: object, label: str) -> list[tuple[str, Cell | None]]:
    from bmdkit.samples.truth import TruthRegion

    assert isinstance(r, TruthRegion)
    m = b.st.minus
    pr, am = _percents(truth, r.region, r.bmd)
    cells = [(label, Cell(r.region, r.side, "label", label)),
             _cell(b, r.region, r.side, "area", fmt(r.area, 2), label),
             _cell(b, r.region, r.side, "bmc", fmt(r.bmc, 2), label),
             _cell(b, r.region, r.side, "bmd", fmt(r.bmd, 3), label),
             _cell(b, r.region, r.side, "t_score", fmt(r.t_score, 1, m), label),
             _cell(b, r.region, r.side, "pr_pct", fmt(pr, 0), label, False)]
    if b.st.show_z:
        cells += [_cell(b, r.region, r.side, "z_score", fmt(r.z_score, 1, m), label),
                  _cell(b, r.region, r.side, "am_pct", fmt(am, 0), label, False)]
    return cells


def _build_hologic(truth: TruthExam, lang: str, st: Style) -> Page:
    b = _Builder(st, lang)
    y = _header_en(b, truth, 52, "Software:")
    title = _SCAN_TITLE[truth.scan_type]
    b.text(b.m, y, f"{title}  Bone Density", st.size + 3, bold=True)
    y = _figures(b, truth, y + 10, lang == "zh")
    b.text(b.m, y, "DXA Results Summary:", st.size + 1, bold=True)
    y += 6
    s = st.size
    cols = [_Col("Region", s * 7, "left"), _Col("Area\n(cm²)", s * 5.2), _Col("BMC\n(g)", s * 5.2),
            _Col("BMD\n(g/cm²)", s * 5.6), _Col("T -\nscore", s * 4.6), _Col("PR\n(%)", s * 4)]
    if st.show_z:
        cols += [_Col("Z -\nscore", s * 4.6), _Col("AM\n(%)", s * 4)]
    rows: list[_Row] = []
    footnote = ""
    if truth.scan_type == "spine":
        for r in truth.regions:
            if r.region == "L1-L4":
                label = "Total" if (st.total_label == "Total" and not truth.excluded) else r.label
                rows.append(_Row(_hologic_values(b, truth, r, label), bold=True))
            elif r.region in truth.excluded:
                if st.excluded_mode == "omit":
                    continue
                grey = st.excluded_mode == "grey"
                rows.append(_Row(_hologic_values(b, truth, r, r.label + ("" if grey else "*")),
                                 gray=150 if grey else 0))
                footnote = "" if grey else "* Excluded from total"
            else:
                rows.append(_Row(_hologic_values(b, truth, r, r.label)))
    elif truth.scan_type == "hip_dual":
        for reg in _HIP_ORDER:
            rows.append(_Row([(_HOLOGIC_LABEL[reg], None)], span=True))
            by_side = {r.side: r for r in truth.regions if r.region == reg}
            for side in ("left", "right", "mean"):
                if side in by_side:
                    rows.append(_Row(_hologic_values(b, truth, by_side[side], side.capitalize())))
            if reg in ("femoral_neck", "total_hip"):
                d = abs((by_side["left"].bmd or 0) - (by_side["right"].bmd or 0))
                diff = [("|Diff.|", None), ("", None), ("", None),
                        _cell(b, reg, None, "bmd_diff", fmt(d, 3), "|Diff.|", False)]
                rows.append(_Row(diff + [("", None)] * (len(cols) - 4)))
    else:
        by_reg = {r.region: r for r in truth.regions}
        for reg in _HIP_ORDER:
            rows.append(_Row(_hologic_values(b, truth, by_reg[reg], _HOLOGIC_LABEL[reg]),
                             bold=reg == "total_hip"))
    y = b.table(b.m, y, cols, rows, st.ruled) + s * 1.6
    if footnote:
        b.text(b.m, y, footnote, s * 0.85)
        y += s * 1.4
    acf, bcf = b.rng.randint(20, 60), b.rng.randint(10, 50)
    th = f", TH = {b.rng.uniform(4.5, 7.5):.3f}" if truth.scan_type == "spine" and b.rng.random() < 0.5 else ""
    b.text(b.m, y, f"Total BMD CV 1.0%, ACF = 1.0{acf:02d}, BCF = 1.0{bcf:02d}{th}", s * 0.9)
    y += s * 2.4
    y = _who_lines_en(b, truth, y, fracture=True)
    b.text(b.m, y + s * 1.5, "Physician's Comment:", s, bold=True)
    _footer(b, f"HOLOGIC  {truth.scanner_model}   APEX {truth.scanner_software}", "Page 1 of 1")
    return b.page
