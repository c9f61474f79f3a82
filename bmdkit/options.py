"""Settings a reader obeys: resource caps and engine choices.

These are operating limits chosen by the user (or the imaging core's
configuration), not reference numbers; defaults suit a 2-core, 24 GiB
workstation reading single-page DXA reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReadOptions:
    """How far a reader may go on one file.

    Attributes
    ----------
    max_file_bytes:
        Files larger than this are refused before parsing.
    max_pixels:
        Largest image (width x height) decoded; larger claims fail as a
        resource limit instead of exhausting memory (decompression bombs).
    max_pages:
        Pages of a PDF or frames of a DICOM considered.
    max_pdf_stream_bytes:
        Bytes all of a PDF's non-image streams (page content, forms, object
        and cross-reference streams) may inflate to, measured in bounded
        steps before any PDF library decodes them; more fails as
        ``resource_limit`` (a content-stream bomb).
    max_xml_bytes, max_xml_depth:
        Caps on embedded XML (DICOM private elements) before parsing.
    timeout_s:
        Wall-clock budget per file; enforced by the batch runner, which runs
        each file in a worker it can stop.
    memory_bytes:
        Memory a batch worker process may use for reading, as an
        address-space cap (``RLIMIT_AS``) set on top of what the worker has
        mapped when it starts (its loaded libraries); 0 = no cap. A file
        that needs more fails as ``resource_limit``.
    ocr_engines:
        Which OCR engines the report reader uses, in order.
    ocr_languages:
        Tesseract language packs.
    cross_check_pixels:
        Also OCR the burned-in report page of a DICOM file whose own data
        (private script or XML, SR) already gives the results, and flag any
        value the page shows differently. Off by default: the page costs
        seconds and the DICOM values are exact; the cross-check runs anyway
        where the DICOM data is incomplete or inconsistent.
    """

    max_file_bytes: int = 512 * 1024 * 1024
    max_pixels: int = 60_000_000
    max_pages: int = 12
    max_pdf_stream_bytes: int = 64 * 1024 * 1024
    max_xml_bytes: int = 8 * 1024 * 1024
    max_xml_depth: int = 64
    timeout_s: float = 180.0
    memory_bytes: int = 4 * 1024 * 1024 * 1024
    ocr_engines: tuple[str, ...] = ("tesseract", "rapidocr")
    ocr_languages: tuple[str, ...] = ("eng", "chi_sim")
    cross_check_pixels: bool = False
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


DEFAULT_OPTIONS = ReadOptions()
