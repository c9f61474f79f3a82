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
from typing import Any

import numpy as np

from bmdkit.errors import ResourceLimit, UnreadableInput
from bmdkit.options import ReadOptions
from bmdkit.payload import PagePayload
from bmdkit.report.tokens import Token

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


def _check_pixels(w: int, h: int, options: ReadOptions, shown: str, page: int | None = None) -> None:
    if w * h > options.max_pixels:
        which = f"page {page}" if page is not None else "page"
        raise ResourceLimit(f"{which} of {w}x{h} pixels exceeds the {options.max_pixels}-pixel cap", shown)


def load_image_bytes(data: bytes, options: ReadOptions, shown: str) -> list[np.ndarray]:
    """Decode an image file (every frame of a multi-page TIFF) under the pixel cap.

    Every frame's size is checked against ``max_pixels`` from its own header
    before that frame is decoded (a small page 1 says nothing about page 2).
    """
    from PIL import Image

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
                _check_pixels(im.width, im.height, options, shown, page=i + 1 if n > 1 else None)
                frames.append(_rgb(im))
            return frames
    except Image.DecompressionBombError:
        raise ResourceLimit("image exceeds the pixel cap (decompression bomb guard)", shown) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnreadableInput(f"image cannot be decoded ({type(exc).__name__})", shown) from None


def _rgb(frame: Any) -> np.ndarray:
    """One decoded frame as an 8-bit RGB array, whatever its mode.

    16- and 32-bit greyscale is scaled to 8 bits (a plain conversion clips
    everything above 255 to white); transparent pixels (alpha, or a palette
    or greyscale transparent colour) are laid on white paper, not black.
    """
    from PIL import Image, ImageOps

    fr = ImageOps.exif_transpose(frame.copy()) or frame.copy()
    if fr.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(fr, dtype=np.float64)
        top = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / (65535.0 if 255 < top <= 65535 else max(top, 255.0))
        grey = np.clip(arr * scale, 0, 255).round().astype(np.uint8)
        return np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
    if "A" in fr.mode or "transparency" in fr.info:
        rgba = fr.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        fr = Image.alpha_composite(paper, rgba)
    return np.asarray(fr.convert("RGB"))


def load_pdf_bytes(data: bytes, options: ReadOptions, shown: str) -> list[Page]:
    """Every page of a PDF: its text-layer words if any, and a rendered image.

    The PDF's streams are measured first (:func:`~bmdkit.report.pdftext.check_pdf_streams`):
    content that would inflate past ``max_pdf_stream_bytes`` fails as a
    resource limit before pdfium or pdfplumber decode it. Actions and
    JavaScript are never run: pdfium is used without a form environment and
    pdfplumber only reads text.
    """
    import pypdfium2 as pdfium

    from bmdkit.report.pdftext import check_pdf_streams, pdf_words

    check_pdf_streams(data, options, shown)
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableInput("PDF is encrypted and needs a password to open", shown) from None
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
