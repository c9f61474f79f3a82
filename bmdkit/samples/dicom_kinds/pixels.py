"""Pixel data for the synthetic files: a small scan picture, or a rendered report page."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from bmdkit.samples.dicom_kinds.base import _stable_int
from bmdkit.samples.truth import TruthExam


def _add_pixels(ds: Dataset, img: np.ndarray) -> None:
    """uint8 pixels, grey (H, W) or RGB (H, W, 3)."""
    ds.Rows, ds.Columns = int(img.shape[0]), int(img.shape[1])
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if img.ndim == 3:
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    else:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = np.ascontiguousarray(img, dtype=np.uint8).tobytes()


def scan_image(truth: TruthExam, rgb: bool, shape: tuple[int, int] = (240, 200)) -> np.ndarray:
    """A small synthetic scan picture (a bright column on a dark field), no numbers."""
    rng = np.random.default_rng(_stable_int(truth.sample_id) % (2**32))
    h, w = shape
    img = (rng.random((h, w)) * 40).astype(np.uint8)
    img[:, w // 3: 2 * w // 3] += 120
    return np.stack([img] * 3, axis=-1) if rgb else img


def report_page_pixels(truth: TruthExam, dpi: int = 90) -> np.ndarray:
    """The printed Hologic report page as RGB pixels (report_gen), or a plain grey page."""
    try:
        from bmdkit.samples.report_page.render import render_report
        img = render_report(truth, layout="hologic", lang="en", dpi=dpi)
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except Exception:  # noqa: BLE001 - the report generator is optional here
        h, w = int(11 * dpi), int(8.5 * dpi)
        return np.full((h, w, 3), 235, dtype=np.uint8)
