"""One cell, one column: two measures of a row read from the same ink are withdrawn and flagged."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bmdkit.checks import apply_all
from bmdkit.checks.cells import SAME_INK_OVERLAP, shared_cells
from bmdkit.flags import FlagCode
from bmdkit.model import (
    Exam,
    InputKind,
    Location,
    Method,
    Region,
    RegionResult,
    Side,
    Source,
    Status,
    ValueSource,
)
from bmdkit.pipeline import process_file
from bmdkit.samples.report_gen import render_report
from bmdkit.samples.truth import TruthGenerator

SHA = "ab" * 32


def _src(box: tuple[int, int, int, int] | None, page: int = 1, text: str = "") -> ValueSource:
    return ValueSource(confidence=0.9, location=Location(page=page, box=box) if box else None, raw_text=text)


def _neck(t_box: tuple[int, int, int, int] | None, z_box: tuple[int, int, int, int] | None,
          t_page: int = 1) -> Exam:
    neck = RegionResult(
        Region.FEMORAL_NECK, Method.OCR, side=Side.LEFT, bmd=0.812, t_score=-0.2, z_score=-0.2,
        sources={"bmd": _src((100, 50, 140, 62)), "t_score": _src(t_box, t_page), "z_score": _src(z_box)},
    )
    total = RegionResult(
        Region.TOTAL_HIP, Method.OCR, side=Side.LEFT, bmd=0.901, t_score=-0.8, z_score=-0.7,
        sources={"bmd": _src((100, 70, 140, 82)), "t_score": _src((160, 70, 180, 82)),
                 "z_score": _src((200, 70, 220, 82))},
    )
    return Exam(source=Source("page.png", SHA, InputKind.IMAGE), regions=(neck, total))


def test_a_t_score_read_from_the_z_cell_is_withdrawn_and_flagged() -> None:
    checked = apply_all(_neck((200, 50, 220, 62), (200, 50, 220, 62)))
    neck = checked.region(Region.FEMORAL_NECK, Side.LEFT)
    assert neck is not None and neck.t_score is None and neck.z_score is None
    assert neck.bmd == 0.812  # the row's own cells stay
    flags = [f for f in checked.flags if f.code is FlagCode.SHARED_CELL]
    assert {(f.region, f.side, f.measure) for f in flags} == {
        ("femoral_neck", Side.LEFT, "t_score"), ("femoral_neck", Side.LEFT, "z_score")}
    assert all("T-score -0.2, Z-score -0.2" in f.message for f in flags)  # what was read is kept in words
    total = checked.region(Region.TOTAL_HIP, Side.LEFT)
    assert total is not None and total.t_score == -0.8  # other rows untouched
    assert checked.status is Status.FLAGGED
    assert apply_all(checked).flags == checked.flags  # idempotent


@pytest.mark.parametrize(("t_box", "z_box", "t_page", "shared"), [
    ((200, 50, 220, 62), (204, 51, 224, 63), 1, True),  # mostly the same ink
    ((160, 50, 180, 62), (200, 50, 220, 62), 1, False),  # neighbouring columns
    ((200, 50, 220, 62), (200, 50, 220, 62), 2, False),  # the same place on another page
    (None, None, 1, False),  # no boxes (DICOM values)
])
def test_what_counts_as_the_same_ink(t_box, z_box, t_page, shared: bool) -> None:
    neck = _neck(t_box, z_box, t_page).regions[0]
    assert bool(shared_cells(neck)) is shared
    assert 0 < SAME_INK_OVERLAP <= 1


def test_a_blank_t_column_on_a_real_page_gives_no_t_scores(tmp_path: Path) -> None:
    """A dual-hip page of a young patient whose T-score column is blank: no T-score comes out,
    and none is a copy of the Z-score beside it."""
    truth = TruthGenerator(36).exam(vendor="hologic", scan_type="hip_dual")
    truth.regions = [dataclasses.replace(r, t_score=None) for r in truth.regions]
    page = tmp_path / "young.png"
    render_report(truth, "hologic", "en", dpi=150).save(page)
    exam = process_file(page)
    assert exam.regions, [f.message for f in exam.flags]
    for r in exam.regions:
        assert r.t_score is None or r.method is Method.COMPUTED, (r.region, r.side, r.t_score, r.z_score)
        assert not shared_cells(r)
    assert any(r.z_score is not None for r in exam.regions)


def test_a_reviewer_decided_value_is_never_withdrawn() -> None:
    """A value a reviewer entered keeps its cell's box as provenance; it is a person's reading, kept."""
    exam = _neck((200, 50, 220, 62), (200, 50, 220, 62))
    neck = exam.regions[0]
    decided = ValueSource(confidence=1.0, location=Location(page=1, box=(200, 50, 220, 62)),
                          engines=("tesseract", "reviewer"))
    exam = exam.with_regions([neck.replace(sources={**neck.sources, "t_score": decided}), *exam.regions[1:]])
    checked = apply_all(exam)
    assert checked.region(Region.FEMORAL_NECK, Side.LEFT).t_score == -0.2
    assert not [f for f in checked.flags if f.code is FlagCode.SHARED_CELL]
