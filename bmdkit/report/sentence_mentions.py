"""The regions a sentence names: each naming of a region (:class:`Mention`), and namings grouped.

Part of the sentence reader (:mod:`bmdkit.report.sentences`): a region word ('femoral neck',
'全髋'), a spine word ('lumbar spine', '腰椎') or lumbar levels ('L1-L4', 'L3'), with a spine
word right before levels naming those levels ('AP Spine L1-L4'); consecutive namings of one
region with no number between them are one (:func:`group_mentions`); a naming that a clause
boundary parts from the next one and whose clause states no value is no naming of a value's
region (:func:`drop_unstated`: a full stop read as a comma joins 'repeat DXA of the lumbar spine
in 2 years' to the next sentence); a total hip word read without its 髋 ('左侧全骨密度') is
told where only the total hip can be meant (:func:`partial_total_hip`), and flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bmdkit import vocabulary
from bmdkit.model import Region, Side
from bmdkit.report.sentence_measures import Measured
from bmdkit.report.sentence_text import SentenceToken


@dataclass
class Mention:
    """One naming of a region in a sentence, and the numbers and side given to it."""

    region: Region
    vertebrae: tuple[Region, ...] | None
    label: str
    start: int
    end: int
    numbers: list[tuple[SentenceToken, str]] = field(default_factory=list)  # (number, measure)
    side: Side | None = None
    two_sides: bool = False
    #: the end of a range of vertebrae whose start was not read ('L.1-L4', 'Ll-L4' read as L4)
    broken: bool = False


def mentions(toks: list[SentenceToken], text: str) -> list[Mention]:
    """Each naming of a region; a spine word right before lumbar levels names those levels."""
    out: list[Mention] = []
    for t in toks:
        if t.kind == "region":
            out.append(Mention(Region(t.key), None, t.text, t.start, t.end))
        elif t.kind == "spine":
            out.append(Mention(Region.SPINE_TOTAL, None, t.text, t.start, t.end))
        elif t.kind == "level":
            lv = vocabulary.parse_vertebrae(_LEVEL_OCR.sub("l", re.sub(r"\s+", "", t.text).replace("~", "-")
                                                           .replace("至", "-").replace("到", "-")), ocr=True)
            if not lv:
                continue
            region, vert = (lv[0], None) if len(lv) == 1 else (Region.SPINE_TOTAL, lv)
            broken = len(lv) == 1 and bool(_RANGE_END.search(text[:t.start]))
            label = "L" + "-L".join(v.value[1] for v in (lv[0], lv[-1])) if len(lv) > 1 else lv[0].value
            prev = out[-1] if out else None
            if prev is not None and prev.region is Region.SPINE_TOTAL and prev.vertebrae is None \
                    and not text[prev.end:t.start].strip(" ():"):
                out[-1] = Mention(region, vert, label, prev.start, t.end)  # 'AP Spine L1-L4', '腰椎L1'
                continue
            out.append(Mention(region, vert, label, t.start, t.end, broken=broken))
    return out


#: OCR forms of a level's L the vocabulary's level pattern admits: 'l.' ('L.1') and a one read for
#: the L that ends a range ('L1-14')
_LEVEL_OCR = re.compile(r"^l\.|(?<=-)1(?=[1-5]$)")

#: text ending on a range dash: a level right after it ends a range whose start was not read
_RANGE_END = re.compile(r"[-~至到]\s*$")


def same_region(a: Mention, b: Mention) -> bool:
    """The same region (vertebrae unknown on one side, or equal)."""
    if a.region is not b.region:
        return False
    return a.vertebrae is None or b.vertebrae is None or a.vertebrae == b.vertebrae



def group_mentions(mentions: list[Mention], measured: list[Measured]) -> list[Mention]:
    """Consecutive mentions of the same region (no number between them) as one."""
    groups: list[Mention] = []
    for mnt in mentions:
        if groups and same_region(groups[-1], mnt) and not any(groups[-1].end <= n.tok.start < mnt.start for n in measured):
            g = groups[-1]
            if g.vertebrae is None and mnt.vertebrae is not None:
                g.vertebrae, g.label = mnt.vertebrae, mnt.label
            g.end = mnt.end
            continue
        groups.append(mnt)
    return groups


#: a clause boundary within a sentence
_CLAUSE = re.compile(r"[,;，；]")


def drop_unstated(groups: list[Mention], toks: list[SentenceToken], text: str) -> list[Mention]:
    """``groups`` (numbers placed) without each one given no number that a clause boundary
    parts from the next group, with no measure word from the end of the group before it to the
    start of the next: a clause that names a region but states nothing of it ('repeat DXA of
    the lumbar spine in 2 years, in the left hip the total hip BMD is ...', a full stop read as
    a comma). A group with no number that is not so parted stays (two regions and one value:
    the sentence is ambiguous)."""
    keep: list[Mention] = []
    for k, g in enumerate(groups):
        if g.numbers or k == len(groups) - 1:
            keep.append(g)
            continue
        start, stop = (groups[k - 1].end if k else 0), groups[k + 1].start
        parted = bool(_CLAUSE.search(text[g.end:stop]))
        if not parted or any(t.kind == "measure" and start <= t.start < stop for t in toks):
            keep.append(g)
    return keep


#: '全' (total) right before a measure word, a character of the region word lost in reading ('左侧全骨密度')
_PARTIAL_TOTAL = re.compile(r"(?:全|部总体)\s*(?=骨密度|bmd|骨矿)")


def partial_total_hip(toks: list[SentenceToken], text: str) -> tuple[int, int, str] | None:
    """'全' or '部总体' right before a measure word, in a sentence naming one side, standing right
    after that side word (with at most one character between) or opening a clause ('左侧髋关节：
    股骨颈骨密度0.739，T值-1.6；全骨密度0.804' with 髋 lost): the total hip (全髋, 髋部总体) with its 髋 not
    read (RapidOCR and tesseract both lose it at times). Of the regions a report names so only the
    total hip has a side (全身, the whole body, has none), so the region is told, but the reading
    is flagged (LABEL_UNCERTAIN) unless the other engine reads the whole word
    (``sentence_engines.join_engines``). Returns the place and text of the partial word."""
    sides = [t for t in toks if t.kind == "side"]
    if len({t.key for t in sides}) != 1:
        return None
    for m in _PARTIAL_TOTAL.finditer(text):
        if any(0 <= m.start() - t.end <= 1 for t in sides) or _CLAUSE_END.search(text[:m.start()]):
            return m.start(), m.end(), m.group(0).strip()
    return None


#: text ending on a clause boundary or a heading's colon: a word after it opens a clause
_CLAUSE_END = re.compile(r"[,;:，；：]\s*$")
