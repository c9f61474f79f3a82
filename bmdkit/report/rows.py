"""Stage 4c: table body lines into rows, and what their labels name (region, levels, side).

Row labels (text left of the numbers) give region, levels and side:
``L2-L4``, ``Neck Left``, ``左股骨颈``, or a side row beneath a region heading
(Hologic dual hip). Labels printed over two lines are joined.

OCR misreads words as well as digits. On OCR pages a row whose label names
nothing is read again on its own crop (the
:class:`~bmdkit.report.cells.CropReader` handed in), and failing that takes
the nearest spelled-out label word within a small edit distance
(``labels.fuzzy_label``); such rows are marked so the reader can flag them. A
misread heading ('大#子', '右航') is handled the same way. Vertebral levels are
never guessed: only an 'L' read as a one ('14') is repaired, and only between
the levels before and after it. A hip table with no side takes the other
hip's beside it, or the one side the rest of the page names.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import NamedTuple

from bmdkit.model import VERTEBRAE, Region, Side
from bmdkit.report import labels
from bmdkit.report.cells import UNREAD_ROW_MIN_NUMBERS, CropReader, Line, Meaning, Table, is_numeric
from bmdkit.report.lines import close, line_text
from bmdkit.report.numbers import parse_number
from bmdkit.report.tokens import Box, Token


class RowLabel(NamedTuple):
    """A body line cut in two: its label text and tokens, and its value tokens."""

    label: str
    lab_toks: list[Token]
    vals: list[Token]


def row_label(line: list[Token], first_data_x: float) -> RowLabel:
    """(label text, label tokens, value tokens) of a body line."""
    lab: list[Token] = []
    vals: list[Token] = []
    for t in line:
        if t.xc < first_data_x and not (is_numeric(t) and parse_number(t.text).blank is False and lab):  # type: ignore[union-attr]
            lab.append(t)
        elif is_numeric(t):
            vals.append(t)
        elif not vals and t.box[2] < first_data_x + 0.5 * t.height:
            lab.append(t)
    return RowLabel(" ".join(t.text for t in lab).strip(), lab, vals)


def label_meaning(label: str) -> Meaning:
    """What a row label names (region or levels, side), from the label words."""
    if not label:
        return None, None
    return labels.split_label(label)


def wrapped_label(body: list[Line], line: Line, lines: list[list[Token]], j: int, first_data_x: float) -> bool:
    """A row label printed over two lines ('Femoral' / 'Neck', 'Total' / 'Hip'),
    its values beside either line: the words together name the row.

    Line ``j`` (``line``) may end the label of the row above (joined into it),
    begin the label of the row below (kept in ``body`` to be joined next), or
    hold the values of a row begun on the line above (``line`` takes that
    line's words). True when line ``j`` needs no more handling.
    """
    if not line.label:
        return False
    prev = body[-1] if body else None
    if prev is not None and close(lines[j - 1], lines[j]):
        joined = label_meaning(f"{prev.label} {line.label}")
        if joined != (None, None):
            if not line.vals and prev.vals and (not prev.placed or joined == prev.meaning):
                prev.label, prev.meaning, prev.lab_toks = f"{prev.label} {line.label}", joined, \
                    prev.lab_toks + line.lab_toks
                return True
            if line.vals and not prev.vals and not prev.placed and line.meaning in ((None, None), joined):
                body.pop()
                line.label, line.lab_toks, line.meaning = f"{prev.label} {line.label}", \
                    prev.lab_toks + line.lab_toks, joined
                return False
    if body and not line.vals and line.meaning == (None, None) and j + 1 < len(lines) \
            and close(lines[j], lines[j + 1]):
        nxt_label, _, nxt_vals = row_label(lines[j + 1], first_data_x)
        joined = label_meaning(f"{line.label} {nxt_label}")
        if nxt_vals and nxt_label and joined != (None, None) and label_meaning(nxt_label) in ((None, None), joined):
            body.append(line)
            return True
    return False


def _label_box(line: Line, label_x0: int | None, first_data_x: float) -> Box | None:
    """The box of a row's label: its words, or the blank left of its values under the other labels."""
    if line.lab_toks:
        t = line.lab_toks
        return (min(x.box[0] for x in t), min(x.box[1] for x in t), max(x.box[2] for x in t), max(x.box[3] for x in t))
    if label_x0 is None or not line.vals:
        return None
    y0, y1 = min(v.box[1] for v in line.vals), max(v.box[3] for v in line.vals)
    x1 = int(first_data_x - 0.3 * (y1 - y0))
    return (label_x0, y0, x1, y1) if x1 - label_x0 > (y1 - y0) else None


def resolve_labels(body: list[Line], first_data_x: float, reader: CropReader | None) -> None:
    """Give a meaning to rows with numbers whose label names nothing (misread or unseen).

    First a second reading of the label's crop (``reader``): if the readings
    that name something all name the same region and side, that is kept
    ("reread"); readings that contradict each other keep the row unread. Else
    the nearest label word (:func:`labels.fuzzy_label`) within its allowed
    edits, kept as "approximate" for the caller to flag, or as "agreed" where
    two engines' own readings of the crop both come nearest to it (a note). A meaning another row
    of the table already has is refused: a table holds each region once.
    """
    todo = [b for b in body if not b.placed and b.n_numbers >= UNREAD_ROW_MIN_NUMBERS]
    if not todo:
        return
    taken = {b.meaning for b in body if b.placed}
    side_only = any(isinstance(b.meaning[0], Region) and not b.vals for b in body)
    xs = [t.box[0] for b in body if b.placed for t in b.lab_toks]
    label_x0 = min(xs) if xs else None
    boxes = [_label_box(b, label_x0, first_data_x) for b in todo]
    asked = [k for k, bx in enumerate(boxes) if bx is not None]
    alts: list[list[str]] = [[] for _ in todo]
    if reader is not None and asked:
        for k, texts in zip(asked, reader.read_boxes([boxes[k] for k in asked])):  # type: ignore[misc]
            alts[k] = list(texts)
    for b, per_engine in zip(todo, alts):
        more = [t for t in per_engine if t.strip()]
        cands = ([b.label] if b.label else []) + more
        named = {m: c for c in reversed(cands) for m in [label_meaning(c)] if any(x is not None for x in m)}
        if len(named) == 1:
            meaning, how = next(iter(named)), "reread"
            label = named[meaning]
        elif named:
            continue
        else:
            guesses = {m: c for c in reversed(cands) for m in [labels.fuzzy_label(c, side_only)] if m is not None}
            guesses.update({m: c for c in reversed(cands) for m in [_level_between(body, b, c)] if m is not None})
            if len(guesses) != 1:
                continue
            meaning = next(iter(guesses))
            how = "agreed" if _engines_guessing(per_engine, meaning, side_only) >= 2 else "approximate"
            label = guesses[meaning]
            if how == "approximate" and _side_by_table(body, b, meaning, label):
                how = "paired"
        if meaning in taken:
            continue
        taken.add(meaning)
        b.label, b.meaning, b.how = label, meaning, how


def _side_by_table(body: list[Line], b: Line, meaning: Meaning, label: str) -> bool:
    """A guessed (region, side) the rest of the table leaves no doubt about: the label reads the
    region exactly and one other word within an edit of that side's word alone
    (labels.misread_side_word: 'Total Rught'), and the region's rows read without a guess (or
    by two engines' agreeing readings) are exactly the other side and a Mean (a Mean is of one
    Left and one Right row), or exactly the other side where every other region of the table
    has exactly one Left and one Right row. The row then completes its region's Left/Right
    pair: a note, not a review item (a Left - Right difference row is no side). A side is never
    taken this way where the rows leave it open."""
    if labels.misread_side_word(label) != meaning:
        return False
    region, side = meaning
    if not isinstance(region, Region) or side not in (Side.LEFT, Side.RIGHT):
        return False
    sure = [x for x in body if x is not b and x.placed and x.how in ("page", "reread", "agreed") and x.vals]

    def sides(reg: Region) -> Counter[object]:
        return Counter(x.meaning[1] for x in sure if x.meaning[0] is reg and isinstance(x.meaning[1], Side))

    other = Side.RIGHT if side is Side.LEFT else Side.LEFT
    mine = sides(region)
    if mine == Counter([other, Side.MEAN]):
        return True
    regions = {x.meaning[0] for x in sure if isinstance(x.meaning[0], Region)} - {region}
    pair = Counter([Side.LEFT, Side.RIGHT])
    return mine == Counter([other]) and bool(regions) and all(
        +(sides(r) - Counter([Side.MEAN])) == pair and sides(r)[Side.MEAN] <= 1 for r in regions)


def _engines_guessing(per_engine: list[str], meaning: Meaning, side_only: bool) -> int:
    """How many engines' own readings of a label crop (``CropReader.read_boxes``: one text per
    engine) come nearest to ``meaning`` (labels.fuzzy_label). Two engines misreading a label in
    their own ways ('Total Let', 'Total Lett') and both landing nearest the same label word is
    evidence one engine's guess is not; the caller has already refused a label any reading
    guesses otherwise. Vertebral levels are never counted: they are not guessed by spelling."""
    return sum(1 for t in per_engine if t.strip() and labels.fuzzy_label(t, side_only) == meaning)


def _level_between(body: list[Line], b: Line, text: str) -> Meaning | None:
    """A vertebra row whose 'L' was read as a one ('14'), placed only when the
    single-vertebra row above it is the level before, or the one below the level after."""
    level = labels.confused_level(text)
    if level is None:
        return None
    n = VERTEBRAE.index(level)
    k = body.index(b)

    def single(line: Line) -> int | None:
        lv = line.meaning[0]
        return VERTEBRAE.index(lv[0]) if isinstance(lv, tuple) and len(lv) == 1 and line.placed else None

    above = next((single(x) for x in reversed(body[:k]) if x.placed), None)
    below = next((single(x) for x in body[k + 1:] if x.placed), None)
    return ((level,), None) if above == n - 1 or below == n + 1 else None


def find_lost_headings(body: list[Line], header: list[Token], first_data_x: float,
                        reader: CropReader | None) -> None:
    """Side rows ('Left', 'Right', 'Mean') with no region heading above them: the
    heading line was lost by OCR. The band between the line before and the first
    side row is read again (``reader``); a region named there becomes the heading."""
    if reader is None:
        return
    xs = [t.box[0] for b in body for t in b.lab_toks]
    if not xs:
        return
    x0 = min(xs)
    group_seen = False
    sides: set[Side] = set()  # sides of the current run: a side seen again starts the next group
    asks: list[tuple[int, tuple[int, int, int, int]]] = []
    prev_bottom = max(t.box[3] for t in header)
    for k, b in enumerate(body):
        region, side = b.meaning
        toks = b.lab_toks + b.vals
        if region is None and isinstance(side, Side):
            if side in sides:
                group_seen, sides = False, set()
            sides.add(side)
        if isinstance(region, Region) and not b.vals:
            group_seen, sides = True, set()
        elif region is None and isinstance(side, Side) and not group_seen and toks:
            top = min(t.box[1] for t in toks)
            h = statistics.median(max(t.height, 1) for t in toks)
            if top - prev_bottom > 0.7 * h:
                asks.append((k, (x0, int(prev_bottom), int(first_data_x - 0.3 * h), int(top))))
            group_seen = True  # one band per run of side rows
        elif region is not None:
            group_seen = False
        if toks:
            prev_bottom = max(t.box[3] for t in toks)
    if not asks:
        return
    taken = {b.meaning for b in body if b.placed}
    for (k, _), texts in reversed(list(zip(asks, reader.read_boxes([box for _, box in asks])))):
        named = {m for t in texts if t.strip() for m in [label_meaning(t)] if isinstance(m[0], Region) and m[1] is None}
        how = "reread"
        if not named:
            named = {m for t in texts if t.strip() for m in [labels.fuzzy_label(t)]
                     if m is not None and m[0] is not None and m[1] is None}
            how = "approximate"
        if len(named) == 1 and next(iter(named)) not in taken:
            m = next(iter(named))
            body.insert(k, Line(next(t for t in texts if t.strip()), [], [], m, how))


def side_from_page(tables: list[Table], lines: list[list[Token]]) -> None:
    """A hip table with no side in its heading or rows takes one from the page.

    Beside one other hip table of the same regions with a side, it is the
    other hip (Norland: a table per hip). Alone on the page, it takes the side
    the rest of the page names, if it names just one: the heading was misread
    too far above the table (a chart between them) or printed away from it (an
    image caption). Marked approximate: the reader flags it."""
    hips = [t for t in tables if not t.is_spine and any(r.region is not None for r in t.rows)]
    lost = [t for t in hips if t.heading_side is None and not any(r.side for r in t.rows)]
    if len(lost) != 1:
        return
    t = lost[0]
    others = [o for o in hips if o is not t]
    if others:
        # Norland prints each hip in a table of its own: a second table of the same regions
        # whose heading was lost is the other hip
        sides = ({o.heading_side for o in others} | {r.side for o in others for r in o.rows}) - {None}
        regions = {r.region for o in others for r in o.rows} & {r.region for r in t.rows}
        pair = {Side.LEFT: Side.RIGHT, Side.RIGHT: Side.LEFT}
        if len(others) == 1 and len(sides) == 1 and sides <= set(pair) and regions:
            t.heading_side, t.heading_approx = pair[next(iter(sides))], True  # type: ignore[index]
        return
    named = set()
    for line in lines:
        text = line_text(line)
        side = labels.heading_side(text) or labels.fuzzy_heading_side(text)
        if side is not None:
            named.add(side)
    if len(named) == 1:
        t.heading_side, t.heading_approx = named.pop(), True
