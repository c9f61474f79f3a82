from __future__ import annotations

import csv

import pytest

from bmdkit import reference
from bmdkit.errors import ReferenceDataError


def test_every_row_of_every_table_is_cited() -> None:
    names = reference.available_tables()
    assert "constants" in names and "plausible_ranges" in names
    for name in names:
        rows = reference.table(name)
        assert rows, name
        assert all(r["source"] for r in rows), name


def test_constants_by_name() -> None:
    assert reference.constant("lsc_factor") == pytest.approx(2.77)
    assert reference.constant("trial_t_threshold") == -2.0
    with pytest.raises(ReferenceDataError):
        reference.constant("no_such_constant")


def test_uncited_row_is_refused(tmp_path, monkeypatch) -> None:
    with (tmp_path / "constants.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "value", "source"])
        w.writerow(["lsc_factor", "2.77", ""])
    monkeypatch.setenv("BMDKIT_REFERENCE_DATA", str(tmp_path))
    reference.clear_cache()
    try:
        with pytest.raises(ReferenceDataError, match="no source"):
            reference.constant("lsc_factor")
    finally:
        monkeypatch.delenv("BMDKIT_REFERENCE_DATA")
        reference.clear_cache()
