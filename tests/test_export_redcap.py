"""REDCap data dictionary and import CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from test_export_common import build_assembly

from bmdkit.export import redcap
from bmdkit.export.edc import measures

HEADER_FROM_EDC_MD = (
    "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
    "\"Choices, Calculations, OR Slider Labels\",Field Note,Text Validation Type OR Show Slider Number,"
    "Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field only if...),"
    "Required Field?,Custom Alignment,Question Number (surveys only),Matrix Group Name,Matrix Ranking?,"
    "Field Annotation"
)


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def test_dictionary_has_the_18_headers_and_valid_names() -> None:
    rows = redcap.dictionary_rows("study_id")
    assert _csv(rows).splitlines()[0] == HEADER_FROM_EDC_MD
    assert all(len(r) == 18 for r in rows)
    assert rows[1][0] == "study_id"  # record ID first
    names = [r[0] for r in rows[1:]]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][0-9a-z_]*", n) and len(n) <= 26 for n in names)
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["fn_l_bmd"][7] == "number_3dp" and by_name["ls_t"][7] == "number_1dp"
    assert by_name["fn_l_bmd"][8] and by_name["fn_l_bmd"][9]  # ranges from plausible_ranges.csv
    assert by_name["dxa_date"][7] == "date_ymd"


def test_import_rows_exact_decimals_and_held_values(tmp_path: Path) -> None:
    result, exams, _, _ = build_assembly(tmp_path)
    rows, review = redcap.import_rows(result.subjects)
    header, body = rows[0], rows[1:]
    assert header[:2] == ["record_id", "redcap_event_name"]
    dictionary = [r[0] for r in redcap.dictionary_rows()[1:]]
    assert [h for h in header if h != "redcap_event_name"] == dictionary
    assert len({(r[0], r[1]) for r in body}) == len(body) == 9
    decimals = {f"{s}_{m.code}": m.decimals for m in measures() for s in
                ("ls", "l1", "l2", "l3", "l4", "fn_l", "fn_r", "th_l", "th_r")}
    filled = 0
    for r in body:
        for name, cell in zip(header, r):
            if name in decimals and cell:
                filled += 1
                assert re.fullmatch(rf"-?\d+\.\d{{{decimals[name]}}}", cell), (name, cell)
    assert filled > 300
    # the flagged neck is held back: blank in the import, listed for review with its reason
    assert [(h.field, h.reason) for h in review] and all(h.reason == "out_of_range" for h in review)
    held = review[0]
    row = next(r for r in body if r[0] == held.subject_id and r[1].startswith(held.visit))
    assert row[header.index(held.field)] == ""
    assert held.field in row[header.index("dxa_review")]
    # every exported value equals the stored exam value, rounded to the field's decimals
    truth = {}
    for e in exams:
        for reg in e.regions:
            truth.setdefault((e.source.sha256, reg.region.value, reg.side.value if reg.side else None), reg)
    sx = result.subjects[0]
    got = dict(zip(header, next(r for r in body if r[0] == sx.subject_id and r[1] == sx.event)))
    for reg, sha in sx.regions:
        if reg.region.value == "L1-L4":
            assert got["ls_bmd"] == f"{reg.bmd:.3f}"
