"""A file's output pieces made in the worker (issue 20) are what the outputs would make from its line.

- pieces made from the exam at hand (:func:`bmdkit.batch.made.make`) equal those made from the
  line read back (the long way), for every bundled sample and every DICOM shape of the bench mix;
- a batch's outputs are byte for byte the same whether its ledger holds pieces or not, with
  a duplicate input, an archive member and a reviewer decision among the files;
- stored pieces are used only for a line shown as it was stored, and only this version's;
- a ledger from before pieces were stored is given the column and read as before.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SAMPLES

from bmdkit.batch.ledger import Ledger
from bmdkit.batch.outputs import made_here
from bmdkit.batch.made import MADE_BY, Made, make
from bmdkit.batch.runner import run_batch
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.options import ReadOptions
from bmdkit.pipeline import process_file
from bmdkit.samples import dicom_gen
from bmdkit.samples.truth import SCAN_KINDS, TruthGenerator

NO_OCR = ReadOptions(ocr_engines=())
OUTPUTS = ("results.jsonl", "results.csv", "failures.csv", "skipped.csv", "exams.jsonl")


def _bundled() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and not p.name.endswith((".json", ".md")))


def _generated(root: Path) -> list[Path]:
    gen = TruthGenerator(77)
    out: list[Path] = []
    for i, kind in enumerate((*dicom_gen.ALL_KINDS, "report_pdf")):
        t = gen.exam(scan_type=SCAN_KINDS[i % len(SCAN_KINDS)], exclude=["L1"] if i % 3 == 0 else None)
        out += [p for p, _ in dicom_gen.write_dicom_samples(t, root, (kind,))]
    return out


def test_pieces_made_from_the_exam_are_those_made_from_its_line(tmp_path: Path) -> None:
    files = _bundled() + _generated(tmp_path)
    assert len(files) > 40
    for p in files:
        exam = process_file(p, NO_OCR)
        line = exam_to_dict(exam)
        here = make(exam, line)
        again = made_here(json.loads(json.dumps(line, ensure_ascii=False, sort_keys=True)))
        assert here == again, p.name


def _site(root: Path) -> Path:
    """Bundled DICOM and text samples, one of them twice, and one inside a zip."""
    site = root / "site"
    site.mkdir()
    usable = [p for p in _bundled() if p.suffix in (".dcm", ".txt", ".pdf") and "bad" not in p.parts]
    picked, zipped = usable[:14], usable[14:16]
    for p in picked:
        shutil.copy(p, site / p.name)
    shutil.copy(picked[0], site / ("copy_of_" + picked[0].name))  # the same content under two names
    with zipfile.ZipFile(site / "delivery.zip", "w") as zf:  # members read from temporary copies
        for p in zipped:
            zf.write(p, "inner/" + p.name)
    return site


def _outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def _rewrite(out: Path) -> dict[str, bytes]:
    with Ledger(out) as led:
        led.write_outputs()
    return _outputs(out)


def _named_once(out: Path) -> set[str]:
    db = sqlite3.connect(out / "state.sqlite")
    try:
        return {k for (k,) in db.execute("SELECT key FROM names GROUP BY key HAVING COUNT(*) = 1")}
    finally:
        db.close()


def _pieces(out: Path) -> dict[str, str | None]:
    db = sqlite3.connect(out / "state.sqlite")
    try:
        return dict(db.execute("SELECT key, made FROM files").fetchall())
    finally:
        db.close()


def _set_pieces(out: Path, pieces: dict[str, str | None]) -> None:
    db = sqlite3.connect(out / "state.sqlite")
    try:
        with db:
            db.executemany("UPDATE files SET made = ? WHERE key = ?", [(v, k) for k, v in pieces.items()])
    finally:
        db.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("made")
    out = root / "out"
    run_batch([_site(root)], out, workers=1, options=NO_OCR, progress=False)
    return out


def test_outputs_are_the_same_with_and_without_stored_pieces(batch: Path, tmp_path: Path) -> None:
    pieces = _pieces(batch)
    assert sum(v is not None for v in pieces.values()) >= 10  # the worker made them for plain files
    assert any(v is None for v in pieces.values())  # not for the archive's members (temporary copies)
    with_pieces = _outputs(batch)
    bare = tmp_path / "bare"
    shutil.copytree(batch, bare)
    _set_pieces(bare, dict.fromkeys(pieces))
    assert _rewrite(bare) == with_pieces  # every line made again from the line: the same bytes
    assert _rewrite(batch) == with_pieces  # and with the pieces, rewritten: the same bytes
    assert b"duplicate_input" in with_pieces["results.jsonl"]  # the twice-seen file went the long way


def test_stored_pieces_are_used_only_for_a_line_shown_as_stored(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(batch, out)
    pieces = _pieces(out)
    key, text = next((k, v) for k, v in sorted(pieces.items()) if v and k in _named_once(out))
    made = Made.from_json(text)
    assert made is not None
    marker = "marked-row-" + key[:8]
    _set_pieces(out, {key: replace(made, csv=f"{marker}\n").to_json()})
    assert marker.encode() in _rewrite(out)["results.csv"]  # shown as stored: the pieces are written as they are
    _set_pieces(out, {key: replace(made, csv=f"{marker}\n", made_by="0.0.0/0").to_json()})
    assert marker.encode() not in _rewrite(out)["results.csv"]  # another version's pieces: made again
    assert MADE_BY.endswith("/1") or MADE_BY.count("/") == 1


def test_a_reviewer_decision_makes_the_rows_again(batch: Path, tmp_path: Path) -> None:
    """A line a decision changed is not shown as stored: its rows come from the changed line."""
    from bmdkit.batch.outputs import Stored

    made = next(Made.from_json(v) for v in _pieces(batch).values() if v)
    assert made is not None
    shown = Stored("{}", [made.path], [], None, None, None, made)
    assert shown.as_stored
    assert not replace(shown, decided=["a decision"]).as_stored
    assert not replace(shown, notes=["a name collision"]).as_stored
    assert not replace(shown, names=[made.path, "other/" + made.path]).as_stored
    assert not replace(shown, names=["renamed.dcm"]).as_stored


def test_a_ledger_from_before_pieces_is_read_as_before(batch: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(batch, old)
    db = sqlite3.connect(old / "state.sqlite")
    try:
        with db:
            db.execute("ALTER TABLE files DROP COLUMN made")
    finally:
        db.close()
    assert _rewrite(old) == _outputs(batch)
    assert set(_pieces(old).values()) == {None}  # the column is back, empty: lines made the long way
