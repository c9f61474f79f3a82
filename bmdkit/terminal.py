"""Text shown on a terminal: file-derived text can neither drive the terminal nor break Rich markup.

A DICOM field, an OCR'd label or a file name can hold terminal control
sequences (``\\x1b]0;PWNED\\x07\\x1b[2J`` sets the window title and clears
the screen) or text that Rich reads as markup (``iDXA [/bold] x`` raises
``MarkupError``). Every command prints such text only through this module:

- :func:`printable` shows each control character (C0, DEL, C1, bidirectional
  overrides and isolates, line and paragraph separators) as a visible escape
  such as ``\\x1b`` or ``\\u202e``, so nothing reaches the terminal raw;
- :func:`markup` is :func:`printable` plus :func:`rich.markup.escape`, for
  text placed inside a Rich markup string;
- :func:`json_text` escapes the same characters inside JSON text as
  ``\\uXXXX`` (still the same JSON value: only C1, DEL and format
  characters, which JSON leaves raw, are touched).

>>> printable("iDXA\\x1b]0;PWNED\\x07\\x1b[2J")
'iDXA\\\\x1b]0;PWNED\\\\x07\\\\x1b[2J'
>>> markup("x[/bold]y")
'x\\\\[/bold]y'
"""

from __future__ import annotations

import logging
import re

from rich.markup import escape as _rich_escape

#: Characters never written raw: C0 except tab/newline (handled below), DEL, C1,
#: bidi embeddings/overrides/isolates and marks, line/paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_WITH_LINES = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_JSON_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: object, *, keep_lines: bool = False) -> str:
    """``text`` (any object, as ``str``) with every control character shown as an escape.

    Tabs and line ends are escaped too unless ``keep_lines`` (for
    multi-line text bmdkit composed itself), so one file-derived value can
    never forge a line of output.
    """
    return (_CONTROL if keep_lines else _CONTROL_WITH_LINES).sub(_visible, str(text))


def markup(text: object) -> str:
    """``text`` safe inside a Rich markup string: controls shown as escapes, ``[`` escaped."""
    return _rich_escape(printable(text))


def json_text(text: str) -> str:
    """JSON text with the control and format characters JSON leaves raw written as ``\\uXXXX``."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class ControlCharFilter(logging.Filter):
    """Shows control characters in every log record as escapes (a log goes to a terminal too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = printable(msg, keep_lines=True)
        if clean != msg:
            record.msg, record.args = clean, None
        return True
