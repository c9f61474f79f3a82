"""Reviewer decisions: parsing, applying (pure), and ``bmdkit apply-decisions`` on a real batch folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import assert_valid
from helpers.review import make_batch

from bmdkit.cli.app import main
from bmdkit.export.jsonout import exam_from_dict
from bmdkit.flags import FlagCode
from bmdkit.model import Region, Status
from bmdkit.review.decisions import (
    AUDIT_COLUMNS,
    DECISION_COLUMNS,
    DecisionError,
    apply_decisions,
    decided_values,
    load_audit,
    parse_decisions,
)


@pytest.fixture
def batch(tmp_path: Path):
    out, exams = make_batch(tmp_path, 9, seed=11, flagged_share=0.6, failed=1)
    return out, exams


def _first_value(exams, flagged=True):
    for e in exams:
        if (e.status is Status.FLAGGED) == flagged and e.regions:
            r = e.regions[0]
            return e, r
    raise AssertionError("no such exam in the batch")


def _csv(rows: list[dict]) -> str:
    lines = [",".join(DECISION_COLUMNS)]
    for r in rows:
        lines.append(",".join(str(r.get(c, "")) for c in DECISION_COLUMNS))
    return "\n".join(lines) + "\n"


def _row(e, r, action="correct", old=None, new=None, reason="misread", reviewer="dr w"):
    return {"sha256": e.source.sha256, "region": r.region.value, "side": r.side.value if r.side else "",
            "measure": "bmd", "action": action, "old_value": r.bmd if old is None else old,
            "new_value": "" if new is None else new, "reason": reason, "reviewer": reviewer,
            "decided_at": "2026-11-25T10:00:00Z"}


def test_correct_sets_value_keeps_history_and_is_idempotent(batch):
    _, exams = batch
    e, r = _first_value(exams)
    new = round(r.bmd + 0.011, 3)
    ds = parse_decisions(_csv([_row(e, r, new=new)]))
    out, audit = apply_decisions(exams, ds)
    got = next(x for x in out if x.source.sha256 == e.source.sha256)
    assert got.region(r.region, r.side).bmd == new
    assert audit[0].value_before == r.bmd and audit[0].value_after == new and audit[0].applied
    corrected = [f for f in got.flags if f.code is FlagCode.CORRECTED]
    assert len(corrected) == 1 and ds[0].decision_id in corrected[0].message and "misread" in corrected[0].message
    assert len(got.flags) == len(e.flags) + 1  # nothing removed
    assert got.region(r.region, r.side).sources["bmd"].engines[-1] == "reviewer"
    # the others untouched, order kept
    assert [x.source.sha256 for x in out] == [x.source.sha256 for x in exams]
    assert [x for x in out if x.source.sha256 != e.source.sha256] == [x for x in exams if x.source.sha256 != e.source.sha256]
    side = r.side.value if r.side else None
    assert set(decided_values(got)) == {(r.region.value, side, "bmd")}
    again, audit2 = apply_decisions(out, ds)
    assert again == out and not audit2[0].applied and audit2[0].note == "already applied"


def test_accept_changes_no_value(batch):
    _, exams = batch
    e, r = _first_value(exams)
    out, audit = apply_decisions(exams, parse_decisions(_csv([_row(e, r, action="accept", reason="")])))
    got = next(x for x in out if x.source.sha256 == e.source.sha256)
    assert got.regions == e.regions
    # accepted is recorded as accepted, not as corrected: nothing changed
    assert got.flags[-1].code is FlagCode.ACCEPTED and "accepted" in got.flags[-1].message
    assert not any(f.code is FlagCode.CORRECTED for f in got.flags)


def test_chained_decisions_and_stale_ones(batch):
    _, exams = batch
    e, r = _first_value(exams)
    a = _row(e, r, new=1.0)
    b = _row(e, r, old=1.0, new=1.1, reason="second look")
    out, _ = apply_decisions(exams, parse_decisions(_csv([a, b])))
    assert next(x for x in out if x.source.sha256 == e.source.sha256).region(r.region, r.side).bmd == 1.1
    stale = _row(e, r, old=r.bmd + 0.5, new=1.2)
    with pytest.raises(DecisionError, match="stale"):
        apply_decisions(exams, parse_decisions(_csv([stale])))
    lax, audit = apply_decisions(exams, parse_decisions(_csv([stale])), strict=False)
    got = next(x for x in lax if x.source.sha256 == e.source.sha256)
    assert got.regions == e.regions and not audit[0].applied
    assert got.flags[-1].level.value == "review"  # a skipped decision is visible, not silent


def test_unknown_sha_and_region_are_listed(batch):
    _, exams = batch
    e, r = _first_value(exams)
    bad_sha = _row(e, r, new=1.0) | {"sha256": "f" * 64}
    bad_region = _row(e, r, new=1.0) | {"region": "L3" if r.region is not Region.L3 else "femoral_neck",
                                         "side": ""}
    with pytest.raises(DecisionError) as info:
        apply_decisions(exams, parse_decisions(_csv([bad_sha, bad_region])))
    text = " ".join(info.value.problems)
    assert "f" * 64 in text and "unknown region" in text


@pytest.mark.parametrize("change,message", [
    ({"measure": "density"}, "unknown measure"),
    ({"action": "delete"}, "not accept or correct"),
    ({"new_value": "abc"}, "not a number"),
    ({"new_value": "nan"}, "not a finite number"),
    ({"reason": ""}, "needs a reason"),
    ({"sha256": "xyz"}, "not 64 hex"),
    ({"side": "up"}, "unknown side"),
])
def test_malformed_rows_rejected(batch, change, message):
    _, exams = batch
    e, r = _first_value(exams)
    with pytest.raises(DecisionError, match=message):
        parse_decisions(_csv([_row(e, r, new=1.0) | change]))


def test_missing_columns_rejected():
    with pytest.raises(DecisionError, match="missing column"):
        parse_decisions("sha256,region\n")


def _results(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def test_cli_applies_appends_audit_and_survives_rerun(batch, tmp_path, contract, capsys):
    out, exams = batch
    e, r = _first_value(exams)
    before = _results(out)
    new = round(r.bmd - 0.02, 3)
    dec = tmp_path / "decisions.csv"
    dec.write_text(_csv([_row(e, r, new=new, reviewer="")]), encoding="utf-8")
    assert main(["apply-decisions", str(out), str(dec), "--reviewer", "Dr Zhou"]) == 0
    after = _results(out)
    assert len(after) == len(before)
    for d in after:
        assert_valid(contract, d)
    changed = [d for d in after if d["source"]["sha256"] == e.source.sha256][0]
    assert "subject" in changed  # the batch's extra fields are kept
    got = exam_from_dict(changed)
    assert got.region(r.region, r.side).bmd == new
    others_before = [d for d in before if d["source"]["sha256"] != e.source.sha256]
    others_after = [d for d in after if d["source"]["sha256"] != e.source.sha256]
    assert others_before == others_after
    with open(out / "audit.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(AUDIT_COLUMNS)
    assert len(rows) == 1 and rows[0]["reviewer"] == "Dr Zhou" and rows[0]["applied_by"] == "Dr Zhou"
    assert float(rows[0]["old_value"]) == r.bmd and float(rows[0]["new_value"]) == new
    # same CSV again: nothing new anywhere
    text_before = (out / "results.jsonl").read_bytes()
    assert main(["apply-decisions", str(out), str(dec), "--reviewer", "Dr Zhou"]) == 0
    assert (out / "results.jsonl").read_bytes() == text_before
    assert len(load_audit(out)) == 1
    # the batch's path: regenerate from the original exams and replay the audit
    replayed, _ = apply_decisions(exams, load_audit(out))
    assert next(x for x in replayed if x.source.sha256 == e.source.sha256).region(r.region, r.side).bmd == new


def test_cli_rejects_and_changes_nothing(batch, tmp_path, capsys):
    out, exams = batch
    e, r = _first_value(exams)
    dec = tmp_path / "bad.csv"
    dec.write_text(_csv([_row(e, r, new=1.0), _row(e, r, new=1.0) | {"sha256": "e" * 64}]), encoding="utf-8")
    text_before = (out / "results.jsonl").read_bytes()
    assert main(["apply-decisions", str(out), str(dec), "--reviewer", "x"]) == 2
    err = capsys.readouterr().err
    assert "e" * 64 in err and "nothing applied" in err
    assert (out / "results.jsonl").read_bytes() == text_before
    assert not (out / "audit.csv").exists()


def test_crash_between_writes_recovers(batch, tmp_path):
    """results.jsonl rewritten but audit.csv not: a re-run records the audit rows without re-applying."""
    out, exams = batch
    e, r = _first_value(exams)
    dec = tmp_path / "d.csv"
    dec.write_text(_csv([_row(e, r, new=0.5)]), encoding="utf-8")
    assert main(["apply-decisions", str(out), str(dec), "--reviewer", "x"]) == 0
    (out / "audit.csv").unlink()  # as if the process died before appending
    text = (out / "results.jsonl").read_bytes()
    assert main(["apply-decisions", str(out), str(dec), "--reviewer", "x"]) == 0
    assert (out / "results.jsonl").read_bytes() == text
    assert len(load_audit(out)) == 1
