"""Norland Illuminatus page layout: BMD to 4 decimals, T/Z to 2, one table per hip."""

from __future__ import annotations

from bmdkit.samples.report_page.builder import _Builder, _cell, _Col, _Row
from bmdkit.samples.report_page.ops import Cell, Page
from bmdkit.samples.report_page.pictures import _figures
from bmdkit.samples.report_page.sections import _footer, _header_en, _who_lines_en
from bmdkit.samples.report_page.style import Style
from bmdkit.samples.report_page.words import fmt
from bmdkit.samples.truth import TruthExam


def _build_norland(truth: TruthExam, lang: str, st: Style) -> Page:
    """Norland: BMD to 4 decimals (BMC/area), T/Z to 2, hips in separate tables, right first, no mean."""
    b = _Builder(st, lang)
    y = _header_en(b, truth, 52, "Illuminatus:")
    m = st.minus
    y = _figures(b, truth, y + 4, lang == "zh")
    s = st.size
    cols = [_Col("Region", s * 8, "left"), _Col("BMD\n(g/cm²)", s * 6), _Col("BMC\n(g)", s * 5.5),
            _Col("Area\n(cm²)", s * 5.5), _Col("T-Score", s * 5.2)]
    if st.show_z:
        cols.append(_Col("Z-Score", s * 5.2))

    def vals(r: object, label: str) -> list[tuple[str, Cell | None]]:
        from bmdkit.samples.truth import TruthRegion

        assert isinstance(r, TruthRegion)
        bmd4 = round(r.bmc / r.area, 4) if r.bmc and r.area else r.bmd
        out = [(label, Cell(r.region, r.side, "label", label)),
               _cell(b, r.region, r.side, "bmd", fmt(bmd4, 4), label),
               _cell(b, r.region, r.side, "bmc", fmt(r.bmc, 2), label),
               _cell(b, r.region, r.side, "area", fmt(r.area, 2), label),
               _cell(b, r.region, r.side, "t_score", fmt(r.t_score, 2, m), label)]
        if st.show_z:
            out.append(_cell(b, r.region, r.side, "z_score", fmt(r.z_score, 2, m), label))
        return out

    names = {"femoral_neck": "Femoral Neck", "trochanter": "Trochanter", "intertrochanter": "Intertroch.",
             "wards": "Ward's", "total_hip": "Total Hip"}
    if truth.scan_type == "spine":
        b.text(b.m, y, "AP Spine", s + 2, bold=True)
        rows = []
        for r in truth.regions:
            if r.region == "L1-L4":
                rows.append(_Row(vals(r, r.label.replace("-", " - ")), bold=True))
            elif r.region not in truth.excluded:
                rows.append(_Row(vals(r, r.label)))
        y = b.table(b.m, y + 6, cols, rows, st.ruled) + s * 2
    else:
        for side in ("right", "left"):
            regs = [r for r in truth.regions if r.side == side]
            if not regs:
                continue
            b.text(b.m, y, f"{side.capitalize()} Hip", s + 2, bold=True)
            rows = [_Row(vals(r, names[r.region])) for r in regs]
            y = b.table(b.m, y + 6, cols, rows, st.ruled) + s * 2.2
    _who_lines_en(b, truth, y, fracture=False)
    _footer(b, f"Norland  {truth.scanner_model}  Illuminatus {truth.scanner_software}", "")
    return b.page
