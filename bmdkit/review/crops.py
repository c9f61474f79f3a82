"""Small pictures of the page around each value read by OCR.

A value read from a page carries ``ValueSource.location``: the page number
(1-based) and the box ``(x0, y0, x1, y1)`` in pixels of the page image as the
reader saw it. This module opens the source file the batch recorded, renders
that page, and cuts a small grey JPEG of each table row (a *strip*) as a
``data:`` URI, with the window around each value in it; the page shows the
window beside the value and frames the value in red. Values of one row on
different pages get a stand-alone crop each.

Safety: the only path opened is the exam's ``source.path`` as the batch
recorded it, resolved against the roots the caller gives; nothing named
inside a file is ever followed. The file's SHA-256 must equal the exam's
(else the file changed since it was read and no crop is shown), and file
size, image pixels and page count are capped.

Page geometry: images are used as stored, after EXIF orientation (as
OpenCV's and Pillow-based readers see them). PDFs are rendered with
pypdfium2 at the resolution the reader used: ``dpi=N`` in the location's
``detail`` if the reader wrote it, else :attr:`CropOptions.pdf_dpi`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from bmdkit.model import Exam, Location
from bmdkit.options import DEFAULT_OPTIONS

log = logging.getLogger(__name__)

#: What rendering a damaged page may raise (pypdfium2's PdfiumError is a RuntimeError,
#: pydicom's InvalidDicomError an Exception of its own).
_RENDER_ERRORS: tuple[type[BaseException], ...] = (
    OSError, ValueError, RuntimeError, KeyError, AttributeError, NotImplementedError, EOFError,
    Image.DecompressionBombError,
)
try:
    from pydicom.errors import InvalidDicomError

    _RENDER_ERRORS += (InvalidDicomError,)
except ImportError:  # pragma: no cover
    pass

_DPI_RE = re.compile(r"\bdpi\s*=\s*(\d{2,4})\b")


def _reader_pdf_dpi() -> float | None:
    """The report reader's PDF render resolution, if that reader is installed."""
    from bmdkit.report.pagefiles import RENDER_DPI

    return float(RENDER_DPI)


@dataclass(frozen=True)
class CropOptions:
    """How crops are made. Operating settings, not reference numbers.

    ``pdf_dpi`` must match the report reader's render resolution when its
    locations do not say it (``dpi=N`` in ``Location.detail``): by default
    it is the reader's own (``bmdkit.report.pagefiles.RENDER_DPI``), read at run
    time; without a report reader PDF crops say the resolution is unknown.
    ``max_pixels`` is also the cap under which the reader shrinks its
    renders (its default equals ``ReadOptions.max_pixels``).
    """

    max_height: int = 44
    max_width: int = 260
    strip_width: int = 1400
    strip_left: float = 0.4
    quality: int = 70
    context_x: float = 1.2
    context_y: float = 0.25
    pdf_dpi: float | None = field(default_factory=lambda: _reader_pdf_dpi())
    max_file_bytes: int = 256 * 1024 * 1024
    max_pixels: int = DEFAULT_OPTIONS.max_pixels
    max_pages: int = DEFAULT_OPTIONS.max_pages


@dataclass(frozen=True)
class Crop:
    """A crop as a data URI, or the reason there is none."""

    uri: str | None
    reason: str = ""


#: How the batch names a file inside a zip archive: ``archive.zip!member/path``.
ARCHIVE_SEP = "!"


