"""Numbers as printed in report cells, with the repairs OCR needs.

A cell's text is turned into a value and the facts a confidence needs: how
many decimals were printed, whether a sign was seen, which characters were
repaired (``O``->0, ``l``->1, ``S``->5, decimal comma). Minus signs come in
many shapes (hyphen, U+2212, en/em dash, tilde from a faint dash); a cell
showing only a dash means "not computed" and is returned as such, never 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MINUS = "-\u2212\u2013\u2014\u2010\u2011\u2012\u2015~\u02d7\u2796_"
_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1",
                             "i": "1", "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2",
                             "g": "9", "q": "9", "b": "6", "G": "6", "T": "7"})
_NUM = re.compile(r"^(?P<sign>[" + re.escape(_MINUS) + r"]?)(?P<int>\d{1,5})(?:(?P<sep>[.,·:])(?P<frac>\d{1,4}))?$")
_DASH_ONLY = re.compile(r"^[" + re.escape(_MINUS) + r"]{1,3}$")
_JUNK = " \t'\"`()[]{}%*"
#: what may follow a printed value in its cell: a unit spelled out, a footnote or flag mark
#: ('0.712 g/cm²', '-2.1†', '0.801¹'); a bare 'g' is not among them (OCR reads 9 as g)
_TRAILER = re.compile(r"(?:\s*(?:g/cm[²2]?|cm[²2]))?\s*[†‡§¶#¹²³⁴ᵃᵇᶜ]*$")


@dataclass(frozen=True)
class Parsed:
    """One cell read as a number."""

    value: float | None
    decimals: int = 0
    negative: bool = False
    repaired: tuple[str, ...] = ()
    blank: bool = False  # a printed dash: no value, on purpose

    @property
    def text(self) -> str:
        """Canonical text (as it would be printed)."""
        if self.value is None:
            return "-" if self.blank else ""
        return f"{self.value:.{self.decimals}f}"


def parse_number(text: str) -> Parsed | None:
    """Parse a cell; ``None`` if it is not a number at all.

    >>> parse_number("−1.2").value
    -1.2
    >>> parse_number("0,835").value
    0.835
    >>> parse_number("-").blank
    True
    """
    raw = text.strip().strip(_JUNK)
    raw = _TRAILER.sub("", raw).strip(_JUNK)
    if not raw:
        return None
    if _DASH_ONLY.match(raw):
        return Parsed(None, blank=True)
    repaired: list[str] = []
    t = raw.replace(" ", "")
    if re.fullmatch(r"[^.]*\d[.,]\d+\.", t):
        # a point after a complete decimal number ('0.956.') is a speck, not print
        repaired.append(f"{raw!r}: trailing point dropped")
        t = t[:-1]
    if re.fullmatch(r"[.·]\d+[.,]\d+", t):
        # two decimal points: the first is a faint minus ('.1.5' for -1.5)
        repaired.append(f"{raw!r}: leading point read as a minus")
        t = "-" + t[1:]
    m = _NUM.match(t)
    if m is None:
        fixed = t[0] + t[1:].translate(_CONFUSIONS) if t[0] in _MINUS else t.translate(_CONFUSIONS)
        m = _NUM.match(fixed)
        if m is None:
            return None
        repaired.append(f"{raw!r}->{fixed!r}")
        # a repaired cell must still be mostly digits
        if sum(c.isdigit() for c in t) < max(1, len(t.replace(".", "").replace("-", "")) // 2):
            return None
    sign = m.group("sign")
    if m.group("sep") and m.group("sep") != ".":
        repaired.append(f"decimal separator {m.group('sep')!r}")
    frac = m.group("frac") or ""
    value = float(f"{m.group('int')}.{frac}" if frac else m.group("int"))
    if sign:
        value = -value
    return Parsed(value + 0.0, decimals=len(frac), negative=bool(sign), repaired=tuple(repaired))
