"""A fast text-density test: does this image hold lines of printed text at all?

Run on a *candidate* page (:mod:`bmdkit.dicom.triage`) before any OCR, in a
few milliseconds instead of the seconds of an OCR pass. Printed text is many
short dark-on-light (or light-on-dark) runs along a row, on a plain
background; a DXA scan image is a few wide bone and soft-tissue shapes, with
noise. On a row- and column-subsampled grey copy:

- the background is the most common grey level; a page is mostly background;
- each pixel is background (close to it), ink (far from it) or in between;
  in-between pixels are ignored, so noise and soft edges never make runs
  (hysteresis);
- a *text row* crosses from background to ink at least ``_MIN_RUNS`` times;
  an image is text-dense when enough of its rows are text rows.

The thresholds are heuristics checked on rendered report pages and on
synthetic and real-shaped scan images (tests/test_dicom_triage.py), not
clinical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: grey-level distance from the background that is surely background / surely ink
_BG_NEAR, _INK_FAR = 24, 72
#: ink runs along one row that make it a line of text (a knee or total-body row has fewer)
_MIN_RUNS = 8
#: share of rows that must be text rows, and share of pixels that must be background
_MIN_TEXT_ROWS, _MIN_BACKGROUND = 0.05, 0.40
#: subsampled size the test works on (rows, columns)
_MAX_ROWS, _MAX_COLS = 700, 900


@dataclass(frozen=True)
class Density:
    """What the test measured and its verdict."""

    text_rows: float
    background: float

    @property
    def has_text(self) -> bool:
        return self.text_rows >= _MIN_TEXT_ROWS and self.background >= _MIN_BACKGROUND

    def describe(self) -> str:
        return (f"{100 * self.text_rows:.1f}% text rows, {100 * self.background:.0f}% background "
                f"(a page needs {100 * _MIN_TEXT_ROWS:.0f}% and {100 * _MIN_BACKGROUND:.0f}%)")


def _grey(img: np.ndarray) -> np.ndarray:
    rs = max(1, img.shape[0] // _MAX_ROWS)
    cs = max(1, img.shape[1] // _MAX_COLS)
    small = img[::rs, ::cs]
    if small.ndim == 3:
        small = small[..., :3].astype(np.int16).sum(axis=2) // 3
    return small.astype(np.int16)


def measure(img: np.ndarray) -> Density:
    """Text-row and background shares of a uint8 grey (H, W) or RGB (H, W, 3) image."""
    g = _grey(img)
    if g.size == 0 or g.shape[1] < 2:
        return Density(0.0, 0.0)
    bg = int(np.bincount(g.ravel().clip(0, 255)).argmax())
    dist = np.abs(g - bg)
    label = np.where(dist <= _BG_NEAR, 0, np.where(dist >= _INK_FAR, 1, -1)).astype(np.int8)
    # forward-fill the in-between pixels with the last sure label of the row (hysteresis)
    cols = np.arange(g.shape[1])[None, :]
    idx = np.where(label >= 0, cols, 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = np.take_along_axis(label, idx, axis=1).clip(0, 1)
    rises = np.count_nonzero((filled[:, 1:] == 1) & (filled[:, :-1] == 0), axis=1)
    return Density(float(np.mean(rises >= _MIN_RUNS)), float(np.mean(label == 0)))
