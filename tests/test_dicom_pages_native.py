"""Report page pixels read straight from a plain file (pages.native_pixels) equal pydicom's pixel_array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from bmdkit.dicom import fastread, pages


def _write(path: Path, arr: np.ndarray, photometric: str, syntax: str = ExplicitVRLittleEndian,
           bits: int = 8) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = arr.shape[:2]
    ds.SamplesPerPixel = 3 if arr.ndim == 3 else 1
    ds.PhotometricInterpretation = photometric
    if arr.ndim == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = arr.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("shape,photometric,syntax", [
    ((300, 250), "MONOCHROME2", ExplicitVRLittleEndian),
    ((301, 251), "MONOCHROME1", ImplicitVRLittleEndian),  # odd length: one pad byte
    ((320, 240, 3), "RGB", ExplicitVRLittleEndian),
    ((20, 30), "MONOCHROME2", ImplicitVRLittleEndian),  # small: its value read with the header
])
def test_native_pixels_equal_pydicom(tmp_path: Path, shape: tuple[int, ...], photometric: str,
                                     syntax: str) -> None:
    arr = np.random.default_rng(7).integers(0, 256, size=shape, dtype=np.uint8)
    p = _write(tmp_path / "page.dcm", arr, photometric, syntax)
    header = fastread.read_plain(p, 1024)
    assert header is not None
    got = pages.native_pixels(p, header, shape[0], shape[1])
    want = pydicom.dcmread(p).pixel_array
    assert got is not None and got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want) and got.flags.writeable and got.flags.c_contiguous


def test_other_pixels_are_left_to_pydicom(tmp_path: Path) -> None:
    arr = np.random.default_rng(7).integers(0, 4000, size=(40, 30), dtype=np.uint16)
    p = _write(tmp_path / "wide.dcm", arr, "MONOCHROME2", bits=16)
    header = fastread.read_plain(p, 1024)
    assert header is not None and pages.native_pixels(p, header, 40, 30) is None
