"""Held-out DICOM shapes: made differently from bmdkit.samples.dicom_gen, never developed against.

The readers were written against ``dicom_gen``; these files check that they
generalise to shapes they were not tuned on (vendor_dicom.md §1b lists the
ways real files differ). Each shape differs from every development shape in
at least one way that matters to a reader:

=================  ==============================================================
ho_script_rows     ``ResultsTable1[row][col]`` (row-first), creator "Hologic, Inc."
                   at (0019,1000), implicit VR so the element reads back as UN bytes,
                   no preamble, ISO 2022 IR 58 with escape sequences, extra
                   level-combination rows (L1-L2, L2-L3 ...), "²" in headers
ho_xml_apex        XML in APEX database column style (L1_BMD, L1_INCLUDED, TOT_BMD,
                   NECK_TSCORE, HTOT_BMC), a default namespace, creator "Hologic"
                   in group 0029, OB VR
sr_measure_major   Comprehensive SR with one container per measure and NUMs named
                   by region ("L1", "L2-L4", "Neck Left"); exclusion as a CODE item
sr_zh_flat         Enhanced SR, flat, Chinese names ("左侧股骨颈 骨密度"), GB18030,
                   exclusion as TEXT "未纳入"
sr_lunar           enCORE-like Enhanced SR, Manufacturer "GE MEDICAL SYSTEMS", YA/AM
                   percentage items beside T/Z, "Neck"/"Total" under "Left Femur"
xml_unplaceable    XML with numbers under names that mean nothing (expects unplaced_data)
=================  ==============================================================
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import ImplicitVRLittleEndian

from bmdkit.samples import dicom_gen as g
from bmdkit.samples.truth import TruthExam, TruthRegion

HELDOUT_KINDS = ("ho_script_rows", "ho_xml_apex", "sr_measure_major", "sr_zh_flat", "sr_lunar",
                 "xml_unplaceable")

_ESC_G1_IR58 = b"\x1b$)A"


def _gb2312_iso2022(text: str) -> bytes:
    return _ESC_G1_IR58 + text.encode("gb2312")


def _script_rows(truth: TruthExam) -> list[tuple[str, TruthRegion | None]]:
    rows: list[tuple[str, TruthRegion | None]] = []
    if truth.scan_type == "spine":
        verts = [r for r in truth.regions if r.region in ("L1", "L2", "L3", "L4")]
        rows += [(r.region, r) for r in verts]
        total = next(r for r in truth.regions if r.region == "L1-L4")
        rows.append((total.label, total))
        # level combinations Hologic also prints: not the total, must be ignored
        inc = [r for r in verts if r.evaluable]
        for a, b in zip(inc, inc[1:]):
            area = round(a.area + b.area, 2)  # type: ignore[operator]
            bmc = round(a.bmc + b.bmc, 2)  # type: ignore[operator]
            fake = replace(a, region="combo", bmd=round(bmc / area, 3), bmc=bmc, area=area)
            rows.append((f"{a.region}-{b.region}", fake))
        return rows
    for r in truth.regions:
        side = {"left": "Left", "right": "Right", "mean": "Mean"}[r.side or "left"]
        name = {"femoral_neck": "Neck", "total_hip": "Total", "trochanter": "Troch",
                "intertrochanter": "Inter", "wards": "Ward's"}[r.region]
        rows.append((f"{side} {name}", r))
    return rows


def ho_script_rows(truth: TruthExam, path: Path) -> dict[str, Any]:
    cols = (("Region", None), ("BMD (g/cm²)", "bmd"), ("T-Score", "t_score"), ("PR (%)", None),
            ("Z-Score", "z_score"), ("BMC (g)", "bmc"), ("Area (cm²)", "area"))
    lines = ['ScanMode = "Array";', f'Scan = "{ {"spine": "Lumbar Spine", "hip_left": "Left Hip", "hip_right": "Right Hip", "hip_dual": "Dual Hip"}[truth.scan_type] }";']
    for c, (h, _) in enumerate(cols):
        lines.append(f'ResultsTable1[0][{c}] = "{h}";')
    for r, (label, reg) in enumerate(_script_rows(truth), start=1):
        for c, (_, key) in enumerate(cols):
            if key is None:
                text = label if c == 0 else "95"
            else:
                v = getattr(reg, key)
                text = " " if v is None else f"{v:.{ {'bmd': 3, 'bmc': 2, 'area': 2}.get(key, 1) }f}"
            lines.append(f'ResultsTable1[{r}][{c}] = "{text}";')
    script = ("\n".join(lines) + "\n").encode("utf-8")
    truth = replace(truth, vendor="hologic")
    ds = g.base_dataset(truth, g.SC, "OT", "ho-script", charset=["", "ISO 2022 IR 58"])
    raw_name = _gb2312_iso2022(truth.patient.name_zh)
    del ds.PatientName
    ds.add_new(0x00100010, "OB", raw_name + (b" " if len(raw_name) % 2 else b""))  # implicit VR: no VR written
    ds.InstitutionName = None
    blk = ds.private_block(0x0019, "Hologic, Inc.", create=True)
    blk.add_new(0x00, "OB", script)
    ds.Manufacturer = "HOLOGIC, Inc."
    g._add_pixels(ds, g.scan_image(truth, rgb=True, shape=(990, 765)))
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    pydicom.dcmwrite(path, ds, enforce_file_format=False, implicit_vr=True, little_endian=True)
    return g._truth_dict(path, "ho_script_rows", replace(truth, vendor="hologic"), g.file_regions(truth),
                         "extracted", None, "ISO 2022 IR 58 (escapes)", truth.patient.name_zh)


def ho_xml_apex(truth: TruthExam, path: Path) -> dict[str, Any]:
    pre = {"L1": "L1", "L2": "L2", "L3": "L3", "L4": "L4", "L1-L4": "TOT", "femoral_neck": "NECK",
           "trochanter": "TROCH", "intertrochanter": "INTER", "total_hip": "HTOT", "wards": "WARDS"}
    suf = {"bmd": "BMD", "bmc": "BMC", "area": "AREA", "t_score": "TSCORE", "z_score": "ZSCORE"}
    body = ['<?xml version="1.0"?><APEXExport xmlns="urn:example:apex"><SCANID>88231</SCANID>']
    if truth.scan_type == "spine":
        body.append("<Spine><NO_REGIONS>4</NO_REGIONS>")
        for r in truth.regions:
            for m, s in suf.items():
                v = getattr(r, m)
                if v is not None:
                    body.append(f"<{pre[r.region]}_{s}>{v}</{pre[r.region]}_{s}>")
            if r.evaluable is not None:
                body.append(f"<{r.region}_INCLUDED>{1 if r.evaluable else 0}</{r.region}_INCLUDED>")
        body.append("</Spine>")
    else:
        sides: dict[str, list[str]] = {}
        for r in truth.regions:
            for m, s in suf.items():
                v = getattr(r, m)
                if v is not None:
                    sides.setdefault(r.side or "left", []).append(f"<{pre[r.region]}_{s}>{v}</{pre[r.region]}_{s}>")
        for side, items in sides.items():
            body.append(f'<Hip SIDE="{side.upper()}">{"".join(items)}<AXIS_LENGTH>10.2</AXIS_LENGTH></Hip>')
    body.append("</APEXExport>")
    truth = replace(truth, vendor="hologic")
    ds = g.base_dataset(truth, g.SC, "OT", "ho-xml", charset="GB18030")
    ds.BodyPartExamined = "LSPINE" if truth.scan_type == "spine" else "HIP"
    blk = ds.private_block(0x0029, "Hologic", create=True)
    blk.add_new(0x01, "OB", "".join(body).encode("utf-8"))
    g._add_pixels(ds, g.scan_image(truth, rgb=False))
    g._write(ds, path)
    return g._truth_dict(path, "ho_xml_apex", replace(truth, vendor="hologic"), g.file_regions(truth),
                         "extracted", None, "GB18030", truth.patient.name_zh)


_MEASURE_CONTAINERS = {"bmd": "BMD (g/cm2)", "bmc": "BMC (g)", "area": "Area (cm2)",
                       "t_score": "T-Score", "z_score": "Z-Score"}


def sr_measure_major(truth: TruthExam, path: Path) -> dict[str, Any]:
    units = {"bmd": ("g/cm2", "UCUM", "g/cm2"), "bmc": ("g", "UCUM", "g"), "area": ("cm2", "UCUM", "cm2"),
             "t_score": ("1", "UCUM", "no units"), "z_score": ("1", "UCUM", "no units")}
    content = []
    for m, title in _MEASURE_CONTAINERS.items():
        nums = []
        for r in truth.regions:
            v = getattr(r, m)
            if v is None:
                continue
            if r.region == "L1-L4":
                name = r.label
            elif r.side:
                name = f"{ {'femoral_neck': 'Neck', 'total_hip': 'Total Hip', 'trochanter': 'Troch', 'intertrochanter': 'Inter', 'wards': 'Wards'}[r.region] } {r.side.capitalize()}"
            else:
                name = r.region
            nums.append(g.num_item(name, v, units[m], (f"R{abs(hash(name)) % 9999}", "99HOLX")))
        content.append(g.container(title, nums, code=(f"M{m}", "99HOLX")))
    excl = [g.coded_item(r.region, "Excluded") for r in truth.regions if r.evaluable is False]
    if excl:
        content.append(g.container("Vertebra Status", excl, code=("VS", "99HOLX")))
    return g.write_sr(replace(truth, vendor="hologic"), path, "measure_major", charset="ISO_IR 192",
                      content=content, sop_class=g.COMPREHENSIVE_SR, kind="sr_measure_major",
                      title=("126000", "DCM", "Imaging Report"))


def sr_zh_flat(truth: TruthExam, path: Path) -> dict[str, Any]:
    zh_m = {"bmd": "骨密度", "bmc": "骨矿含量", "area": "面积", "t_score": "T值", "z_score": "Z值"}
    zh_r = {"L1": "第一腰椎", "L2": "第二腰椎", "L3": "第三腰椎", "L4": "第四腰椎",
            "femoral_neck": "股骨颈", "total_hip": "髋部总体", "trochanter": "大转子",
            "intertrochanter": "转子间", "wards": "Ward三角"}
    zh_s = {"left": "左侧", "right": "右侧", "mean": "平均"}
    content = []
    for r in truth.regions:
        name = f"腰椎 {r.label}" if r.region == "L1-L4" else (zh_s[r.side] if r.side else "") + zh_r[r.region]
        for m in zh_m:
            v = getattr(r, m)
            if v is not None:
                content.append(g.num_item(f"{name} {zh_m[m]}", v, g.UNITS[m]))
        if r.evaluable is False:
            content.append(g.text_item(name, "未纳入"))
    return g.write_sr(truth, path, "zh_flat", charset="GB18030", content=content,
                      sop_class=g.ENHANCED_SR, kind="sr_zh_flat", title=("BMD", "99ZH", "骨密度检查报告"))


def sr_lunar(truth: TruthExam, path: Path) -> dict[str, Any]:
    names = {"bmd": "BMD", "bmc": "BMC", "area": "Area", "t_score": "YA T-Score", "z_score": "AM Z-Score"}
    reg = {"femoral_neck": "Neck", "total_hip": "Total", "trochanter": "Troch",
           "intertrochanter": "Inter", "wards": "Wards"}
    groups: dict[str, list[Dataset]] = {}
    for r in truth.regions:
        items = [g.num_item(names[m], getattr(r, m), g.UNITS[m]) for m in names if getattr(r, m) is not None]
        if r.t_score is not None:
            items.append(g.num_item("YA %", 90.0, ("%", "UCUM", "%")))
        if r.region == "L1-L4":
            label, parent = r.label, "AP Spine"
        elif r.region.startswith("L"):
            label, parent = r.region, "AP Spine"
            if r.evaluable is False:
                items.append(g.text_item("Comment", "Excluded"))
        else:
            label, parent = reg[r.region], {"left": "Left Femur", "right": "Right Femur", "mean": "Mean Femur"}[r.side]  # type: ignore[index]
        groups.setdefault(parent, []).append(g.container(label, items, code=("", "99GEMS")))
    content = [g.container(p, kids, code=("", "99GEMS")) for p, kids in groups.items()]
    t = replace(truth, vendor="ge_lunar", scanner_model="Lunar iDXA", scanner_software="16.20.059")
    d = g.write_sr(t, path, "lunar", charset="ISO_IR 192", content=content, sop_class=g.ENHANCED_SR,
                   kind="sr_lunar", title=("DXA", "99GEMS", "DXA Results"))
    ds = pydicom.dcmread(path)
    ds.Manufacturer = "GE MEDICAL SYSTEMS"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = truth.patient.name_pinyin
    ds.InstitutionName = truth.center
    pydicom.dcmwrite(path, ds)
    d["patient_name"] = truth.patient.name_pinyin
    d["charset"] = "ISO_IR 100"
    return d


def xml_unplaceable(truth: TruthExam, path: Path) -> dict[str, Any]:
    body = "<Blob><Q1>0.812</Q1><Q2>-1.2</Q2><Q3>13.41</Q3><K>1.131</K></Blob>"
    d = g.write_hologic_xml(truth, path, body=body)
    d.update(kind="xml_unplaceable", expect_status="failed", expect_flag="unplaced_data", regions=[])
    return d


# ----------------------------------------------------------------------------- second held-out batch
# Written after the first batch had been measured (and one reader bug it exposed fixed), so
# that one batch stays untouched by development. Measured once before any change.
HELDOUT2_KINDS = ("hd_tid1500", "ho_script_zh", "xml_measure_major")

_SCT = {"L1": ("66794005", "First lumbar vertebra"), "L2": ("14293000", "Second lumbar vertebra"),
        "L3": ("36470004", "Third lumbar vertebra"), "L4": ("11994002", "Fourth lumbar vertebra"),
        "L1-L4": ("122496007", "Lumbar spine structure"),
        "femoral_neck": ("29627003", "Structure of neck of femur"),
        "total_hip": ("29836001", "Hip region structure")}


def hd_tid1500(truth: TruthExam, path: Path) -> dict[str, Any]:
    """A TID 1500 Measurement Report written with highdicom: one group per region, Finding Site codes."""
    from highdicom.sr import (
        CodedConcept,
        ComprehensiveSR,
        FindingSite,
        Measurement,
        MeasurementReport,
        MeasurementsAndQualitativeEvaluations,
        ObservationContext,
        QualitativeEvaluation,
        TrackingIdentifier,
    )
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    names = {"bmd": ("Bone mineral density", "g/cm2"), "bmc": ("Bone mineral content", "g"),
             "area": ("Projected area", "cm2"), "t_score": ("T-score", "{T-score}"),
             "z_score": ("Z-score", "{Z-score}")}
    groups = []
    held = []
    for r in truth.regions:
        if r.region not in _SCT or r.side == "mean":
            continue
        held.append(r)
        code, display = _SCT[r.region]
        lat = {"left": codes.SCT.Left, "right": codes.SCT.Right}.get(r.side or "")
        site = FindingSite(anatomic_location=CodedConcept(code, "SCT", display), laterality=lat)
        meas = []
        for m, (name, unit) in names.items():
            v = getattr(r, m)
            if v is None:
                continue
            label = f"{name} ({r.label})" if r.region == "L1-L4" else name
            meas.append(Measurement(name=CodedConcept(f"X{abs(hash(label)) % 99999}", "99DXA", label),
                                    value=v, unit=CodedConcept(unit, "UCUM", unit)))
        quals = []
        if r.evaluable is False:
            quals.append(QualitativeEvaluation(CodedConcept("EXCL", "99DXA", "Excluded from total"),
                                               CodedConcept("Y", "99DXA", "Yes")))
        groups.append(MeasurementsAndQualitativeEvaluations(
            tracking_identifier=TrackingIdentifier(uid=generate_uid(), identifier=f"roi {len(groups)}"),
            measurements=meas, qualitative_evaluations=quals or None, finding_sites=[site]))
    report = MeasurementReport(observation_context=ObservationContext(),
                               procedure_reported=CodedConcept("DXA", "99DXA", "Bone densitometry"),
                               imaging_measurements=groups)
    ev = g.base_dataset(truth, g.SC, "OT", "hd-evidence", charset="ISO_IR 192")
    ev.AccessionNumber = ""
    ev.ReferringPhysicianName = ""
    ev.StudyID = "1"
    sr = ComprehensiveSR(evidence=[ev], content=report, series_instance_uid=generate_uid(),
                         series_number=7, sop_instance_uid=generate_uid(), instance_number=1,
                         manufacturer="HOLOGIC", institution_name=None)
    sr.SpecificCharacterSet = "ISO_IR 192"
    sr.PatientName = truth.patient.name_zh
    sr.Modality = "SR"
    sr.ManufacturerModelName = truth.scanner_model
    sr.StudyDate = truth.exam_date.replace("-", "")
    sr.save_as(path, enforce_file_format=True)
    t2 = replace(truth, vendor="hologic", regions=held)
    return g._truth_dict(path, "hd_tid1500", t2, g.file_regions(t2), "extracted", None, "ISO_IR 192",
                         truth.patient.name_zh)


def ho_script_zh(truth: TruthExam, path: Path) -> dict[str, Any]:
    """A script table with Chinese headers and row labels, GB18030 bytes in an OB element, group 0011."""
    cols = (("部位", None), ("面积(cm²)", "area"), ("骨矿含量(g)", "bmc"), ("骨密度(g/cm²)", "bmd"),
            ("T值", "t_score"), ("Z值", "z_score"))
    zh_r = {"L1": "L1", "L2": "L2", "L3": "L3", "L4": "L4", "femoral_neck": "股骨颈", "total_hip": "全髋",
            "trochanter": "大转子", "intertrochanter": "转子间", "wards": "Ward三角"}
    zh_s = {"left": "左侧", "right": "右侧", "mean": "平均"}
    lines = ['检查 = "双能X线骨密度";']
    for c, (h, _) in enumerate(cols):
        lines.append(f'ResultsTable[{c}][0] = "{h}";')
    for r_i, r in enumerate(truth.regions, start=1):
        label = f"腰椎{r.label}" if r.region == "L1-L4" else (zh_s[r.side] if r.side else "") + zh_r[r.region]
        for c, (_, key) in enumerate(cols):
            if key is None:
                text = label
            else:
                v = getattr(r, key)
                text = " " if v is None else str(v)
            lines.append(f'ResultsTable[{c}][{r_i}] = "{text}";')
    ds = g.base_dataset(truth, g.SC, "OT", "ho-zh", charset="ISO_IR 192")
    blk = ds.private_block(0x0011, "HOLOGIC", create=True)
    blk.add_new(0x05, "OB", ("\r\n".join(lines)).encode("gb18030"))
    g._add_pixels(ds, g.scan_image(truth, rgb=True, shape=(1100, 850)))
    g._write(ds, path)
    t2 = replace(truth, vendor="hologic")
    return g._truth_dict(path, "ho_script_zh", t2, g.file_regions(t2), "extracted", None, "ISO_IR 192",
                         truth.patient.name_zh)


def xml_measure_major(truth: TruthExam, path: Path) -> dict[str, Any]:
    """XML grouped by measure, namespaced, values in a 'value' attribute, sides as L/R letters."""
    tags = {"bmd": "BMD", "bmc": "BMC", "area": "Area", "t_score": "T-Score", "z_score": "Z-Score"}
    names = {"femoral_neck": "Femoral Neck", "total_hip": "Total Hip", "trochanter": "Trochanter",
             "intertrochanter": "Intertrochanteric", "wards": "Wards"}
    out = ['<?xml version="1.0" encoding="UTF-8"?><h:Report xmlns:h="urn:example:densitometry">']
    for m, tag in tags.items():
        out.append(f'<h:Measure type="{tag}">')
        for r in truth.regions:
            v = getattr(r, m)
            if v is None:
                continue
            name = r.label if r.region == "L1-L4" else names.get(r.region, r.region)
            side = f' side="{ {"left": "L", "right": "R", "mean": "Mean"}[r.side] }"' if r.side else ""
            out.append(f'<h:Site name="{name}"{side} value="{v}"/>')
        out.append("</h:Measure>")
    out.append("</h:Report>")
    d = g.write_hologic_xml(truth, path, body="".join(out))
    d["kind"] = "xml_measure_major"
    return d


WRITERS = {"ho_script_rows": ho_script_rows, "ho_xml_apex": ho_xml_apex,
           "sr_measure_major": sr_measure_major, "sr_zh_flat": sr_zh_flat, "sr_lunar": sr_lunar,
           "xml_unplaceable": xml_unplaceable, "hd_tid1500": hd_tid1500, "ho_script_zh": ho_script_zh,
           "xml_measure_major": xml_measure_major}


def write_heldout(truth: TruthExam, outdir: Path, kinds: tuple[str, ...] = HELDOUT_KINDS) -> list[tuple[Path, dict[str, Any]]]:
    outdir.mkdir(parents=True, exist_ok=True)
    return [(outdir / f"{truth.sample_id}_{k}.dcm", WRITERS[k](truth, outdir / f"{truth.sample_id}_{k}.dcm"))
            for k in kinds]


def compare(exam: Any, truth: dict[str, Any]) -> list[str]:
    """Every way ``exam`` (an Exam) differs from a file's ground truth; empty = exact match.

    Checks each truth region's five measures (exact equality), the
    vertebra evaluability, the spine total's vertebrae, and that no region
    was read that the truth does not hold.
    """
    problems: list[str] = []
    got = {(r.region.value, r.side.value if r.side else None): r for r in exam.regions}
    want_keys = set()
    for t in truth["regions"]:
        key = (t["region"], t["side"])
        want_keys.add(key)
        r = got.get(key)
        if r is None:
            problems.append(f"missing {key}")
            continue
        for m in ("bmd", "bmc", "area", "t_score", "z_score"):
            if r.value(m) != t[m]:
                problems.append(f"{key} {m}: got {r.value(m)} want {t[m]}")
        if t["region"] in ("L1", "L2", "L3", "L4") and r.evaluable is not t["evaluable"]:
            problems.append(f"{key} evaluable: got {r.evaluable} want {t['evaluable']}")
        if t["region"] == "L1-L4":
            verts = [v.value for v in r.vertebrae] if r.vertebrae else None
            if verts != t["vertebrae"]:
                problems.append(f"{key} vertebrae: got {verts} want {t['vertebrae']}")
    for key in got:
        if key not in want_keys:
            problems.append(f"unexpected {key}")
    return problems


def measure(n_truths: int = 24, seed: int = 777, sets: tuple[str, ...] = ("dev", "heldout", "heldout2")) -> None:  # pragma: no cover - a report, run by hand
    """Print exact-match figures for the development and held-out sets (``python tests/heldout_dicom.py``)."""
    import tempfile

    from bmdkit.dicom import read_dicom
    from bmdkit.errors import BmdkitError
    from bmdkit.options import DEFAULT_OPTIONS
    from bmdkit.read import make_source
    from bmdkit.samples.truth import SCAN_KINDS, TruthGenerator

    gen = TruthGenerator(seed)
    truths = [gen.exam(scan_type=SCAN_KINDS[i % 4], exclude=(["L1"], ["L4"], None)[i % 3] if i % 4 == 0 else None)
              for i in range(n_truths)]
    with tempfile.TemporaryDirectory() as tmp:
        all_sets = {"dev": ("development (dicom_gen)", lambda t, d: g.write_dicom_samples(t, d, g.ALL_KINDS, page_dpi=20)),
                    "heldout": ("held-out batch 1", write_heldout),
                    "heldout2": ("held-out batch 2", lambda t, d: write_heldout(t, d, HELDOUT2_KINDS))}
        for name, writer in (all_sets[k] for k in sets):
            ok = total = 0
            values_ok = values_total = 0
            by_kind: dict[str, list[int]] = {}
            for t in truths:
                for path, truth in writer(t, Path(tmp) / name[:3]):
                    total += 1
                    try:
                        r = read_dicom(path, make_source(path), DEFAULT_OPTIONS)
                        exam = r.exam
                        if truth["regions"]:
                            good = exam is not None and compare(exam, truth) == []
                            for reg in truth["regions"]:
                                for m in ("bmd", "bmc", "area", "t_score", "z_score"):
                                    if reg[m] is not None:
                                        values_total += 1
                                        got = exam.region(*_key(reg)) if exam else None
                                        values_ok += got is not None and got.value(m) == reg[m]
                        else:
                            good = exam is not None and not exam.regions and any(
                                f.code.value == truth["expect_flag"] for f in exam.flags)
                    except BmdkitError as exc:
                        good = not truth["regions"] and exc.flag_code.value == truth["expect_flag"]
                    ok += good
                    by_kind.setdefault(truth["kind"], [0, 0])
                    by_kind[truth["kind"]][0] += good
                    by_kind[truth["kind"]][1] += 1
            print(f"{name}: {ok}/{total} files exactly as the truth says; "
                  f"{values_ok}/{values_total} values exact")
            for k, (a, b) in sorted(by_kind.items()):
                print(f"   {k:20s} {a}/{b}")


def _key(reg: dict[str, Any]) -> tuple[Any, Any]:
    from bmdkit.model import Region, Side
    return Region(reg["region"]), Side(reg["side"]) if reg["side"] else None


if __name__ == "__main__":  # pragma: no cover
    import sys
    measure(sets=tuple(sys.argv[1:]) or ("dev", "heldout", "heldout2"))
