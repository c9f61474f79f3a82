"""Norland Illuminatus report page as a screen capture shows it (layout ``norland_illuminatus``).

As ``shared/domain/reports.md`` describes Norland printouts: BMD to 4
decimals (it is BMC / area unrounded), T and Z to 2; right and left hips in
separate tables, right first, no mean row; a "Total sBMD" row in mg/cm²
(standardized BMD, not the scanner's own BMD: a distractor); the spine total
can be "L2 - L4" without an L1 row. The two hip tables are stacked or placed
side by side, each under its own heading.
"""

from __future__ import annotations

from bmdkit.samples.report_page.builder import _Builder, _Row
from bmdkit.samples.report_page.ops import Cell, Page
from bmdkit.samples.report_page.pictures import _figures
from bmdkit.samples.report_page.screen_table import (
    SCol,
    ScreenOptions,
    TableLook,
    draw_table,
    info_box,
    pick_variant,
    value,
)
from bmdkit.samples.report_page.style import Style
from bmdkit.samples.report_page.truth_values import _name_en
from bmdkit.samples.report_page.words import fmt, fmt_date
from bmdkit.samples.truth import TruthExam, TruthRegion

NORLAND_VARIANTS = ("stacked", "side_by_side")
FONT = "liberation-sans"
_NAMES = {"femoral_neck": "Femoral Neck", "trochanter": "Trochanter", "intertrochanter": "Intertroch.",
          "wards": "Ward's", "total_hip": "Total Hip"}
# Hip sBMD = 1000 x (a x BMD + b) with the published Hologic-to-standard coefficients is the real rule;
# here the factor only has to make a plausible distractor in mg/cm2, not a reference value.
_SBMD_FACTOR = 0.96


def _cells(b: _Builder, o: ScreenOptions, r: TruthRegion, label: str, narrow: bool) -> list[tuple[str, Cell | None]]:
    bmd4 = round(r.bmc / r.area, 4) if r.bmc and r.area else r.bmd
    out = [(label, Cell(r.region, r.side, "label", label)),
           value(b, o, r.region, r.side, "bmd", fmt(bmd4, 4), label)]
    if not narrow:
        out += [value(b, o, r.region, r.side, "bmc", fmt(r.bmc, 2), label),
                value(b, o, r.region, r.side, "area", fmt(r.area, 2), label)]
    out += [value(b, o, r.region, r.side, "t_score", fmt(r.t_score, 2, blank="-"), label),
            value(b, o, r.region, r.side, "z_score", fmt(r.z_score, 2, blank="-"), label)]
    return out


def _cols(s: float, narrow: bool) -> list[SCol]:
    cols = [SCol("Region", s * 8, "left"), SCol("BMD\n(g/cm²)", s * 6)]
    if not narrow:
        cols += [SCol("BMC\n(g)", s * 5.5), SCol("Area\n(cm²)", s * 5.5)]
    return cols + [SCol("T-Score", s * 5.2), SCol("Z-Score", s * 5.2)]


def _sbmd_row(b: _Builder, r: TruthRegion, narrow: bool) -> _Row:
    mg = round(1000 * (r.bmd or 0) * _SBMD_FACTOR)
    cells: list[tuple[str, Cell | None]] = [("Total sBMD", None),
                                            (f"{mg} mg/cm²", Cell(r.region, r.side, "sbmd", str(mg), "Total sBMD",
                                                                  False))]
    return _Row(cells + [("", None)] * (len(_cols(1, narrow)) - 2))


def build_norland_screen(truth: TruthExam, st: Style, o: ScreenOptions) -> Page:
    """The page of ``truth`` in the ``norland_illuminatus`` layout; blank columns as ``o`` says."""
    b = _Builder(st, "en")
    b.m = 30.0
    s = st.size
    variant = pick_variant(b, o, NORLAND_VARIANTS, "Norland")
    y = 24 + s * 1.5
    b.text(b.page.width / 2, y, truth.institution if truth.institution.isascii() else "Osteoporosis Clinic",
           s * 1.5, bold=True, align="center", font=FONT)
    p = truth.patient
    cols = [[("Name:", _name_en(truth), None), ("ID:", p.patient_id, Cell(None, None, "patient_id", "")),
             ("Birth Date:", fmt_date(p.birth_date, "%d.%m.%Y"), Cell(None, None, "birth_date", ""))],
            [("Sex:", "Female" if p.sex == "F" else "Male", Cell(None, None, "sex", "")),
             ("Height:", f"{p.height_cm:.0f} cm", None), ("Weight:", f"{p.weight_kg:.1f} kg", None)],
            [("Scan Date:", fmt_date(truth.exam_date, "%d.%m.%Y"), Cell(None, None, "exam_date", "")),
             ("Scanner:", truth.scanner_model, Cell(None, None, "scanner_model", "")),
             ("Illuminatus:", truth.scanner_software, None)]]
    y = info_box(b, b.m, y + s, b.right - b.m, cols, s, FONT, FONT, (246, 246, 246), 0.5, False) + s
    y = _figures(b, truth, y, False)
    look = TableLook(FONT, top_rule=0.6, header_rule=0.6, bottom_rule=0.6, row_h=1.4)
    if truth.scan_type == "spine":
        b.text(b.m, y, "AP Spine", s + 2, bold=True, font=FONT)
        rows = []
        for r in truth.regions:
            if r.region == "L1-L4":
                rows.append(_Row(_cells(b, o, r, r.label.replace("-", " - "), False), bold=True))
            elif r.region not in truth.excluded:
                rows.append(_Row(_cells(b, o, r, r.label, False)))
        y = draw_table(b, b.m, y + 6, _cols(s, False), rows, look, s) + s * 2
    else:
        narrow = variant == "side_by_side" and truth.scan_type == "hip_dual"
        x, top, bottom = b.m, y, y
        for side in ("right", "left"):
            regs = [r for r in truth.regions if r.side == side]
            if not regs:
                continue
            b.text(x, top, f"{side.capitalize()} Hip", s + 2, bold=True, font=FONT)
            rows = [_Row(_cells(b, o, r, _NAMES[r.region], narrow)) for r in regs]
            total = next(r for r in regs if r.region == "total_hip")
            rows.append(_sbmd_row(b, total, narrow))
            end = draw_table(b, x, top + 6, _cols(s, narrow), rows, look, s) + s * 2.2
            bottom = max(bottom, end)
            if narrow:
                x += sum(c.width for c in _cols(s, narrow)) + s * 3
            else:
                top = end
        y = bottom if narrow else top
    b.page.content_bottom = y
    b.line(b.m, b.page.height - 42, b.right, b.page.height - 42, 0.5)
    b.text(b.m, b.page.height - 30, f"Norland  {truth.scanner_model}  Illuminatus {truth.scanner_software}",
           s * 0.8, font=FONT)
    return b.page
