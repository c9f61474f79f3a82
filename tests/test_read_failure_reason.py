"""Every failed file names its reason in an error flag (the batch's failures.csv lists error flags).

A report page whose only results row had blank cells (a fuzzed, broken PDF) came out ``failed``
(no BMD or T-score at all) with nothing but info and review flags: failures.csv would have given
no reason. ``read.failure_explained`` adds a ``no_results`` error there, in ``read_file`` and again
after the checks (which may withdraw values); a skipped file (not a scan) is left as it is.
"""

from __future__ import annotations

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Exam, Flag, InputKind, Method, Outcome, Region, RegionResult, Side, Source, Status
from bmdkit.pipeline import process_file
from bmdkit.read import failure_explained

SRC = Source(path="r.png", sha256="0" * 64, kind=InputKind.IMAGE)


def test_a_failure_without_an_error_gets_its_reason() -> None:
    blank = RegionResult(Region.TOTAL_HIP, Method.OCR, Side.LEFT, z_score=0.5)
    exam = Exam(source=SRC, regions=(blank,), flags=(
        Flag(FlagCode.MISSING_VALUE, "The BMD of the left total hip is not printed", "total_hip",
             severity=Severity.INFO),))
    assert exam.status is Status.FAILED and not any(f.level is Severity.ERROR for f in exam.flags)
    got = failure_explained(exam)
    errors = [f for f in got.flags if f.level is Severity.ERROR]
    assert [f.code for f in errors] == [FlagCode.NO_RESULTS] and "see the other flags" in errors[0].message
    assert got.flags[:1] == exam.flags  # the other flags stay


def test_other_exams_are_left_alone(tmp_path) -> None:
    ok = Exam(source=SRC, regions=(RegionResult(Region.TOTAL_HIP, Method.OCR, Side.LEFT, bmd=0.8),))
    assert failure_explained(ok) is ok
    note = tmp_path / "notes.txt"
    note.write_text("meeting notes, nothing else\n", encoding="utf-8")
    skipped = process_file(note)
    assert skipped.outcome is Outcome.SKIPPED and [f.code for f in skipped.flags] == [FlagCode.NOT_A_SCAN]
