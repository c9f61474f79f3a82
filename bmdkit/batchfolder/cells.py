"""Cells of the CSV files people open in a spreadsheet: text never runs as a formula.

Text in bmdkit's CSVs comes from file names, DICOM fields and OCR'd labels,
so any of it may start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return, which a spreadsheet would run as a formula
(``=HYPERLINK("http://x","open")``). Every CSV writer in bmdkit goes through
this module and applies the OWASP rule: such a text cell gets a leading
``'``. To keep the rule reversible, a text cell that already starts with
``'`` gets one more; :func:`unescape_cell` strips exactly one, so bmdkit's
own readers (decisions, ``audit.csv``) get back the text that was written.

Numbers stay numbers: a float or int, and text that *is* one number
(``-2.1``, ``+0.5``, ``1e-3``), is written as is, so a negative T-score
is not turned into text.

A list inside one cell (``seen_as``: the names one content was seen under)
is written with :func:`join_list`, ``;``-separated with CSV quoting, so a
name that contains ``;`` stays one name; :func:`split_list` reads it back.

>>> safe_cell('=HYPERLINK("http://x","open").dcm')
'\\'=HYPERLINK("http://x","open").dcm'
>>> safe_cell(-2.1), safe_cell("-2.1"), safe_cell("-2+3")
(-2.1, '-2.1', "'-2+3")
>>> unescape_cell(safe_cell("'quoted")) == "'quoted"
True
>>> split_list(join_list(["a;b.dcm", "c.dcm"]))
['a;b.dcm', 'c.dcm']
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

#: First characters a spreadsheet treats as the start of a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Text that is exactly one finite number: left as is.
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_LIST_DELIMITER = ";"


#: first characters that make a text cell need a look: a formula start, or the escape ``'`` itself
_RISKY_FIRST = frozenset((*FORMULA_STARTS, "'"))


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet shows as text; numbers and non-text pass unchanged."""
    if not isinstance(value, str) or value[:1] not in _RISKY_FIRST:
        return value  # every start in FORMULA_STARTS is one character: the first one decides
    if value[0] == "'" or not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def unescape_cell(text: str | None) -> str | None:
    """The text :func:`safe_cell` was given (one leading ``'`` removed)."""
    if text is not None and text.startswith("'"):
        return text[1:]
    return text


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A dict row with every text cell made safe."""
    return {k: safe_cell(v) for k, v in row.items()}


def unescape_row(row: Mapping[str, str | None]) -> dict[str, str | None]:
    """A row read with :class:`csv.DictReader`, every cell unescaped."""
    return {k: unescape_cell(v) for k, v in row.items()}


class SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """:class:`csv.DictWriter` whose rows pass through :func:`safe_cell` (the header is bmdkit's own)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow(safe_row(rowdict))

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def safe_writerows(fh: IO[str], rows: Iterable[Sequence[Any]]) -> None:
    """List rows to ``fh`` (``\\n`` line ends), every text cell made safe."""
    w = csv.writer(fh, lineterminator="\n")
    for row in rows:
        w.writerow([safe_cell(v) for v in row])


def join_list(items: Iterable[str]) -> str:
    """Several texts in one cell, ``;``-separated; an item holding ``;``, ``"`` or a line end is quoted."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=_LIST_DELIMITER, lineterminator="\r\n").writerow(list(items))
    return buf.getvalue()[:-2]  # the line end only: a line end inside an item is quoted


def split_list(text: str) -> list[str]:
    """The items :func:`join_list` joined (an empty cell is no item)."""
    if not text:
        return []
    return next(csv.reader(io.StringIO(text, newline=""), delimiter=_LIST_DELIMITER))
