"""The shared test helpers (tests/helpers/) write what they claim."""

from __future__ import annotations

from pathlib import Path

import pydicom
from helpers.batch import write_sr

from bmdkit.samples.truth import TruthGenerator


def test_written_sr_reads_back(tmp_path: Path) -> None:
    t = TruthGenerator(7).exam(scan_type="spine")
    p = write_sr(tmp_path / "a.dcm", t, name="王^秀英", patient_id="H123")
    ds = pydicom.dcmread(p)
    assert str(ds.PatientName) == "王^秀英" and ds.Modality == "SR"
    assert len(ds.ContentSequence) >= 5
