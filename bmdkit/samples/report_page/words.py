"""What a page prints as text: number and date formatting, WHO wording, Chinese terms.

The WHO thresholds come from ``reference_data`` (cited there), never from
literals here; Chinese terms follow ``shared/domain/reports.md`` where it names them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bmdkit import reference


def fmt(value: float | None, decimals: int, minus: str = "-", blank: str = "") -> str:
    """A value as the vendor prints it; never a negative zero."""
    if value is None:
        return blank
    s = f"{value:.{decimals}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s.replace("-", minus)


def fmt_date(iso: str, pattern: str) -> str:
    d = dt.date.fromisoformat(iso)
    if "%-" in pattern:  # portable no-padding for the Chinese form
        return pattern.replace("%Y", str(d.year)).replace("%-m", str(d.month)).replace("%-d", str(d.day))
    return d.strftime(pattern)


def who_category(t_scores: Sequence[float | None]) -> str:
    """'osteoporosis' | 'low_bone_mass' | 'normal' from the lowest T-score (WHO, thresholds cited)."""
    ts = [t for t in t_scores if t is not None]
    if not ts:
        return "unknown"
    low = min(ts)
    if low <= reference.constant("who_osteoporosis_t"):
        return "osteoporosis"
    if low < reference.constant("who_low_bone_mass_t"):
        return "low_bone_mass"
    return "normal"


def _is_cjk(text: str) -> bool:
    return any(ord(c) >= 0x2E80 for c in text)


_WHO_EN = {"normal": "Normal", "low_bone_mass": "Osteopenia", "osteoporosis": "Osteoporosis", "unknown": ""}
_WHO_ZH = {"normal": "正常", "low_bone_mass": "骨量减少", "osteoporosis": "骨质疏松", "unknown": ""}
# wording of vendor software set to Chinese (terms from shared/domain/reports.md where it names them)
_ZH_WORDS = {
    "Name:": "姓名:", "Patient ID:": "患者ID:", "DOB:": "出生日期:", "Sex:": "性别:", "Height:": "身高:",
    "Weight:": "体重:", "Age:": "年龄:", "Scan Date:": "检查日期:", "Scanner:": "设备:", "Software:": "软件:",
    "Referring Physician:": "申请医生:", "Female": "女", "Male": "男", "DXA Results Summary:": "DXA结果摘要:",
    "WHO Classification:": "WHO分类:", "Fracture Risk:": "骨折风险:", "Normal": "正常",
    "Osteopenia": "骨量减少", "Osteoporosis": "骨质疏松", "Not Increased": "未增加", "Increased": "增加",
    "High": "高", "Physician's Comment:": "医生意见:", "Page 1 of 1": "第1页 共1页", "Region": "部位",
    "Area\n(cm²)": "面积\n(cm²)", "BMC\n(g)": "骨矿含量\n(g)", "BMD\n(g/cm²)": "骨密度\n(g/cm²)",
    "T -\nscore": "\nT值", "Z -\nscore": "\nZ值", "\nT-score": "\nT值", "\nZ-score": "\nZ值",
    "T-Score": "T值", "Z-Score": "Z值", "Young-Adult\n(%)": "青年人\n(%)", "Age-Matched\n(%)": "同龄人\n(%)",
    "Neck": "股骨颈", "Troch": "大转子", "Inter": "转子间", "Total": "总计", "Ward's": "Ward三角", "Wards": "Ward三角",
    "Left": "左", "Right": "右", "Mean": "平均", "|Diff.|": "|差值|", "Diff.": "差值",
    "Femoral Neck": "股骨颈", "Trochanter": "大转子", "Intertroch.": "转子间", "Total Hip": "全髋",
    "AP Spine": "腰椎正位", "Left Hip": "左髋", "Right Hip": "右髋", "Dual Hip": "双髋",
    "AP Spine  Bone Density": "腰椎正位 骨密度", "Left Hip  Bone Density": "左髋 骨密度",
    "Right Hip  Bone Density": "右髋 骨密度", "Dual Hip  Bone Density": "双髋 骨密度",
    "AP Spine Bone Density": "腰椎正位 骨密度", "Left Femur Bone Density": "左股骨 骨密度",
    "Right Femur Bone Density": "右股骨 骨密度", "DualFemur Bone Density": "双股骨 骨密度",
}
