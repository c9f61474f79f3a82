"""The layout stages one by one (tokens, lines, headers, columns, rows, layout), on the words of
real sample pages: the text layers of samples/reports/*_pdf_text.pdf (no OCR needed), whose
printed values are in the samples' .truth.json files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bmdkit.model import Region, Side
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.report import columns, headers, layout, lines, rows
from bmdkit.report.cells import DATA_MEASURES, Column, Table
from bmdkit.report.pagefiles import load_pages
from bmdkit.report.tokens import Token

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "reports"
NORLAND = SAMPLES / "s7-0008_norland_en_pdf_text.pdf"
HOLOGIC = SAMPLES / "s7-0018_hologic_en_pdf_text.pdf"


def _words(path: Path) -> list[Token]:
    (page,) = load_pages(path, DEFAULT_OPTIONS, None, "pdf")
    assert page.has_text_layer
    return page.words


def _truth(path: Path) -> dict[str, dict[str, float | None]]:
    t = json.loads(Path(f"{path}.truth.json").read_text())
    return {r["region"]: r for r in t["regions"]}


def _header_line(ls: list[list[Token]]) -> int:
    """The index of the results table's header line (the one naming the most data columns)."""
    found = [(sum(c.measure in DATA_MEASURES for c in h.columns), i)
             for i in range(len(ls)) for h in [headers.header_at(ls, i)] if h.columns is not None]
    return max(found)[1]


def test_token_geometry() -> None:
    t = Token("0.653", (10, 20, 50, 34), 0.9, "pdf-text")
    assert (t.xc, t.yc, t.height) == (30.0, 27.0, 14)


def test_lines_keep_a_row_on_one_line() -> None:
    ls = lines.group_lines(lines.split_tokens(_words(NORLAND)))
    texts = [lines.line_text(x) for x in ls]
    neck = next(x for x in texts if x.startswith("Femoral Neck"))
    assert "3.56" in neck.split() and "5.45" in neck.split()  # BMC and area of the truth, on the row's line
    assert all(x[k].box[0] <= x[k + 1].box[0] for x in ls for k in range(len(x) - 1))  # left to right
    assert lines.residual_skew(lines.split_tokens(_words(NORLAND))) == pytest.approx(0.0, abs=1e-3)


def test_split_tokens_shares_the_box_by_characters() -> None:
    a, b = lines.split_tokens([Token("BMD T-score", (0, 0, 110, 10), 0.9, "x")])
    assert (a.text, b.text) == ("BMD", "T-score") and a.box[2] <= b.box[0]


@pytest.mark.parametrize("path", [NORLAND, HOLOGIC])
def test_header_names_columns(path: Path) -> None:
    ls = lines.group_lines(lines.split_tokens(_words(path)))
    head = headers.header_at(ls, _header_line(ls))
    assert head.columns is not None and head.n_lines == 1
    assert all(isinstance(c, Column) and c.x0 < c.x1 for c in head.columns)
    assert {"bmd", "bmc", "area", "t_score", "z_score"} <= {c.measure for c in head.columns}


def test_columns_place_each_number_under_its_header() -> None:
    ls = lines.group_lines(lines.split_tokens(_words(HOLOGIC)))
    i = _header_line(ls)
    cols = headers.header_at(ls, i).columns
    assert cols is not None
    first_x = min(c.x0 for c in cols if c.measure != "region")
    body = [rows.row_label(x, first_x) for x in ls[i + 1:i + 6]]
    where = columns.columns_of([b.vals for b in body], cols)
    truth = _truth(HOLOGIC)
    neck = next(b for b in body if b.label == "Neck")
    got = {cols[where[id(t)]].measure: t.text for t in neck.vals if id(t) in where}
    assert float(got["bmd"]) == truth["femoral_neck"]["bmd"] and float(got["area"]) == truth["femoral_neck"]["area"]


def test_row_labels_name_regions_and_sides() -> None:
    assert rows.label_meaning("Neck") == (Region.FEMORAL_NECK, None)
    assert rows.label_meaning("L2-L4")[0] == (Region.L2, Region.L3, Region.L4)
    assert rows.label_meaning("Left")[1] is Side.LEFT
    assert rows.label_meaning("") == (None, None)


@pytest.mark.parametrize("path", [NORLAND, HOLOGIC])
def test_layout_reads_the_sample_tables(path: Path) -> None:
    found = layout.find_tables(_words(path), guess=False)
    (tab,) = found.tables
    assert isinstance(tab, Table) and found.lines
    truth = _truth(path)
    assert tab.heading_side is Side(json.loads(Path(f"{path}.truth.json").read_text())["regions"][0]["side"])
    by_region = {r.region.value: r for r in tab.rows if r.region is not None}
    assert set(by_region) == set(truth)
    for name, want in truth.items():
        cells = by_region[name].cells
        assert float(cells["bmd"].text) == pytest.approx(want["bmd"], abs=6e-4)
        assert float(cells["bmc"].text) == want["bmc"] and float(cells["area"].text) == want["area"]


class _Texts:
    """A CropReader answering every box with fixed texts."""

    def __init__(self, texts: list[str]) -> None:
        self.texts, self.asked = texts, 0

    def read_boxes(self, boxes: list[tuple[int, int, int, int]]) -> list[list[str]]:
        self.asked += len(boxes)
        return [list(self.texts) for _ in boxes]


def test_a_misread_label_is_read_again_by_the_service_handed_in() -> None:
    words = [w if w.text != "Neck" else Token("Nxqk", w.box, w.conf, w.engine) for w in _words(HOLOGIC)]
    service = _Texts(["Neck"])
    (tab,) = layout.find_tables(words, service).tables
    neck = next(r for r in tab.rows if r.region is Region.FEMORAL_NECK)
    assert service.asked >= 1 and neck.label_read == "reread"
