"""Cell readings as the vote makes them, for tests of what settles a reading (no OCR run).

``sure``: both engines read the value alike; ``single``: one engine read it, the other read
``other`` (nothing usable); ``disputed``: the other engine read ``rivals``.
"""

from __future__ import annotations

from bmdkit.report import vote
from bmdkit.report.numbers import parse_number


def cand(engine: str, text: str) -> vote.Candidate:
    """One engine's reading of a cell, as the vote takes it."""
    return vote.Candidate(engine, text, 0.9, parse_number(text))


def sure(raw: str) -> vote.Reading:
    """A value both engines read alike."""
    p = parse_number(raw)
    assert p is not None
    return vote.Reading(p.value, False, 0.95, raw, ("rapidocr", "tesseract"),
                        candidates=[cand("rapidocr", raw), cand("tesseract", raw)])


def single(raw: str, other: str = "") -> vote.Reading:
    """A value one engine read; the other read ``other`` (nothing usable)."""
    p = parse_number(raw)
    assert p is not None
    return vote.Reading(p.value, False, 0.4, raw, ("rapidocr",), single=True,
                        candidates=[cand("rapidocr", raw), cand("tesseract", other)])


def disputed(raw: str, *rivals: str) -> vote.Reading:
    """A value RapidOCR read and tesseract read as ``rivals``."""
    p = parse_number(raw)
    assert p is not None
    return vote.Reading(p.value, False, 0.4, raw, ("rapidocr",), disagreement=True,
                        candidates=[cand("rapidocr", raw), *(cand("tesseract", r) for r in rivals)])
