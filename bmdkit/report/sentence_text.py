"""The words, text folding, sentences and tokens of results written as sentences.

The first half of reading a report written in prose (:mod:`bmdkit.report.sentences`
does the rest): the vocabulary (the ``sentence_*`` rows of
``reference_data/vocabulary.csv``, read through :mod:`bmdkit.vocabulary`),
:func:`fold` (NFKC, dashes, case), :func:`split_sentences` (lines into
sentences, where OCR lost the full stops too) and :func:`tokens` (the
vocabulary words and numbers of a sentence, each number annotated with its
unit, a comparator before it, a date or year it belongs to, or a doubt about
how it was read); :mod:`bmdkit.report.sentence_measures` gives each number its measure.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from bmdkit import vocabulary

#: the kind prefix of this module's rows in ``vocabulary.csv`` (``sentence_measure``, ``sentence_side``, ...)
KIND_PREFIX = "sentence_"

# --- vocabulary ---------------------------------------------------------------------------------

_VOCAB_KINDS = ("measure", "region", "spine", "level", "hip", "side", "history")


@functools.cache
def _vocab() -> dict[str, tuple[tuple[str, re.Pattern[str]], ...]]:
    """``{kind: ((key, pattern), ...)}`` of the ``sentence_*`` rows, the prefix dropped, in file order."""
    out: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for term in vocabulary.terms(reader="report"):
        if term.kind.startswith(KIND_PREFIX):
            out.setdefault(term.kind[len(KIND_PREFIX):], []).append((term.key, re.compile(term.word)))
    return {k: tuple(v) for k, v in out.items()}


@functools.cache
def _anchored(kind: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``kind``'s patterns anchored at the start (units after a number)."""
    return tuple((k, re.compile(r"\s*(?:" + p.pattern + ")")) for k, p in _vocab().get(kind, ()))


@functools.cache
def _trailing(kind: str) -> re.Pattern[str] | None:
    """``kind``'s patterns anchored at the end (a comparator before a number)."""
    pats = [p.pattern for _, p in _vocab().get(kind, ())]
    return re.compile(r"(?:" + "|".join(pats) + r")\s*$") if pats else None


#: Latin words at least this long are taken inside run-together OCR text ('andaZ-scoreof1.1');
#: shorter ones ('bmd', 'left', 'to') must stand as words ('sbmd' is not 'bmd')
RUN_TOGETHER_MIN = 6


def _bounded(text: str, start: int, end: int, kind: str = "") -> bool:
    """A match that begins or ends with a Latin letter must not continue a Latin word, unless it
    is a long measure or region word (OCR drops the spaces between English words). A level right
    after a digit or a point is no level ('0.6l2': a 1 misread inside a number, not L2)."""
    if start >= end or kind == "level" and start > 0 and (text[start - 1].isdigit() or text[start - 1] == "."):
        return False
    if kind in ("measure", "region", "spine") and end - start >= RUN_TOGETHER_MIN:
        return True
    if text[start].isascii() and text[start].isalpha() and start > 0 and text[start - 1].isascii() \
            and text[start - 1].isalpha():
        return False
    return not (text[end - 1].isascii() and text[end - 1].isalpha() and end < len(text)
                and text[end].isascii() and text[end].isalpha())


# --- text normalisation and sentences --------------------------------------------------------------

_DASHES = re.compile("[\u2010-\u2015\u2212\ufe63\uff0d]")
#: a number; one glued to a letter before it counts only with a sign or a decimal point
#: ('T值-3.0', 'scoreof1.1'), so that identifiers ('B1234567') are not numbers
_NUMBER = re.compile(r"(?<![0-9])(?<![0-9]\.)(?:(-)|(?<![a-z])|(?=\d+\.\d))(\d+(?:\.\d+)?)(?![0-9])(?!\.\d)")
_DATES = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|\d{1,2}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{2,4}(?![0-9.])"
    r"|\d{1,2}:\d{2}(?::\d{2})?|\d{4}\s*年(?:\s*\d{1,2}\s*月)?|\d{1,2}\s*月\s*\d{1,2}\s*日")
