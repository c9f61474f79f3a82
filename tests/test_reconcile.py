"""``bmdkit reconcile``: EDC values against extracted ones.

The batch is real: DICOM SR files written with pydicom (seeded fake names,
Latin and Chinese, and hospital IDs), run through ``run_batch`` and
exported with ``bmdkit export --format redcap``. The REDCap CSV is then
edited the way a data manager's EDC drifts (a flipped T-score sign, a
blanked cell, an extra record, an unknown column, re-typed decimals) and
reconcile must list exactly those edits, by subject, event, field and
source-file SHA-256, and nothing that identifies a patient.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from helpers.batch import write_sr
from test_export_common import build_assembly

from bmdkit import reconcile as rec
from bmdkit.batch.runner import run_batch
from bmdkit.cli.app import main
from bmdkit.errors import ConfigError
from bmdkit.export import redcap
from bmdkit.samples.truth import TruthGenerator

PEOPLE = [("Testpatient^Alpha", "HOSPX70001"), ("测试^患者丙", "京B5550001"), ("Zzyzx^Rec", "HOSPX70003")]
NEEDLES = [p for name, pid in PEOPLE for p in (pid, *name.split("^"))]


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """S001: spine+hip at baseline and month 6; S002: spine+hip; S003: spine only."""
    tmp = tmp_path_factory.mktemp("reconcile")
    gen = TruthGenerator(57)
    site = tmp / "in"
    site.mkdir()
    files: dict[tuple[str, str, str], Path] = {}
    mapping_rows = []
    for i, (name, pid) in enumerate(PEOPLE):
        subject = f"S{i + 1:03d}"
        spine = gen.exam(scan_type="spine")
        scans = [("spine", spine)]
        if i < 2:
            hip = gen.exam(scan_type="hip_dual")
            hip.exam_date, hip.study_instance_uid, hip.institution = (
                spine.exam_date, spine.study_instance_uid, spine.institution)
            scans.append(("hip", hip))
        for kind, t in scans:
            files[(subject, "baseline_arm_1", kind)] = write_sr(site / f"p{i}_{kind}.dcm", t, name=name, patient_id=pid)
        if i == 0:  # a month-6 visit: new study, 180 days later, slightly different values
            for kind, t in scans:
                later = gen.exam(scan_type="spine" if kind == "spine" else "hip_dual")
                later.exam_date = (dt.date.fromisoformat(t.exam_date) + dt.timedelta(days=180)).isoformat()
                later.study_instance_uid = t.study_instance_uid + ".6"
                later.institution = t.institution
                files[(subject, "month_6_arm_1", kind)] = write_sr(
                    site / f"p{i}_{kind}_m6.dcm", later, name=name, patient_id=pid)
        mapping_rows.append((spine.center, pid, subject, spine.institution))
    mapping = _write_csv(tmp / "mapping.csv", [["center", "hospital_patient_id", "subject_id", "institution"],
                                               *map(list, mapping_rows)])
    out = tmp / "out"
    run_batch([site], out, workers=1, progress=False)
    edc = tmp / "edc.csv"
    assert main(["export", str(out), "--format", "redcap", "--mapping", str(mapping), "--out", str(edc)]) == 0
    shas = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    return {"tmp": tmp, "out": out, "mapping": mapping, "edc": edc, "shas": shas}


def _reconcile(batch: dict, edc: Path, name: str, capsys) -> tuple[int, list[dict[str, str]], str]:
    out_csv = batch["tmp"] / f"reconciled_{name}.csv"
    code = main(["reconcile", str(batch["out"]), "--edc", str(edc), "--mapping", str(batch["mapping"]),
                 "--out", str(out_csv)])
    captured = capsys.readouterr()
    with out_csv.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    return code, lines, captured.out + captured.err + out_csv.read_text(encoding="utf-8")


def test_clean_export_reconciles_with_no_disagreement(batch: dict, capsys) -> None:
    rows = _read_csv(batch["edc"])
    assert len(rows) == 5  # header + S001 baseline, S001 month 6, S002, S003
    code, lines, text = _reconcile(batch, batch["edc"], "clean", capsys)
    assert code == 0 and lines == []
    assert "0 disagreements" in text
    assert not [n for n in NEEDLES if n in text]


def test_edits_are_listed_exactly(batch: dict, capsys) -> None:
    rows = _read_csv(batch["edc"])
    header = rows[0]
    col = header.index
    row_of = {(r[0], r[1]): r for r in rows[1:]}
    s1b, s1m6, s2, s3 = (row_of[("S001", "baseline_arm_1")], row_of[("S001", "month_6_arm_1")],
                         row_of[("S002", "baseline_arm_1")], row_of[("S003", "baseline_arm_1")])
    # 1. flip the sign of a non-zero T-score
    t_field = next(f for f in ("ls_t", "l1_t", "l2_t", "l3_t", "l4_t") if s2[col(f)] not in ("0.0", "-0.0", ""))
    original_t = s2[col(t_field)]
    s2[col(t_field)] = original_t[1:] if original_t.startswith("-") else "-" + original_t
    # 2. blank a BMD cell of the month-6 hip
    blanked = s1m6[col("fn_l_bmd")]
    assert blanked
    s1m6[col("fn_l_bmd")] = ""
    # 3. a hip value typed in for a subject that only had a spine scan
    assert s3[col("th_r_bmd")] == ""
    s3[col("th_r_bmd")] = "0.850"
    # 4. re-typed decimals that agree at the field's precision
    s1b[col("ls_bmd")] += "0"                        # 0.773 -> 0.7730
    s1b[col("ls_t")] = s1b[col("ls_t")].rstrip("0").rstrip(".") or "0"  # -2.0 -> -2, -2.9 stays
    s1b[col("ls_bmc")] = s1b[col("ls_bmc")] + "4"    # one more decimal, rounds back
    # 5. a record the batch never saw, and one keyed by a hospital ID by mistake
    extra = [""] * len(header)
    extra[0], extra[1], extra[col("ls_bmd")] = "S999", "baseline_arm_1", "0.800"
    wrong = [""] * len(header)
    wrong[0], wrong[1], wrong[col("th_l_bmd")] = PEOPLE[1][1], "baseline_arm_1", "0.700"
    # 6. an unknown column (the form's complete flag is REDCap's own and must not be reported)
    header += ["site_comment", "dxa_complete"]
    body = [r + ["checked by Testpatient", "2"] for r in rows[1:]] + [extra + ["", ""], wrong + ["", ""]]
    edited = _write_csv(batch["tmp"] / "edited.csv", [header, *body])

    code, lines, text = _reconcile(batch, edited, "edited", capsys)
    assert code == 1
    got = {(d["kind"], d["subject_id"], d["event"], d["field"], d["edc_value"], d["extracted_value"]) for d in lines}
    assert got == {
        ("value_differs", "S002", "baseline_arm_1", t_field, s2[col(t_field)], original_t),
        ("missing_in_edc", "S001", "month_6_arm_1", "fn_l_bmd", "", blanked),
        ("missing_in_extraction", "S003", "baseline_arm_1", "th_r_bmd", "0.850", ""),
        ("no_extracted_visit", "S999", "baseline_arm_1", "", "", ""),
        ("no_extracted_visit", "<redacted>", "baseline_arm_1", "", "", ""),
        ("unknown_column", "", "", "site_comment", "", ""),
    }
    assert len(lines) == len(got)
    by_kind = {d["kind"]: d for d in lines}
    # the source file is named by SHA-256 of the real file the value came from
    assert by_kind["value_differs"]["sha256"] == batch["shas"][("S002", "baseline_arm_1", "spine")]
    assert by_kind["missing_in_edc"]["sha256"] == batch["shas"][("S001", "month_6_arm_1", "hip")]
    assert by_kind["value_differs"]["site"] == t_field[:-2] and by_kind["value_differs"]["measure"] == "t"
    assert by_kind["missing_in_edc"]["visit"] == "month_6"
    assert batch["shas"][("S003", "baseline_arm_1", "spine")] in by_kind["missing_in_extraction"]["sha256"]
    assert "5 disagreements" in text
    assert not [n for n in NEEDLES if n in text]
    assert str(batch["tmp"] / "in") not in text  # no site paths either


def test_held_values_duplicates_and_missing_rows(tmp_path: Path) -> None:
    """Library level, on a stored batch of three subjects whose first neck is flagged for review."""
    result, _, _, _ = build_assembly(tmp_path)
    rows, review = redcap.import_rows(result.subjects)
    assert review
    clean = rec.parse_edc(_csv_text(rows))
    items, summary = rec.reconcile(result.subjects, clean)
    assert items == [] and summary.disagreements == 0
    assert summary.held_and_blank == len(review) and summary.values_compared > 300
    assert summary.values_agreed == summary.values_compared

    header = rows[0]
    held = review[0]
    body = [list(r) for r in rows[1:]]
    target = next(r for r in body if r[0] == held.subject_id and r[1].startswith(held.visit))
    target[header.index(held.field)] = f"{held.value:.3f}"   # the EDC has the value bmdkit would not confirm
    other = next(r for r in body if r is not target)
    other[header.index("l2_area")] = "15,20"                  # comma decimal: not a number
    other[header.index("dxa_date")] = "2020-01-01"
    dropped = body.pop()                                      # an extracted visit not in the EDC
    body.append(list(body[0]))                                # the same record and event twice
    # a repeating instrument of another form: same record and event, no DXA cell; ignored
    header = [*header, "redcap_repeat_instrument", "redcap_repeat_instance", "ae_term"]
    body = [r + ["", "", ""] for r in body]
    body.append([body[1][0], body[1][1]] + [""] * (len(header) - 5) + ["adverse_events", "1", "headache"])
    text = _csv_text([header, *body])
    items, summary = rec.reconcile(result.subjects, rec.parse_edc(text), events={"baseline_arm_1": "baseline"})
    kinds = sorted(d.kind for d in items)
    assert kinds == sorted(["held_for_review", "edc_not_a_number", "value_differs", "no_edc_row",
                            "duplicate_edc_row", "unknown_column"])
    by_kind = {d.kind: d for d in items}
    assert by_kind["held_for_review"].sha256 == held.sha256 and "out_of_range" in by_kind["held_for_review"].detail
    assert by_kind["value_differs"].field == "dxa_date"
    assert (by_kind["no_edc_row"].subject_id, by_kind["no_edc_row"].event) == (dropped[0], dropped[1])
    assert by_kind["duplicate_edc_row"].subject_id == body[0][0]
    assert by_kind["unknown_column"].field == "ae_term" and by_kind["unknown_column"].is_note
    assert summary.disagreements == 5


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def test_decimals_rounding_and_columns(tmp_path: Path) -> None:
    result, _, _, _ = build_assembly(tmp_path, flag_first_neck=False)
    rows, _ = redcap.import_rows(result.subjects)
    header, body = rows[0], [list(r) for r in rows[1:]]
    i = header.index("ls_bmd")
    exact = body[0][i]
    body[0][i] = exact + "4"          # more decimals, rounds back to the same value: agrees
    items, _ = rec.reconcile(result.subjects, rec.parse_edc(_csv_text([header, *body])))
    assert items == []
    body[0][i] = f"{float(exact) + 0.001:.3f}"  # one unit in the last place: differs
    items, _ = rec.reconcile(result.subjects, rec.parse_edc(_csv_text([header, *body])))
    assert [(d.kind, d.field) for d in items] == [("value_differs", "ls_bmd")]
    for junk in ("NaN", "1e0", "0_9"):  # Decimal() would take these; an EDC number must be plain
        body[0][i] = junk
        items, _ = rec.reconcile(result.subjects, rec.parse_edc(_csv_text([header, *body])))
        assert [(d.kind, d.edc_value) for d in items] == [("edc_not_a_number", junk)]
    # a value column missing from the EDC project is reported once, not per row
    j = header.index("th_r_z")
    cut = [[c for k, c in enumerate(r) if k != j] for r in [header, *rows[1:]]]
    items, _ = rec.reconcile(result.subjects, rec.parse_edc(_csv_text(cut)))
    assert [(d.kind, d.field) for d in items] == [("missing_column", "th_r_z")]


def test_classic_project_and_bad_inputs(tmp_path: Path) -> None:
    result, _, _, _ = build_assembly(tmp_path, flag_first_neck=False)
    one_visit = [sx for sx in result.subjects if sx.event == "baseline_arm_1"]
    rows, _ = redcap.import_rows(one_visit, record_field="study_id", longitudinal=False)
    table = rec.parse_edc(_csv_text(rows))
    assert table.record_field == "study_id" and not table.longitudinal
    assert rec.reconcile(one_visit, table)[0] == []
    with pytest.raises(ConfigError):  # several visits per subject need the event column
        rec.reconcile(result.subjects, table)
    with pytest.raises(ConfigError):  # exported with labels instead of raw names
        rec.parse_edc("Record ID,Event Name,Lumbar spine BMD\nS001,Baseline,0.800\n")
    with pytest.raises(ConfigError):
        rec.parse_edc("record_id,ls_bmd,ls_bmd\nS001,1,1\n")
    # re-saved by a Chinese-locale spreadsheet: GB18030 text with a Chinese column
    gb = _write_csv(tmp_path / "gb.csv", [rows[0] + ["备注"], *[r + ["已核对"] for r in rows[1:]]], "gb18030")
    items, _ = rec.reconcile(one_visit, rec.read_edc(gb))
    assert [(d.kind, d.field) for d in items] == [("unknown_column", "备注")]
    # Windows line ends, a byte-order mark and a quoted note spanning lines (as REDCap writes notes)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([rows[0] + ["comments"], *[r + ["line one\nline two"] for r in rows[1:]]])
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    items, summary = rec.reconcile(one_visit, rec.read_edc(crlf))
    assert [(d.kind, d.field) for d in items] == [("unknown_column", "comments")]
    assert summary.matched_visits == len(one_visit) and summary.values_agreed == summary.values_compared > 50


def test_cli_bad_input_exit_64(tmp_path: Path, capsys) -> None:
    mapping = _write_csv(tmp_path / "m.csv", [["center", "hospital_patient_id", "subject_id"]])
    edc = _write_csv(tmp_path / "e.csv", [["record_id", "redcap_event_name", "ls_bmd"], ["S001", "baseline_arm_1", "0.8"]])
    assert main(["reconcile", str(tmp_path), "--edc", str(edc), "--mapping", str(mapping)]) == 64
    assert "results.jsonl" in capsys.readouterr().err
