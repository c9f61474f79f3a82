"""Load report pages from an image, a PDF or a DICOM payload, within caps.

A page is an RGB/grey array plus, for PDFs with a text layer, the words
with their positions (then no OCR is needed). Caps from
:class:`~bmdkit.options.ReadOptions`: Pillow refuses images above
``max_pixels`` (decompression bombs), PDFs beyond ``max_pages`` pages are
refused rather than silently truncated, and pages are rendered at a
resolution that keeps them under ``max_pixels``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bmdkit.errors import ResourceLimit, UnreadableInput
from bmdkit.options import ReadOptions
from bmdkit.payload import PagePayload
from bmdkit.report.ocr import Token

#: resolution PDF pages without a text layer are rendered at for OCR
RENDER_DPI = 250


@dataclass
class Page:
    """One page: its image and, for a PDF text layer, its words (page pixels)."""

    number: int
    image: np.ndarray
    words: list[Token] = field(default_factory=list)

    @property
    def has_text_layer(self) -> bool:
        return len(self.words) >= 8


def _check_pixels(w: int, h: int, options: ReadOptions, shown: str) -> None:
    if w * h > options.max_pixels:
        raise ResourceLimit(f"page of {w}x{h} pixels exceeds the {options.max_pixels}-pixel cap", shown)


def load_image_bytes(data: bytes, options: ReadOptions, shown: str) -> list[np.ndarray]:
    """Decode an image file (every frame of a multi-page TIFF) under the pixel cap."""
    from PIL import Image, ImageOps

    # The cap is checked on the header's size before any pixel is decoded; Pillow's own
    # (process-wide) bomb guard is left as it is, so other code in the process is unaffected.
    try:
        with Image.open(io.BytesIO(data)) as im:
            _check_pixels(im.width, im.height, options, shown)
            frames: list[np.ndarray] = []
            n = getattr(im, "n_frames", 1)
            if n > options.max_pages:
                raise ResourceLimit(f"{n} frames exceed the {options.max_pages}-page cap", shown)
            for i in range(n):
                im.seek(i)
                fr = ImageOps.exif_transpose(im.copy()) or im.copy()
                frames.append(np.asarray(fr.convert("RGB")))
            return frames
    except Image.DecompressionBombError:
        raise ResourceLimit("image exceeds the pixel cap (decompression bomb guard)", shown) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnreadableInput(f"image cannot be decoded ({type(exc).__name__})", shown) from None


def load_pdf_bytes(data: bytes, options: ReadOptions, shown: str) -> list[Page]:
    """Every page of a PDF: its text-layer words if any, and a rendered image."""
    import pypdfium2 as pdfium

    from bmdkit.report.pdftext import pdf_words

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise UnreadableInput("PDF cannot be parsed", shown) from None
    try:
        n = len(doc)
        if n > options.max_pages:
            raise ResourceLimit(f"PDF of {n} pages exceeds the {options.max_pages}-page cap", shown)
        pages: list[Page] = []
        for i in range(n):
            try:
                pg = doc[i]
                w_pt, h_pt = pg.get_size()
                scale = RENDER_DPI / 72
                if w_pt * h_pt * scale * scale > options.max_pixels:
                    scale = (options.max_pixels / max(w_pt * h_pt, 1.0)) ** 0.5
                img = np.asarray(pg.render(scale=scale).to_pil().convert("RGB"))
            except pdfium.PdfiumError:
                raise UnreadableInput(f"PDF page {i + 1} of {n} cannot be loaded (damaged page object)",
                                      shown) from None
            words = pdf_words(data, i, scale)
            pages.append(Page(i + 1, img, words))
        return pages
    finally:
        doc.close()


def load_pages(path: Path, options: ReadOptions, payload: PagePayload | None, kind: str) -> list[Page]:
    """Pages of the input: the payload if given, else the file by its kind."""
    shown = str(path)
    if payload is not None:
        if payload.pdf_bytes is not None:
            return load_pdf_bytes(payload.pdf_bytes, options, shown)
        if len(payload.images) > options.max_pages:
            raise ResourceLimit(f"{len(payload.images)} frames exceed the page cap", shown)
        out = []
        for i, im in enumerate(payload.images):
            _check_pixels(im.shape[1], im.shape[0], options, shown)
            out.append(Page(i + 1, im))
        return out
    data = path.read_bytes()
    if kind == "pdf":
        return load_pdf_bytes(data, options, shown)
    return [Page(i + 1, im) for i, im in enumerate(load_image_bytes(data, options, shown))]