class SourceResolver:
    """Finds the bytes of the file a batch recorded, under the roots given, and checks their SHA-256.

    ``archive.zip!member`` names a member of a zip archive the batch unpacked;
    the member is read from the archive (size-capped), never extracted to disk.
    """

    def __init__(self, roots: Iterable[Path], options: CropOptions) -> None:
        self.roots = [Path(r) for r in roots]
        self.options = options

    def _candidates(self, recorded: str) -> list[Path]:
        p = Path(recorded)
        return [p] if p.is_absolute() else [r / p for r in self.roots]

    def resolve(self, recorded: str, sha256: str) -> bytes | str:
        """The file's bytes, or a reason (str) why they cannot be used."""
        member = None
        if ARCHIVE_SEP in recorded:
            head, _, tail = recorded.partition(ARCHIVE_SEP)
            if head.lower().endswith(".zip"):
                recorded, member = head, tail
        for c in self._candidates(recorded):
            try:
                if not c.is_file():
                    continue
                if member is None:
                    if c.stat().st_size > self.options.max_file_bytes:
                        return "source file over the size cap"
                    data = c.read_bytes()
                else:
                    found = _zip_member(c, member, self.options.max_file_bytes)
                    if isinstance(found, str):
                        return found
                    data = found
            except OSError as exc:
                return f"source file cannot be read ({exc.strerror or type(exc).__name__})"
            if hashlib.sha256(data).hexdigest() != sha256:
                return "source file changed since it was read (SHA-256 differs)"
            return data
        return "source file not found"


def _zip_member(archive: Path, member: str, cap: int) -> bytes | str:
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                return "member not found in the zip archive"
            if info.file_size > cap:
                return "source file over the size cap"
            with zf.open(info) as fh:
                data = fh.read(cap + 1)
            return data if len(data) <= cap else "source file over the size cap"
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        return f"zip archive cannot be read ({type(exc).__name__})"


class PageSource:
    """Pages of one file (its bytes), rendered once and kept while its crops are made."""

    def __init__(self, data: bytes, kind: str, options: CropOptions) -> None:
        self.data = data
        self.kind = kind
        self.options = options
        self._pages: dict[tuple[int, float], Image.Image | str] = {}

    def page(self, number: int, dpi: float | None) -> Image.Image | str:
        key = (number, dpi or 0.0)
        if key not in self._pages:
            try:
                self._pages[key] = self._load(number, dpi)
            except _RENDER_ERRORS as exc:
                log.debug("page %s of a source could not be rendered", number, exc_info=True)
                self._pages[key] = f"page could not be rendered ({type(exc).__name__})"
        return self._pages[key]

    def _load(self, number: int, dpi: float | None) -> Image.Image | str:
        if number > self.options.max_pages:
            return "page number over the page cap"
        pdf_dpi = dpi or self.options.pdf_dpi
        if self.kind == "pdf":
            return _render_pdf(self.data, number, pdf_dpi, self.options)
        if self.kind == "image":
            return _image_page(self.data, number, self.options)
        if self.kind == "dicom":
            return _dicom_page(self.data, number, pdf_dpi, self.options)
        return f"no pages in a file of kind {self.kind}"


def _image_page(data: bytes, number: int, options: CropOptions) -> Image.Image | str:
    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > options.max_pixels:
            return "image over the pixel cap"
        n = getattr(im, "n_frames", 1)
        if number > n:
            return f"the image has {n} page(s), the value is on page {number}"
        im.seek(number - 1)
        page = ImageOps.exif_transpose(im) or im
        return page.convert("RGB")


def _render_pdf(data: bytes, number: int, dpi: float | None, options: CropOptions) -> Image.Image | str:
    """Page ``number`` rendered as the report reader renders it: at ``dpi``, shrunk under the pixel cap."""
    import pypdfium2 as pdfium

    if dpi is None:
        return "the PDF render resolution is unknown (give --pdf-dpi)"
    doc = pdfium.PdfDocument(data)
    try:
        if number > len(doc):
            return f"the PDF has {len(doc)} page(s), the value is on page {number}"
        page = doc[number - 1]
        w, h = page.get_size()
        scale = dpi / 72.0
        if w * h * scale * scale > options.max_pixels:
            scale = (options.max_pixels / max(w * h, 1.0)) ** 0.5
        img = page.render(scale=scale).to_pil().convert("RGB")
        page.close()
        return img
    finally:
        doc.close()


