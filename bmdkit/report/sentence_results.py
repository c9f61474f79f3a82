"""What sentences state, as region results: the line and reading types, statements, assembly.

The second half of :mod:`bmdkit.report.sentences` (which re-exports the
public names here): :class:`TextLine` (one line of report text),
:class:`SentenceRead` (what one engine's reading of one sentence gave),
:class:`SentenceReading` (what the sentences of a page or file state),
:class:`Statement` (one value a sentence joins to its region, side and
measure), :func:`assemble` (statements into one :class:`RegionResult` per
region and side, values stated twice differently withheld and flagged) and
:func:`combine` (sentence results merged with a results table's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import VERTEBRAE, Flag, Location, Method, Region, RegionResult, Side, ValueSource
from bmdkit.report import words
from bmdkit.report.sentence_measures import NEVER_NEGATIVE
from bmdkit.report.sentence_mentions import Mention

#: lines read with a confidence below this get a LOW_CONFIDENCE flag on each value taken from
#: them (an operating setting, as the table reader's vote.MIN_CONFIDENCE)
LOW_CONFIDENCE = 0.75

#: engine name of values read from a plain text file
TEXT_ENGINE = "text-file"

#: a box in the pixels of a page: (left, top, right, bottom)
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextLine:
    """One line of report text, as a text file, a PDF text layer or an OCR engine gives it.

    ``confidence`` is None for exact text (a text file or a PDF text layer),
    else the OCR engine's confidence in [0, 1] for the line (the lowest of
    its words). ``page`` is 1-based; ``box`` is the line's box in the pixels
    of the page as given.
    """

    text: str
    confidence: float | None = None
    page: int | None = None
    box: Box | None = None
    engine: str = TEXT_ENGINE


@dataclass(frozen=True)
class SentenceReading:
    """What the sentences of a page or file state.

    ``regions``: one result per region and side (method ``ocr``), each
    value with its own :class:`ValueSource`; ``flags``: every ambiguity,
    conflict and low confidence; ``statements``: how many sentences stated
    at least one result value (used or flagged). Falsy when no sentence
    stated a result, so a caller can fall through to its own failure.
    """

    regions: tuple[RegionResult, ...] = ()
    flags: tuple[Flag, ...] = ()
    statements: int = 0

    def __bool__(self) -> bool:
        return self.statements > 0


@dataclass
class Statement:
    """A value a sentence joins to its region, side and measure."""

    region: Region
    side: Side | None
    vertebrae: tuple[Region, ...] | None
    label: str
    measure: str
    value: float
    raw: str
    line: int
    #: the OCR engines that each read this value, in a sentence joining it to the same region, side
    #: and measure (or, for one of them, at the same place: see ``sentences``); empty: one reading only
    confirmed_by: tuple[str, ...] = ()
    #: the confidence to give the value where it is not its line's (a value both engines read)
    conf: float | None = None
    #: the region was told from part of its word (see ``sentence_mentions.partial_total_hip``)
    partial: bool = False
    #: where the number lies across its line, as fractions of the line's length (None: not known)
    span: tuple[float, float] | None = None


def flag(msg: str, region: Region | None = None, side: Side | None = None, measure: str | None = None,
         code: FlagCode = FlagCode.UNPLACED_DATA, severity: Severity | None = None) -> Flag:
    """A flag naming ``region`` (and ``side``, unless the region is a vertebra or the lumbar total) and ``measure``."""
    return Flag(code, msg, region=region.value if region else None, side=side if region and not region.is_spine
                else None, measure=measure, severity=severity)


def assemble(stated: list[Statement], lines: Sequence[TextLine]) -> tuple[list[RegionResult], list[Flag]]:
    """One result per region and side; a measure stated with two values is withheld and flagged;
    of two lumbar totals over different vertebrae, L1-L4 is kept (another alone is kept as stated)."""
    flags: list[Flag] = []
    keep_total = _lumbar_total(stated, flags)
    by_key: dict[tuple[Region, Side | None], dict[str, list[Statement]]] = {}
    for st in stated:
        if st.region is Region.SPINE_TOTAL and st.vertebrae not in (None, keep_total):
            continue
        by_key.setdefault((st.region, st.side), {}).setdefault(st.measure, []).append(st)
    out: list[RegionResult] = []
    for (region, side), per in by_key.items():
        result = _region_result(region, side, per, lines, keep_total, flags)
        if result is not None:
            out.append(result)
    order = {r: i for i, r in enumerate(Region)}
    out.sort(key=lambda r: (order[r.region], r.side.value if r.side else ""))
    return out, flags


def _lumbar_total(stated: list[Statement], flags: list[Flag]) -> tuple[Region, ...] | None:
    """The vertebrae of the lumbar total to keep: the one range stated, else L1-L4 among several,
    else None (and a flag on ``flags``)."""
    totals = {st.vertebrae for st in stated if st.region is Region.SPINE_TOTAL and st.vertebrae}
    keep_total: tuple[Region, ...] | None = None
    if len(totals) == 1:
        keep_total = totals.pop()
    elif totals:
        keep_total = VERTEBRAE if VERTEBRAE in totals else None
        if keep_total is None:
            flags.append(flag("The report states lumbar totals over " + " and ".join(
                sorted("L" + "-L".join((v[0].value[1], v[-1].value[1])) for v in totals))
                + ": which is the exam's total cannot be told; not used", Region.SPINE_TOTAL))
    return keep_total


def _region_result(region: Region, side: Side | None, per: dict[str, list[Statement]], lines: Sequence[TextLine],
                   keep_total: tuple[Region, ...] | None, flags: list[Flag]) -> RegionResult | None:
    """One region and side's result from its statements per measure (None when no measure is left);
    flags for measures stated twice differently and for values from low-confidence lines go on ``flags``."""
    values: dict[str, float] = {}
    sources: dict[str, ValueSource] = {}
    first: Statement | None = None
    for m, sts in per.items():
        seen = sorted({st.value for st in sts})
        if len(seen) > 1:
            flags.append(flag(f"The {words.measure_word(m)} of {words.place(region, side)} is stated "
                              f"as {' and '.join(f'{v:g}' for v in seen)}: neither was used",
                              region, side, m, code=FlagCode.SOURCES_DISAGREE))
            continue
        st = sts[0]
        first = first or st
        ln = lines[st.line] if 0 <= st.line < len(lines) else TextLine("")
        conf = st.conf if st.conf is not None else 1.0 if ln.confidence is None else ln.confidence
        values[m] = st.value
        sources[m] = ValueSource(confidence=conf, location=Location(page=ln.page, box=_number_box(ln.box, st.span),
                                                                    detail=f"line {st.line + 1}"),
                                 raw_text=st.raw, engines=st.confirmed_by or (ln.engine,))
        if conf < LOW_CONFIDENCE and not all(x.confirmed_by for x in sts):
            flags.append(flag(f"The {words.measure_word(m)} of {words.place(region, side)} was read as "
                              f"{st.raw} from a line read with low confidence ({conf:.2f}): check it on "
                              "the page", region, side, m, code=FlagCode.LOW_CONFIDENCE))
    if first is None:
        return None
    vert = keep_total if region is Region.SPINE_TOTAL else None
    label = first.label if region is not Region.SPINE_TOTAL or vert is None else \
        "L" + "-L".join((vert[0].value[1], vert[-1].value[1]))
    confs = [src.confidence for src in sources.values() if src.confidence is not None]
    return RegionResult(
        region=region, side=side, method=Method.OCR, bmd=values.get("bmd"), bmc=values.get("bmc"),
        area=values.get("area"), t_score=values.get("t_score"), z_score=values.get("z_score"),
        confidence=min(confs) if confs else None, label=label, vertebrae=vert,
        location=sources[next(iter(sources))].location, sources=sources)


def _number_box(line: Box | None, span: tuple[float, float] | None) -> Box | None:
    """The stretch of a line's box that its number takes (by its place among the line's characters):
    a value's own place on the page, never its neighbour's (the one-cell-one-column guard,
    ``checks.cells``, reads two measures with one box as a misplaced column). The whole line where
    the number's place is not known."""
    if line is None or span is None:
        return line
    x0, y0, x1, y1 = line
    a = x0 + int((x1 - x0) * span[0])
    return (a, y0, max(a + 1, x0 + round((x1 - x0) * span[1])), y1)


