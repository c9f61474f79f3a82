"""Page parts shared by the English layouts: patient header, WHO lines, footer."""

from __future__ import annotations

from bmdkit import reference
from bmdkit.samples.report_page.builder import _Builder
from bmdkit.samples.report_page.ops import Cell, _op_bottom
from bmdkit.samples.report_page.truth_values import _main_ts, _name_en
from bmdkit.samples.report_page.words import _WHO_EN, fmt, fmt_date, who_category
from bmdkit.samples.truth import TruthExam


def _header_en(b: _Builder, truth: TruthExam, y: float, vendor_line: str) -> float:
    p = truth.patient
    st = b.st
    b.text(b.page.width / 2, y, truth.institution, st.size + 4, bold=True, align="center")
    y += st.size * 2.6
    date = fmt_date(truth.exam_date, st.date_format)
    col = (b.right - b.m) / 3
    left = [("Name:", _name_en(truth), None),
            ("Patient ID:", p.patient_id, Cell(None, None, "patient_id", "")),
            ("DOB:", fmt_date(p.birth_date, st.date_format), Cell(None, None, "birth_date", ""))]
    mid = [("Sex:", "Female" if p.sex == "F" else "Male", Cell(None, None, "sex", "")),
           ("Height:", f"{p.height_cm:.1f} cm", None), ("Weight:", f"{p.weight_kg:.1f} kg", None),
           ("Age:", str(p.age), None)]
    right = [("Scan Date:", date, Cell(None, None, "exam_date", "")),
             ("Scanner:", f"{truth.scanner_model} (S/N {truth.scanner_serial})",
              Cell(None, None, "scanner_model", "")),
             (vendor_line, truth.scanner_software, Cell(None, None, "scanner_software", "")),
             ("Referring Physician:", "", None)]
    widest = max(b.width(k, st.size, True) + b.width(" " + v, st.size) for k, v, _ in right)
    xs = (b.m, b.m + col, min(b.m + 2 * col, b.right - widest))
    ys = [b.fields(xs[i], y, rows, st.size) for i, rows in enumerate((left, mid, right))]
    y = max(ys)
    b.line(b.m, y - st.size * 0.6, b.right, y - st.size * 0.6, 0.8)
    return y + st.size


def _who_lines_en(b: _Builder, truth: TruthExam, y: float, fracture: bool) -> float:
    cat = who_category(_main_ts(truth))
    b.text(b.m, y, "WHO Classification:", bold=True)
    b.text(b.m + b.width("WHO Classification:", bold=True) + b.width(" "), y, _WHO_EN[cat],
           cell=Cell(None, None, "who_class", _WHO_EN[cat]))
    y += b.st.size * 1.6
    if fracture:
        risk = {"normal": "Not Increased", "low_bone_mass": "Increased", "osteoporosis": "High"}.get(cat, "")
        b.text(b.m, y, "Fracture Risk:", bold=True)
        b.text(b.m + b.width("Fracture Risk:", bold=True) + b.width(" "), y, risk)
        y += b.st.size * 1.6
    m = b.st.minus
    lo = fmt(reference.constant("who_low_bone_mass_t"), 1, m)
    os_ = fmt(reference.constant("who_osteoporosis_t"), 1, m)
    small = b.st.size * 0.85
    for line in ("World Health Organization (WHO) criteria for post-menopausal, Caucasian Women:",
                 f"Normal: T-score at or above {lo} SD",
                 f"Osteopenia: T-score between {lo} and {os_} SD",
                 f"Osteoporosis: T-score at or below {os_} SD"):
        b.text(b.m, y, line, small)
        y += small * 1.4
    return y


def _footer(b: _Builder, left: str, right: str) -> None:
    b.page.content_bottom = max(_op_bottom(op) for op in b.page.ops)
    y = b.page.height - 30
    b.line(b.m, y - 12, b.right, y - 12, 0.5)
    b.text(b.m, y, left, b.st.size * 0.8)
    b.text(b.right, y, right, b.st.size * 0.8, align="right")
