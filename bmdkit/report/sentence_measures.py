"""What each number of a sentence measures: the measure word waiting for it, or its unit.

Part of the sentence reader (:mod:`bmdkit.report.sentences`): after
:func:`bmdkit.report.sentence_text.tokens` has found a sentence's words and
numbers, :func:`measure_numbers` gives each result number its measure, or the
problem that keeps it from one (two measure words before it, a unit that is
another measure's, a doubt about how it was read, a lost decimal point).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bmdkit.report import words
from bmdkit.report.sentence_text import SentenceToken

#: measures that cannot be negative: a doubtful minus before one does not matter
NEVER_NEGATIVE = ("bmd", "bmc", "area")
#: measures always printed with decimals: a whole number given for one is a misread
DECIMAL_MEASURES = ("bmd", "t_score", "z_score")
_SEPARATORS = re.compile(r"[,;、:]")


@dataclass(frozen=True)
class Measured:
    """A number and the measure the sentence gives it (None with a ``problem`` when it cannot be
    told); ``intent`` is the measure it was meant for, even when doubtful ('T值-13')."""

    tok: SentenceToken
    measure: str | None
    problem: str | None
    intent: str | None
    #: the problem is something this reading lacks (a digit or sign in doubt, no measure word, a lost
    #: decimal point), which another engine's reading of the same line may supply; not an ambiguity
    lacking: bool = False


def measure_numbers(toks: list[SentenceToken], text: str) -> list[Measured]:
    """Each result number's measure: the measure word waiting for it, or its unit.

    Measure words wait for the next number; a separator (comma, semicolon,
    colon) or a region word between two measure words drops the first (a
    title's 骨密度 before a sentence's T值), otherwise both wait and the number
    after them is ambiguous.
    """
    out: list[Measured] = []
    pending: set[str] = set()
    reset = False
    last = 0
    for t in toks:
        gap = text[last:t.start]
        last = t.end
        if _SEPARATORS.search(gap):
            reset = True
        if t.kind in ("region", "spine", "level"):
            reset = True
        elif t.kind == "measure":
            pending = {t.key} if reset else pending | {t.key}
            reset = False
        elif t.kind == "lost" and (not pending or t.key in pending):
            # a BMD's unit after a number OCR garbled past reading: the waiting word's number, unread
            out.append(Measured(t, None, f"the number before '{t.text.strip()}' could not be read", t.key, True))
            pending, reset = set(), False
        elif t.kind == "number" and t.skip is None:
            intent = next(iter(pending)) if len(pending) == 1 else t.unit if not pending else None
            problem = None
            lacking = True
            if t.doubt and not (t.sign_doubt and intent in NEVER_NEGATIVE):
                problem = t.doubt
            elif len(pending) > 1:
                lacking = False
                named = ", ".join(sorted(words.measure_word(m) for m in pending))
                problem = f"{t.text} follows {len(pending)} measure words ({named})"
            elif pending and t.unit and t.unit not in pending:
                lacking = False
                problem = (f"{t.text} follows the word {words.measure_word(intent or '')} but its unit is that "
                           f"of a {words.measure_word(t.unit)}")
            elif intent in DECIMAL_MEASURES and "." not in t.text:
                problem = (f"{t.text} is given as the {words.measure_word(intent or '')} without a decimal point "
                           "(one lost in reading?)")
            elif intent is None:
                problem = f"no measure (BMD, T-score, ...) is named for {t.text}"
            out.append(Measured(t, None if problem else intent, problem, intent,
                                 lacking and problem is not None))
            pending, reset = set(), False
    return out