def combine(table_regions: Sequence[RegionResult], reading: SentenceReading) -> tuple[list[RegionResult], list[Flag]]:
    """Table results and sentence results of one report, as one list (for the report reader).

    A region and side the tables did not read is taken from the sentences; one both give keeps
    the table's result, and each measure the two state differently is flagged
    (SOURCES_DISAGREE, naming region, side and measure) and withheld from both. Returns the
    regions and the sentences' flags plus those new flags.
    """
    out = list(table_regions)
    flags = list(reading.flags)
    index = {r.key: k for k, r in enumerate(out)}
    for r in reading.regions:
        k = index.get(r.key)
        if k is None:
            out.append(r)
            continue
        mine = out[k]
        for m in r.sources:
            a, b = mine.value(m), r.value(m)
            if a is not None and b is not None and a != b:
                flags.append(flag(f"The {words.measure_word(m)} of {words.place(r.region, r.side)} is {a:g} in "
                                  f"the table and {b:g} in a sentence: neither was used", r.region, r.side, m,
                                  code=FlagCode.SOURCES_DISAGREE))
                mine = mine.replace(**{m: None})
            elif a is None and b is not None:
                mine = mine.replace(**{m: b}, sources={**mine.sources, m: r.sources[m]})
        out[k] = mine
    return out, flags


