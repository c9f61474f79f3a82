"""Words and their positions from a PDF's text layer (no OCR).

pdfplumber gives each word with its box in PDF points; boxes are scaled to
the pixels of the page as rendered, so that a value's location points into
the same image whatever the route. Text from a text layer is exact, so its
tokens carry confidence 1.0 and engine ``pdf-text``.
"""

from __future__ import annotations

import io

from bmdkit.report.ocr import Token

ENGINE = "pdf-text"


def pdf_words(data: bytes, index: int, scale: float) -> list[Token]:
    """Words of page ``index`` (0-based), boxes in pixels at ``scale`` px/pt."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            page = pdf.pages[index]
            words = page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5)
    except (PDFSyntaxError, PSException, PdfminerException, MalformedPDFException, ValueError, KeyError,
            IndexError, TypeError, AttributeError, AssertionError):
        # a damaged text layer (pdfplumber wraps pdfminer's parse errors in PdfminerException;
        # pdfminer asserts on some broken objects): no words, the rendered page is read instead
        return []
    out: list[Token] = []
    for w in words:
        text = w["text"].strip()
        if not text:
            continue
        box = (int(w["x0"] * scale), int(w["top"] * scale), int(w["x1"] * scale) + 1, int(w["bottom"] * scale) + 1)
        out.append(Token(text, box, 1.0, ENGINE))
    return out