#: a letter or mark OCR reads for the 0 of a value below one ('o.788', 'O.788', '©.788'), standing
#: alone before the decimal point: that 0, read as such and doubted (it is no number otherwise)
_ZERO_LOOKALIKE = re.compile(r"(?<![a-z0-9.])(-?)([o\u00a9\u00b0\u00f8])(?=\.\d{1,4}(?![0-9.]))")
#: a whole number that may be the part before a lost decimal point ('-0 3' for -0.3)
_SPLIT = re.compile(r"-?\d")
#: letters and marks OCR reads for digits
_DIGIT_LOOKALIKES = "lioszb|!?\u00a9"
#: a run of them glued to the end of a number makes it doubtful ('0.86l', '0.7bb')
_GLUED = re.compile(f"[{re.escape(_DIGIT_LOOKALIKES)}]+(?![a-z])")
#: characters OCR reads for a minus sign before a number (一 is the Chinese 'one')
_SIGN_LOOKALIKES = ("一", "_", "~", "·", ".")
#: of those, the ones taken as a sign even with a space before the number
_SPACED_SIGN_LOOKALIKES = ("一", "_", "~")
#: a sentence end: a full stop right after a word or number, not a dot standing alone or in a run
#: of dots (OCR reads specks as '..': 'Femur Neck Right .. 0.708 g/cm? .. T-score')
_END = re.compile(r"[。!?]|(?<![\s.])\.(?![.])(?=\s|$)")
#: text that ends on a value (a number, its unit, a closing bracket): a statement that may be complete
_ENDS_VALUE = re.compile(r"(?:\d|g/cm2|cm2|%|\))\s*$")
_CJK = re.compile(r"[\u3400-\u9fff]")
#: text that ends on a number, a letter OCR reads for a digit glued to it ('Z值 0.L'): a line that
#: opens with a number after it starts another statement (two numbers never wrap so)
_ENDS_NUMBER = re.compile(r"\d\.?[lioszb|]?\s*$")


#: a superscript 2 of an area unit that OCR read as a mark ('g/cm?', 'kg/m’'): not a sentence end
_SQUARED_MARK = re.compile(r"(?<=/[a-z]m)[?'\u2019\u201c\"](?=[\s,.;:)\uff0c\u3002\uff1b]|$)"
                           r"|(?<=/m)[?'\u2019\u201c\"](?=[\s,.;:)\uff0c\u3002\uff1b]|$)")

#: the same mark after a 2 read too ('g/cm2?')
_SQUARED_AFTER = re.compile(r"(?<=/[a-z]m2)[?'\u2019\u201c\"](?=[\s,.;:)\uff0c\u3002\uff1b]|$)")


