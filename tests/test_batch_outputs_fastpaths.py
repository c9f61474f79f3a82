"""The batch's output shortcuts (issue 20) write exactly what the long way wrote.

- ``results.csv``: :func:`~bmdkit.export.results_csv.safe_exam_cells` (list rows, the exam's and a
  region's cells made safe once) against :class:`~bmdkit.batchfolder.cells.SafeDictWriter` over
  :func:`~bmdkit.export.results_csv.exam_rows`, on exams whose texts start with formula characters;
- :meth:`Redactor.exam`'s one pre-test over all of an exam's texts: a name in any one text is masked;
- ``exams.jsonl`` written from the JSON text already made for ``results.jsonl`` and each file's
  :class:`~bmdkit.merge.Visit`: the same bytes;
- the ledger's clean-ups of an unread input's entry and of a name kept from before places, which
  now run only when such an entry can exist: they still happen, in a new ledger and a reopened one.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

from helpers.batch import truth_to_exam

from bmdkit.batch.ledger import LEGACY_PLACE, Ledger
from bmdkit.batchfolder.cells import SafeDictWriter
from bmdkit.export.jsonout import exam_to_dict
from bmdkit.export.results_csv import COLUMNS, exam_rows, safe_exam_cells
from bmdkit.flags import FlagCode
from bmdkit.merge import visit_of
from bmdkit.merged_file import write_exams, write_exams_of
from bmdkit.model import Exam, Flag, Location, ValueSource
from bmdkit.privacy import Redactor
from bmdkit.samples.truth import TruthGenerator

_RISKY = ("=HYPERLINK(\"x\")", "-L1", "'quoted", "+1.5", "@sum", "\tTab", "-2.1", "plain")


def _exams(n: int = 16) -> list[Exam]:
    gen = TruthGenerator(11)
    out = []
    for i in range(n):
        exam = truth_to_exam(gen.exam(scan_type="spine" if i % 2 else "hip_dual"), f"/site/{_RISKY[i % 8]}{i}.dcm")
        regions = tuple(r.replace(label=_RISKY[(i + j) % 8] + (r.label or "")) for j, r in enumerate(exam.regions))
        exam = replace(exam, regions=regions, scanner_model=_RISKY[(i + 3) % 8],
                       flags=(Flag(FlagCode.UNPLACED_DATA, "x", region=regions[0].region.value),))
        out.append(exam)
    out.append(replace(out[0], regions=(), flags=()))  # a file without values: one row
    return out


def test_safe_exam_cells_write_what_the_dict_writer_wrote() -> None:
    old, new = io.StringIO(), io.StringIO()
    wo = SafeDictWriter(old, fieldnames=list(COLUMNS), lineterminator="\n")
    wn = SafeDictWriter(new, fieldnames=list(COLUMNS), lineterminator="\n")
    wo.writeheader(), wn.writeheader()
    for exam in _exams():
        wo.writerows(exam_rows(exam))
        wn.writer.writerows(safe_exam_cells(exam))
    assert new.getvalue() == old.getvalue()
    rows = list(csv.reader(io.StringIO(new.getvalue())))
    assert any(c.startswith("'=HYPERLINK") for r in rows for c in r)  # escaped, not dropped
    assert not any(c[:1] in ("=", "@", "\t") for r in rows for c in r)  # a number like +1.5 stays


def test_a_name_in_any_one_text_is_masked() -> None:
    exam = _exams(1)[0]
    name, pid = exam.patient.name, exam.patient.patient_id
    red = Redactor([name, pid])
    assert red.exam(exam) is exam
    r0 = exam.regions[0]
    m0, s0 = "bmd", ValueSource(confidence=0.9)
    places = [
        *(replace(exam, **{k: f"by {name}"}) for k in
          ("scanner_model", "scanner_serial", "scanner_software", "institution", "study_instance_uid")),
        replace(exam, flags=(Flag(FlagCode.UNPLACED_DATA, f"row {pid} not placed"),)),
        replace(exam, regions=(r0.replace(label=f"{name} spine"), *exam.regions[1:])),
        replace(exam, regions=(r0.replace(location=Location(page=1, detail=f"row of {name}")), *exam.regions[1:])),
        replace(exam, regions=(r0.replace(sources={**r0.sources, m0: replace(s0, raw_text=f"{pid} 0.9")}),
                               *exam.regions[1:])),
        replace(exam, regions=(r0.replace(sources={**r0.sources, m0: replace(
            s0, location=Location(page=2, detail=f"cell of {name}"))}), *exam.regions[1:])),
    ]
    for leaky in places:
        masked = red.exam(leaky)
        assert masked is not leaky
        d = exam_to_dict(masked)
        d.pop("patient")
        text = json.dumps(d, ensure_ascii=False)
        assert name not in text and pid not in text and "<redacted>" in text


def test_exams_jsonl_from_the_texts_and_visits_is_the_same(tmp_path: Path) -> None:
    """The batch writes exams.jsonl from each line's text and :class:`Visit` (building exams only for the
    files merged): the same bytes as from every line's exam and dict."""
    exams = _exams()
    uid = "1.2.826.0.1.3680043.2.1125.9"
    exams[2] = replace(exams[2], study_instance_uid=uid)  # a hip and a spine file of one study: two exams
    exams[3] = replace(exams[3], study_instance_uid=uid, patient=exams[2].patient, exam_date=exams[2].exam_date)
    exams[5] = replace(exams[5], study_instance_uid=uid, patient=exams[2].patient, exam_date=exams[2].exam_date)
    lines = [(e, exam_to_dict(e)) for e in exams]
    texts = [json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for _, d in lines]
    a = write_exams(tmp_path, lines, target=tmp_path / "a.jsonl")
    write_exams_of(tmp_path / "b.jsonl", [visit_of(e) for e, _ in lines], texts)
    assert a.read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    merged = [json.loads(t) for t in a.read_text(encoding="utf-8").splitlines()]
    assert any(len(d.get("merged_from", [])) == 2 for d in merged)  # the study's files were merged


def _names(out: Path) -> set[tuple[str, str]]:
    with Ledger(out) as led:
        return set(led.db.execute("SELECT place, key FROM names").fetchall())


def test_unread_entry_and_legacy_name_still_give_way(tmp_path: Path) -> None:
    unread, real = "0" * 64, "a" * 64
    place = "file:/in/a.dcm"
    with Ledger(tmp_path / "new") as led:  # a new ledger: both kinds appear during the run
        led.see("a.dcm", "k-unread", unread, "s1", place)
        led.see("a.dcm", "k-real", real, "s2", place)
        led.see("b.dcm", "k-b", "b" * 64, "s1")  # no place: kept under the legacy place
        led.see("b.dcm", "k-b", "b" * 64, "s1", "file:/in/b.dcm")
    assert _names(tmp_path / "new") == {(place, "k-real"), ("file:/in/b.dcm", "k-b")}

    with Ledger(tmp_path / "old") as led:
        led.see("a.dcm", "k-unread", unread, "s1", place)
        led.see("b.dcm", "k-b", "b" * 64, "s1")
    assert _names(tmp_path / "old") == {(place, "k-unread"), (LEGACY_PLACE + "b.dcm", "k-b")}
    with Ledger(tmp_path / "old") as led:  # reopened: both known from the state
        led.see("a.dcm", "k-real", real, "s2", place)
        led.see("b.dcm", "k-b", "b" * 64, "s1", "file:/in/b.dcm")
    assert _names(tmp_path / "old") == {(place, "k-real"), ("file:/in/b.dcm", "k-b")}
