"""What kind of DICOM object this is, decided from the header alone: scan image, report page, SR, document.

Most DICOM files an imaging core receives are scan images with no numbers
(GE exports a study as a dozen or more objects). OCR of one page costs
seconds, so only an object that can be a report page may reach it, and the
decision must come from the header (no pixels):

- a structured report or an encapsulated document is what its SOP class says;
- a report script beside the pixels, or report words in the descriptions
  ("Report", "Results", "FRAX", "报告"), make a report page;
- a grey image whose descriptions name a DXA scan (ProtocolName "Right Ortho
  Knee", "Total Body", "LVA", BodyPartExamined "HIP" ...) is a scan image,
  whatever its size: report pages are printed in colour or, if grey, say so;
- any other image is a *candidate* page only when it is page-shaped (size
  and aspect of a printed page) or a large colour picture; the fast
  text-density test (:mod:`bmdkit.dicom.density`) then decides before OCR;
- everything else is a scan image.

The vocabulary (scan and report words) lives in
``reference_data/dicom_vocabulary.csv``; the page-shape numbers are
heuristics named in :mod:`bmdkit.dicom.pages`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydicom.dataset import Dataset

from bmdkit.dicom import pages, sr, words
from bmdkit.dicom.base import text, value_of
from bmdkit.dicom.header_facts import description_text

#: SOP classes that hold an image a person made from a screen or page (Secondary Capture family)
SECONDARY_CAPTURE = frozenset(pages.SECONDARY_CAPTURE)
#: photometric interpretations of grey images (PS3.3 C.7.6.3.1.2)
GREY = frozenset({"MONOCHROME1", "MONOCHROME2"})
#: a colour image at least this tall may be a page even when its aspect is unusual (landscape)
_COLOUR_PAGE_MIN_ROWS = 600


class ObjectKind(str, enum.Enum):
    """What a DICOM object is, as far as reading results goes."""

    STRUCTURED_REPORT = "structured report"
    DOCUMENT = "encapsulated document"
    REPORT_PAGE = "report page"
    CANDIDATE_PAGE = "possible report page"
    SCAN_IMAGE = "scan image"
    NO_IMAGE = "no image"


@dataclass(frozen=True)
class Triage:
    """The header's verdict and the reason, in words a person can check."""

    kind: ObjectKind
    reason: str

    @property
    def may_hold_page(self) -> bool:
        """True when pixels or a document could hold a report page."""
        return self.kind in (ObjectKind.DOCUMENT, ObjectKind.REPORT_PAGE, ObjectKind.CANDIDATE_PAGE)


def _int(ds: Dataset, keyword: str) -> int:
    try:
        return int(value_of(ds, keyword) or 0)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def page_shaped(rows: int, cols: int) -> bool:
    """Size and aspect of a printed portrait page (pages.py heuristics)."""
    return rows >= pages._PAGE_MIN_ROWS and cols > 0 and \
        pages._PAGE_ASPECT[0] <= rows / cols <= pages._PAGE_ASPECT[1]


def triage(ds: Dataset, has_script: bool, ctx: words.Meaning) -> Triage:
    """Classify ``ds`` from its header; ``ctx`` is the scan meaning of its descriptions."""
    if sr.is_sr(ds):
        return Triage(ObjectKind.STRUCTURED_REPORT, "SOP class of a structured report")
    if pages.is_encapsulated_pdf(ds):
        return Triage(ObjectKind.DOCUMENT, "encapsulated PDF document")
    if 0x7FE00010 not in ds and "Rows" not in ds:
        return Triage(ObjectKind.NO_IMAGE, "no pixel data")
    if has_script:
        return Triage(ObjectKind.REPORT_PAGE, "a report script sits beside the pixels")
    desc = description_text(ds)
    if words.first(desc, "report_page"):
        return Triage(ObjectKind.REPORT_PAGE, "the descriptions call it a report or results page")
    rows, cols = _int(ds, "Rows"), _int(ds, "Columns")
    photometric = (text(ds, "PhotometricInterpretation") or "").upper()
    grey = photometric in GREY or (not photometric and _int(ds, "SamplesPerPixel") <= 1)
    sop = str(value_of(ds, "SOPClassUID", ""))
    shaped = page_shaped(rows, cols)
    scan_named = ctx.context is not None
    what = f"{rows}x{cols} {photometric or 'grey'}"
    if scan_named and grey:
        return Triage(ObjectKind.SCAN_IMAGE, f"a grey {what} image of a named scan ({ctx.context})")
    if scan_named and not shaped:
        return Triage(ObjectKind.SCAN_IMAGE, f"a {what} image of a named scan ({ctx.context}), not page-shaped")
    if shaped or (not grey and rows >= _COLOUR_PAGE_MIN_ROWS and sop in SECONDARY_CAPTURE):
        return Triage(ObjectKind.CANDIDATE_PAGE, f"a {what} image shaped or coloured like a page")
    return Triage(ObjectKind.SCAN_IMAGE, f"a {what} image that is not page-shaped")
