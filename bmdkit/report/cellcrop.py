"""Crops of table cells for a second reading: padded where a faint minus sits, enlarged.

The voting stage (:mod:`bmdkit.report.vote`) and the re-reading service
(:mod:`bmdkit.report.rereading`) both cut cells out of the page the same way.
"""

from __future__ import annotations

import cv2
import numpy as np


def crop(image: np.ndarray, box: tuple[int, int, int, int], own_line: bool = False) -> np.ndarray:
    """The cell with padding; more on the left for a faint leading minus.

    ``own_line``: the padding above and below is blank paper, not the page: on small screen
    type rows sit about one text height apart, and a re-read label crop that takes in slivers
    of the rows above and below reads them as words ('Total Total Lest Right Mace').
    """
    x0, y0, x1, y1 = box
    h = max(y1 - y0, 8)
    H, W = image.shape[:2]
    a, b = max(0, int(x0 - 0.6 * h)), min(W, int(x1 + 0.3 * h))
    c, d = max(0, int(y0 - 0.3 * h)), min(H, int(y1 + 0.3 * h))
    if not own_line:
        return image[c:d, a:b]
    out = image[c:d, a:b].copy()
    paper = np.percentile(out, 95, axis=(0, 1)) if out.size else 255
    out[: max(0, y0 - c)] = paper
    out[max(0, y1 - c):] = paper
    return out


def enhance(c: np.ndarray) -> np.ndarray:
    """2x upscale and Otsu binarization for a second look."""
    big = cv2.resize(c, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return cv2.threshold(big, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
