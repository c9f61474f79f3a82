"""A zip whose members are stored uncompressed is a zip, even with a PDF's header in its first KiB.

A PDF may have bytes before its ``%PDF-`` header (readers look for it in the first KiB), and
sniffing allowed that before it looked at the signatures files start with. A delivery zipped
without compression, a short text report first and a PDF second, then had the PDF's header at
about byte 500: the whole zip was read as one PDF, the text report in it was never read, and
nothing said so. Signatures at the start now come first.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from conftest import SAMPLES

from bmdkit.batch.runner import run_batch
from bmdkit.detect import Format, sniff, sniff_bytes
from bmdkit.options import ReadOptions

TEXT_REPORT = SAMPLES / "reports" / "s7-0024_sentences_zh.txt"
PDF_REPORT = SAMPLES / "reports" / "s7-0025_sentences_en.pdf"


def _stored_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.write(TEXT_REPORT, "inner/" + TEXT_REPORT.name)
        zf.write(PDF_REPORT, "inner/" + PDF_REPORT.name)
    return path


def test_a_stored_zip_with_a_pdf_near_its_start_is_a_zip(tmp_path: Path) -> None:
    z = _stored_zip(tmp_path / "delivery.zip")
    assert b"%PDF-" in z.read_bytes()[:1024]  # the case: a PDF header within the first KiB
    assert sniff(z) is Format.ZIP
    pdf = PDF_REPORT.read_bytes()
    assert sniff_bytes(b"\x00junk before the header\n" + pdf[:1000]) is Format.PDF  # still a PDF
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dtEXtComment\x00%PDF-1.4" + b"\x00" * 64
    assert sniff_bytes(png) is Format.PNG


def test_every_member_of_such_a_zip_is_read(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _stored_zip(site / "delivery.zip")
    shutil.copy(TEXT_REPORT, site / "loose.txt")
    out = tmp_path / "out"
    run_batch([site], out, workers=1, options=ReadOptions(ocr_engines=()), progress=False)
    lines = [json.loads(t) for t in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    paths = sorted(d["source"]["path"] for d in lines)
    assert any(p.endswith("delivery.zip!inner/" + PDF_REPORT.name) for p in paths), paths
    assert any(p.endswith("delivery.zip!inner/" + TEXT_REPORT.name)
               or any(s.endswith("delivery.zip!inner/" + TEXT_REPORT.name) for s in d["source"].get("seen_as", []))
               for d in lines for p in [d["source"]["path"]]), paths
    pdf_line = next(d for d in lines if d["source"]["path"].endswith(PDF_REPORT.name))
    assert pdf_line["source"]["kind"] == "pdf" and pdf_line["regions"]  # the PDF member read as a PDF
