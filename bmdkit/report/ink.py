"""Is a table cell blank on the page, a printed placeholder, or ink that was not read?

A row with no token under one of its table's columns is one of three things:

- ``blank``: nothing is printed there (a T-score column left empty for a
  patient under 50): information, not a review item;
- ``dash``: only a short flat mark, the "-" a report prints for "no value",
  which the page reading lost: also information;
- ``ink``: something digit-sized is printed there that no engine read: the
  value exists and is missing, a review item.

The cell is the row's band (the height of the row's own words) under the
column's extent (its header, widened by the other rows' cells in that
column), with the row's read words masked out. Ink is what is darker than the band's own
paper by nearly half the contrast of the row's words that were read (so a dim
photo is judged by its own print, not by a fixed grey level); specks much
smaller than a character are noise.
Whenever the evidence is unclear the answer is ``ink``: a blank claimed
wrongly would hide a value, an ink claimed wrongly only asks a person to look.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Box = tuple[int, int, int, int]

BLANK, DASH, INK = "blank", "dash", "ink"

#: a pixel darker than the paper by this share of the row's own print contrast is ink
_INK_SHARE = 0.45
#: below this print contrast (grey levels, paper to the row's read words) nothing is judged
_MIN_CONTRAST = 40
#: components smaller than this share of the text height (either way) are specks
_SPECK = 0.15
#: a dash is at most this share of the text height tall, and at least as wide as tall
_DASH_HEIGHT = 0.3


def classify(image: np.ndarray, row_band: tuple[int, int], column: tuple[int, int],
             masked: Sequence[Box], text_height: float) -> str:
    """``blank``, ``dash`` or ``ink`` for the cell of one row under one column (see the module docstring).

    ``image``: the page as read (grey uint8, ruling removed); ``row_band``
    (y0, y1) the row's words; ``column`` (x0, x1); ``masked``: boxes of words
    already read on the row (other cells, the label), left out of the test.
    """
    h = max(float(text_height), 4.0)
    H, W = image.shape[:2]
    y0, y1 = int(max(0, row_band[0] - 0.15 * h)), int(min(H, row_band[1] + 0.15 * h))
    x0, x1 = int(max(0, column[0] - 0.3 * h)), int(min(W, column[1] + 0.3 * h))
    if y1 - y0 < 3 or x1 - x0 < 3:
        return INK
    band = image[y0:y1, x0:x1]
    if band.ndim == 3:
        band = cv2.cvtColor(band, cv2.COLOR_RGB2GRAY)
    band = band.astype(np.int16)
    mask = np.ones(band.shape, bool)
    for bx0, by0, bx1, by1 in masked:
        pad = int(0.2 * h)
        a, b = max(0, bx0 - pad - x0), min(x1 - x0, bx1 + pad - x0)
        c, d = max(0, by0 - pad - y0), min(y1 - y0, by1 + pad - y0)
        if a < b and c < d:
            mask[c:d, a:b] = False
    if mask.sum() < 0.25 * mask.size or not masked:
        return INK  # the column's place is taken by words already read, or no print to compare with
    paper = float(np.percentile(band[mask], 90))
    printed = [image[max(0, b[1]):b[3], max(0, b[0]):b[2]] for b in masked]
    printed = [p.reshape(-1) if p.ndim == 2 else cv2.cvtColor(p, cv2.COLOR_RGB2GRAY).reshape(-1)
               for p in printed if p.size]
    if not printed:
        return INK
    contrast = paper - float(np.percentile(np.concatenate(printed), 5))
    if contrast < _MIN_CONTRAST:
        return INK
    dark = ((paper - band) > _INK_SHARE * contrast) & mask
    if not dark.any():
        return BLANK
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    marks = []
    for k in range(1, n):
        _, _, w, hh, area = stats[k]
        if max(w, hh) < _SPECK * h or area < (_SPECK * h) ** 2:
            continue
        marks.append((w, hh))
    if not marks:
        return BLANK
    if len(marks) == 1:
        w, hh = marks[0]
        if hh <= _DASH_HEIGHT * h and w >= hh and w <= 1.5 * h:
            return DASH
    return INK
