"""Make clean report pages look scanned or photographed, deterministically.

Sites send reports as flatbed scans (slightly skewed, soft, noisy, JPEG
compressed, often at 100-150 dpi) and as phone photos (the page in
perspective on a darker desk, uneven light, a shadow, blur, JPEG). These
functions reproduce those faults with OpenCV and NumPy. All randomness comes
from the ``numpy.random.Generator`` passed in, so the same seed gives the same
pixels. The ``*_mapped`` variants also return the 3x3 matrix that maps a
pixel of the clean page to the degraded image, so value boxes recorded at
rendering (:class:`bmdkit.samples.report_gen.CellBox`) can be followed with
:func:`map_box`.

The ranges below are generator settings describing typical captures, not
reference numbers.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from bmdkit.options import DEFAULT_OPTIONS

SCAN_DPI = (100.0, 150.0)
SKEW_DEG = 3.0
PHOTO_LONG_SIDE = (1500, 2400)
PHOTO_TURN_DEG = 6.0


def _to_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def _jpeg(arr: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 RGB
        raise RuntimeError("JPEG encoding failed")
    out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if out is None:  # pragma: no cover
        raise RuntimeError("JPEG decoding failed")
    return np.asarray(out)


def _noise(arr: np.ndarray, rng: np.random.Generator, sd: float) -> np.ndarray:
    out = arr.astype(np.float32) + rng.standard_normal(arr.shape, dtype=np.float32) * np.float32(sd)
    return np.clip(out, 0, 255).astype(np.uint8)


def _cap(arr: np.ndarray, m: np.ndarray, max_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = arr.shape[:2]
    if w * h <= max_pixels:
        return arr, m
    k = (max_pixels / (w * h)) ** 0.5
    size = (max(1, int(w * k)), max(1, int(h * k)))
    arr = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    return arr, np.diag([size[0] / w, size[1] / h, 1.0]) @ m


def map_box(box: tuple[int, int, int, int], m: np.ndarray) -> tuple[int, int, int, int]:
    """The axis-aligned box around ``box``'s corners after the transform ``m``."""
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], dtype=np.float64).T
    q = m @ pts
    q = q[:2] / q[2]
    return (int(np.floor(q[0].min())), int(np.floor(q[1].min())), int(np.ceil(q[0].max())),
            int(np.ceil(q[1].max())))