def _dicom_page(data: bytes, number: int, dpi: float | None, options: CropOptions) -> Image.Image | str:
    """A report page stored in DICOM: an encapsulated PDF, or Secondary Capture pixels (frame N)."""
    import numpy as np
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(data), force=False)
    if "EncapsulatedDocument" in ds:
        return _render_pdf(bytes(ds.EncapsulatedDocument), number, dpi, options)
    if "PixelData" not in ds:
        return "the DICOM file holds no page image"
    rows, cols = int(ds.get("Rows", 0)), int(ds.get("Columns", 0))
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if rows * cols > options.max_pixels:
        return "DICOM image over the pixel cap"
    if number > frames:
        return f"the DICOM file has {frames} frame(s), the value is on page {number}"
    from pydicom.pixels import pixel_array

    arr = np.asarray(pixel_array(ds, index=number - 1) if frames > 1 else ds.pixel_array)
    if arr.dtype != np.uint8:
        lo, hi = float(arr.min()), float(arr.max())
        arr = ((arr - lo) * (255.0 / (hi - lo or 1.0))).astype(np.uint8)
    if str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1":
        arr = 255 - arr
    return Image.fromarray(arr).convert("RGB")


def location_dpi(loc: Location) -> float | None:
    """``dpi=N`` from a location's detail, if the reader recorded it."""
    m = _DPI_RE.search(loc.detail or "")
    return float(m.group(1)) if m else None


def _jpeg(img: Image.Image, options: CropOptions) -> str:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=options.quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _scaled(img: Image.Image, scale: float) -> Image.Image:
    if scale >= 1.0:
        return img
    return img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                      Image.Resampling.LANCZOS)


def _inside(box: tuple[int, int, int, int], size: tuple[int, int]) -> bool:
    x0, y0, x1, y1 = box
    return x0 < size[0] and y0 < size[1] and x1 > 0 and y1 > 0


def cut(page: Image.Image, box: tuple[int, int, int, int], options: CropOptions) -> Crop:
    """A small grey JPEG of ``box`` with some context, the value framed in red (a stand-alone crop)."""
    if not _inside(box, page.size):
        return Crop(None, "the box lies outside the page")
    x0, y0, x1, y1 = box
    W, H = page.size
    bw, bh = max(x1 - x0, 1), max(y1 - y0, 1)
    mx = int(max(bw * options.context_x, bh * 2))
    my = int(max(bh * options.context_y, 4))
    cx0, cy0 = max(0, x0 - mx), max(0, y0 - my)
    cx1, cy1 = min(W, x1 + mx), min(H, y1 + my)
    region = page.crop((cx0, cy0, cx1, cy1)).convert("L")
    scale = min(1.0, options.max_height / region.height, options.max_width / region.width)
    region = _scaled(region, scale).convert("RGB")
    draw = ImageDraw.Draw(region)
    gap = 3  # px between the value and its frame, so the frame never touches a glyph
    fx0, fy0 = max(0, (x0 - cx0) * scale - gap), max(0, (y0 - cy0) * scale - gap)
    fx1 = min(region.width - 1, (x1 - cx0) * scale + gap)
    fy1 = min(region.height - 1, (y1 - cy0) * scale + gap)
    draw.rectangle((fx0, fy0, fx1, fy1), outline=(220, 30, 30), width=1)
    return Crop(_jpeg(region, options))


@dataclass(frozen=True)
class Strip:
    """One table row of the page as a grey JPEG, and where each value sits in it.

    ``windows[measure]`` is ``(x, y, w, h, fx, fy, fw, fh)`` in the strip's
    pixels: the part to show beside the value (with context) and the value's
    own box (framed on screen). One image per row instead of one per value
    keeps the page light; the page shows each window with CSS.
    """

    uri: str
    width: int
    height: int
    windows: dict[str, tuple[int, ...]]


