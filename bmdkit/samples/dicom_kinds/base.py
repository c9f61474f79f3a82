"""Attributes every synthetic DXA DICOM file shares, deterministic UIDs, and writing to disk.

UIDs and numbers derive from the truth exam (never from the salted ``hash``),
so the same truth always gives byte-identical files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from bmdkit.samples.truth import TruthExam

SC = "1.2.840.10008.5.1.4.1.1.7"
CR = "1.2.840.10008.5.1.4.1.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_SR = "1.2.840.10008.5.1.4.1.1.88.22"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
UID_ROOT = "1.2.826.0.1.3680043.10.1111."
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"

#: character sets Chinese sites use for patient names (vendor_dicom.md §4)
CHARSETS = ("GB18030", "ISO_IR 192", ["", "ISO 2022 IR 58"], "GBK")

_MANUFACTURER = {"hologic": "HOLOGIC", "ge_lunar": "GE Healthcare", "norland": "Norland"}
_SCAN_WORDS = {
    "spine": ("AP Spine", "LSPINE", ""),
    "hip_left": ("Left Femur", "HIP", "L"),
    "hip_right": ("Right Femur", "HIP", "R"),
    "hip_dual": ("DualFemur", "HIP", "B"),
}


def _stable_int(text: str) -> int:
    """A number from ``text`` that is the same in every process (``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _uid(truth: TruthExam, tag: str) -> str:
    return generate_uid(prefix=UID_ROOT, entropy_srcs=[truth.study_instance_uid, tag])  # deterministic


def _da(iso: str) -> str:
    return iso.replace("-", "")


def base_dataset(truth: TruthExam, sop_class: str, modality: str, tag: str,
                 charset: str | list[str] | None = "ISO_IR 192", chinese_name: bool = True) -> Dataset:
    """Patient, study, series and equipment attributes common to every vendor file."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(_uid(truth, tag))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = UID(UID_ROOT + "1")
    if charset is not None:
        ds.SpecificCharacterSet = charset
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = truth.study_instance_uid
    ds.SeriesInstanceUID = _uid(truth, tag + ".series")
    ds.Modality = modality
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = _da(truth.exam_date)
    ds.StudyTime = ds.ContentTime = "101500"
    p = truth.patient
    ds.PatientName = p.name_zh if chinese_name else p.name_pinyin
    ds.PatientID = p.patient_id
    ds.PatientBirthDate = _da(p.birth_date)
    ds.PatientSex = p.sex
    ds.PatientAge = f"{p.age:03d}Y"
    ds.PatientSize = f"{p.height_cm / 100:.3f}"
    ds.PatientWeight = f"{p.weight_kg:.1f}"
    ds.Manufacturer = _MANUFACTURER.get(truth.vendor, truth.vendor)
    ds.ManufacturerModelName = truth.scanner_model
    ds.DeviceSerialNumber = truth.scanner_serial
    ds.SoftwareVersions = truth.scanner_software
    ds.InstitutionName = truth.institution if charset not in (None, "ISO_IR 100") else truth.center
    ds.StudyDescription = "DXA Exam"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    return ds


def _fmt(v: float | None, decimals: int) -> str:
    return " " if v is None else f"{v:.{decimals}f}"


def _dec(measure: str) -> int:
    return {"bmd": 3, "bmc": 2, "area": 2, "t_score": 1, "z_score": 1}[measure]


def _write(ds: Dataset, path: Path, implicit: bool = False, preamble: bool = True) -> None:
    if implicit:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    pydicom.dcmwrite(path, ds, enforce_file_format=preamble, implicit_vr=implicit,
                     little_endian=True)
