"""Crops around OCR values, from real PNG and PDF pages: they show the value read (checked with tesseract)."""

from __future__ import annotations

import base64
import io
import random
import re
from pathlib import Path

import pytesseract
import pytest
from PIL import Image
from helpers.review import make_exam

from bmdkit.model import InputKind, Location
from bmdkit.review.crops import CropOptions, Cropper, Strip, cut
from bmdkit.samples.truth import TruthGenerator


def _image(uri: str) -> Image.Image:
    assert uri.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def _shows(img: Image.Image, value: float) -> set[float] | bool:
    """True when tesseract reads ``abs(value)`` in the crop at one of a few scales and page modes.

    Tesseract is erratic on single short words (it drops a lone minus sign,
    or a decimal point, or doubles a dot, depending on the scale), so the
    crop passes when one read gives the value's digits (leading zeros aside),
    trying reads until one does; a crop of another cell shows other digits.
    Returns the reads when none matched.
    """
    rgb = img.convert("RGB")
    px = rgb.load()
    for y in range(rgb.height):  # paint out a red frame, drawn for people and not for OCR
        for x in range(rgb.width):
            r, g, b = px[x, y]
            if r > 120 and r - g > 50:
                px[x, y] = (255, 255, 255)
    seen: set[float] = set()
    want = re.sub(r"\D", "", f"{abs(value)}").lstrip("0")
    for scale in (2, 1, 3):
        big = rgb.convert("L").resize((rgb.width * scale, rgb.height * scale), Image.Resampling.LANCZOS)
        for psm in (7, 8, 13):
            text = pytesseract.image_to_string(big, config=f"--psm {psm} -c tessedit_char_whitelist=0123456789.-")
            digits = re.sub(r"\D", "", text).lstrip("0")
            if digits and digits == want:  # same digits: a lost point or sign is the OCR's, not the crop's
                return True
            try:
                seen.add(abs(float(text.strip().strip("."))))
            except ValueError:
                continue
    return seen


@pytest.fixture(scope="module")
def exams(tmp_path_factory):
    root = tmp_path_factory.mktemp("crops")
    gen, rng = TruthGenerator(101), random.Random(5)
    made = {}
    for kind in ("image", "pdf"):
        t = gen.exam(scan_type="spine")
        made[kind] = make_exam(t, kind, root / "inputs", rng, flagged=False)[0]
    return root, made


@pytest.mark.parametrize("kind", ["image", "pdf"])
def test_each_window_shows_its_value(exams, kind):
    root, made = exams
    exam = made[kind]
    crops = Cropper([root], CropOptions(pdf_dpi=72)).exam_crops(exam)
    # PDF locations carry dpi=150 in their detail: the wrong default (72) must not be used
    assert sorted(crops) == list(range(len(exam.regions)))
    for i, r in enumerate(exam.regions):
        strip = crops[i]
        assert isinstance(strip, Strip), strip
        assert set(strip.windows) == set(r.sources)
        img = _image(strip.uri)
        assert img.size == (strip.width, strip.height) and img.mode == "L"
        assert img.height <= CropOptions().max_height and img.width > 4 * img.height
        if i >= 2:
            continue
        for m in ("bmd", "t_score"):
            x, y, w, h, fx, fy, fw, fh = strip.windows[m]
            assert x <= fx and fx + fw <= x + w + 1 and y <= fy and fy + fh <= y + h + 1
            reads = _shows(img.crop((x, y, x + w, y + h)), r.value(m))  # what the reviewer sees
            assert reads is True, (kind, i, m, reads)


def test_values_on_different_pages_get_single_crops(exams):
    root, made = exams
    exam = made["image"]
    r = exam.regions[0]
    m0 = next(iter(r.sources))
    moved = {m: (s if m != m0 else s.__class__(s.confidence, Location(page=2, box=s.location.box)))
             for m, s in r.sources.items()}
    crops = Cropper([root]).exam_crops(exam.with_regions([r.replace(sources=moved)]))
    singles = crops[0]
    assert isinstance(singles, dict)
    assert "page(s)" in singles[m0].reason
    other = next(m for m in singles if m != m0)
    img = _image(singles[other].uri)
    assert img.height <= CropOptions().max_height and img.width <= CropOptions().max_width


def test_changed_or_missing_file_gives_reason_not_crop(exams, tmp_path):
    root, made = exams
    exam = made["image"]
    reasons = {c.reason for d in Cropper([tmp_path]).exam_crops(exam).values() for c in d.values()}
    assert reasons == {"source file not found"}
    other = exam.replace(source=exam.source.__class__(exam.source.path, "0" * 64, exam.source.kind))
    reasons = {c.reason for d in Cropper([root]).exam_crops(other).values() for c in d.values()}
    assert reasons == {"source file changed since it was read (SHA-256 differs)"}


