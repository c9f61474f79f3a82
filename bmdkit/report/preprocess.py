"""Page preparation before OCR (OpenCV).

Steps, each cheap and each skipped when not needed:

1. grey;
2. page detection and perspective correction for photos: the largest bright
   quadrilateral covering much of the frame is warped to a rectangle;
3. illumination correction: divide by a blurred background estimate, which
   flattens shadows and uneven phone lighting;
4. deskew: the angle that maximises the variance of row sums of the ink
   (projection profile) on a small copy, counting only text-sized ink so that
   a dark desk, a shadow or a picture around the text does not set the angle;
5. upscale small pages so table text is tall enough for the recognizers
   (real vendor exports are often ~90 ppi screenshots);
6. ruling lines removed (long horizontal/vertical strokes), which otherwise
   merge with digits ("|" read as "1", "-" lost into a rule).

Orientation (90/180/270) is decided later by OCR confidence, since the
recognizers are the best judges of upright text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

#: pages narrower than this (pixels) are upscaled; A4 at ~190 ppi
MIN_WIDTH = 1600
#: never upscale beyond this width (keeps OCR time bounded)
MAX_WIDTH = 2600


@dataclass
class Prepared:
    """A page ready for OCR and what was done to it."""

    image: np.ndarray  # grey uint8, lines removed
    with_lines: np.ndarray  # grey uint8 before line removal (for crops)
    #: 3x3 homography from this image's pixels back to the page image as given
    #: (undoing scaling, deskew and perspective correction), for boxes a reviewer is shown
    to_page: np.ndarray = field(default_factory=lambda: np.eye(3))
    scale: float = 1.0
    skew_deg: float = 0.0
    warped: bool = False
    sharpness: float = 0.0
    notes: list[str] = field(default_factory=list)


def to_grey(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def find_page_quad(grey: np.ndarray) -> np.ndarray | None:
    """Corners of a paper sheet in a photo, or None if the frame is the page."""
    h, w = grey.shape
    small_scale = 800 / max(h, w)
    small = cv2.resize(grey, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    _, th = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    th = cv2.morphologyEx(th, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(th, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    frac = area / (small.shape[0] * small.shape[1])
    if frac < 0.3 or frac > 0.97:
        return None
    approx = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True)
    if len(approx) != 4:
        return None
    return (approx.reshape(4, 2).astype(np.float32) / small_scale)


def _order(q: np.ndarray) -> np.ndarray:
    s = q.sum(1)
    d = np.diff(q, axis=1).ravel()
    return np.array([q[np.argmin(s)], q[np.argmin(d)], q[np.argmax(s)], q[np.argmax(d)]], dtype=np.float32)


def _h(m: np.ndarray) -> np.ndarray:
    """A 2x3 affine matrix as a 3x3 homography."""
    return np.vstack([m, [0.0, 0.0, 1.0]]) if m.shape == (2, 3) else m


def map_box(m: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The bounding box of ``box``'s corners carried through homography ``m``."""
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], dtype=np.float64) @ m.T
    xy = pts[:, :2] / pts[:, 2:3]
    return (int(np.floor(xy[:, 0].min())), int(np.floor(xy[:, 1].min())),
            int(np.ceil(xy[:, 0].max())), int(np.ceil(xy[:, 1].max())))


def rotation_matrix(shape: tuple[int, ...], angle: float) -> np.ndarray:
    """3x3 matrix of :func:`rotate` (about the centre, degrees counter-clockwise)."""
    h, w = shape[:2]
    return _h(cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0))


def rot90_matrix(shape: tuple[int, ...], k: int) -> np.ndarray:
    """3x3 matrix of ``np.rot90(image, k)`` (k quarter turns counter-clockwise) on an image of ``shape``."""
    h, w = shape[:2]
    m = np.eye(3)
    for _ in range(k % 4):
        # one quarter turn: (x, y) -> (y, w - 1 - x); the new image is h wide and w high
        m = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w - 1.0], [0.0, 0.0, 1.0]]) @ m
        h, w = w, h
    return m


