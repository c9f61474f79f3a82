"""The faster CSV cell writer (issue 20) writes exactly what the plain one wrote.

:func:`bmdkit.batchfolder.cells.safe_cell` now decides by a cell's first
character; it and :class:`~bmdkit.batchfolder.cells.SafeDictWriter` are
compared here with the rules as they were written before
(``startswith`` checks, then :class:`csv.DictWriter` over the made-safe dict) on
seeded random cells that start with every formula character, quotes, numbers
and plain text.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from bmdkit.batchfolder.cells import _NUMBER, FORMULA_STARTS, SafeDictWriter, safe_cell


def _old_safe_cell(value: object) -> object:
    if not isinstance(value, str):
        return value
    if value.startswith("'") or (value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value


def _cells(rng: random.Random, n: int) -> list[object]:
    firsts = [*FORMULA_STARTS, "'", "", "a", "1", ".", " ", "\u738b", "''"]
    bodies = ["", "2.1", "2+3", "HYPERLINK(\"x\")", "1e-3", ".5", "cmd|' /C calc'!A0", "L1-L4", "0.933", "e5"]
    out: list[object] = [None, 0, -2.1, 1.5e-3, True]
    for _ in range(n):
        out.append(rng.choice(firsts) + rng.choice(bodies) + rng.choice(["", "\n", ";x"]))
    return out


def test_safe_cell_as_before() -> None:
    rng = random.Random(20)
    for value in _cells(rng, 5000):
        assert safe_cell(value) == _old_safe_cell(value), repr(value)
        assert type(safe_cell(value)) is type(_old_safe_cell(value))


def test_dict_writer_rows_as_before() -> None:
    rng = random.Random(21)
    fields = ["path", "label", "bmd", "flag_codes"]
    rows = [{k: rng.choice(_cells(rng, 20)) for k in fields if rng.random() < 0.9} for _ in range(500)]
    new, old = io.StringIO(), io.StringIO()
    w = SafeDictWriter(new, fieldnames=fields, lineterminator="\n")
    o = csv.DictWriter(old, fieldnames=fields, lineterminator="\n")
    w.writeheader(), o.writeheader()
    for row in rows:
        w.writerow(row)
        o.writerow({k: _old_safe_cell(v) for k, v in row.items()})
    assert new.getvalue() == old.getvalue()
    with pytest.raises(ValueError, match="not in fieldnames"):
        w.writerow({"path": "a", "extra": "=1"})
