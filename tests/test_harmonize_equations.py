"""sBMD and pairwise equations: published known values, units, direction, refusals, table hygiene."""

from __future__ import annotations

import pytest

from bmdkit import reference
from bmdkit.harmonize.crosscal import to_vendor
from bmdkit.harmonize.equations import find_pairwise, find_sbmd, load_pairwise, load_sbmd
from bmdkit.harmonize.sbmd import to_sbmd
from bmdkit.model import Method, Region, RegionResult, Vendor


def test_known_value_lunar_total_hip() -> None:
    # crosscal.md / issue 7: GE Lunar total hip 1.000 g/cm2 -> sBMD 948 mg/cm2
    h = to_sbmd(1.000, Vendor.GE_LUNAR, Region.TOTAL_HIP)
    assert h.value == pytest.approx(948.0, abs=0.05)
    assert h.unit == "mg/cm2" and h.equation_set == "hui_hanson_lu_1997 v1"
    assert "Hanson" in h.source


def test_known_value_hologic_spine_is_mg_not_g() -> None:
    # Hui 1997 spine gives the g/cm2 scale; the table's scale makes it mg/cm2 (1043.6, not 1.0436)
    h = to_sbmd(0.972, Vendor.HOLOGIC, Region.SPINE_TOTAL)
    assert h.value == pytest.approx(1043.6, abs=0.05)


def test_all_vendors_agree_at_centring_points() -> None:
    # The Hui spine equations all map their centring BMD to the same sBMD.
    for vendor, bmd in ((Vendor.HOLOGIC, 0.972), (Vendor.GE_LUNAR, 1.100), (Vendor.NORLAND, 0.969)):
        assert to_sbmd(bmd, vendor, Region.SPINE_TOTAL).value == pytest.approx(1043.6, abs=0.05)


def test_hip_and_spine_same_unit_scale() -> None:
    # Both kinds of row give mg/cm2: a typical BMD gives hundreds, never ~1.
    for region in (Region.SPINE_TOTAL, Region.TOTAL_HIP, Region.FEMORAL_NECK, Region.TROCHANTER):
        for vendor in (Vendor.HOLOGIC, Vendor.GE_LUNAR, Vendor.NORLAND):
            v = to_sbmd(0.8, vendor, region).value
            assert v is not None and 500 < v < 1100, (region, vendor, v)


def test_lunar_reads_higher_so_sbmd_pulls_it_down() -> None:
    lunar = to_sbmd(1.0, Vendor.GE_LUNAR, Region.SPINE_TOTAL).value
    hologic = to_sbmd(1.0, Vendor.HOLOGIC, Region.SPINE_TOTAL).value
    assert lunar is not None and hologic is not None and lunar < hologic


def test_spine_region_note_when_vertebrae_differ() -> None:
    r = RegionResult(Region.SPINE_TOTAL, Method.DICOM_PRIVATE, bmd=1.0, label="L1-L4",
                     vertebrae=(Region.L1, Region.L2, Region.L3, Region.L4))
    assert "derived on L2-L4" in to_sbmd(1.0, Vendor.HOLOGIC, r).note
    r24 = r.replace(label="L2-L4", vertebrae=(Region.L2, Region.L3, Region.L4))
    assert to_sbmd(1.0, Vendor.HOLOGIC, r24).note == ""


def test_refusals_are_explained() -> None:
    assert not to_sbmd(1.0, Vendor.UNKNOWN, Region.TOTAL_HIP).ok
    h = to_sbmd(1.0, Vendor.HOLOGIC, Region.L3)
    assert not h.ok and "no sBMD equation" in h.reason
    assert not to_sbmd(None, Vendor.HOLOGIC, Region.TOTAL_HIP).ok


def test_placeholder_set_is_never_applied() -> None:
    assert any(e.equation_set == "fan_2010" and e.status == "not_available" for e in load_sbmd())
    assert find_sbmd(Vendor.HOLOGIC, Region.SPINE_TOTAL, "fan_2010") is None
    assert not to_sbmd(1.0, Vendor.HOLOGIC, Region.SPINE_TOTAL, equation_set="fan_2010").ok
    # even when a caller lets the status through, a placeholder has nothing to apply
    anything = frozenset({"verified", "not_available"})
    assert not to_sbmd(1.0, Vendor.HOLOGIC, Region.SPINE_TOTAL, equation_set="fan_2010", statuses=anything).ok


def test_pairwise_uses_direction_not_inverse() -> None:
    to_h = to_vendor(1.100, Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.SPINE_TOTAL)
    assert to_h.value == pytest.approx(0.906 * 1.100 - 0.025)
    back = to_vendor(to_h.value, Vendor.HOLOGIC, Vendor.GE_LUNAR, Region.SPINE_TOTAL)
    assert back.value == pytest.approx(1.074 * to_h.value + 0.054)
    assert back.value != pytest.approx(1.100, abs=1e-4)  # separate regressions: no exact round trip
    assert to_h.equation_set == "genant_1994 v1"


def test_neck_pairwise_refused_unless_bridge_asked() -> None:
    h = to_vendor(0.80, Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.FEMORAL_NECK)
    assert not h.ok and "no pairwise equation" in h.reason
    bridged = to_vendor(0.80, Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.FEMORAL_NECK, via_sbmd=True)
    # public Framingham code: (-0.023 + 0.939*BMD_Lunar - 0.019)/1.087
    assert bridged.value == pytest.approx((-0.023 + 0.939 * 0.80 - 0.019) / 1.087)
    assert "via sBMD" in bridged.equation_set and "bridged" in bridged.note


def test_historical_rows_need_opt_in() -> None:
    assert find_pairwise(Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.FEMORAL_NECK) is None
    eq = find_pairwise(Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.FEMORAL_NECK,
                       statuses=frozenset({"verified", "historical"}))
    assert eq is not None and eq.equation_set == "pocock_1992"


def test_same_vendor_is_identity() -> None:
    h = to_vendor(0.9, Vendor.HOLOGIC, Vendor.HOLOGIC, Region.FEMORAL_NECK)
    assert h.value == 0.9 and h.equation_set == "identity"


@pytest.mark.parametrize("name", ["sbmd_equations", "pairwise_equations"])
def test_every_row_cited_and_described(name: str) -> None:
    rows = reference.table(name)
    assert rows
    for row in rows:
        assert row["source"] and row["equation_set"] and row["version"] and row["status"]
        assert row["derived_on"], row
        if row["status"] == "verified":
            assert row["verified"]


def test_pairwise_rows_load_with_units() -> None:
    rows = [e for e in load_pairwise() if e.status == "verified"]
    assert {e.unit for e in rows if e.measure == "bmd"} == {"g/cm2"}
    assert len({(e.from_vendor, e.to_vendor) for e in rows if e.measure == "bmd"}) == 6


def test_model_gap_is_stated() -> None:
    newer = to_sbmd(1.0, Vendor.GE_LUNAR, Region.TOTAL_HIP, scanner_model="Lunar iDXA")
    assert "not Lunar iDXA" in newer.note and newer.ok
    same = to_sbmd(1.0, Vendor.HOLOGIC, Region.TOTAL_HIP, scanner_model="QDR-2000")
    assert same.note == ""
    pw = to_vendor(1.0, Vendor.GE_LUNAR, Vendor.HOLOGIC, Region.SPINE_TOTAL, scanner_model="Lunar Prodigy")
    assert "not Lunar Prodigy" in pw.note