def warp_matrix(quad: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Homography taking a photographed sheet's corners to an upright rectangle, and its size."""
    tl, tr, br, bl = _order(quad)
    w = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    h = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    src = np.array([tl, tr, br, bl], dtype=np.float32)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    return cv2.getPerspectiveTransform(src, dst), (w, h)


def flatten_illumination(grey: np.ndarray) -> np.ndarray:
    """Divide by the background (a large median/close) to even out lighting."""
    k = max(15, (min(grey.shape) // 30) | 1)
    bg = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.GaussianBlur(bg, (k, k), 0)
    out = cv2.divide(grey.astype(np.float32), np.maximum(bg.astype(np.float32), 1.0), scale=255.0)
    return np.clip(out, 0, 255).astype(np.uint8)


#: ink components taller than this share of the small copy's long side are not text (a desk, a
#: shadow, a picture, a table grid): their edges would set the angle instead of the text lines
SKEW_TEXT_MAX_HEIGHT = 0.03
#: nor are components wider than this share of the long side (a page edge, a rule, a chart frame)
SKEW_TEXT_MAX_WIDTH = 0.15
#: components at most this many pixels high on the small copy are specks, rule dashes and picture
#: grain rather than letters (a letter there is at least ~5 px), and follow no text line
SKEW_TEXT_MIN_HEIGHT = 3
#: text ink covering less than this share of the small copy is too little to judge by (a page of
#: bare rules and pictures): all ink is used then. A line of type covers about 0.2 %.
SKEW_TEXT_MIN_SHARE = 0.001


def _text_ink(ink: np.ndarray) -> np.ndarray:
    """The ink of ``ink`` that is text-sized, the witness of the text lines' slope.

    Otsu calls a dark desk, a shadow or a picture ink as readily as type; their
    large blobs and long edges dominate a projection profile and tilt it to the
    desk's edge. Dropping components far larger than a line of type leaves the
    letters (and keeps all ink when there are hardly any letters).
    """
    _, lab, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    side = max(ink.shape)
    high = stats[:, cv2.CC_STAT_HEIGHT]
    keep = (high <= SKEW_TEXT_MAX_HEIGHT * side) & (high > SKEW_TEXT_MIN_HEIGHT) & (
        stats[:, cv2.CC_STAT_WIDTH] <= SKEW_TEXT_MAX_WIDTH * side)
    keep[0] = False
    if stats[keep, cv2.CC_STAT_AREA].sum() < SKEW_TEXT_MIN_SHARE * ink.size:
        return ink
    return np.where(keep[lab], 255, 0).astype(np.uint8)


def estimate_skew(grey: np.ndarray, limit: float = 6.0, step: float = 0.25) -> float:
    """Skew angle in degrees by projection-profile variance of the text ink on a small copy.

    The angle turns the page as :func:`rotate` does (counter-clockwise about the
    centre). Each ink pixel's row after the turn is computed directly rather
    than turning the whole image for every angle tried, which costs a fraction.
    """
    scale = 1000 / max(grey.shape)
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = _text_ink(cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1])
    h, w = ink.shape
    ys, xs = np.nonzero(ink)
    dy, dx = ys - h / 2, xs - w / 2
    best, best_score = 0.0, -1.0
    for ang in np.arange(-limit, limit + step / 2, step):
        t = np.deg2rad(ang)
        rows = np.rint(h / 2 + np.cos(t) * dy - np.sin(t) * dx).astype(np.intp)
        cols = np.rint(w / 2 + np.cos(t) * dx + np.sin(t) * dy).astype(np.intp)
        # what turns out of the frame is lost, as when the image itself is turned
        profile = np.bincount(rows[(rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)], minlength=h)
        score = float(np.var(profile))
        if score > best_score:
            best, best_score = float(ang), score
    return best


def rotate(grey: np.ndarray, angle: float) -> np.ndarray:
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def rotate_with_boxes(grey: np.ndarray, angle: float,
                      boxes: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The page turned by ``angle`` degrees and each box moved with it (its centre
    follows the rotation; its size stays), so boxes found before still point at their text."""
    h, w = grey.shape
    m = rotation_matrix(grey.shape, angle)
    out = cv2.warpAffine(grey, m[:2], (w, h), flags=cv2.INTER_CUBIC, borderValue=255)
    moved = []
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        nx = m[0, 0] * cx + m[0, 1] * cy + m[0, 2]
        ny = m[1, 0] * cx + m[1, 1] * cy + m[1, 2]
        hw, hh = (x1 - x0) / 2, (y1 - y0) / 2
        moved.append((round(nx - hw), round(ny - hh), round(nx + hw), round(ny + hh)))
    return out, moved


#: a horizontal run at least this share of the page wide is a rule whatever lies beside it
RULE_ALWAYS_SHARE = 1 / 8
#: rows looked at just above and below a horizontal run, in pixels of the prepared page
RULE_SIDE_ROWS = 3
#: ink share in those rows above which a shorter run is the top or foot of a line of bold type
RULE_TEXT_INK = 0.35


def remove_lines(grey: np.ndarray) -> np.ndarray:
    """White out long horizontal and vertical rules (table grid), not the words beside them.

    A rule is found as a long run of ink (a morphological opening). At screen
    resolution the tops and feet of small bold letters touch and make such runs
    too ('Measured:', 'Region', 'Total Right' lost their upper halves and read
    as 'Total Rught'); a run with type under or over it along its length is
    such a word and is kept. A rule is paper on both sides but where a word
    touches it, and a run across a fair share of the page is a rule anyway.
    """
    ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    h, w = grey.shape
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(40, w // 25), 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(40, h // 40))))
    mask = cv2.dilate(cv2.bitwise_or(_rules_only(horiz, ink), vert), np.ones((3, 3), np.uint8))
    out = grey.copy()
    out[mask > 0] = 255
    return out


def _rules_only(horiz: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The horizontal runs of ``horiz`` that are rules, not the edges of bold words (see remove_lines)."""
    h, w = ink.shape
    n, lab, stats, _ = cv2.connectedComponentsWithStats(horiz, connectivity=8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        x, y, cw, ch = (int(v) for v in stats[i, :4])
        if cw >= w * RULE_ALWAYS_SHARE:
            keep[i] = True
            continue
        above = ink[max(0, y - RULE_SIDE_ROWS):y, x:x + cw]
        below = ink[y + ch:min(h, y + ch + RULE_SIDE_ROWS), x:x + cw]
        beside = max(float(above.mean()) / 255 if above.size else 0.0, float(below.mean()) / 255 if below.size else 0.0)
        keep[i] = beside < RULE_TEXT_INK
    return np.where(keep[lab], 255, 0).astype(np.uint8)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian (low = blurred)."""
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def prepare(img: np.ndarray, *, max_pixels: int, is_render: bool = False) -> Prepared:
    """Run the steps above on one page image."""
    grey = to_grey(img)
    notes: list[str] = []
    warped = False
    fwd = np.eye(3)  # page image -> prepared image
    if not is_render:
        quad = find_page_quad(grey)
        if quad is not None:
            m, size = warp_matrix(quad)
            grey = cv2.warpPerspective(grey, m, size, flags=cv2.INTER_CUBIC, borderValue=255)
            fwd = m @ fwd
            warped = True
            notes.append("perspective corrected")
        grey = flatten_illumination(grey)
    skew = estimate_skew(grey)
    if abs(skew) >= 0.3:
        fwd = rotation_matrix(grey.shape, skew) @ fwd
        grey = rotate(grey, skew)
        notes.append(f"deskewed {skew:.2f} deg")
    scale = 1.0
    w = grey.shape[1]
    if w < MIN_WIDTH:
        scale = min(MIN_WIDTH / w, 3.0)
    elif w > MAX_WIDTH:
        scale = MAX_WIDTH / w
    if grey.shape[0] * grey.shape[1] * scale * scale > max_pixels:
        scale = (max_pixels / (grey.shape[0] * grey.shape[1])) ** 0.5
    if abs(scale - 1.0) > 0.05:
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        h0, w0 = grey.shape
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=interp)
        fwd = np.diag([grey.shape[1] / w0, grey.shape[0] / h0, 1.0]) @ fwd
        notes.append(f"scaled x{scale:.2f}")
    sharp = sharpness(grey)
    return Prepared(remove_lines(grey), grey, np.linalg.inv(fwd), scale, skew, warped, sharp, notes)
