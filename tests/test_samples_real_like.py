"""Real-like report pages (bmdkit.samples.real_like): layouts, blank columns, resolution, determinism.

Seeds here (31, 77, 2028) were not used while the layouts were drawn (those used 3 and 5).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bmdkit.samples.real_like import (
    REAL_LIKE_LAYOUTS,
    REAL_LIKE_RENDERINGS,
    REAL_LIKE_VENDOR,
    ScreenOptions,
    build_real_like_page,
    make_real_like_pages,
    render_real_like,
)
from bmdkit.samples.report_gen import LAYOUTS
from bmdkit.samples.report_gen import REAL_LIKE_LAYOUTS as RG_REAL_LIKE
from bmdkit.samples.truth import TruthExam, TruthGenerator, mark_not_printed, not_printed

DECIMALS = {"bmd": 3, "bmc": 2, "area": 2, "t_score": 1, "z_score": 1}
SCAN_TYPES = ("spine", "hip_dual", "hip_left", "hip_right")


def _exam(layout: str, scan_type: str, seed: int = 31) -> TruthExam:
    return TruthGenerator(seed).exam(vendor=REAL_LIKE_VENDOR[layout], scan_type=scan_type)


def _truth_value(truth: TruthExam, region: str, side: str | None, measure: str) -> float | None:
    for r in truth.regions:
        if r.region == region and r.side == side:
            return getattr(r, measure)
    raise AssertionError(f"no truth region {region}/{side}")


def test_registered_apart_from_the_print_layouts() -> None:
    assert RG_REAL_LIKE == REAL_LIKE_LAYOUTS
    assert not set(REAL_LIKE_LAYOUTS) & set(LAYOUTS)
    assert LAYOUTS == ("hologic", "ge_lunar", "chinese", "norland")


@pytest.mark.parametrize("layout", REAL_LIKE_LAYOUTS)
@pytest.mark.parametrize("scan_type", SCAN_TYPES)
def test_each_layout_renders_the_truth(layout: str, scan_type: str) -> None:
    truth = _exam(layout, scan_type)
    page = render_real_like(truth, layout, "png90")
    numeric = [c for c in page.cells if c.cell.in_truth and c.cell.measure in DECIMALS]
    assert len(numeric) >= 2
    ink = np.asarray(page.image.convert("L"))
    for cb in numeric:
        c = cb.cell
        want = _truth_value(truth, c.region, c.side, c.measure)  # type: ignore[arg-type]
        assert want is not None, c
        tol = 0.00051 if layout == "norland_illuminatus" and c.measure == "bmd" else 1e-9
        assert abs(float(c.text) - want) <= tol, (c, want)
        x0, y0, x1, y1 = cb.box
        assert 0 <= x0 < x1 <= page.image.width and 0 <= y0 < y1 <= page.image.height
        assert ink[y0:y1, x0:x1].min() < 128, f"no ink where {c.text} was drawn"


def test_norland_prints_bmd_to_four_decimals() -> None:
    page = render_real_like(_exam("norland_illuminatus", "hip_dual"), "norland_illuminatus", "png90")
    bmds = [c.cell.text for c in page.cells if c.cell.measure == "bmd"]
    assert bmds and all(len(t.split(".")[1]) == 4 for t in bmds)
    sides = [c.cell.side for c in page.cells if c.cell.measure == "bmd"]
    assert "mean" not in sides and sides.index("right") < sides.index("left")  # right hip first


def test_apex_spine_lists_fifteen_rows() -> None:
    truth = _exam("hologic_apex", "spine")
    page = render_real_like(truth, "hologic_apex", "png90", ScreenOptions(variant="combinations"))
    labels = [c.cell.label for c in page.cells if c.cell.measure == "bmd"]
    assert len(labels) == 15
    assert labels[:4] == ["L1", "L2", "L3", "L4"] and labels[-1] == "L1-L4"
    assert {"L1,L3", "L1-L2,L4", "L1,L3-L4", "L2-L4"} <= set(labels)
    truth_rows = [c.cell for c in page.cells if c.cell.measure == "bmd" and c.cell.in_truth]
    assert [c.region for c in truth_rows] == ["L1", "L2", "L3", "L4", "L1-L4"]


@pytest.mark.parametrize("layout", ["hologic_apex", "ge_encore"])
def test_mean_and_difference_rows_are_never_a_side(layout: str) -> None:
    truth = _exam(layout, "hip_dual")
    variant = "region_groups" if layout == "hologic_apex" else "ancillary"
    page = render_real_like(truth, layout, "png90", ScreenOptions(variant=variant))
    labels = {c.cell.label for c in page.cells}
    assert any("Diff" in x for x in labels) and any("Mean" in x for x in labels)
    for cb in page.cells:
        c = cb.cell
        if "Diff" in c.label:
            assert not c.in_truth and c.side is None
        if c.side in ("left", "right"):
            assert c.label.split()[-1] in ("Left", "Right"), c
        if c.in_truth and c.side == "mean":
            assert _truth_value(truth, c.region, "mean", "bmd") is not None  # type: ignore[arg-type]


@pytest.mark.parametrize("layout", REAL_LIKE_LAYOUTS)
@pytest.mark.parametrize(("blank", "mark"), [(("t_score",), ""), (("z_score",), "-"), (("t_score", "z_score"), "-")])
def test_blank_columns_are_absent_in_the_truth(layout: str, blank: tuple[str, ...], mark: str) -> None:
    truth = _exam(layout, "hip_dual" if layout != "norland_illuminatus" else "spine", seed=77)
    page = render_real_like(truth, layout, "png90", ScreenOptions(blank=blank, blank_mark=mark))
    assert not_printed(page.truth) == set(blank)
    for m in blank:
        assert all(getattr(r, m) is None for r in page.truth.regions)
        assert not [c for c in page.cells if c.cell.measure in (m, "t_diff" if m == "t_score" else "z_diff")]
    shown = {c.cell.measure for c in page.cells}
    if "t_score" in blank:
        assert not shown & {"ya_pct", "pr_pct"}
    for m in {"t_score", "z_score"} - set(blank):
        assert m in shown
    # the original exam is left as it was
    assert any(r.t_score is not None for r in truth.regions) and not not_printed(truth)


def test_mark_not_printed_rejects_other_measures() -> None:
    with pytest.raises(ValueError):
        mark_not_printed(_exam("ge_encore", "spine"), ["bmd"])
    with pytest.raises(ValueError):
        build_real_like_page(_exam("ge_encore", "spine"), "ge_encore", ScreenOptions(blank=("bmd",)))


@pytest.mark.parametrize("ppi", [72, 90, 100])
def test_pages_are_at_the_asked_ppi(ppi: int) -> None:
    page = render_real_like(_exam("ge_encore", "spine"), "ge_encore", "jpeg", ppi=ppi)
    assert page.image.size == (round(612 * ppi / 72), round(792 * ppi / 72))
    assert page.encoded[:2] == b"\xff\xd8" and page.suffix == ".jpg"
    saved = Image.open(io.BytesIO(page.encoded))
    assert saved.format == "JPEG" and round(saved.info["dpi"][0]) == ppi
    # antialiased type: many grey levels between paper and ink
    grey = np.asarray(page.image.convert("L"))
    assert len(np.unique(grey[(grey > 40) & (grey < 215)])) > 50


def test_renderings() -> None:
    truth = _exam("hologic_apex", "spine")
    png = render_real_like(truth, "hologic_apex", "png90")
    assert png.image.size == (765, 990) and png.encoded[:4] == b"\x89PNG" and png.ppi == 90
    jpeg = render_real_like(truth, "hologic_apex", "jpeg")
    assert 72 <= jpeg.ppi <= 100 and abs(jpeg.image.width - 612 * jpeg.ppi / 72) <= 1
    slide = render_real_like(truth, "hologic_apex", "slide150")
    assert slide.image.size == (1500, 1500) and slide.ppi == 150
    ink = np.asarray(slide.image.convert("L"))
    for cb in slide.cells:  # boxes follow the page into the slide
        x0, y0, x1, y1 = cb.box
        assert ink[y0:y1, x0:x1].min() < 160
    with pytest.raises(ValueError):
        render_real_like(truth, "hologic_apex", "tiff")
    with pytest.raises(ValueError):
        render_real_like(truth, "hologic", "png90")


def test_small_type_on_screen() -> None:
    """Table digits 7-9 px high, as on real screenshots."""
    page = render_real_like(_exam("ge_encore", "hip_dual"), "ge_encore", "png90")
    heights = [cb.box[3] - cb.box[1] for cb in page.cells if cb.cell.measure == "bmd"]
    assert heights and 6 <= min(heights) and max(heights) <= 11


def test_bench_pages_deterministic_and_cycling(tmp_path: Path) -> None:
    a = make_real_like_pages(9, tmp_path / "a", seed=2028)
    b = make_real_like_pages(9, tmp_path / "b", seed=2028)
    assert [(p.name, lay, ren) for p, _, lay, ren in a] == [(p.name, lay, ren) for p, _, lay, ren in b]
    for (pa, ta, _, _), (pb, tb, _, _) in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
        assert ta.to_dict() == tb.to_dict()
        assert pa.with_name(pa.stem + ".truth.json").exists()
    assert {(lay, ren) for _, _, lay, ren in a} == {(x, y) for x in REAL_LIKE_LAYOUTS for y in REAL_LIKE_RENDERINGS}
    c = make_real_like_pages(3, tmp_path / "c", seed=2029)
    assert c[0][0].read_bytes() != a[0][0].read_bytes()
