"""Test inputs for the batch and export tests: real DICOM SR files written with pydicom,
exams built from the seeded truth generator, and worker functions that hang or crash.

Provenance: every DICOM here is written by :func:`write_sr` from a
:class:`~bmdkit.samples.truth.TruthExam` (seeded), as a Comprehensive SR
whose NUM items are named in plain words ("L1-L4 BMD", "Left Femoral Neck
T-score") with UCUM units. Patient names and IDs are fake, Latin and Chinese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from bmdkit.batch.ledger import Ledger
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.model import Exam, InputKind, Method, PatientIdentity, Region, RegionResult, Side, Source
from bmdkit.samples.truth import TruthExam, TruthGenerator

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
_UNITS = {"bmd": ("g/cm2", "g/cm2"), "bmc": ("g", "g"), "area": ("cm2", "cm2"),
          "t_score": ("{T-score}", "T-score"), "z_score": ("{Z-score}", "Z-score")}
_MEASURE_WORD = {"bmd": "BMD", "bmc": "BMC", "area": "Area", "t_score": "T-score", "z_score": "Z-score"}
_REGION_WORD = {"femoral_neck": "Femoral Neck", "total_hip": "Total Hip"}


def _code(value: str, meaning: str, scheme: str = "99BMDKIT") -> Dataset:
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def _num(meaning: str, value: float, measure: str) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "NUM"
    item.ConceptNameCodeSequence = [_code(meaning.replace(" ", "_")[:16], meaning)]
    mv = Dataset()
    mv.NumericValue = f"{value:g}"
    ucum, text = _UNITS[measure]
    mv.MeasurementUnitsCodeSequence = [_code(ucum, text, "UCUM")]
    item.MeasuredValueSequence = [mv]
    return item


def write_sr(path: Path, truth: TruthExam, name: str | None = None, patient_id: str | None = None) -> Path:
    """A Comprehensive SR holding the truth's contract regions as NUM items."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = COMPREHENSIVE_SR
    sop_uid = "1.2.826.0.1.3680043.10.1111.9." + str(int(hashlib.sha256(truth.sample_id.encode()).hexdigest()[:12], 16))
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID, ds.SOPInstanceUID = COMPREHENSIVE_SR, sop_uid
    ds.Modality = "SR"
    ds.Manufacturer = {"hologic": "HOLOGIC", "ge_lunar": "GE Healthcare", "norland": "Norland"}[truth.vendor]
    ds.ManufacturerModelName = truth.scanner_model
    ds.InstitutionName = truth.institution
    ds.PatientName = name if name is not None else truth.patient.name_pinyin
    ds.PatientID = patient_id if patient_id is not None else truth.patient.patient_id
    ds.PatientBirthDate = truth.patient.birth_date.replace("-", "")
    ds.PatientSex = truth.patient.sex
    ds.StudyInstanceUID = truth.study_instance_uid
    ds.SeriesInstanceUID = truth.study_instance_uid + ".1"
    ds.StudyDate = ds.ContentDate = truth.exam_date.replace("-", "")
    ds.StudyDescription = "DXA " + ("Lumbar Spine" if truth.scan_type == "spine" else "Hip")
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code("BMD", "Bone Densitometry Report")]
    ds.ContinuityOfContent = "SEPARATE"
    items = []
    for r in truth.contract_regions():
        where = r.region if r.region.startswith("L") else _REGION_WORD[r.region]
        side = f"{r.side.capitalize()} " if r.side else ""
        for m in ("bmd", "bmc", "area", "t_score", "z_score"):
            v = getattr(r, m)
            if v is not None:
                items.append(_num(f"{side}{where} {_MEASURE_WORD[m]}", v, m))
    ds.ContentSequence = items
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


def truth_to_exam(t: TruthExam, path: str) -> Exam:
    """The exam a perfect reader would give for ``t`` (for export tests)."""
    regions = []
    for r in t.contract_regions():
        regions.append(RegionResult(
            region=Region(r.region), side=Side(r.side) if r.side else None, method=Method.DICOM_SR,
            bmd=r.bmd, bmc=r.bmc, area=r.area, t_score=r.t_score, z_score=r.z_score,
            confidence=1.0, label=r.label,
            evaluable=r.evaluable if Region(r.region).is_vertebra else None,
            vertebrae=tuple(Region(v) for v in r.vertebrae) if r.vertebrae else None,
        ))
    sha = hashlib.sha256(f"{t.sample_id}|{path}".encode()).hexdigest()
    return Exam(
        source=Source(path=path, sha256=sha, kind=InputKind.DICOM, size=1000),
        scanner_model=t.scanner_model, institution=t.institution,
        exam_date=dt.date.fromisoformat(t.exam_date), study_instance_uid=t.study_instance_uid,
        patient=PatientIdentity(name=t.patient.name_zh, patient_id=t.patient.patient_id),
        regions=tuple(regions), reader="test-truth",
    )


def store_exams(out: Path, exams: list[Exam]) -> None:
    """Put exams into a real batch ledger and write its outputs, as a batch would."""
    with Ledger(out) as led:
        for e in exams:
            led.see(e.source.path, e.source.sha256, e.source.sha256, None)
            led.record(e.source.sha256, exam_to_dict(e))
        led.write_outputs()


def visit_series(seed: int, subjects: int) -> tuple[list[TruthExam], list[tuple[TruthExam, int]]]:
    """Per subject a spine and a hip exam at baseline and ~6 and ~12 months later."""
    gen = TruthGenerator(seed)
    out: list[tuple[TruthExam, int]] = []
    bases = []
    for _ in range(subjects):
        spine = gen.exam(scan_type="spine")
        hip = gen.exam(scan_type="hip_dual")
        hip.patient = spine.patient
        hip.institution, hip.center = spine.institution, spine.center
        hip.study_instance_uid = spine.study_instance_uid
        hip.exam_date = spine.exam_date
        bases.append(spine)
        for offset in (0, 180, 370):
            out.append((spine, offset))
            out.append((hip, offset))
    return bases, out


# -- worker functions for the runner tests (must be importable top-level functions) --
def slow_or_crashing_work(path: str, options: object) -> dict:
    """Hangs on files containing b'HANG', kills its own process on b'CRASH', else the real work."""
    from bmdkit.batch.runner import work

    data = Path(path).read_bytes()[:64]
    if b"HANG" in data:
        time.sleep(3600)
    if b"CRASH" in data:
        os._exit(13)
    return work(path, options)  # type: ignore[arg-type]
