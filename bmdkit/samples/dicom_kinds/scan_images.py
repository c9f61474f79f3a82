"""Real-shaped GE Lunar scan images: what most DICOM files reaching an imaging core are.

Shaped as the real UK Biobank iDXA exports are (vendor_dicom.md §2): implicit
VR, ISO_IR 100, 8-bit MONOCHROME2, Manufacturer "GE Healthcare", the scan
type only in ProtocolName / PerformedProcedureStepDescription, Laterality and
BodyPartExamined present but empty, ExposedArea and no PixelSpacing. Sizes are
those of whole-scan frames (several hundred to over a thousand rows), so many
are page-shaped by size alone: a reader must not take them for report pages.

Variants: the SOP class / modality pair (CR Image Storage + CR, as real
files; Secondary Capture + BMD or OT, as configurable sites send), the scan
(ortho knee, forearm, total body, LVA, hip implant, AP spine, femur) and the
model. The pixels are a dark field with soft-tissue grey and bright bone
shapes plus noise: no text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from bmdkit.samples.dicom_kinds.base import CR, SC, _stable_int, _write, base_dataset
from bmdkit.samples.dicom_kinds.ground_truth import _truth_dict
from bmdkit.samples.dicom_kinds.pixels import _add_pixels
from bmdkit.samples.truth import TruthExam


@dataclass(frozen=True)
class ScanShape:
    """One GE scan as the scanner exports it: protocol name, frame size, scan type key."""

    protocol: str
    rows: int
    cols: int
    scan_type: str


#: Protocol names as real iDXA exports write them (vendor_dicom.md §2), plus forearm and
#: hip-implant protocols of the same family; frame sizes chosen page-like on purpose.
GE_SCANS: dict[str, ScanShape] = {
    "knee_right": ScanShape("Right Ortho Knee", 1100, 760, "other"),
    "knee_left": ScanShape("Left Ortho Knee", 1024, 736, "other"),
    "forearm": ScanShape("Left Forearm", 900, 620, "forearm"),
    "total_body": ScanShape("Total Body", 1600, 720, "whole_body"),
    "lva": ScanShape("LVA", 820, 640, "other"),
    "hip_implant": ScanShape("Right Ortho Hip", 1000, 800, "other"),
    "spine": ScanShape("AP Spine", 900, 700, "spine"),
    "femur": ScanShape("Left Femur", 960, 700, "hip_left"),
}
#: (SOP class, Modality) pairs GE sites send (CR real; BMD/OT configurable, vendor_dicom.md §2)
CLASSES = {"cr": (CR, "CR"), "bmd": (SC, "BMD"), "ot": (SC, "OT")}
MODELS = ("Lunar iDXA", "Lunar Prodigy Advance", "Lunar Prodigy")


def bone_image(seed: int, rows: int, cols: int) -> np.ndarray:
    """A dark field, a soft-tissue band and two bright bone shafts, with noise (no text)."""
    rng = np.random.default_rng(seed % (2**32))
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    img = np.zeros((rows, cols), np.float32) + 8.0
    cx = cols / 2 + rng.uniform(-cols / 10, cols / 10)
    tissue = np.exp(-((xx - cx) / (cols * 0.28)) ** 2)
    img += 70 * tissue
    for dx in (-cols * 0.1, cols * 0.08):
        width = cols * rng.uniform(0.04, 0.07)
        img += 140 * np.exp(-((xx - cx - dx - 0.05 * (yy - rows / 2)) / width) ** 4)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_ge_scan(truth: TruthExam, path: Path, scan: str = "knee_right", klass: str = "cr",
                  model: str | None = None) -> dict[str, Any]:
    """One GE scan image with no results; ground truth: failed, no_results, vendor ge_lunar."""
    shape = GE_SCANS[scan]
    sop, modality = CLASSES[klass]
    ds = base_dataset(truth, sop, modality, f"ge.{scan}.{klass}", charset="ISO_IR 100",
                      chinese_name=False)
    ds.Manufacturer = "GE Healthcare"
    ds.ManufacturerModelName = model or MODELS[_stable_int(truth.sample_id + scan) % len(MODELS)]
    ds.StationName = "LUNAR1"
    ds.SeriesDescription = "DXA Images"
    ds.ProtocolName = ds.PerformedProcedureStepDescription = shape.protocol
    ds.Laterality = ""
    ds.BodyPartExamined = ""
    ds.ViewPosition = ""
    ds.PatientOrientation = ["L", "F"]
    ds.ExposedArea = [170, 150]
    ds.EthnicGroup = "Asian"
    if klass != "cr":
        ds.ConversionType = "WSD"
    _add_pixels(ds, bone_image(_stable_int(truth.sample_id + scan), shape.rows, shape.cols))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    _write(ds, path, implicit=True)
    out = _truth_dict(path, f"ge_scan_{scan}_{klass}", truth, [], "failed", "no_results",
                      "ISO_IR 100", truth.patient.name_pinyin)
    out.update(vendor="ge_lunar", scan_type=shape.scan_type, scanner_model=ds.ManufacturerModelName)
    return out
