"""The ground-truth dict written beside each synthetic file (kind, expected status, regions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bmdkit.samples.truth import TruthExam


def file_regions(truth: TruthExam, include_extra: bool = True) -> list[dict[str, Any]]:
    """The truth regions a file holds, as plain dicts."""
    out = []
    for r in truth.regions:
        if not include_extra and not r.in_contract:
            continue
        out.append({"region": r.region, "side": r.side, "bmd": r.bmd, "bmc": r.bmc, "area": r.area,
                    "t_score": r.t_score, "z_score": r.z_score, "evaluable": r.evaluable,
                    "vertebrae": r.vertebrae, "label": r.label})
    return out


def _truth_dict(path: Path, kind: str, truth: TruthExam, regions: list[dict[str, Any]],
                status: str, flag: str | None = None, charset: Any = None,
                name: str | None = None) -> dict[str, Any]:
    return {"file": path.name, "kind": kind, "sample_id": truth.sample_id,
            "expect_status": status, "expect_flag": flag, "vendor": truth.vendor,
            "scan_type": truth.scan_type, "exam_date": truth.exam_date,
            "study_instance_uid": truth.study_instance_uid,
            "scanner_model": truth.scanner_model, "charset": charset,
            "patient_name": name, "patient_id": truth.patient.patient_id,
            "excluded": list(truth.excluded), "regions": regions}


def _status(truth: TruthExam) -> str:
    return "extracted"