def fold(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII, ² to 2), dashes and minus signs to '-',
    an ellipsis to a space, Latin letters lower-cased, a unit's superscript 2 that OCR read as a
    mark ('g/cm?') to 2; the length of the text is kept where NFKC keeps it."""
    t = unicodedata.normalize("NFKC", text.replace("\u2026", " ").replace("\u22ef", " "))
    t = _SQUARED_MARK.sub("2", t)
    t = _SQUARED_AFTER.sub(" ", t)
    t = _DASHES.sub("-", t)
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in t)


@dataclass
class Sentence:
    """A sentence of folded text and where it lies in the input lines."""

    text: str
    #: (offset in ``text``, index of the input line) for each line the sentence spans
    starts: list[tuple[int, int]]
    #: for each of :attr:`starts`, where that piece begins in its folded line, and that line's length
    cols: list[tuple[int, int]] = field(default_factory=list)

    def _piece(self, pos: int) -> int:
        """Index in :attr:`starts` of the piece holding offset ``pos`` of :attr:`text` (-1: before all)."""
        return bisect.bisect_right([s for s, _ in self.starts], pos) - 1

    def line_at(self, pos: int) -> int:
        """Index of the input line holding offset ``pos`` of :attr:`text`."""
        return self.starts[max(self._piece(pos), 0)][1]

    def span_in_line(self, start: int, end: int) -> tuple[float, float] | None:
        """Where ``text[start:end]`` lies across its input line, as fractions of the line's length
        (None where that is not known): a number's own stretch of the line's box, so that two
        values of one line are never given the same place on the page."""
        k = self._piece(start)
        if not 0 <= k < len(self.cols):
            return None
        col, length = self.cols[k]
        a = start - self.starts[k][0] + col
        b = min(end - self.starts[k][0] + col, length)
        return (a / length, b / length) if length and 0 <= a < b else None


def _has_vocab(text: str) -> bool:
    """A DXA word, or a BMD's unit ('is 0.861 g/cm2 with a' wraps a sentence as a measure word does)."""
    return any(p.search(text) for kind in ("measure", "region", "spine", "level", "hip", "side")
               for _, p in _vocab().get(kind, ())) or any(p.search(text) for k, p in _vocab().get("unit", ())
                                                          if k == "bmd")


def _starts_statement(line: str) -> bool:
    """True when ``line`` opens with a region, side, hip, history or section word ('结论'): a new statement."""
    head = line.lstrip(" (:-")
    return any(p.match(head) for kind in ("region", "spine", "level", "side", "hip", "history", "opening")
               for _, p in _vocab().get(kind, ()))


def _opens_section(line: str) -> bool:
    """True when ``line`` opens with a report section word and its colon ('Impression:', '结论：'):
    a new statement whatever the text before it ends on (OCR loses the full stop after 'in 2 years')."""
    head = line.lstrip(" (-")
    for _, p in _vocab().get("opening", ()):
        m = p.match(head)
        if m and head[m.end():].lstrip().startswith(":"):
            return True
    return False


def _region_left_unstated(text: str) -> bool:
    """``text`` names a region and states nothing after it (no measure word, no result number) and
    ends on no joining word ('and', '和', a comma): a clause such as 'repeat DXA of the lumbar spine
    in 2 years' whose full stop OCR lost, which a line opening a new statement does not continue."""
    toks = tokens(text)
    last = max((k for k, t in enumerate(toks) if t.kind in ("region", "spine", "level")), default=None)
    joins = [p.pattern for k, p in _vocab().get("range", ()) if k == "after_threshold"] + ["[,，、]"]
    if last is None or re.search(r"(?<![a-z])(?:" + "|".join(joins) + r")\s*$", text):
        return False
    return not any(t.kind == "measure" or t.kind == "number" and t.skip is None for t in toks[last + 1:])


def split_sentences(lines: Sequence[str]) -> list[Sentence]:
    """Split lines into sentences: at sentence punctuation, at blank lines, at a line break after
    a line with no DXA word (a header field), and where a line opens a new statement (a region,
    side, history or section word) after text that ends on a value or names a region and states
    nothing of it (OCR loses full stops), where a line opens with a number after text that ends
    on a value ('... Z值0.0' then '25羟维生素D'), and
    before a section word with its colon ('Impression:') whatever the text before it. A line
    with DXA words that ends without punctuation otherwise runs on (a sentence wrapped over lines)."""
    out: list[Sentence] = []
    cur = Sentence("", [])

    def close() -> None:
        nonlocal cur
        if cur.text.strip():
            out.append(cur)
        cur = Sentence("", [])

    prev_vocab = False
    for i, raw in enumerate(lines):
        line = fold(raw).strip()
        if not line:
            close()
            prev_vocab = False
            continue
        vocab = _has_vocab(line)
        if cur.text and (not prev_vocab or _opens_section(line) or _ENDS_VALUE.search(cur.text)
                         and _starts_statement(line) or _ENDS_NUMBER.search(cur.text) and line[:1].isdigit()
                         or _starts_statement(line) and _region_left_unstated(cur.text)):
            close()
        if cur.text:
            glue = "" if _CJK.match(line[:1]) and _CJK.match(cur.text[-1:]) else " "
            cur.text += glue
        pos = 0
        for m in _END.finditer(line):
            cur.starts.append((len(cur.text), i))
            cur.cols.append((pos, len(line)))
            cur.text += line[pos:m.end()]
            pos = m.end()
            close()
        if pos < len(line):
            cur.starts.append((len(cur.text), i))
            cur.cols.append((pos, len(line)))
            cur.text += line[pos:]
        prev_vocab = vocab
    close()
    return out


