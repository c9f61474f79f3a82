"""Patient identifiers and institution read from report pages (bmdkit.report.patient).

Line-level cases pin the label rules (English and Chinese, colon or not,
several fields to a line, labels OCR glued together); the page-level tests
read real text PDFs of every development layout and of the held-out
families (tests/heldout_reports.py, made by different code) and compare
with the truth; the slow ones OCR rendered page images.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import heldout_reports as ho
import pytest
from PIL import Image

from bmdkit.export.jsonout import dumps
from bmdkit.flags import FlagCode
from bmdkit.read import read_file
from bmdkit.report import patient as P
from bmdkit.samples import pdfs
from bmdkit.samples import report_gen as rg
from bmdkit.samples.truth import TruthExam, TruthGenerator


def _fields(line: str) -> dict[str, str]:
    return dict(P.field_values(P.clean_line(line)))


# --- line level ---------------------------------------------------------------------------------

@pytest.mark.parametrize("line, want", [
    ("Name: Zhou, Lihua Sex: Female Scan Date: 03/14/2026", {"name": "Zhou, Lihua", "sex": "Female"}),
    ("Patient ID: H2579129 Height: 161.4 cm", {"patient_id": "H2579129"}),
    ("Patient Name Zhou Lihua ID 00123456 Gender F", {"name": "Zhou Lihua", "patient_id": "00123456", "sex": "F"}),
    ("姓名: 赵凤英 性别: 女 年龄: 76岁", {"name": "赵凤英", "sex": "女"}),
    ("姓名：徐建国性别：男年龄：58ID：H7186739", {"name": "徐建国", "sex": "男", "patient_id": "H7186739"}),
    ("ID号: K2954679 身高: 159.8cm", {"patient_id": "K2954679"}),
    ("Name:MaGuilanPatientID:B4131976Sex:FAge:56", {"patient_id": "B4131976", "sex": "F"}),
    ("Name: Zhou, Lihua Referring Physician: Dr Wang", {"name": "Zhou, Lihua"}),
])
def test_fields_on_a_line(line: str, want: dict[str, str]) -> None:
    got = _fields(line)
    for k, v in want.items():
        assert got[k] == v


def test_value_stops_at_any_word_colon() -> None:
    assert _fields("Name: Zhou, Lihua Ethnicity: Asian")["name"] == "Zhou, Lihua"
    assert _fields("Name: Zhou, Lihua Religion: none")["name"] == "Zhou, Lihua"  # not a known label


def test_label_inside_a_word_is_not_a_label() -> None:
    assert P.field_values(P.clean_line("Lunar iDXA Identity Paid: 123456")) == []


@pytest.mark.parametrize("lines, pid, other", [
    (["病历号: 0012345 住院号: Z778899"], "0012345", {"inpatient_no": "Z778899"}),
    (["门诊号 M20260001 检查号 E5566"], "M20260001", {"outpatient_no": "M20260001", "exam_no": "E5566"}),
    (["Accession No: 99887766"], "99887766", {"exam_no": "99887766"}),
])
def test_id_label_priority(lines: list[str], pid: str, other: dict[str, str]) -> None:
    ident = P.read_page(lines).identity
    assert ident.patient_id == pid
    assert dict(ident.other) == other


def test_chinese_name_spaced_by_ocr_and_unlabelled_sex() -> None:
    assert P.parse_name("赵 凤 英") == "赵凤英"
    assert P.parse_name("赵凤英 男 65岁") == "赵凤英"
    assert P.parse_name("Zhou, Lihua 65y") == "Zhou, Lihua"
    assert P.parse_name("12345") is None


def test_no_id_printed_gives_none() -> None:
    ident = P.read_page(["Name: Zhou, Lihua Sex: F", "Scan Date: 2026-03-14"]).identity
    assert ident.patient_id is None and ident.name == "Zhou, Lihua" and ident.sex == "F"
    assert P.parse_id("Female") is None


def test_birth_dates() -> None:
    assert P.read_page(["DOB: April 26,1948"]).identity.birth_date == dt.date(1948, 4, 26)
    assert P.read_page(["出生日期: 1960年4月2日"]).identity.birth_date == dt.date(1960, 4, 2)
    # 03/04/1950 reads both ways: left out, unless the page's other dates settle the order
    assert P.read_page(["DOB: 03/04/1950"]).identity.birth_date is None
    settled = P.read_page(["DOB: 03/04/1950", "Scan Date: 07/29/2026"]).identity.birth_date
    assert settled == dt.date(1950, 3, 4)


@pytest.mark.parametrize("lines, want", [
    (["北京协和医院", "骨密度检测报告单"], "北京协和医院"),
    (["北京协和医院 骨密度检查报告"], "北京协和医院"),
    (["淮 安 市 第 一 人 民 医 院 骨密度检查报告"], "淮安市第一人民医院"),
    (["Peking Union Medical College Hospital"], "Peking Union Medical College Hospital"),
    (["Department of Radiology, The First Affiliated Hospital of Nanjing Medical University"],
     "The First Affiliated Hospital of Nanjing Medical University"),
    (["Hospital: Peking Union Medical College Hospital"], "Peking Union Medical College Hospital"),
    (["医院: 北京协和医院"], "北京协和医院"),
    (["DXA Results Summary", "Name: Li Shuzhen Patient ID: K8679867"], None),
    (["Hospital No: 1234567 Name: Li"], None),
])
def test_institution(lines: list[str], want: str | None) -> None:
    assert P.find_institution(lines) == want


# --- real pages ---------------------------------------------------------------------------------

_LAYOUTS = [("hologic", "en"), ("ge_lunar", "en"), ("norland", "en"), ("chinese", "zh"), ("hologic", "zh"),
            ("ge_lunar", "zh")]
_VENDOR = {"hologic": "hologic", "ge_lunar": "ge_lunar", "norland": "norland", "chinese": None}


def _printed_name(truth: TruthExam, layout: str) -> str:
    if layout in ("chinese", "zh_hospital"):
        return truth.patient.name_zh
    fam, _, given = truth.patient.name_pinyin.partition("^")
    # the development layouts print 'Surname, Given'; the held-out English ones 'Surname Given'
    return f"{fam}, {given}" if layout in ("hologic", "ge_lunar", "norland") else f"{fam} {given}"


@pytest.mark.parametrize("layout, lang", _LAYOUTS)
def test_text_pdf_layouts(tmp_path: Path, layout: str, lang: str) -> None:
    gen = TruthGenerator(100 + len(layout) + len(lang))
    for i in range(2):
        truth = gen.exam(vendor=_VENDOR[layout])
        path = tmp_path / f"{layout}_{lang}_{i}.pdf"
        pdfs.render_pdf(truth, layout, lang, path)
        exam = read_file(path)
        p = exam.patient
        assert p is not None
        assert p.patient_id == truth.patient.patient_id
        assert p.name == _printed_name(truth, layout)
        assert p.sex == truth.patient.sex
        if layout != "chinese":  # the Chinese template prints the age, not the birth date
            assert p.birth_date == dt.date.fromisoformat(truth.patient.birth_date)
        assert exam.institution == truth.institution


@pytest.mark.parametrize("family", ho.FAMILIES)
def test_heldout_pdf(tmp_path: Path, family: str) -> None:
    gen = TruthGenerator(300)
    for i in range(2):
        truth = gen.exam()
        path = tmp_path / f"{family}_{i}.pdf"
        path.write_bytes(ho.make_pdf(truth, family))
        exam = read_file(path)
        assert exam.patient is not None and exam.patient.patient_id == truth.patient.patient_id
        assert exam.patient.name == _printed_name(truth, family)
        assert exam.patient.sex == truth.patient.sex
        # only the Chinese template names the hospital; the English ones print no institution
        assert exam.institution == (truth.institution if family == "zh_hospital" else None)


def test_identifiers_stay_out_of_flags_logs_and_deidentified_output(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    truth = TruthGenerator(41).exam(vendor="hologic")
    path = tmp_path / "r.pdf"
    pdfs.render_pdf(truth, "hologic", "en", path)
    with caplog.at_level(logging.DEBUG, logger="bmdkit"):
        exam = read_file(path)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bmdkit"))
    assert exam.patient is not None and exam.patient.patient_id == truth.patient.patient_id
    secrets = (truth.patient.patient_id, truth.patient.name_pinyin.partition("^")[0])
    for s in secrets:
        assert s not in ours
        assert all(s not in f.message for f in exam.flags)
        assert s not in dumps(exam, include_patient=False)
        assert s not in repr(exam.patient)
    assert truth.patient.patient_id in dumps(exam)  # the patient field itself carries it


def test_pages_of_two_patients_are_flagged(tmp_path: Path) -> None:
    gen = TruthGenerator(42)
    a, b = gen.exam(vendor="hologic", scan_type="spine"), gen.exam(vendor="hologic", scan_type="hip_left")
    path = tmp_path / "two.pdf"
    pdfs.page_to_pdf([rg.build_page(a, "hologic", "en"), rg.build_page(b, "hologic", "en")], path)
    exam = read_file(path)
    assert exam.patient is not None and exam.patient.patient_id == a.patient.patient_id
    hits = [f for f in exam.flags if f.code is FlagCode.SOURCES_DISAGREE]
    assert hits and all(b.patient.patient_id not in f.message and a.patient.patient_id not in f.message
                        for f in hits)


# --- OCR of page images (slow) ------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("layout, lang", [("hologic", "en"), ("chinese", "zh")])
def test_ocr_png(tmp_path: Path, layout: str, lang: str) -> None:
    truth = TruthGenerator(21).exam(vendor=_VENDOR[layout])
    path = tmp_path / f"{layout}.png"
    rg.render_report(truth, layout, lang, dpi=200).save(path)
    exam = read_file(path)
    assert exam.patient is not None and exam.patient.patient_id == truth.patient.patient_id
    assert exam.patient.name == _printed_name(truth, layout)
    assert exam.institution == truth.institution


@pytest.mark.slow
def test_ocr_heldout_scan(tmp_path: Path) -> None:
    truth = TruthGenerator(21).exam()
    img = ho.degrade(ho.rasterize(ho.make_pdf(truth, "zh_hospital")), "scan", 3)
    path = tmp_path / "zh.png"
    Image.fromarray(img[..., ::-1]).save(path)
    exam = read_file(path)
    assert exam.patient is not None and exam.patient.patient_id == truth.patient.patient_id
    assert exam.institution == truth.institution
