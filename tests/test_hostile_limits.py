"""Per-file resource limits of ``bmdkit batch``: pixels, pages, memory, time.

Each limit is set on the command line, met by a real file, and must end
that file as failed with ``resource_limit`` and a reason that names the
limit, while a file under the limits in the same batch is still read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bmdkit.cli.batch import parse_size
from bmdkit.options import ReadOptions
from bmdkit.read import out_of_memory, read_file
from bmdkit.samples.build import write_report
from bmdkit.samples.dicom_gen import write_dicom_samples
from bmdkit.samples.hostile import _many_page_pdf, _pdf_of, _png_bomb
from bmdkit.samples.truth import TruthGenerator


def _batch(inputs: Path, out: Path, *opts: str) -> dict[str, dict]:
    proc = subprocess.run([sys.executable, "-m", "bmdkit", "batch", str(inputs), "--out", str(out),
                           "--no-progress", "--workers", "2", *opts], capture_output=True, timeout=300)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and "Traceback" not in err, err[-2000:]
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").split("\n") if x]
    return {Path(d["source"]["path"]).name: d for d in lines}


def _limit(d: dict) -> str:
    assert d["status"] == "failed", d["flags"]
    msgs = [f["message"] for f in d["flags"] if f["code"] == "resource_limit"]
    assert msgs, d["flags"]
    return " ".join(msgs)


@pytest.fixture(scope="module")
def sr_and_page(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A results SR (reads without OCR) and a report page PNG (needs OCR) of fresh exams."""
    root = tmp_path_factory.mktemp("limits")
    gen = TruthGenerator(61)
    sr, _ = write_dicom_samples(gen.exam(scan_type="spine"), root, ["sr_flat"])[0]
    page = write_report(gen.exam(vendor="hologic"), root, "png", "hologic", "en", np.random.default_rng(61)).path
    sc, _ = write_dicom_samples(gen.exam(vendor="hologic"), root, ["report_page_sc"])[0]
    return sr, page, sc


def test_pixel_and_page_caps(tmp_path: Path, sr_and_page) -> None:
    sr, _, sc = sr_and_page
    site = tmp_path / "in"
    site.mkdir()
    (site / "sr.dcm").write_bytes(sr.read_bytes())
    (site / "page_sc.dcm").write_bytes(sc.read_bytes())
    Image.new("L", (1500, 1000), 255).save(site / "wide.png")  # 1.5 MP, under the bomb's claim
    Image.new("L", (600, 600), 255).save(site / "small.png")
    (site / "bomb.png").write_bytes(_png_bomb(100_000, 100_000))
    (site / "three_pages.pdf").write_bytes(_many_page_pdf(3))
    got = _batch(site, tmp_path / "out", "--max-pixels", "1000000", "--max-pages", "2", "--no-ocr")
    assert "pixel" in _limit(got["wide.png"])
    assert "pixel" in _limit(got["bomb.png"])
    assert "pixel" in _limit(got["page_sc.dcm"])  # DICOM Rows x Columns checked before decoding
    assert "page" in _limit(got["three_pages.pdf"])
    # under the caps: not a resource limit (no OCR here, so the page fails for want of a reader)
    assert {f["code"] for f in got["small.png"]["flags"]} == {"no_reader"}
    assert got["sr.dcm"]["status"] != "failed"


def test_memory_cap(tmp_path: Path, sr_and_page) -> None:
    sr, page, _ = sr_and_page
    site = tmp_path / "in"
    site.mkdir()
    (site / "sr.dcm").write_bytes(sr.read_bytes())
    (site / "page.png").write_bytes(page.read_bytes())
    got = _batch(site, tmp_path / "out", "--max-memory", "150M", "--timeout", "120")
    assert "memory" in _limit(got["page.png"])  # OCR of a page needs more than 150 MiB
    assert got["sr.dcm"]["status"] != "failed"


def test_time_limit(tmp_path: Path, sr_and_page) -> None:
    _, page, _ = sr_and_page
    site = tmp_path / "in"
    site.mkdir()
    (site / "page.png").write_bytes(page.read_bytes())
    got = _batch(site, tmp_path / "out", "--timeout", "0.5")
    assert "time limit" in _limit(got["page.png"])


def test_in_process_caps_and_helpers(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_bomb())
    exam = read_file(bomb, ReadOptions())
    assert [f.code.value for f in exam.flags] == ["resource_limit"]
    assert out_of_memory(ImportError("libfoo.so: failed to map segment from shared object"))
    assert out_of_memory(RuntimeError("Exception during initialization: std::bad_alloc"))
    try:
        raise ValueError("wrapped") from MemoryError()
    except ValueError as exc:
        assert out_of_memory(exc)
    assert not out_of_memory(ValueError("bad value 3"))
    assert parse_size("4G") == 4 << 30 and parse_size("512M") == 512 << 20 and parse_size("0") == 0
    with pytest.raises(ValueError):
        parse_size("lots")


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file of the given objects (object 1 the catalog), with a correct xref table."""
    return _pdf_of(objects)


def test_pdf_with_a_damaged_page_object_fails_with_its_reason(tmp_path: Path) -> None:
    # the page tree names one page, but the page object is a number: pdfium cannot load it
    bad = tmp_path / "damaged_page.pdf"
    bad.write_bytes(_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                          b"42"]))
    exam = read_file(bad, ReadOptions())
    assert exam.status.value == "failed"
    assert [f.code.value for f in exam.flags] == ["unreadable"]
    assert "page 1 of 1" in exam.flags[0].message


def test_tesseract_page_stops_at_its_timeout() -> None:
    from bmdkit.report import ocr

    noise = (np.random.default_rng(5).random((2200, 1700)) * 255).astype(np.uint8)
    with pytest.raises(ocr.OCRTimeout):
        ocr.tesseract_page(noise, ("eng", "chi_sim"), timeout=0.2)
    with pytest.raises(ocr.OCRTimeout):  # no time left at all: not even started
        ocr.tesseract_page(noise, ("eng",), timeout=0.0)


def test_optional_second_layout_pass_is_skipped_past_the_budget() -> None:
    from bmdkit.report.reading import fill_from_other_engine
    from bmdkit.report.rereading import Budget, PageRereader

    page = np.full((400, 300), 255, np.uint8)
    spent = Budget(soft=0.0, hard=0.0)  # monotonic time 0: long past
    flags: list = []
    got = fill_from_other_engine([], PageRereader(page, ["rapidocr", "tesseract"], ReadOptions(), spent), 1, flags)
    assert got == []
    assert [f.code.value for f in flags] == ["page_quality"] and "time budget" in flags[0].message
    assert flags[0].severity.value == "info"