def scan_mapped(img: Image.Image, rng: np.random.Generator, source_dpi: float | None = None,
                max_pixels: int = DEFAULT_OPTIONS.max_pixels) -> tuple[Image.Image, np.ndarray]:
    """A flatbed scan of ``img``: resampled to 100-150 dpi, skewed, blurred, noisy, JPEG'd."""
    dpi = source_dpi or float((img.info.get("dpi") or (200.0,))[0])
    arr = _to_array(img)
    h, w = arr.shape[:2]
    k = min(1.0, rng.uniform(*SCAN_DPI) / dpi)
    size = (max(1, round(w * k)), max(1, round(h * k)))
    arr = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    m = np.diag([size[0] / w, size[1] / h, 1.0])
    angle = rng.uniform(-SKEW_DEG, SKEW_DEG)
    paper = int(rng.integers(236, 256))
    rot = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), angle, 1.0)
    arr = cv2.warpAffine(arr, rot, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(paper, paper, paper))
    m = np.vstack([rot, [0, 0, 1]]) @ m
    tint = rng.uniform(0.93, 1.0, 3) if rng.random() < 0.5 else np.full(3, rng.uniform(0.93, 1.0))
    arr = np.clip(arr.astype(np.float32) * tint.astype(np.float32) + (255 - paper) * 0.3, 0, 255).astype(np.uint8)
    arr = cv2.GaussianBlur(arr, (0, 0), rng.uniform(0.3, 0.9))
    arr = _noise(arr, rng, rng.uniform(2.0, 7.0))
    if rng.random() < 0.4:
        arr = cv2.cvtColor(cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    arr = _jpeg(arr, int(rng.integers(35, 86)))
    arr, m = _cap(arr, m, max_pixels)
    out = Image.fromarray(arr, "RGB")
    out.info["dpi"] = (dpi * k, dpi * k)
    return out, m


def scan(img: Image.Image, rng: np.random.Generator, source_dpi: float | None = None) -> Image.Image:
    """See :func:`scan_mapped`; returns the image only."""
    return scan_mapped(img, rng, source_dpi)[0]


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A darker desk: a dull colour with low-frequency mottling and grain (made at half size)."""
    hw, hh = max(2, w // 2), max(2, h // 2)
    base = rng.uniform(60, 140) * np.array(rng.choice([[1.0, 0.85, 0.7], [0.9, 0.9, 0.95], [0.8, 0.75, 0.7]]))
    small = rng.normal(0, 10, (max(2, h // 96), max(2, w // 96), 1)).astype(np.float32)
    mottle = cv2.resize(small, (hw, hh), interpolation=cv2.INTER_CUBIC)[..., None]
    bg = base[None, None, :].astype(np.float32) + mottle + rng.standard_normal((hh, hw, 1), dtype=np.float32) * 4
    bg = np.clip(bg, 0, 255).astype(np.uint8)
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def photo_mapped(img: Image.Image, rng: np.random.Generator,
                 max_pixels: int = DEFAULT_OPTIONS.max_pixels) -> tuple[Image.Image, np.ndarray]:
    """A phone photo of ``img``: perspective on a desk, uneven light, a shadow, blur, JPEG."""
    page = _to_array(img)
    ph, pw = page.shape[:2]
    long_side = int(rng.integers(*PHOTO_LONG_SIDE))
    aspect = pw / ph
    H, W = (long_side, int(long_side * 0.75)) if aspect < 1 else (int(long_side * 0.75), long_side)
    # where the page corners land: a shrunken, jittered quadrilateral
    fill = rng.uniform(0.72, 0.9)
    scale = min(W * fill / pw, H * fill / ph)
    cw, ch = pw * scale, ph * scale
    ox, oy = (W - cw) / 2 + rng.uniform(-0.04, 0.04) * W, (H - ch) / 2 + rng.uniform(-0.04, 0.04) * H
    jit = rng.uniform(-0.05, 0.05, (4, 2)) * np.array([cw, ch])
    dst = np.array([[ox, oy], [ox + cw, oy], [ox + cw, oy + ch], [ox, oy + ch]]) + jit
    turn = np.deg2rad(rng.uniform(-PHOTO_TURN_DEG, PHOTO_TURN_DEG))  # the phone held at a slant
    centre = dst.mean(axis=0)
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    dst = (dst - centre) @ rot.T + centre
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(page, m, (W, H), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (W, H), flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    arr = warped.astype(np.float32) * alpha + _background(rng, W, H).astype(np.float32) * (1 - alpha)
    # uneven light (a linear gradient in a random direction, vignetting) and a soft shadow of a
    # phone or hand, computed at 1/8 scale: both are smooth
    sw, sh = max(8, W // 8), max(8, H // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(theta) * (xx / sw - 0.5) + np.sin(theta) * (yy / sh - 0.5)
    light = rng.uniform(0.82, 0.95) + rng.uniform(0.15, 0.35) * ramp
    light = light * (1 - rng.uniform(0.1, 0.3) * ((xx / sw - 0.5) ** 2 + (yy / sh - 0.5) ** 2))
    shadow: np.ndarray = np.zeros((sh, sw), np.float32)
    centre = (int(rng.uniform(0, sw)), int(rng.uniform(0, sh)))
    axes = (int(rng.uniform(0.2, 0.5) * sw), int(rng.uniform(0.15, 0.4) * sh))
    cv2.ellipse(shadow, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(25, 60) / 8)
    light = light * (1 - rng.uniform(0.15, 0.35) * shadow)
    light = cv2.resize(light.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
    arr = arr * light[..., None]
    warm = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.86, 0.97)], np.float32)
    arr = np.clip(arr * warm, 0, 255).astype(np.uint8)
    arr = cv2.GaussianBlur(arr, (0, 0), rng.uniform(0.4, 1.1))
    arr = _noise(arr, rng, rng.uniform(3.0, 8.0))
    arr = _jpeg(arr, int(rng.integers(55, 91)))
    arr, m = _cap(arr, m, max_pixels)
    return Image.fromarray(arr, "RGB"), m


def photo(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """See :func:`photo_mapped`; returns the image only."""
    return photo_mapped(img, rng)[0]
