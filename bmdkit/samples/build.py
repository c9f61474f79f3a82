"""Write a deterministic set of sample inputs, each with its ground truth beside it.

``python -m bmdkit.samples OUTDIR --seed N --count N`` writes ``count``
exams, each as one input form chosen in turn (vendor DICOM shapes; report
pages as PNG, scanned JPEG, phone photo, text PDF, image-only PDF, DICOM
Secondary Capture and encapsulated PDF), plus the edge cases and bad
inputs every set must hold. Beside each file ``NAME.truth.json`` says what
it shows and what bmdkit must read from it: the values as printed or
stored, the expected status, and for failures the expected flag.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bmdkit.samples import bad
from bmdkit.samples.truth import TruthExam, TruthGenerator

TRUTH_SUFFIX = ".truth.json"

DICOM_FORMS = ("hologic_script", "hologic_xml", "sr_nested", "sr_flat", "sr_zh", "hologic_script_alt",
               "hologic_xml_attr")
REPORT_FORMS = ("png", "scan_jpeg", "photo_jpeg", "pdf_text", "pdf_image", "dicom_sc", "dicom_pdf")
LAYOUT_VENDOR = {"hologic": "hologic", "ge_lunar": "ge_lunar", "norland": "norland", "chinese": None}


@dataclass(frozen=True)
class Written:
    path: Path
    truth: dict[str, Any]


def _regions_printed(truth: TruthExam, cells: list[Any]) -> list[dict[str, Any]]:
    """Truth values for exactly the (region, side, measure) cells the page prints."""
    printed: list[tuple[str, str | None, str]] = []
    for c in cells:
        cell = c[0] if isinstance(c, tuple) else getattr(c, "cell", c)
        if cell.region is not None and cell.in_truth:
            printed.append((cell.region, cell.side, cell.measure))
    return _truth_regions(truth, printed)


def _truth_regions(truth: TruthExam, values: Iterable[tuple[str, str | None, str]]) -> list[dict[str, Any]]:
    """Truth values for exactly the (region, side, measure) ``values`` a report prints."""
    printed: dict[tuple[str, str | None], set[str]] = {}
    for region, side, measure in values:
        printed.setdefault((region, side), set()).add(measure)
    out = []
    for r in truth.regions:
        measures = printed.get((r.region, r.side))
        if not measures:
            continue
        d: dict[str, Any] = {"region": r.region, "side": r.side, "label": r.label}
        for m in ("bmd", "bmc", "area", "t_score", "z_score"):
            d[m] = getattr(r, m) if m in measures else None
        d["evaluable"] = r.evaluable
        d["vertebrae"] = r.vertebrae
        out.append(d)
    return out


def _report_truth(path: Path, truth: TruthExam, form: str, layout: str, lang: str,
                  cells: list[Any]) -> dict[str, Any]:
    return _page_truth(path, truth, f"report_{form}", lang, _regions_printed(truth, cells), layout=layout)


def _page_truth(path: Path, truth: TruthExam, kind: str, lang: str, regions: list[dict[str, Any]],
                **extra: Any) -> dict[str, Any]:
    """The truth file of a report in ``path``: what it shows, the values it prints, what bmdkit must do."""
    return {
        "file": path.name, "kind": kind, "lang": lang,
        "sample_id": truth.sample_id, "expect_status": "extracted_or_flagged", "expect_flag": None,
        "expect_method": "ocr", "vendor": truth.vendor, "scan_type": truth.scan_type,
        "exam_date": truth.exam_date, "scanner_model": truth.scanner_model,
        "excluded": list(truth.excluded), "regions": regions,
        "patient_name": truth.patient.name_zh, "patient_id": truth.patient.patient_id, **extra,
    }


def write_report(truth: TruthExam, outdir: Path, form: str, layout: str, lang: str,
                 rng: np.random.Generator) -> Written:
    """One report page of ``truth`` in ``form`` (see :data:`REPORT_FORMS`)."""
    from bmdkit.samples import degrade, pdfs, report_gen

    stem = f"{truth.sample_id}_{layout}_{lang}_{form}"
    if form == "pdf_text":
        path = outdir / f"{stem}.pdf"
        page = pdfs.render_pdf(truth, layout, lang, path)
        return Written(path, _report_truth(path, truth, form, layout, lang, page.cells()))
    if form in ("dicom_sc", "dicom_pdf"):
        from bmdkit.samples import dicom_gen

        kind = "report_page_sc" if form == "dicom_sc" else "report_pdf"
        path, d = dicom_gen.write_dicom_samples(truth, outdir, [kind])[0]
        rle_compress(path)
        # the page inside: Hologic layout for Secondary Capture, the vendor's for the PDF (dicom_gen)
        page_layout = "hologic" if form == "dicom_sc" or truth.vendor == "hologic" else "ge_lunar"
        d["regions"] = _regions_printed(truth, report_gen.build_page(truth, page_layout, "en").cells())
        d["layout"] = page_layout
        d["kind"] = f"report_{form}"
        d["expect_status"] = "extracted_or_flagged"
        return Written(path, d)
    dpi = {"png": 150, "scan_jpeg": 200, "photo_jpeg": 200, "pdf_image": 150}[form]
    rendered = report_gen.rasterize(report_gen.build_page(truth, layout, lang), dpi=dpi)
    img = rendered.image
    if form == "scan_jpeg":
        img = degrade.scan(img, rng, source_dpi=dpi)
    elif form == "photo_jpeg":
        img = degrade.photo(img, rng)
    if form == "png":
        path = outdir / f"{stem}.png"
        img.convert("L").save(path, optimize=True)
    elif form == "pdf_image":
        path = outdir / f"{stem}.pdf"
        pdfs.write_image_pdf([img], path, dpi=dpi)
    else:
        path = outdir / f"{stem}.jpg"
        img.convert("RGB").save(path, "JPEG", quality=int(rng.integers(70, 90)))
    return Written(path, _report_truth(path, truth, form, layout, lang, rendered.cells))


def rle_compress(path: Path, min_bytes: int = 1 << 20) -> None:
    """Re-encode a large uncompressed DICOM image as RLE Lossless (as some PACS store it).

    Keeps the sample set small; pixel values are unchanged, so readers see the
    same page. Files whose pixel data is under ``min_bytes`` are left as they are.
    """
    import pydicom
    from pydicom.uid import RLELossless

    ds = pydicom.dcmread(path)
    if "PixelData" not in ds or ds.file_meta.TransferSyntaxUID.is_compressed or len(ds.PixelData) < min_bytes:
        return
    ds.compress(RLELossless, generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)


def write_dicom(truth: TruthExam, outdir: Path, kind: str) -> Written:
    from bmdkit.samples import dicom_gen

    path, d = dicom_gen.write_dicom_samples(truth, outdir, [kind])[0]
    rle_compress(path)
    return Written(path, d)


def _edge_cases(gen: TruthGenerator) -> list[tuple[str, Callable[[], TruthExam], str]]:
    """(name, truth maker, how to write it) for the cases every set must show."""
    return [
        ("excluded_L1", lambda: gen.exam(vendor="hologic", scan_type="spine", exclude=["L1"]), "dicom:hologic_script"),
        ("excluded_L4_report", lambda: gen.exam(vendor="ge_lunar", scan_type="spine", exclude=["L4"]),
         "report:ge_lunar:en:png"),
        ("t_minus_2_5", lambda: gen.exam(vendor="hologic", scan_type="hip_left", force_t=-2.5), "report:hologic:en:pdf_text"),
        ("t_minus_2_0", lambda: gen.exam(vendor="ge_lunar", scan_type="spine", force_t=-2.0), "dicom:sr_nested"),
        ("dual_hip_mean", lambda: gen.exam(vendor="ge_lunar", scan_type="hip_dual"), "report:ge_lunar:en:png"),
        ("many_negative_chinese", lambda: gen.exam(scan_type="spine", t_shift=-3.0), "report:chinese:zh:scan_jpeg"),
        ("hip_only_photo", lambda: gen.exam(vendor="hologic", scan_type="hip_right"), "report:hologic:en:photo_jpeg"),
    ]


def _write_spec(truth: TruthExam, outdir: Path, spec: str, rng: np.random.Generator) -> Written:
    parts = spec.split(":")
    if parts[0] == "dicom":
        return write_dicom(truth, outdir, parts[1])
    _, layout, lang, form = parts
    return write_report(truth, outdir, form, layout, lang, rng)


def build_samples(outdir: str | Path, seed: int = 7, count: int = 14, include_fixed: bool = True) -> list[Written]:
    """Write ``count`` exams (plus edge cases and bad inputs) into ``outdir``; deterministic for ``seed``."""
    out = Path(outdir)
    (out / "dicom").mkdir(parents=True, exist_ok=True)
    (out / "reports").mkdir(parents=True, exist_ok=True)
    (out / "bad").mkdir(parents=True, exist_ok=True)
    gen = TruthGenerator(seed)
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    written: list[Written] = []
    truths: list[TruthExam] = []
    for i in range(count):
        if i % 2 == 0:
            kind = DICOM_FORMS[(i // 2) % len(DICOM_FORMS)]
            truth = gen.exam(exclude=["L1"] if pick.random() < 0.15 else None)
            written.append(write_dicom(truth, out / "dicom", kind))
            truths.append(truth)
        else:
            form = REPORT_FORMS[(i // 2) % len(REPORT_FORMS)]
            layout = ("hologic", "ge_lunar", "chinese", "norland")[(i // 2) % 4]
            lang = "zh" if layout == "chinese" else "en"
            truth = gen.exam(vendor=LAYOUT_VENDOR[layout])
            if form in ("dicom_sc", "dicom_pdf") and layout in ("chinese", "norland"):
                layout = "hologic" if truth.vendor == "hologic" else "ge_lunar"
                truth = gen.exam(vendor=LAYOUT_VENDOR[layout])
            written.append(write_report(truth, out / "reports", form, layout, lang, rng))
            truths.append(truth)
    for w, t in zip(written, truths):
        w.truth.update(center=t.center, institution=t.institution)
    if include_fixed:
        for name, make, spec in _edge_cases(gen):
            truth = make()
            w = _write_spec(truth, out / ("dicom" if spec.startswith("dicom") else "reports"), spec, rng)
            w.truth["edge_case"] = name
            w.truth.update(center=truth.center, institution=truth.institution)
            written.append(w)
        written.extend(_bad_inputs(gen, out / "bad", pick))
        written.extend(_sentence_reports(gen, out / "reports", random.Random(seed + SENTENCE_SEED_OFFSET)))
    for w in written:
        w.truth.setdefault("file", w.path.name)
        (w.path.parent / (w.path.name + TRUTH_SUFFIX)).write_text(
            json.dumps(w.truth, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    write_trial_tables(out / "trial", written, pick)
    write_index(out, written, seed, count)
    return written


def write_trial_tables(folder: Path, written: list[Written], rng: random.Random) -> None:
    """What a site keeps beside the scans: the subject mapping and the fracture history.

    ``subjects.csv`` maps (center, hospital patient ID) to a trial subject ID for
    every sample patient; ``fractures.csv`` gives fracture history for most
    subjects and leaves some out, so eligibility has "undetermined" cases.
    """
    folder.mkdir(parents=True, exist_ok=True)
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for w in written:
        t = w.truth
        if t.get("patient_id") and t.get("center") and t.get("expect_status") != "failed":
            seen.setdefault((t["center"], t["patient_id"]), (t["institution"], f"BMD-{len(seen) + 1:03d}"))
    with (folder / "subjects.csv").open("w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["center", "hospital_patient_id", "subject_id", "institution"])
        for (center, pid), (inst, sid) in seen.items():
            wr.writerow([center, pid, sid, inst])
    with (folder / "fractures.csv").open("w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["subject_id", "hip_or_vertebral_fracture", "other_fragility_fracture"])
        for _, sid in seen.values():
            if rng.random() < 0.2:
                continue  # history not yet entered: eligibility must say "undetermined"
            wr.writerow([sid, "yes" if rng.random() < 0.15 else "no", "yes" if rng.random() < 0.3 else "no"])


_KIND_WORDS = {
    "hologic_script": "Hologic report DICOM: page pixels plus the ResultsTable script element",
    "hologic_script_alt": "Hologic report DICOM, other column order and spellings, script as UT in another group",
    "hologic_xml": "Hologic DICOM with 'Image Analysis Data in XML' (ROI elements)",
    "hologic_xml_attr": "Hologic DICOM with XML whose measures are attributes",
    "sr_flat": "Enhanced SR, flat list of NUM items with LOINC codes",
    "sr_nested": "Comprehensive SR, site > region containers, DCM and local codes",
    "sr_zh": "Comprehensive SR with Chinese concept names",
    "report_png": "clean report page (PNG)",
    "report_scan_jpeg": "scanned report page: skew, blur, noise, JPEG",
    "report_photo_jpeg": "phone photo of a printed report: perspective, uneven light",
    "report_pdf_text": "report PDF with a text layer",
    "report_pdf_image": "image-only PDF (scanned report, no text layer)",
    "report_dicom_sc": "report page stored as DICOM Secondary Capture (pixels only)",
    "report_dicom_pdf": "report PDF inside an Encapsulated PDF DICOM object",
    "truncated": "a report DICOM cut in the middle",
    "ct": "a CT slice: valid DICOM, not DXA",
    "lunar_cr": "GE Lunar scan image (CR) without results",
    "hostile_xml": "Hologic XML with an entity-expansion bomb",
    "bad": "not a usable input",
    "sentences_txt": "results written as sentences: a plain-text export from a RIS (GB18030)",
    "sentences_pdf": "results written as sentences: a report PDF with a text layer",
    "sentences_scan": "results written as sentences: a scanned printed report",
}


def write_index(out: Path, written: list[Written], seed: int, count: int) -> None:
    """``README.md`` in ``out``: one line per file saying what it shows and what bmdkit must do."""
    lines = [
        "# Sample inputs",
        "",
        f"Made by `python -m bmdkit.samples OUTDIR --seed {seed} --count {count}` (deterministic).",
        "Every file has `NAME.truth.json` beside it: the values as stored or printed, the expected",
        "status (`extracted`: exact DICOM values; `extracted_or_flagged`: a report page, where any value",
        "that is not exactly right must be flagged; `failed`: with the expected flag code).",
        "Synthetic patients and values; T-scores use the reference named in the truth file.",
        "",
        "`bmdkit batch samples --out out` (the quick start) reads every file here. The files under `bad/`",
        "fail, each on purpose and for the reason the table gives; this README, the `*.truth.json` files,",
        "`trial/*.csv` and `config/*.toml` are skipped (plainly not scans or reports); every other file is",
        "extracted or flagged.",
        "",
        "| file | what it shows | vendor | scan | expected |",
        "|---|---|---|---|---|",
    ]
    for w in sorted(written, key=lambda w: str(w.path)):
        t = w.truth
        kind = t.get("kind", "")
        shows = t.get("shows") or _KIND_WORDS.get(kind, kind)
        if t.get("layout"):
            shows += f", {t['layout']} layout ({t.get('lang', 'en')})"
        if t.get("edge_case"):
            shows += f"; edge case: {t['edge_case'].replace('_', ' ')}"
        if t.get("excluded") and "excluded" not in t.get("edge_case", ""):
            shows += f"; excluded {', '.join(t['excluded'])}"
        expect = t.get("expect_status", "")
        if t.get("expect_flag"):
            expect += f" ({t['expect_flag']})"
        rel = w.path.relative_to(out)
        lines.append(f"| `{rel}` | {shows} | {t.get('vendor', '')} | {t.get('scan_type', '')} | {expect} |")
    lines += ["", "`trial/subjects.csv` maps each sample patient (center, hospital patient ID) to a trial "
              "subject ID (`bmdkit batch --mapping`, `bmdkit export --mapping`); `trial/fractures.csv` holds "
              "fracture history for most subjects, some left out on purpose (`bmdkit eligibility --fractures`)."]
    if (out / "config").is_dir():
        lines += ["", "`config/` (not generated) holds example configuration files, e.g. "
                  "`sites.example.toml` for `bmdkit harmonize --sites`."]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


#: the sentence reports draw from their own stream, so the files made before them stay as they were
SENTENCE_SEED_OFFSET = 22
#: (form, language, text encoding) of the sentence-style reports in a set: a RIS export in GB18030,
#: a PDF with a text layer, a scanned bilingual page
SENTENCE_SAMPLES = (("txt", "zh", "gb18030"), ("pdf", "en", None), ("scan", "bi", None))


def _sentence_reports(gen: TruthGenerator, outdir: Path, rng: random.Random) -> list[Written]:
    """Reports that give their results as sentences, not a table (issue 22), with the values they state."""
    from bmdkit.samples.sentence_gen import make_report, write_form

    res: list[Written] = []
    for form, lang, encoding in SENTENCE_SAMPLES:
        truth = gen.exam(scan_type="hip_dual" if form == "scan" else rng.choice(("spine", "hip_left")))
        report = make_report(truth, lang, rng)
        path = write_form(report, form, outdir / f"{truth.sample_id}_sentences_{lang}", rng, encoding or "utf-8")
        res.append(Written(path, _page_truth(path, truth, f"sentences_{form}", lang,
                                             _truth_regions(truth, report.printed), encoding=encoding,
                                             center=truth.center, institution=truth.institution)))
    return res


def _bad_inputs(gen: TruthGenerator, outdir: Path, rng: random.Random) -> list[Written]:
    from bmdkit.samples import dicom_gen

    res: list[Written] = []
    for name, fn in (("empty.dcm", bad.write_empty), ("no_report.pdf", bad.write_pdf_without_report)):
        p = outdir / name
        res.append(Written(p, {**fn(p), "kind": "bad"}))
    p = outdir / "random.bin"
    res.append(Written(p, {**bad.write_random(p, rng), "kind": "bad"}))
    truth = gen.exam(vendor="ge_lunar", scan_type="spine")
    for kind in ("truncated", "ct", "lunar_cr", "hostile_xml"):
        path, d = dicom_gen.write_dicom_samples(truth, outdir, [kind])[0]
        res.append(Written(path, d))
    return res
