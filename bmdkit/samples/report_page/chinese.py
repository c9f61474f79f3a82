"""Chinese hospital report template (骨密度检测报告), ``shared/domain/reports.md``."""

from __future__ import annotations

from bmdkit import reference
from bmdkit.samples.report_page.builder import _Builder, _cell, _Col, _Row
from bmdkit.samples.report_page.ops import Cell, Page
from bmdkit.samples.report_page.pictures import _figures
from bmdkit.samples.report_page.sections import _footer
from bmdkit.samples.report_page.style import Style
from bmdkit.samples.report_page.truth_values import _main_ts
from bmdkit.samples.report_page.words import _WHO_ZH, fmt, fmt_date, who_category
from bmdkit.samples.truth import TruthExam

_ZH_HIP = {"femoral_neck": "股骨颈", "trochanter": "大转子", "intertrochanter": "转子间", "wards": "Ward三角"}
_ZH_SIDE = {"left": "左", "right": "右", "mean": "平均"}
_ZH_SCAN = {"spine": "腰椎正位", "hip_left": "左侧髋关节", "hip_right": "右侧髋关节", "hip_dual": "双侧髋关节"}


def _build_chinese(truth: TruthExam, lang: str, st: Style) -> Page:
    b = _Builder(st, lang)
    p = truth.patient
    s = st.size + 1
    m = st.minus
    b.text(b.page.width / 2, 56, truth.institution, s + 7, bold=True, align="center")
    title = b.rng.choice(("骨密度检测报告", "双能X线骨密度检测报告", "骨密度检测报告单"))
    b.text(b.page.width / 2, 56 + s * 2.4, title, s + 4, bold=True, align="center")
    y = 56 + s * 4.6
    date = fmt_date(truth.exam_date, st.date_format)
    col = (b.right - b.m) / 3
    rows = [[("姓名:", p.name_zh, None), ("性别:", "女" if p.sex == "F" else "男", Cell(None, None, "sex", "")),
             ("年龄:", f"{p.age}岁", Cell(None, None, "age", ""))],
            [("ID号:", p.patient_id, Cell(None, None, "patient_id", "")),
             ("身高:", f"{p.height_cm:.1f}cm", None), ("体重:", f"{p.weight_kg:.1f}kg", None)],
            [("检查日期:", date, Cell(None, None, "exam_date", "")),
             ("检查部位:", _ZH_SCAN[truth.scan_type], None),
             ("设备:", f"{'Hologic' if truth.vendor == 'hologic' else ''} {truth.scanner_model}".strip(),
              Cell(None, None, "scanner_model", ""))]]
    for row in rows:
        for i, pair in enumerate(row):
            b.fields(b.m + i * col, y, [pair], s)
        y += s * 1.7
    b.line(b.m, y - s * 0.7, b.right, y - s * 0.7, 1.0)
    y = _figures(b, truth, y + 6, True)
    # hospital templates differ in column order: measured values first, or the scores first
    heads = {"area": _Col("面积\n(cm²)", s * 5.2), "bmc": _Col("骨矿含量\n(g)", s * 5.6),
             "bmd": _Col("骨密度\n(g/cm²)", s * 5.8), "t_score": _Col(b.rng.choice(("T值", "T-值")), s * 4.4),
             "z_score": _Col("Z值", s * 4.4)}
    order = ["area", "bmc", "bmd", "t_score", "z_score"] if st.column_order == 0 else \
        ["bmd", "t_score", "z_score", "bmc", "area"]
    if not st.show_z:
        order.remove("z_score")
    cols = [_Col("部位", s * 8, "left")] + [heads[k] for k in order]
    trows: list[_Row] = []

    def vals(r: object, label: str) -> list[tuple[str, Cell | None]]:
        from bmdkit.samples.truth import TruthRegion

        assert isinstance(r, TruthRegion)
        text = {"area": fmt(r.area, 2), "bmc": fmt(r.bmc, 2), "bmd": fmt(r.bmd, 3),
                "t_score": fmt(r.t_score, 1, m), "z_score": fmt(r.z_score, 1, m)}
        return [(label, Cell(r.region, r.side, "label", label))] + \
            [_cell(b, r.region, r.side, k, text[k], label) for k in order]

    if truth.scan_type == "spine":
        for r in truth.regions:
            if r.region == "L1-L4":
                trows.append(_Row(vals(r, b.rng.choice(("腰椎 ", "腰椎")) + r.label), bold=True))
            elif r.region in truth.excluded:
                if st.excluded_mode != "omit":
                    trows.append(_Row(vals(r, r.label + ("(排除)" if st.excluded_mode == "grey" else "*")),
                                      gray=150 if st.excluded_mode == "grey" else 0))
            else:
                trows.append(_Row(vals(r, r.label)))
    else:
        for side in ("left", "right", "mean"):
            for r in truth.regions:
                if r.side == side:
                    name = st.hip_total_zh if r.region == "total_hip" else _ZH_HIP[r.region]
                    trows.append(_Row(vals(r, _ZH_SIDE[side] + name)))
    y = b.table(b.m, y, cols, trows, st.ruled, s) + s * 2
    cat = who_category(_main_ts(truth))
    b.text(b.m, y, "诊断意见:", s + 1, bold=True)
    b.text(b.m + b.width("诊断意见: ", s + 1, True), y, _WHO_ZH[cat], s + 1, bold=True,
           cell=Cell(None, None, "who_class", _WHO_ZH[cat]))
    y += s * 1.9
    lo = fmt(reference.constant("who_low_bone_mass_t"), 1, m)
    os_ = fmt(reference.constant("who_osteoporosis_t"), 1, m)
    b.text(b.m, y, f"(依据WHO标准: T值≥{lo}为正常; {os_}<T值<{lo}为骨量减少; T值≤{os_}为骨质疏松)", s * 0.9)
    y += s * 4
    b.text(b.m, y, "检查医师:", s)
    b.text(b.m + col, y, "审核医师:", s)
    b.text(b.m + 2 * col, y, f"报告日期: {date}", s)
    _footer(b, "注: 本报告仅供临床参考", f"{truth.institution} 放射科")
    return b.page
