"""The table vote never drops a minus one engine read, fuzzed with OCR's digit lookalikes.

A reading of a cell that lost only its decimal point ('-25' for -2.5) backs the kept value's
digits and sign (``vote.same_digits``). That rule also let '-25' back a kept +2.5 (two RapidOCR
readings that lost the minus): the cell came out 2.5 with confidence 0.95 and no flag, a silent
sign error, the worst kind (it decides trial eligibility). Now a minus one engine read and the
other did not is a sign dispute, flagged (and settled only by the witnesses ``valueflags.settle_signs``
knows).
"""

from __future__ import annotations

import random

from bmdkit.report import vote
from bmdkit.report.numbers import parse_number


def _c(engine: str, text: str, conf: float = 0.9) -> vote.Candidate:
    return vote.Candidate(engine, text, conf, parse_number(text))


def test_a_minus_one_engine_read_is_never_dropped_silently() -> None:
    rd = vote.decide([_c("tesseract", "-25"), _c("rapidocr", "2.5"), _c("rapidocr", "2.5")], 1, True)
    assert rd.disagreement and rd.conf < vote.MIN_CONFIDENCE
    # the same digits and sign with only the point lost still confirm
    for cands, kept in (([_c("tesseract", "-25"), _c("rapidocr", "-2.5")], -2.5),
                        ([_c("tesseract", "17"), _c("rapidocr", "1.7")], 1.7)):
        rd = vote.decide(cands, 1, True)
        assert (rd.value, rd.disagreement) == (kept, False) and rd.conf >= vote.MIN_CONFIDENCE


def test_fuzzed_cells_are_right_or_flagged() -> None:
    """Each engine reads a printed score or BMD once or twice with OCR's confusions; a value kept
    with confidence and no flag is the printed one, unless both engines read that same wrong
    number (nothing on the page can tell then: the irreducible case)."""
    swaps = {"0": ["o", "O", "D", "8"], "1": ["l", "I", "|", "7"], "-": ["~", "_", "", "—"],
             ".": [",", "", " ", ":"], "5": ["s", "S", "6"], "8": ["B", "3"], "2": ["z", "7"]}
    printed = ["0.788", "-0.3", "1.022", "-1.3", "0.3", "-2.5", "1.6", "-1.7", "2.1"]
    rng = random.Random(2207)
    silent = []
    for _ in range(5000):
        v = rng.choice(printed)
        cands = [_c(e, "".join(rng.choice(swaps[ch]) if ch in swaps and rng.random() < 0.12 else ch for ch in v),
                    rng.uniform(0.5, 0.99))
                 for e in ("tesseract", "rapidocr") for _ in range(rng.choice((1, 1, 2)))]
        rd = vote.decide(cands, len(v.split(".")[1]), True)
        flagged = rd.disagreement or rd.single or rd.conf < vote.MIN_CONFIDENCE
        kept = "".join(ch for ch in rd.raw if ch.isdigit())
        both = {c.engine for c in cands if "".join(ch for ch in c.text if ch.isdigit()) == kept} == {
            "tesseract", "rapidocr"}
        if rd.value is not None and rd.value != float(v) and not flagged and not both:
            silent.append((v, rd.value, [c.text for c in cands]))
    assert silent == []