def test_box_outside_page_and_page_missing(exams):
    root, made = exams
    page = Image.new("RGB", (200, 100), "white")
    assert cut(page, (500, 500, 600, 520), CropOptions()).reason == "the box lies outside the page"
    exam = made["pdf"]
    r = exam.regions[0]
    moved = {m: s.__class__(s.confidence, Location(page=3, box=s.location.box, detail=s.location.detail))
             for m, s in r.sources.items()}
    exam2 = exam.with_regions([r.replace(sources=moved)])
    reasons = {c.reason for d in Cropper([root]).exam_crops(exam2).values() for c in d.values()}
    assert reasons == {"the PDF has 1 page(s), the value is on page 3"}


def test_pixel_cap_refuses_big_pages(exams):
    root, made = exams
    got = Cropper([root], CropOptions(max_pixels=1000)).exam_crops(made["image"])
    reasons = {c.reason for d in got.values() for c in d.values()}
    assert reasons == {"image over the pixel cap"}


def _dicom_page(path: Path, png: Path | None = None, pdf: Path | None = None) -> None:
    """A real DICOM holding a report page: Secondary Capture pixels or an encapsulated PDF."""
    import numpy as np
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = ("1.2.840.10008.5.1.4.1.1.7" if png else "1.2.840.10008.5.1.4.1.1.104.1")
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT" if png else "DOC"
    if png:
        arr = np.asarray(Image.open(png).convert("L"), dtype=np.uint8)
        ds.Rows, ds.Columns = arr.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelData = arr.tobytes()
    else:
        ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
        data = pdf.read_bytes()
        ds.EncapsulatedDocument = data + (b"\0" if len(data) % 2 else b"")
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("inner", ["image", "pdf"])
def test_pages_inside_dicom(exams, inner):
    """A report page stored in DICOM is cropped from the DICOM file itself."""
    import hashlib

    root, made = exams
    exam = made[inner]
    src = root / exam.source.path
    dcm = root / "inputs" / f"page_{inner}.dcm"
    _dicom_page(dcm, png=src if inner == "image" else None, pdf=src if inner == "pdf" else None)
    dexam = exam.replace(source=exam.source.__class__(
        str(dcm.relative_to(root)), hashlib.sha256(dcm.read_bytes()).hexdigest(), InputKind.DICOM))
    crops = Cropper([root]).exam_crops(dexam)
    strip = crops[0]
    assert isinstance(strip, Strip), strip
    r = exam.regions[0]
    x, y, w, h, *_ = strip.windows["bmd"]
    assert _shows(_image(strip.uri).crop((x, y, x + w, y + h)), r.bmd) is True


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pdf", "zip"])
def test_with_the_real_report_reader(tmp_path, kind):
    """Locations written by bmdkit's report reader (no dpi in them) line up with the crops.

    The page comes from the project's report generator (a text PDF, or that PDF
    rendered to PNG at another resolution and put inside a zip, as the batch
    names it ``archive.zip!member``), is read by ``bmdkit.read_file``, and each
    window must show the value the reader returned.
    """
    import zipfile

    import pypdfium2 as pdfium

    from bmdkit import read_file
    from bmdkit.samples.pdfs import render_pdf

    truth = TruthGenerator(77).exam(scan_type="spine")
    pdf = tmp_path / "r.pdf"
    render_pdf(truth, "hologic", "en", pdf)
    path = pdf
    if kind == "zip":
        doc = pdfium.PdfDocument(str(pdf))
        path = tmp_path / "r.png"
        doc[0].render(scale=180 / 72).to_pil().convert("RGB").save(path)
        doc.close()
    exam = read_file(path)
    assert exam.regions, exam.flags
    if kind == "zip":
        with zipfile.ZipFile(tmp_path / "site.zip", "w") as zf:
            zf.write(path, "batch/r.png")
        exam = exam.replace(source=exam.source.__class__("site.zip!batch/r.png", exam.source.sha256, exam.source.kind))
    crops = Cropper([tmp_path]).exam_crops(exam)
    checked = 0
    for i, r in enumerate(exam.regions):
        strip = crops.get(i)
        if not isinstance(strip, Strip) or r.bmd is None or checked >= 2:
            continue
        x, y, w, h, *_ = strip.windows["bmd"]
        assert _shows(_image(strip.uri).crop((x, y, x + w, y + h)), r.bmd) is True, (kind, r.region)
        checked += 1
    assert checked == 2
