"""A date whose label the page's reading lost: the label read again beside it.

Report headers print their dates in label/value pairs ("Measured: 01/14/2019",
"Scan Date: ...", "Birth Date: ...", 检查日期). Small bold labels in a header
box are the words OCR loses most often, and without its label a date says
nothing of what it is: the exam-date finder (:func:`exam_facts.find_exam_date`)
then takes no date at all where the page prints more than one. Here each date
left without a label on a page where no line names an exam date has the blank
space to its left read again, on its own crop, by every engine; a label one of
them reads there is put back into the line as a word of its own, where the page
prints it. Nothing else is changed: a re-read that names no date label adds
nothing, and a value is never read from these crops.
"""

from __future__ import annotations

from collections.abc import Callable

from bmdkit.report import exam_facts
from bmdkit.report.lines import line_text
from bmdkit.report.tokens import Box, Token

#: how far left of a date its label is looked for, in text heights: a label column may sit well left
#: of its values ("Measured:" and "Scan Date:" are 5-6 heights wide)
LABEL_WIDTH_HEIGHTS = 16.0
#: the least blank width, in text heights, that can hold a lost label word
LABEL_MIN_GAP_HEIGHTS = 2.0
#: dates per page whose label is read again at most (each a crop read by every engine)
MAX_DATES = 6

Rereader = Callable[[list[Box]], list[list[str]]]


def _date_token(line: list[Token], text: str) -> int | None:
    """Index of the token where the line's first date begins, if the line (``text``: its
    words, :func:`line_text`) prints a date."""
    found = exam_facts.dates_in(text)
    if not found:
        return None
    at = min(text.find(raw) for raw, _, _ in found if text.find(raw) >= 0)
    pos = 0
    for k, t in enumerate(line):
        if pos <= at < pos + len(t.text) + 1:
            return k
        pos += len(t.text) + 1
    return None


def _label_box(line: list[Token], k: int) -> Box | None:
    """The blank space left of token ``k``, up to the token before it, if it can hold a word."""
    t = line[k]
    h = max(t.height, 1)
    x1 = t.box[0] - 1
    x0 = max(0, int(t.box[0] - LABEL_WIDTH_HEIGHTS * h))
    if k > 0:
        x0 = max(x0, line[k - 1].box[2] + 1)
    if x1 - x0 < LABEL_MIN_GAP_HEIGHTS * h:
        return None
    return (x0, t.box[1], x1, t.box[3])


def restore_date_labels(lines: list[list[Token]], reread: Rereader | None) -> list[list[Token]]:
    """``lines`` with the lost label of each unlabelled date read again and put back before it.

    Only on a page where no line names an exam date, only for a line whose
    date has no label of any kind, and only where blank space left of the
    date can hold one. The label taken is the first re-reading that names a
    date label (``date_label`` in the vocabulary), as read: the exam-date
    finder then weighs it like any label the page's reading kept.
    """
    if reread is None:
        return lines
    texts = [line_text(line) for line in lines]
    if any(exam_facts.has_exam_label(t) for t in texts):
        return lines
    todo: list[tuple[int, int, Box]] = []
    for i, (line, text) in enumerate(zip(lines, texts, strict=True)):
        if len(todo) >= MAX_DATES or exam_facts.has_date_label(text):
            continue
        k = _date_token(line, text)
        box = None if k is None else _label_box(line, k)
        if k is not None and box is not None:
            todo.append((i, k, box))
    if not todo:
        return lines
    out = list(lines)
    for (i, k, box), texts in zip(todo, reread([b for _, _, b in todo]), strict=True):
        label = next((t.strip() for t in texts if t.strip() and exam_facts.has_date_label(t)), None)
        if label is not None:
            word = Token(label, box, 0.0, "reread")
            out[i] = [*lines[i][:k], word, *lines[i][k:]]
    return out