# --- one engine's reading of one sentence ------------------------------------------------------------

class ReadNumber(NamedTuple):
    """A number as one engine read it: value, text, line index, the measure meant, and whether a
    minus lookalike stands before it ('T-score 一 0.2': the sign is in doubt, the digits are not)."""

    value: float
    raw: str
    line: int
    intent: str | None = None
    signed: bool = False

    def readings(self) -> tuple[str, ...]:
        """The texts this reading may stand for: as read; with a minus lookalike before it, the
        number with a minus only (the mark backs a minus the other engine read, never a reading
        without one: 'T值~3.0' beside 'T值3.0' is a sign in dispute), unless the measure meant
        cannot be negative (a mark before a BMD says nothing)."""
        return ("-" + self.raw,) if self._minus_read else (self.raw,)

    def values(self) -> tuple[float, ...]:
        """The values of :meth:`readings` (a text OCR garbled, 'o.3' for 0.3, has its value read)."""
        return (-self.value,) if self._minus_read else (self.value,)

    @property
    def _minus_read(self) -> bool:
        """The minus lookalike before the number is read as a minus (the measure may be negative)."""
        return self.signed and self.intent not in NEVER_NEGATIVE


#: why a number is not a result that counts as a reading of it (a unit, a threshold, a year), as
#: against a digit in a garbled word
NOT_RESULT = ("unit", "threshold", "year")


@dataclass
class SentenceRead:
    """What one sentence gave: its values, its flags (``lacking``: those of them about something
    this reading lacks, which another engine's reading of the same line may supply, not an
    ambiguity of the sentence), whether it stated a result at all, its result numbers, and the
    numbers it read as no result (a threshold, a unit's, a year, any in a sentence about an earlier exam)."""

    stated: list[Statement] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    lacking: list[Flag] = field(default_factory=list)
    said: bool = False
    numbers: list[ReadNumber] = field(default_factory=list)
    others: list[ReadNumber] = field(default_factory=list)
    #: the flag on a region told from part of its word, with the region, side and line: dropped only
    #: where the other engine reads the whole word and the same values there
    partial: list[tuple[Flag, Region, Side | None, int]] = field(default_factory=list)
    #: the lines the sentence names its regions on
    named_on: list[int] = field(default_factory=list)
    #: the flags of a sentence naming no region (its numbers are :attr:`numbers`), narrowed at the
    #: end to the values they concern (``sentence_scope``), and the one side it names, if any
    unplaced: list[Flag] = field(default_factory=list)
    unplaced_side: Side | None = None
    #: that sentence also states thresholds (a range, comparators): the WHO definitions, their
    #: comparator or range word lost in reading ('T-score 2-1.0 normal' for '≥ -1.0')
    unplaced_criteria: bool = False
    #: flags on doubtful numbers, each with the region naming it was placed on and the measure
    #: meant, until the sentence's sides are known (``sentences._scope_doubts``)
    doubts: list[tuple[Flag, Mention, str | None]] = field(default_factory=list)
