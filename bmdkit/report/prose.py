"""A page of prose read by OCR: the lines of both engines, for the sentence reader.

On an OCR page where the layout engine finds no results table but its lines
state results, the page is one of prose (issue 22): the second engine reads
the same image and its lines are added, so that :func:`bmdkit.report.sentences.read_sentences`
confirms each value both engines read alike (``sentence_engines.join_engines``).
The second engine is not asked to lay out tables there: it finds false tables in prose.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from bmdkit.report.ocr import OCRTimeout
from bmdkit.report.sentences import Box, TextLine, WordLike, lines_from_words, lines_in_order, read_sentences


def ocr_sentence_lines(layout_lines: Sequence[Sequence[WordLike]], page: int,
                       other: Callable[[], Sequence[WordLike]] | None = None,
                       to_page: Callable[[Box], Box] | None = None) -> list[TextLine]:
    """The lines of a page of prose read by OCR, for :func:`read_sentences`; empty where the layout
    engine's lines state no result that could be placed (then the page is not one of prose).

    ``layout_lines``: the layout engine's lines of words; ``other``: where a second engine is at
    hand, a call giving its words of the same page image, in its own reading order (see
    :func:`lines_in_order`); its lines are added, so that :func:`read_sentences` confirms each
    value both engines read alike (a time-out of that call leaves the first engine's lines
    alone, each value then unconfirmed); ``to_page`` maps a box on that image to the page as given.
    """
    first = lines_from_words(layout_lines, page=page)
    if not read_sentences(first).regions:
        return []
    lines = list(first)
    if other is not None:
        try:
            lines += lines_from_words(lines_in_order(other()), page=page)
        except OCRTimeout:
            pass
    if to_page is None:
        return lines
    return [ln if ln.box is None else dataclasses.replace(ln, box=to_page(ln.box)) for ln in lines]
