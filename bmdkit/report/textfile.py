"""Plain-text DXA reports (exported from a RIS or HIS) into an :class:`Exam`.

The file is decoded by trying strict decoders in turn (UTF-16 with a BOM;
UTF-8 with or without a BOM; GB18030, which Chinese Windows systems write),
never by guessing: a file none of them decodes is unreadable. Files over
:data:`MAX_TEXT_BYTES` are refused before decoding: a report is a page or
two, and a larger "text" file is a log or a data dump.

Results come from the sentences (:mod:`bmdkit.report.sentences`); the exam
date, vendor and model from :mod:`bmdkit.report.exam_facts`, and patient fields
and institution from :mod:`bmdkit.report.patient`, the same functions the
page reader applies to a page's lines. Text is exact: every value has
confidence 1.0 and engine ``text-file``; its location is the line it stands on. The exam's
source kind stays ``unknown`` (the contract has no text kind); ``Source.input_form`` says
``text_report``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bmdkit.detect import decode_text
from bmdkit.errors import NoResults, ResourceLimit, UnreadableInput
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, Source, Vendor, scan_types_of
from bmdkit.options import DEFAULT_OPTIONS, ReadOptions
from bmdkit.report import exam_facts, patient
from bmdkit.report.sentences import TEXT_ENGINE, TextLine, read_sentences

READER_NAME = "bmdkit.report.textfile"

#: ``Source.input_form`` of an exam read from a text report: the contract's source kinds (dicom,
#: image, pdf, unknown) have no text kind, so ``kind`` stays ``unknown`` and this says what it was
INPUT_FORM = "text_report"

#: largest text file read as a report (an operating limit: a report is a few KB)
MAX_TEXT_BYTES = 4 * 1024 * 1024

#: longest line considered (longer lines are cut: a report line is a sentence or two)
MAX_LINE_CHARS = 4000

#: most lines considered
MAX_LINES = 20_000


def decode_report(data: bytes, shown: str) -> str:
    """The text of a report file, or :class:`UnreadableInput` when no strict decoder fits."""
    text = decode_text(data)
    if text is None:
        raise UnreadableInput("text that is neither UTF-8 nor GB18030 (nor UTF-16 with a BOM)", shown)
    return text.lstrip("\ufeff")


def read_text_report(path: Path, source: Source, options: ReadOptions = DEFAULT_OPTIONS) -> Exam:
    """Read a plain-text report written in sentences (see the module docstring).

    Raises :class:`ResourceLimit` for a file over :data:`MAX_TEXT_BYTES`,
    :class:`UnreadableInput` for bytes no decoder takes, and
    :class:`NoResults` when no sentence states a result.
    """
    shown = source.path
    size = Path(path).stat().st_size
    cap = min(MAX_TEXT_BYTES, options.max_file_bytes)
    if size > cap:
        raise ResourceLimit(f"a text file of {size} bytes exceeds the {cap}-byte cap for text reports (not read)",
                            shown)
    with open(path, "rb") as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:  # grew while being read
        raise ResourceLimit(f"a text file over the {cap}-byte cap for text reports (not read)", shown)
    lines = [ln[:MAX_LINE_CHARS] for ln in decode_report(data, shown).splitlines()[:MAX_LINES]]
    reading = read_sentences([TextLine(ln, None, None, None, TEXT_ENGINE) for ln in lines])  # no pages
    if not reading.regions and not reading.flags:
        raise NoResults("a DXA text report, but no sentence in it states a result", shown)
    flags = list(reading.flags)
    if not reading.regions:
        flags.append(Flag(FlagCode.NO_RESULTS, "no sentence of the text report states a result that could be "
                          "placed (see the other flags)"))
    found = exam_facts.find_exam_date(lines)
    flags += exam_facts.date_flags(found, "in the text")
    text = "\n".join(lines)
    vendor_key = exam_facts.find_vendor(text)
    vendor = Vendor(vendor_key) if vendor_key else Vendor.UNKNOWN
    if vendor is Vendor.UNKNOWN:
        flags.append(Flag(FlagCode.UNKNOWN_VENDOR, "scanner manufacturer not named in the text"))
    who = patient.read_pages([lines])
    return Exam(
        source=dataclasses.replace(source, input_form=INPUT_FORM), vendor=vendor,
        scanner_model=exam_facts.find_model(text), exam_date=found.date,
        scan_types=scan_types_of(reading.regions), regions=reading.regions, flags=tuple(flags),
        reader=f"{READER_NAME}({TEXT_ENGINE})", patient=who.identity, institution=who.institution,
    )
