"""The exam date where the page's reading lost its label, or prints it without one (issue 22).

Screen-resolution report headers print small bold labels ("Measured:",
"Analyzed:") that OCR drops, and Hologic prints a hip page's scan date over
each image with no label at all. These tests read real page images with the
real engines.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from bmdkit.options import ReadOptions
from bmdkit.report import datelabels, exam_facts, ocr
from bmdkit.report.lines import group_lines, line_text, split_tokens
from bmdkit.report.pagefiles import load_pages
from bmdkit.report.pageimage import read_image_page
from bmdkit.report.rereading import Budget, PageRereader

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def test_the_same_day_printed_twice_without_a_label_is_the_exam_date() -> None:
    lines = ["Right Hip 12/04/2019   Left Hip 12/04/2019", "Scan Id: A1204190F  Analyis: Decammher 04,2019 12:56"]
    found = exam_facts.find_exam_date(lines)
    assert found.date == dt.date(2019, 12, 4) and not found.ambiguous


def test_two_different_unlabelled_dates_give_none() -> None:
    found = exam_facts.find_exam_date(["154.0 cm 01/14/2019 3:22 PM", "White 04/25/2019 9:28 AM"])
    assert found.date is None


def test_a_month_named_date_settles_the_order_of_a_labelled_slash_date() -> None:
    found = exam_facts.find_exam_date(["Scan Date: 03/04/2026", "Printed: 4 March 2026"])
    assert found.date == dt.date(2026, 3, 4) and not found.ambiguous


def test_an_unrelated_month_named_date_leaves_it_ambiguous() -> None:
    found = exam_facts.find_exam_date(["Scan Date: 03/04/2026", "Printed: 9 May 2026"])
    assert found.ambiguous and set(found.alternatives) == {dt.date(2026, 3, 4), dt.date(2026, 4, 3)}


def _header_page(path: Path, scale: float = 1.0) -> Path:
    """A report header as a screen prints it: bold labels, regular values, two dates."""
    img = Image.new("L", (int(900 * scale), int(260 * scale)), 255)
    d = ImageDraw.Draw(img)
    bold = ImageFont.truetype(DEJAVU_BOLD, int(22 * scale))
    font = ImageFont.truetype(DEJAVU, int(22 * scale))
    rows = [("Birth Date:", "04/02/1942"), ("Measured:", "01/14/2019  3:22:15 PM"),
            ("Analyzed:", "04/25/2019  9:28:08 AM")]
    for k, (label, value) in enumerate(rows):
        y = int((40 + 60 * k) * scale)
        d.text((int(60 * scale), y), label, font=bold, fill=0)
        d.text((int(330 * scale), y), value, font=font, fill=0)
    img.save(path)
    return path


@pytest.fixture(scope="module")
def header(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, list]:
    path = _header_page(tmp_path_factory.mktemp("dates") / "header.png")
    image = np.asarray(Image.open(path).convert("L"))
    lines = group_lines(split_tokens(ocr.rapid_page(image)))
    return image, lines


def _without_labels(lines: list) -> list:
    """The page's lines as a reading that lost every label word (the case on GE screen pages)."""
    out = []
    for line in lines:
        kept = [t for t in line if not exam_facts.has_date_label(t.text)]
        out.append(kept)
    return [line for line in out if line]


def test_a_lost_exam_label_is_read_again_beside_its_date(header: tuple[np.ndarray, list]) -> None:
    image, lines = header
    assert exam_facts.find_exam_date([line_text(x) for x in lines]).date == dt.date(2019, 1, 14)
    lost = _without_labels(lines)
    texts = [line_text(x) for x in lost]
    assert not any(exam_facts.has_date_label(t) for t in texts)
    assert exam_facts.find_exam_date(texts).date is None  # three unlabelled dates: none taken

    reader = PageRereader(image, ["tesseract", "rapidocr"], ReadOptions(), Budget())
    restored = datelabels.restore_date_labels(lost, reader.read_boxes)
    found = exam_facts.find_exam_date([line_text(x) for x in restored])
    assert found.date == dt.date(2019, 1, 14) and not found.ambiguous
    added = [t for line in restored for t in line if t.engine == "reread"]
    assert added and all(exam_facts.has_date_label(t.text) for t in added)


def test_nothing_is_read_again_where_the_page_names_its_exam_date(header: tuple[np.ndarray, list]) -> None:
    _, lines = header
    asked: list[int] = []

    def reread(boxes: list) -> list[list[str]]:
        asked.append(len(boxes))
        return [[] for _ in boxes]

    assert datelabels.restore_date_labels(lines, reread) is lines and asked == []


def test_a_label_with_no_date_word_adds_nothing(header: tuple[np.ndarray, list]) -> None:
    _, lines = header
    lost = _without_labels(lines)
    restored = datelabels.restore_date_labels(lost, lambda boxes: [["Weight:", "44.9 kg"] for _ in boxes])
    assert [line_text(x) for x in restored] == [line_text(x) for x in lost]


def test_labels_are_read_again_on_the_page_with_its_lines_kept(tmp_path: Path) -> None:
    """Line removal whites out long runs of ink; at screen resolution the tops of touching bold
    letters are such runs (GE's 'Measured:' comes out as dashes). A label is therefore re-read on
    the prepared image before line removal (OcrPage.word_reader), which lines up with the layout's."""
    path = _header_page(tmp_path / "small.png", scale=0.42)  # ~9 px type, as a 90 ppi screenshot
    page = load_pages(path, ReadOptions(), None, "image")[0]
    read = read_image_page(page, ["rapidocr", "tesseract"], ReadOptions(), Budget())
    assert read.with_lines is not None and read.with_lines.shape == read.image.shape
    words = read.word_reader()
    assert words.image is read.with_lines and words.budget is read.rereader.budget
    restored = datelabels.restore_date_labels(_without_labels(read.layout.lines), words.read_boxes)
    assert exam_facts.find_exam_date([line_text(x) for x in restored]).date == dt.date(2019, 1, 14)
