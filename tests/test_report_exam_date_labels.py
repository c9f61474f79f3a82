"""A date whose label could not be read is not taken as the exam date.

On real GE slides the only date left legible is the footer's print date, its
label misread ('Printed:' as 'Dacre:' glued to the date): with no exam label
on the page, that date was taken as the exam date, with no flag, a silent
wrong date (2019-04-25 for 2019-01-14). A Norland photo gave the same with
its birth date. A label the vocabulary knows neither as a date label nor as a
word for a date now keeps its date out of the exam date, and the
``no_exam_date`` flag names the date passed over.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import SAMPLES

from bmdkit import read_file
from bmdkit.report import exam_facts

FOOTER = "Dacre:04/25/20199:28:47 AM16[S21Flename:babcpeq63.dg:LeftFmu;76:0.75:50.03"


@pytest.mark.parametrize(("lines", "date"), [
    ([FOOTER], None),  # the print date's label misread: passed over
    (["Scan Dale: 01/14/2019"], None),  # an exam label misread: passed over too (flagged, never silent)
    (["Date: 01/14/2019"], dt.date(2019, 1, 14)),  # a word for a date: as unlabelled as before
    (["日期：2026-01-30"], dt.date(2026, 1, 30)),
    (["Sex: Female ScanDate:2026-05-08"], dt.date(2026, 5, 8)),  # a word for a date in it, space lost
    (["Report 2026-01-30"], dt.date(2026, 1, 30)),  # no label at all: the page's one date
    (["Patient ID: 12345 2026-01-30"], dt.date(2026, 1, 30)),  # the colon is not the date's
    (["Measured: 01/14/2019 3:22:15PM", FOOTER], dt.date(2019, 1, 14)),  # the exam label decides
    ([FOOTER, "01/14/2019"], dt.date(2019, 1, 14)),  # the unlabelled date, not the one labelled illegibly
])
def test_a_date_under_an_unknown_label_is_not_the_exam_date(lines: list[str], date: dt.date | None) -> None:
    found = exam_facts.find_exam_date(lines)
    assert found.date == date
    if date is None:
        assert found.unread and found.unread[0].endswith(("04/25/2019", "01/14/2019"))
        (flag,) = exam_facts.date_flags(found, "on the page")
        assert flag.code.value == "no_exam_date" and found.unread[0] in flag.message


def _report(tmp_path: Path, date_line: str) -> Path:
    text = (SAMPLES / "reports" / "s7-0024_sentences_zh.txt").read_bytes().decode("gb18030")
    lines = ["审核人：2026年5月31日" if ln.startswith("检查日期") else ln for ln in text.splitlines()]
    lines = [date_line if ln.startswith("审核人") else ln for ln in lines]
    path = tmp_path / "report.txt"
    path.write_bytes("\n".join(lines).encode("gb18030"))
    return path


def test_a_text_report_whose_only_date_has_an_unknown_label(tmp_path: Path) -> None:
    exam = read_file(_report(tmp_path, "审核人：2026年5月31日"))  # 'reviewer:': not an exam date
    assert exam.exam_date is None
    (flag,) = [f for f in exam.flags if f.code.value == "no_exam_date"]
    assert "审核人：2026年5月31日" in flag.message
    assert exam.regions  # the values are read as before
    known = read_file(_report(tmp_path, "检查日期：2026年5月31日"))
    assert known.exam_date == dt.date(2026, 5, 31)
    assert not [f for f in known.flags if f.code.value == "no_exam_date"]
