"""Pictures on a page: a synthetic DXA scan image and the BMD-against-age reference graph."""

from __future__ import annotations

import numpy as np

from bmdkit import reference
from bmdkit.samples.report_page.builder import _Builder
from bmdkit.samples.report_page.ops import Dot, Picture, Poly, Rect
from bmdkit.samples.report_page.truth_values import _main_region, _ref
from bmdkit.samples.report_page.words import fmt
from bmdkit.samples.truth import TruthExam


def scan_picture(kind: str, seed: int, w: int = 260, h: int = 320) -> np.ndarray:
    """A grey synthetic DXA scan image (spine or proximal femur) with ROI lines, uint8."""
    import cv2

    g = np.random.default_rng(seed)
    img: np.ndarray = np.full((h, w), 18.0, np.float32)
    cx = w / 2 + g.uniform(-10, 10)
    img[:, int(cx - w * 0.32):int(cx + w * 0.32)] += 25  # soft tissue
    if kind == "spine":
        top = h * 0.06
        vh = h * 0.19
        for i in range(5):
            y0 = top + i * vh
            bw = w * (0.30 + 0.015 * i) * g.uniform(0.95, 1.05)
            cv2.rectangle(img, (int(cx - bw / 2), int(y0 + 5)), (int(cx + bw / 2), int(y0 + vh - 6)),
                          float(g.uniform(150, 185)), -1)
            for s in (-1, 1):
                cv2.ellipse(img, (int(cx + s * bw * 0.28), int(y0 + vh * 0.35)), (int(bw * 0.1), int(vh * 0.14)),
                            0, 0, 360, float(g.uniform(190, 215)), -1)
        img = cv2.GaussianBlur(img, (0, 0), 2.2)
        img += g.normal(0, 9, img.shape).astype(np.float32)
        img = np.clip(img, 0, 255).astype(np.uint8)
        for i in range(5):
            y = int(top + i * vh + 2)
            cv2.line(img, (int(cx - w * 0.3), y), (int(cx + w * 0.3), y), 255, 1)
            if i < 4:
                cv2.putText(img, f"L{i + 1}", (int(cx + w * 0.31), int(y + vh / 2)), cv2.FONT_HERSHEY_SIMPLEX,
                            0.45, 255, 1, cv2.LINE_AA)
    else:
        flip = -1 if kind == "hip_left" else 1
        shaft_x = cx + flip * w * 0.12
        cv2.rectangle(img, (int(shaft_x - w * 0.11), int(h * 0.5)), (int(shaft_x + w * 0.11), h), 165.0, -1)
        neck_end = (int(cx - flip * w * 0.22), int(h * 0.28))
        cv2.line(img, (int(shaft_x), int(h * 0.45)), neck_end, 160.0, int(w * 0.16))
        cv2.circle(img, neck_end, int(w * 0.14), 195.0, -1)
        cv2.ellipse(img, (int(shaft_x + flip * w * 0.1), int(h * 0.42)), (int(w * 0.12), int(h * 0.12)),
                    0, 0, 360, 150.0, -1)
        img = cv2.GaussianBlur(img, (0, 0), 2.5)
        img += g.normal(0, 9, img.shape).astype(np.float32)
        box = cv2.boxPoints(((cx - flip * w * 0.06, h * 0.36), (w * 0.12, w * 0.2), float(flip * 50)))
        cv2.polylines(img, [box.astype(np.int32)], True, 255.0, 1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _graph(b: _Builder, x: float, y: float, w: float, h: float, truth: TruthExam, region: str,
           bmd: float | None, zh: bool) -> None:
    """Reference curve (BMD against age) with WHO bands and the patient's point."""
    from bmdkit.samples.truth import _z_shift

    ref = _ref(truth.reference, region)
    if ref is None or bmd is None:
        return
    mean, sd = ref
    lo = np.floor((mean - 4 * sd) * 10) / 10
    hi = np.ceil((mean + 2 * sd) * 10) / 10
    a0, a1 = 20, 100
    size = b.st.size * 0.85

    def px(age: float, v: float) -> tuple[float, float]:
        return x + (age - a0) / (a1 - a0) * w, y + h - (v - lo) / (hi - lo) * h

    t_osteo = reference.constant("who_osteoporosis_t")
    t_low = reference.constant("who_low_bone_mass_t")
    y_osteo = px(a0, mean + t_osteo * sd)[1]
    y_low = px(a0, mean + t_low * sd)[1]
    colors = ((244, 190, 180), (250, 236, 170), (205, 232, 200)) if b.st.color else (200, 228, None)
    b.page.ops.append(Rect(x, y_osteo, x + w, y + h, colors[0], None))
    b.page.ops.append(Rect(x, y_low, x + w, y_osteo, colors[1], None))
    if colors[2] is not None:
        b.page.ops.append(Rect(x, y, x + w, y_low, colors[2], None))
    b.page.ops.append(Rect(x, y, x + w, y + h, None, 0, 0.7))
    curve = tuple(px(a, mean * (1 - _z_shift(a))) for a in range(a0, a1 + 1, 2))
    b.page.ops.append(Poly(curve, 1.2, 40))
    for a in range(a0, a1 + 1, 10):
        xx, yy = px(a, lo)
        b.line(xx, yy, xx, yy + 3, 0.5)
        b.text(xx, yy + size + 3, str(a), size, align="center")
    step = 0.1 if hi - lo <= 0.9 else 0.2
    v = lo
    while v <= hi + 1e-9:
        xx, yy = px(a0, v)
        b.line(xx - 3, yy, xx, yy, 0.5)
        b.text(xx - 4, yy + size * 0.35, f"{v:.1f}", size, align="right")
        v += step
    for t in range(-4, 3):
        xx, yy = px(a1, mean + t * sd)
        if y <= yy <= y + h:
            b.line(xx, yy, xx + 3, yy, 0.5)
            b.text(xx + 5, yy + size * 0.35, fmt(float(t), 0, b.st.minus), size)
    b.text(x + w / 2, y + h + 2 * size + 6, "年龄" if zh else "Age", size, align="center")
    b.text(x - 4, y - size - 4, "骨密度" if zh else "BMD", size, align="right")
    b.text(x + w + 4, y - size - 4, "T值" if zh else "T-score", size)
    cx, cy = px(min(truth.patient.age, a1), bmd)
    b.page.ops.append(Dot(cx, cy, 2.6, 0))
    b.line(cx - 5, cy, cx + 5, cy, 0.6)
    b.line(cx, cy - 5, cx, cy + 5, 0.6)


def _figures(b: _Builder, truth: TruthExam, y: float, zh: bool) -> float:
    """Scan picture on the left, reference graph on the right; returns the y below them."""
    kind = "spine" if truth.scan_type == "spine" else ("hip_left" if truth.scan_type != "hip_right" else "hip_right")
    pic_w, pic_h = 150.0, 185.0
    b.page.ops.append(Picture(b.m, y, b.m + pic_w, y + pic_h, scan_picture(kind, b.st.seed % 2**32)))
    region, bmd = _main_region(truth)
    gx = b.m + pic_w + 60
    _graph(b, gx, y + 12, b.right - gx - 40, pic_h - 40, truth, region, bmd, zh)
    return y + pic_h + 14
