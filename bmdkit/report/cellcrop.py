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
    c, d = _top(box), min(H, int(y1 + 0.3 * h))
    if not own_line:
        return image[c:d, a:b]
    out = image[c:d, a:b].copy()
    paper = np.percentile(out, 95, axis=(0, 1)) if out.size else 255
    out[: max(0, y0 - c)] = paper
    out[max(0, y1 - c):] = paper
    return out


def value_crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A value cell's crop (:func:`crop`) with only its own line of print: the inked rows above
    and below that line are painted paper (:func:`own_line_only`)."""
    return own_line_only(crop(image, box), (box[1] + box[3]) // 2 - _top(box))


def _top(box: tuple[int, int, int, int]) -> int:
    """The page row a cell's crop (:func:`crop`) starts at: a third of the text height above the box."""
    y0, y1 = box[1], box[3]
    return max(0, int(y0 - 0.3 * max(y1 - y0, 8)))


def _runs(inked: np.ndarray) -> list[tuple[int, int]]:
    """The runs of True in a 1-D mask, as (start, end) pairs."""
    out = []
    y = 0
    while y < len(inked):
        if not inked[y]:
            y += 1
            continue
        start = y
        while y < len(inked) and inked[y]:
            y += 1
        out.append((start, y))
    return out


def own_line_only(cell: np.ndarray, middle: int | None = None) -> np.ndarray:
    """The crop with every row outside its own line of print painted paper: the run of inked
    rows that holds row ``middle`` (the middle of the cell's box), else the one holding the most
    ink, with one row either side.

    On small screen type rows sit about one text height apart, so a padded crop takes in the
    tops and bottoms of the rows above and below; tesseract reading a strip of such crops
    reads those slivers into the cell's line or reads nothing at all (on GE's ~90 ppi tables it
    read two cells in fifty). The cell's own line keeps every mark of the value: a minus and a
    decimal point lie within the digits' height. A crop with no clear print is returned as is.
    """
    grey = cell if cell.ndim == 2 else cv2.cvtColor(cell, cv2.COLOR_RGB2GRAY)
    if grey.size == 0 or int(grey.max()) - int(grey.min()) < 40:
        return cell
    dark = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1] > 0
    runs = _runs(dark.any(axis=1))
    if not runs:
        return cell
    held = [r for r in runs if middle is not None and r[0] <= middle < r[1]]
    a, b = held[0] if held else _heaviest(runs, dark)
    a, b = max(0, a - 1), min(cell.shape[0], b + 1)
    if a == 0 and b == cell.shape[0]:
        return cell
    out = cell.copy()
    paper = np.percentile(out, 95, axis=(0, 1))
    out[:a] = paper
    out[b:] = paper
    return out


def enhance(c: np.ndarray) -> np.ndarray:
    """2x upscale and Otsu binarization for a second look."""
    big = cv2.resize(c, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return cv2.threshold(big, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


#: a leading minus is at most this share of the text height thick (the digits are the text height)
_MINUS_THICK = 0.35
#: ... and its middle lies this far down the text height (a minus sits about half way)
_MINUS_MIDDLE = (0.3, 0.8)
#: ... and it is this many text heights wide (a hyphen to an em-dash of small screen type)
_MINUS_WIDTH = (0.2, 1.0)
#: a digit is at least this share of the text height tall
_DIGIT_TALL = 0.55


def _heaviest(runs: list[tuple[int, int]], dark: np.ndarray) -> tuple[int, int]:
    """The run of rows holding the most ink (the first of equals)."""
    return max(runs, key=lambda r: int(dark[r[0]:r[1]].sum()))


def _text_band(dark: np.ndarray) -> tuple[int, int] | None:
    """The rows of the cell's own line of print: the run of inked rows holding the most ink
    (slivers of the rows above and below, which a padded crop takes in, are left out)."""
    runs = _runs(dark.any(axis=1))
    return _heaviest(runs, dark) if runs else None


def leading_minus(cell: np.ndarray) -> bool | None:
    """Does the print in a cell crop (:func:`crop`) begin with a minus sign before its digits?

    True: its first ink, from the left, is a flat mark about half way up the digits (thin, a
    fraction of a digit wide), and a digit-tall stroke follows it; False: its first ink is
    already digit-tall (a digit, no sign); None: no clear print, or a first mark of another
    shape. A page reading often loses the thin minus of small screen type while the cell's
    pixels still show it: this is the pixels' own testimony, one witness beside the engines.
    """
    grey = cell if cell.ndim == 2 else cv2.cvtColor(cell, cv2.COLOR_RGB2GRAY)
    if grey.size == 0 or int(grey.max()) - int(grey.min()) < 40:
        return None
    dark = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1] > 0
    band = _text_band(dark)
    if band is None or band[1] - band[0] < 6:
        return None
    h = band[1] - band[0]
    ink = dark[band[0]:band[1]]
    cols = [np.flatnonzero(ink[:, x]) for x in range(ink.shape[1])]
    xs = [x for x, c in enumerate(cols) if len(c)]
    if not xs:
        return None
    x = xs[0]
    run = []
    while x < len(cols) and len(cols[x]) and cols[x][-1] - cols[x][0] + 1 <= _MINUS_THICK * h:
        run.append(x)
        x += 1
    if not run:
        return False if cols[xs[0]][-1] - cols[xs[0]][0] + 1 >= _DIGIT_TALL * h else None
    rows = np.concatenate([cols[k] for k in run])
    middle = (float(rows.mean()) + 0.5) / h
    follows = [cols[k] for k in range(x, min(len(cols), x + max(2, int(0.6 * h)))) if len(cols[k])]
    tall = any(c[-1] - c[0] + 1 >= _DIGIT_TALL * h for c in follows)
    width_ok = _MINUS_WIDTH[0] * h <= len(run) <= _MINUS_WIDTH[1] * h
    return True if width_ok and _MINUS_MIDDLE[0] <= middle <= _MINUS_MIDDLE[1] and tall else None