# --- tokens -----------------------------------------------------------------------------------------

@dataclass
class SentenceToken:
    """A vocabulary word or a number of a folded sentence, at ``start:end``, with what is known of it."""

    kind: str  # a vocabulary kind, or "number"
    key: str
    start: int
    end: int
    text: str
    value: float | None = None
    unit: str | None = None  # the measure a number's unit names
    skip: str | None = None  # why a number is not a result (date, unit, threshold, year)
    doubt: str | None = None  # why a number may be misread (a letter glued to it, a sign read as 一)
    sign_doubt: bool = False  # the doubt is only about a minus sign
    #: a piece of a number OCR split where a decimal point was lost ('-0 3'): no reading of its own
    fragment: bool = False


def tokens(text: str) -> list[SentenceToken]:
    """The vocabulary words and numbers of a folded sentence, left to right, without overlaps
    (at one place the longest match wins: 'femoral neck' over 'femoral'), numbers annotated."""
    cands: list[SentenceToken] = []
    held: list[SentenceToken] = []
    for kind in _VOCAB_KINDS:
        for key, pat in _vocab().get(kind, ()):
            for m in pat.finditer(text):
                tok = SentenceToken(kind, key, m.start(), m.end(), m.group(0))
                (cands if _bounded(text, m.start(), m.end(), kind) else held).append(tok)
    if held:
        # run-together OCR text ('femurneckright0.537', 'lefthip', 'theleft'): a word is one where
        # the letters beside it belong to another vocabulary word or a glue word, not to an unknown word
        glue = _vocab().get("glue", ())
        masked = list(text)
        for t in cands + held:
            masked[t.start:t.end] = " " * (t.end - t.start)
        for _, pat in glue:
            for m in pat.finditer(text):
                masked[m.start():m.end()] = " " * (m.end() - m.start())
        plain = "".join(masked)
        cands += [t for t in held if _bounded(plain[:t.start] + t.text + plain[t.end:], t.start, t.end,
                                              "level" if t.kind == "level" else "")]
    dates = [(m.start(), m.end()) for m in _DATES.finditer(text)]
    zeros = {m.start(2) for m in _ZERO_LOOKALIKE.finditer(text)}
    digits = _ZERO_LOOKALIKE.sub(r"\g<1>0", text) if zeros else text  # same length: one mark for one 0
    for m in _NUMBER.finditer(digits):
        s, e = m.start(), m.end()
        if any(a <= s < b or a < e <= b for a, b in dates):
            continue
        tok = SentenceToken("number", "number", s, e, text[s:e], value=float(m.group(0)) + 0.0)
        if zeros.intersection(range(s, e)):
            tok.doubt = f"{text[s:e]} is read as {m.group(0)} (a 0 misread?)"
        cands.append(tok)
    cands.sort(key=lambda t: (t.start, -(t.end - t.start), t.kind != "level"))
    toks: list[SentenceToken] = []
    end = 0
    for t in cands:
        if t.start >= end:
            toks.append(t)
            end = t.end
    nums = [t for t in toks if t.kind == "number"]
    for t in nums:
        _number_context(text, t)
    toks += _lost_numbers(text, nums)
    toks.sort(key=lambda t: t.start)
    for a, b in itertools.pairwise(nums):
        if _SPLIT.fullmatch(a.text) and text[a.end:b.start] in (" ", ",") and b.text.isdigit():
            # '-0 3', '0,3': one number whose decimal point was read as a space or comma, not a 0 and a 3
            a.fragment = b.fragment = True
            a.doubt = b.doubt = f"'{a.text} {b.text}' may be one number with its decimal point lost"
    for a, b in itertools.pairwise(nums):
        gap = text[a.end:b.start].strip()
        if not gap or not any(p.fullmatch(gap) for _, p in _vocab().get("range", ())):  # range or after_threshold
            continue
        joins_any = any(p.fullmatch(gap) for k, p in _vocab().get("range", ()) if k == "range")
        if joins_any or a.skip == "threshold":
            a.skip = a.skip or "threshold"
            b.skip = b.skip or "threshold"
    return toks