def row_strip(page: Image.Image, boxes: dict[str, tuple[int, int, int, int]],
              options: CropOptions) -> Strip | None:
    """The row holding ``boxes``, extended left (where row labels are printed) and a little right.

    The left extension is the larger of twice the values' span and
    ``options.strip_left`` of the page width, clipped at the page edge.
    Returns None when no box lies on the page.
    """
    boxes = {m: b for m, b in boxes.items() if _inside(b, page.size)}
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes.values()), min(b[1] for b in boxes.values())
    x1, y1 = max(b[2] for b in boxes.values()), max(b[3] for b in boxes.values())
    h = max(max(b[3] - b[1] for b in boxes.values()), 1)
    left = int(max(2 * (x1 - x0), options.strip_left * page.width, 4 * h))
    pad = max(int(h * options.context_y), 6)  # room for the frame (3 px off the value) inside the strip
    sx0, sy0 = max(0, x0 - left), max(0, y0 - pad)
    sx1, sy1 = min(page.width, x1 + 2 * h), min(page.height, y1 + pad)
    region = page.crop((sx0, sy0, sx1, sy1)).convert("L")
    scale = min(1.0, options.max_height / region.height, options.strip_width / region.width)
    region = _scaled(region, scale)
    gap = 3
    windows: dict[str, tuple[int, ...]] = {}
    for m, (bx0, by0, bx1, by1) in boxes.items():
        fx0, fy0 = max(0.0, (bx0 - sx0) * scale - gap), max(0.0, (by0 - sy0) * scale - gap)
        fx1 = min(region.width - 1.0, (bx1 - sx0) * scale + gap)
        fy1 = min(region.height - 1.0, (by1 - sy0) * scale + gap)
        bw = fx1 - fx0
        wx0 = max(0, int(fx0 - max(bw * options.context_x / 2, 2 * gap)))
        wx1 = min(region.width, int(fx1 + max(bw * options.context_x / 2, 2 * gap)) + 1)
        windows[m] = (wx0, 0, wx1 - wx0, region.height,
                      int(fx0), int(fy0), int(fx1 - fx0) + 1, int(fy1 - fy0) + 1)
    return Strip(_jpeg(region, options), region.width, region.height, windows)


class Cropper:
    """Crops for the OCR values of exams, one source file at a time."""

    def __init__(self, roots: Iterable[Path], options: CropOptions | None = None) -> None:
        self.options = options or CropOptions()
        self.resolver = SourceResolver(roots, self.options)

    def exam_crops(self, exam: Exam) -> dict[int, Strip | dict[str, Crop]]:
        """For each region index with located values: a :class:`Strip` of its row, or per-value crops.

        A row whose values sit on one page gives one strip; values spread
        over pages (or a row whose strip cannot be made) give a crop each.
        A value that cannot be cropped has a :class:`Crop` with the reason.
        """
        wanted: dict[int, dict[str, Location]] = {}
        for i, r in enumerate(exam.regions):
            for m, s in r.sources.items():
                if s.location is not None and s.location.box is not None:
                    wanted.setdefault(i, {})[m] = s.location
        if not wanted:
            return {}
        where = self.resolver.resolve(exam.source.path, exam.source.sha256)
        if isinstance(where, str):
            return {i: {m: Crop(None, where) for m in locs} for i, locs in wanted.items()}
        pages = PageSource(where, exam.source.kind.value, self.options)  # where: the file's bytes
        out: dict[int, Strip | dict[str, Crop]] = {}
        for i, locs in wanted.items():
            keys = {(loc.page or 1, location_dpi(loc)) for loc in locs.values()}
            if len(keys) == 1:
                page = pages.page(*next(iter(keys)))
                if isinstance(page, str):
                    out[i] = {m: Crop(None, page) for m in locs}
                    continue
                strip = row_strip(page, {m: loc.box for m, loc in locs.items() if loc.box}, self.options)
                if strip is not None and len(strip.windows) == len(locs):
                    out[i] = strip
                    continue
            crops: dict[str, Crop] = {}
            for m, loc in locs.items():
                assert loc.box is not None
                page = pages.page(loc.page or 1, location_dpi(loc))
                crops[m] = Crop(None, page) if isinstance(page, str) else cut(page, loc.box, self.options)
            out[i] = crops
        return out
