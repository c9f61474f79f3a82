"""The page stage (pageimage: prepare, read with the layout engine, straighten, turn upright) and
the re-reading service (rereading: Budget, PageRereader), on a real sample page image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bmdkit.model import Region
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.report import ocr, pageimage
from bmdkit.report.pagefiles import load_pages
from bmdkit.report.rereading import Budget, PageRereader
from bmdkit.report.tokens import Token

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "reports" / "s7-0002_hologic_en_png.png"
ENGINES = [e for e in ("tesseract", "rapidocr") if e in ocr.available_engines()]


def test_budget_from_the_time_limit() -> None:
    assert Budget.for_options(ReadOptions(timeout_s=0)) == Budget()
    assert not Budget().soft_passed() and Budget().left() is None
    b = Budget.for_options(ReadOptions(timeout_s=100))
    assert b.soft is not None and b.hard is not None and b.soft < b.hard and not b.soft_passed()


def test_rereader_reads_nothing_past_the_budget() -> None:
    spent = PageRereader(np.full((50, 80), 255, np.uint8), ["tesseract", "rapidocr"], ReadOptions(),
                         Budget(soft=0.0, hard=0.0))
    assert spent.read_boxes([(0, 0, 40, 20), (40, 0, 80, 20)]) == [[], []]


def test_straighten_leaves_level_words_alone() -> None:
    img = np.full((200, 400), 255, np.uint8)
    toks = [Token(f"w{i}", (20 + 60 * (i % 6), 20 + 30 * (i // 6), 60 + 60 * (i % 6), 34 + 30 * (i // 6)), 0.9, "x")
            for i in range(24)]
    out = pageimage.straighten(img, toks, np.eye(3))
    assert out.image is img and out.tokens == toks and np.array_equal(out.to_page, np.eye(3))


@pytest.mark.skipif(not ENGINES, reason="no OCR engine installed")
def test_read_image_page_finds_the_sample_table() -> None:
    (page,) = load_pages(SAMPLE, DEFAULT_OPTIONS, None, "png")
    read = pageimage.read_image_page(page, ENGINES, DEFAULT_OPTIONS, Budget())
    assert read.to_page.shape == (3, 3) and read.rereader.image is read.image
    truth = json.loads(Path(f"{SAMPLE}.truth.json").read_text())
    found = {r.region for t in read.layout.tables for r in t.rows if r.region is not None}
    found |= {v for t in read.layout.tables for r in t.rows for v in (r.levels or ())}
    assert {Region(r["region"]) for r in truth["regions"]} & found
    assert not [f for f in read.flags if "blurred" in f.message]  # a clean render is sharp
