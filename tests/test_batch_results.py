"""bmdkit.read_results on a real batch output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from helpers.batch import write_sr

import bmdkit
from bmdkit.batch.runner import run_batch
from bmdkit.samples.truth import TruthGenerator


def test_read_results_typed_rows(tmp_path: Path) -> None:
    gen = TruthGenerator(8)
    site = tmp_path / "in"
    site.mkdir()
    truths = {}
    for i in range(3):
        t = gen.exam(scan_type="hip_dual" if i else "spine")
        truths[str(write_sr(site / f"f{i}.dcm", t))] = t
    (site / "bad.dcm").write_bytes(b"DICM nonsense")
    run_batch([site], tmp_path / "out", workers=1, progress=False)
    df = bmdkit.read_results(tmp_path / "out")
    assert str(df["bmd"].dtype) == "float64" and str(df["t_score"].dtype) == "float64"
    assert pd.api.types.is_datetime64_any_dtype(df["exam_date"])
    assert str(df["evaluable"].dtype) == "boolean"
    assert str(df["region"].dtype) == "string"
    bad = df[df.path.str.endswith("bad.dcm")]
    assert len(bad) == 1 and bad.iloc[0].status == "failed" and pd.isna(bad.iloc[0].region)
    # one row per file, region, side: no duplicates of that key
    ok = df[df.region.notna()]
    assert not ok.duplicated(["path", "region", "side", "method"]).any()
    for path, t in truths.items():
        rows = ok[ok.path == path]
        for r in t.contract_regions():
            hit = rows[(rows.region == r.region) & (rows.side.fillna("") == (r.side or ""))]
            if len(hit):
                assert abs(hit.iloc[0].bmd - r.bmd) < 5e-4
    assert "patient" not in df.columns


def test_reviewer_corrections_survive_regeneration(tmp_path: Path) -> None:
    """A decision in audit.csv (bmdkit.review) is re-applied when the batch rewrites results.jsonl."""
    import json

    from bmdkit.model import Region, Side

    from bmdkit.review import decisions
    site = tmp_path / "in"
    site.mkdir()
    write_sr(site / "hip.dcm", TruthGenerator(12).exam(scan_type="hip_left"))
    out = tmp_path / "out"
    run_batch([site], out, workers=1, progress=False)
    line = json.loads((out / "results.jsonl").read_text(encoding="utf-8"))
    neck = next(r for r in line["regions"] if r["region"] == "femoral_neck" and r["side"] == "left")
    d = decisions.Decision(sha256=line["source"]["sha256"], region=Region.FEMORAL_NECK, side=Side.LEFT,
                           measure="bmd", action="correct", old_value=neck["bmd"], new_value=neck["bmd"] + 0.1,
                           reason="test", reviewer="r", decided_at="2026-11-25T10:00:00+00:00")
    (out / decisions.AUDIT_FILE).write_text(decisions.audit_csv_text([d], header=True), encoding="utf-8")
    write_sr(site / "spine.dcm", TruthGenerator(13).exam(scan_type="spine"))  # grow: forces a rewrite
    run_batch([site], out, workers=1, progress=False)
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    hip = next(x for x in lines if x["source"]["path"].endswith("hip.dcm"))
    new = next(r for r in hip["regions"] if r["region"] == "femoral_neck" and r["side"] == "left")
    assert abs(new["bmd"] - (neck["bmd"] + 0.1)) < 1e-9
    assert any(f["code"] == "corrected" for f in hip["flags"])
