"""The synthetic ground truth obeys the rules real scanner output obeys."""

from __future__ import annotations

import pytest

from bmdkit import reference
from bmdkit.samples.truth import TruthGenerator


def _ref(pop: str, region: str) -> tuple[float, float]:
    for row in reference.table("reference_populations"):
        if row["population"] == pop and row["region"] == region:
            return float(row["mean"]), float(row["sd"])
    raise KeyError(region)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_deterministic(seed: int) -> None:
    a = [TruthGenerator(seed).exam().to_dict() for _ in range(1)]
    b = [TruthGenerator(seed).exam().to_dict() for _ in range(1)]
    assert a == b


def test_values_are_consistent_as_printed() -> None:
    g = TruthGenerator(11)
    for i in range(120):
        ex = g.exam(exclude=["L1"] if i % 7 == 0 else None)
        for r in ex.regions:
            if r.bmc is not None and r.area is not None:
                assert abs(r.bmc / r.area - r.bmd) <= 0.0005 + 1e-9, (ex.sample_id, r.region)
            if r.t_score is not None:
                ref_region = "L1-L4" if r.region.startswith("L") else r.region
                mean, sd = _ref(ex.reference, ref_region)
                assert r.t_score == round((r.bmd - mean) / sd, 1)
        if ex.scan_type == "spine":
            verts = {r.region: r for r in ex.regions if r.region in ("L1", "L2", "L3", "L4")}
            total = next(r for r in ex.regions if r.region == "L1-L4")
            inc = [verts[v] for v in total.vertebrae]
            assert total.area == pytest.approx(sum(v.area for v in inc), abs=0.011)
            assert total.bmc == pytest.approx(sum(v.bmc for v in inc), abs=0.011)
            assert all(not verts[v].evaluable for v in ex.excluded)
            if ex.excluded == ["L1"]:
                assert total.label == "L2-L4"


@pytest.mark.parametrize("t", [-2.0, -2.5, -1.0])
def test_boundary_t_scores_are_exact(t: float) -> None:
    g = TruthGenerator(5)
    spine = g.exam(scan_type="spine", force_t=t)
    assert next(r for r in spine.regions if r.region == "L1-L4").t_score == t
    hip = g.exam(scan_type="hip_left", force_t=t)
    assert next(r for r in hip.regions if r.region == "femoral_neck").t_score == t


def test_dual_hip_has_mean_rows() -> None:
    ex = TruthGenerator(9).exam(scan_type="hip_dual")
    sides = {(r.region, r.side) for r in ex.regions}
    assert ("total_hip", "mean") in sides and ("femoral_neck", "left") in sides
    left = next(r for r in ex.regions if r.region == "total_hip" and r.side == "left")
    right = next(r for r in ex.regions if r.region == "total_hip" and r.side == "right")
    mean = next(r for r in ex.regions if r.region == "total_hip" and r.side == "mean")
    assert mean.bmd == round((left.bmd + right.bmd) / 2, 3)