#: what a number OCR garbled past reading ends on ('|.O12', '0.8l'): a digit, a letter read for one, a point
_GARBLED_END = re.compile(f"[0-9{re.escape(_DIGIT_LOOKALIKES)}.,]$")
_GLUED_ONLY = re.compile(f"[{re.escape(_DIGIT_LOOKALIKES)}]*")


def _lost_numbers(text: str, nums: list[SentenceToken]) -> list[SentenceToken]:
    """A BMD's unit with no number before it but a garbled one ('is |.O12 g/cm2'): a token of kind
    ``lost`` standing for that unread number, so that the BMD word waiting for a number takes it
    (and is flagged), not a later number of another measure ('(T一score 0.4)' with its word lost)."""
    out = []
    for key, pat in _vocab().get("unit", ()):
        if key != "bmd":
            continue
        for m in pat.finditer(text):
            before = text[:m.start()].rstrip()
            if _GARBLED_END.search(before) and not any(  # a number, or one with letters glued to it, is there
                    t.end <= len(before) and _GLUED_ONLY.fullmatch(before[t.end:]) for t in nums):
                out.append(SentenceToken("lost", key, len(before), m.end(), text[len(before) - 1:m.end()]))
    return out


def _number_context(text: str, t: SentenceToken) -> None:
    """Unit after a number (a measure's unit, or another unit: not a result), comparator before it, year."""
    rest = text[t.end:]
    best: tuple[int, str, str] | None = None
    for kind in ("unit", "skip_unit"):
        for key, pat in _anchored(kind):
            m = pat.match(rest)
            if m is None or not m.end():
                continue
            lead = len(m.group(0)) - len(m.group(0).lstrip())
            if _bounded(text, t.end + lead, t.end + m.end()) and (best is None or m.end() > best[0]):
                best = (m.end(), kind, key)
    if best is not None:
        if best[1] == "skip_unit":
            t.skip = "unit"
        else:
            t.unit = best[2]
    elif _GLUED.match(rest) and "." in t.text:
        t.doubt = f"{t.text} runs into the letter {rest[0]!r} (a digit misread?)"
    elif rest[:1].isascii() and rest[:1].isalpha() and "." not in t.text:
        t.skip = "word"  # a digit in a word OCR garbled ('1s' for 'is', '2o19')
    mark = text[max(0, t.start - 1):t.start]
    if mark == " " and text[max(0, t.start - 2):t.start - 1] in _SPACED_SIGN_LOOKALIKES:
        mark = text[t.start - 2]  # tesseract sets a minus it reads as 一 apart: 'T-score 一 0.2'
    if not t.text.startswith("-") and mark and mark in _SIGN_LOOKALIKES:
        t.doubt = f"{t.text} follows {mark!r}, which may be a minus sign"
        t.sign_doubt = True
    before = text[max(0, t.start - 24):t.start]
    comp = _trailing("comparator")
    if comp is not None:
        m = comp.search(before)
        if m and _bounded(before, m.start(), m.start() + len(m.group(0).rstrip())):
            t.skip = t.skip or "threshold"
    if t.value is not None and "." not in t.text and 1900 <= t.value <= 2099:
        t.skip = t.skip or "year"
