"""The batch's per-file overhead cuts (issue 20) keep what the batch decides.

- the zip test of the input walk reads a file's first four bytes before asking
  :func:`bmdkit.detect.sniff`: it still calls a zip exactly what ``sniff`` calls one
  (not an office document, not a DICOM file whose preamble starts like a zip);
- checkpoints are spaced out when regenerating the outputs takes long;
- the pool's fork server has the batch's own modules loaded, so a worker does not
  import them (sqlite3, rich) before its first file, nor tesseract's wrapper (which imports
  pandas) before its first page;
- a page read with OCR off does not import the OCR engines at all.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from bmdkit.batch.runner import CHECKPOINT_SHARE, next_checkpoint_s, run_batch
from bmdkit.batch.walk import _is_zip, walk_inputs
from bmdkit.detect import Format, sniff
from bmdkit.options import ReadOptions


def _inputs(root: Path) -> dict[str, Path]:
    root.mkdir()
    files = {}
    plain = root / "delivery.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("a/report.txt", "BMD 0.9")
    files["zip"] = plain
    office = root / "letter.docx"
    with zipfile.ZipFile(office, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    files["office"] = office
    polyglot = root / "odd.dcm"  # a DICOM file whose 128-byte preamble starts like a zip
    polyglot.write_bytes(b"PK\x03\x04" + b"\0" * 124 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x001.2\0")
    files["dicom_pk"] = polyglot
    files["text"] = root / "notes.txt"
    files["text"].write_text("PK is not at the start here\n")
    files["empty"] = root / "empty.bin"
    files["empty"].write_bytes(b"")
    files["short"] = root / "pk.bin"
    files["short"].write_bytes(b"PK\x03")
    return files


def test_zip_test_agrees_with_sniff(tmp_path: Path) -> None:
    files = _inputs(tmp_path / "in")
    for name, p in files.items():
        assert _is_zip(p) == (sniff(p) is Format.ZIP), name
    assert _is_zip(files["zip"]) and not _is_zip(files["office"]) and not _is_zip(files["dicom_pk"])
    assert not _is_zip(tmp_path / "missing.zip")  # unreadable: not a zip (the walk reports it)
    shown = [i.display for i in walk_inputs([tmp_path / "in"], tmp_path)]
    assert any(s.endswith("delivery.zip!a/report.txt") for s in shown)  # the archive is opened
    assert any(s.endswith("letter.docx") for s in shown) and any(s.endswith("odd.dcm") for s in shown)


def test_checkpoints_spaced_out_when_writing_takes_long() -> None:
    assert next_checkpoint_s(30.0, 0.2) == 30.0
    slow = next_checkpoint_s(30.0, 20.0)
    assert slow > 30.0
    assert 20.0 / (20.0 + slow) <= CHECKPOINT_SHARE + 1e-9  # writing takes at most its share


def loaded_modules(path: str, options: ReadOptions) -> dict:
    """Worker side: the file's real result, and whether the fork server had loaded the batch's modules."""
    from bmdkit.batch import preload
    from bmdkit.batch.runner import work

    line = work(path, options)
    line["flags"].append({"code": "unplaced_data", "message": ",".join(preload.LOADED), "region": None,
                          "severity": "review"})
    return line


def _worker_note(tmp_path: Path, worker_fn: Callable[[str, ReadOptions], dict]) -> str:
    """Run a one-file batch with ``worker_fn`` and return the note it left on the file's line."""
    import json

    site = tmp_path / "site"
    site.mkdir()
    (site / "a.txt").write_text("not a scan\n")
    out = tmp_path / "out"
    run_batch([site], out, workers=1, progress=False, worker_fn=worker_fn)
    line = json.loads((out / "results.jsonl").read_text(encoding="utf-8").splitlines()[0])
    return [f["message"] for f in line["flags"] if f["code"] == "unplaced_data"][-1]


def test_workers_start_with_the_batch_modules_loaded(tmp_path: Path) -> None:
    loaded = _worker_note(tmp_path, loaded_modules).split(",")
    assert "bmdkit.batch.runner" in loaded and "bmdkit.pipeline" in loaded
    assert "pytesseract" in loaded  # and pandas with it: not in each worker's first page
    assert "bmdkit.batch.runner" in sys.modules  # and the batch itself runs it, of course


def warmed_tables(path: str, options: ReadOptions) -> dict:
    """Worker side: the file's real result, with what the fork server had warmed and whether the
    DICOM vocabulary was already loaded before this first file."""
    from bmdkit.batch import preload
    from bmdkit.batch.runner import work
    from bmdkit.dicom import words

    loaded_before = words._by_kind.cache_info().currsize
    line = work(path, options)
    line["flags"].append({"code": "unplaced_data", "region": None, "severity": "review",
                          "message": f"{loaded_before}|{','.join(preload.WARMED)}"})
    return line


def test_workers_start_with_the_reference_tables_loaded(tmp_path: Path) -> None:
    """The tables every file needs are loaded once in the fork server, not in each worker."""
    from bmdkit.batch.preload import WARM

    before, warmed = _worker_note(tmp_path, warmed_tables).split("|")
    assert before == "1"  # the vocabulary was there before the worker's first file
    assert warmed.split(",") == [f"{m}.{n}" for m, n, _, _ in WARM]  # every warm-up call succeeded


def test_page_read_with_ocr_off_imports_no_engine() -> None:
    """With OCR off a report page is not read (and says so), and neither OCR engine is imported:
    importing them costs a new process about 0.3 s before its first page."""
    import subprocess

    page = Path(__file__).resolve().parents[1] / "samples" / "reports" / "s7-0002_hologic_en_png.png"
    code = (
        "import sys\n"
        "from bmdkit import read_file\n"
        "from bmdkit.options import ReadOptions\n"
        f"exam = read_file({str(page)!r}, ReadOptions(ocr_engines=()))\n"
        "print(exam.status.value, sorted(f.code.value for f in exam.flags))\n"
        "print([m for m in ('rapidocr_onnxruntime', 'pytesseract', 'onnxruntime') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    status_line, engines_line = out.stdout.strip().splitlines()[-2:]
    assert status_line.startswith("failed"), out.stdout
    assert engines_line == "[]", out.stdout
