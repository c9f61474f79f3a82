"""Two engines, one value: re-reading table cells and voting.

The layout engine's reading of a cell is checked by the other engine on a
crop of that cell (padded to the left, where a faint minus would sit). Two
equal readings are strong evidence. On disagreement the cell is re-read by
both engines on an enlarged, binarized crop and the readings vote; a value
whose candidates differ in sign or that has no clear majority is flagged
(ENGINE_DISAGREEMENT), never silently accepted. A reading whose decimals
differ from its column's (a lost decimal point: "-23" for "-2.3") loses
weight in the vote. A disagreement whose rival readings are all malformed
for the column or impossible gets a closer look (the cell alone, enlarged,
by both engines: :func:`closer_look`); only an exact match that leaves both
engines having read the kept value settles it (:func:`confirm_by_closer_look`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from bmdkit.report import cellcrop, ocr
from bmdkit.report.cells import Cell
from bmdkit.report.numbers import Parsed, parse_number

#: below this a value is flagged LOW_CONFIDENCE (an operating setting, not a reference number)
MIN_CONFIDENCE = 0.75


@dataclass
class Candidate:
    engine: str
    text: str
    conf: float
    parsed: Parsed | None

    @property
    def key(self) -> tuple[float | None, bool] | None:
        if self.parsed is None:
            return None
        return (self.parsed.value, self.parsed.blank)


@dataclass
class Reading:
    """The value decided for one cell and the evidence for it."""

    value: float | None
    blank: bool
    conf: float
    raw: str
    engines: tuple[str, ...]
    disagreement: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    #: what the reader changed in the value decided ('decimal point restored'), for the flag
    repair: str = ""
    #: only one engine gave a number for the cell (the others read nothing usable): not a
    #: disagreement, but no second engine confirms it either
    single: bool = False
    #: the readings differ only in the sign (or a lost decimal point): the digits agree
    sign_only: bool = False
    #: the engine whose closer look at the cell alone (see ``third_look``) read exactly the value
    #: kept, where the engines had disagreed on its sign: the reader settles the sign with it only
    #: where the site's other rows fit the value kept (valueflags.settle_signs)
    third: str = ""
    #: what reading the cell again on its crop alone gave, for a value outside its plausible
    #: range (repairs.recheck_implausible): the note or flag says it
    reread: str = ""
    #: the value stays outside its plausible range after that re-read: a misread (flagged
    #: OUT_OF_RANGE by valueflags, so evaluability never takes it for anatomy)
    misread: bool = False
    #: engines that first read the cell differently, settled by a closer look that read exactly the
    #: value kept (:func:`confirm_by_closer_look`): what that look read, for the note
    settled: str = ""
    #: a negative score whose readings dispute its sign, and the cell's own pixels show a minus
    #: before the digits (cellcrop.leading_minus; reading._minus_in_print): a witness for the sign
    #: kept, used like ``third`` (valueflags.settle_signs)
    minus_in_print: bool = False

    @property
    def values_read(self) -> list[str]:
        """The distinct numbers the engines read, as printed, the kept one first."""
        seen: dict[float | None, str] = {}
        if self.value is not None:
            seen[self.value] = self.raw.strip()
        for c in self.candidates:
            if c.parsed is not None and c.parsed.value is not None and c.parsed.value not in seen:
                seen[c.parsed.value] = c.text.strip()
        return list(seen.values())


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit()).lstrip("0")


Reader = Callable[[Sequence[np.ndarray]], list[tuple[str, float]]]


def _readers(engines: Sequence[str]) -> dict[str, Reader]:
    out: dict[str, Reader] = {}
    if "tesseract" in engines:
        out["tesseract"] = ocr.tesseract_crops
    if "rapidocr" in engines:
        out["rapidocr"] = ocr.rapid_crops
    return out


def _weight(c: Candidate, decimals: int | None) -> float:
    if c.parsed is None:
        return 0.0
    w = 0.5 + 0.5 * c.conf
    if decimals is not None and not c.parsed.blank and c.parsed.decimals != decimals:
        w *= 0.3
    if c.parsed.repaired:
        w *= 0.7
    return w


def same_digits(c: Candidate, best: tuple[float | None, bool], decimals: int | None) -> bool:
    """A reading that lost only the decimal point ('-12' for '-1.2'): backs the digits and the sign."""
    if c.parsed is None or c.parsed.value is None or best[0] is None or decimals is None:
        return False
    if c.parsed.decimals == decimals or c.parsed.decimals != 0:
        return False
    want = f"{best[0]:.{decimals}f}".replace(".", "")
    return c.text.strip().replace("\u2212", "-").lstrip("0") == want.lstrip("0") or \
        f"{c.parsed.value:.0f}" == want.lstrip("0") or best[0] < 0 and f"{c.parsed.value:.0f}" == "-" + want.lstrip("-").lstrip("0")


def backed_by_each_engine(cands: list[Candidate], backers: list[Candidate], best: tuple[float | None, bool],
                           decimals: int | None) -> bool:
    """Every engine that read the cell read these digits at least once, and every other reading
    is malformed for the column (not printed to its decimals: '43', '8', '0781' in a column of
    '-1.3', '0.741'), and no backer has the other sign. Small screen type makes an engine's passes disagree with each other; two
    independent engines landing on the same digits confirm them, and a well-formed rival
    reading (0.782 against 0.752) still makes it a disagreement."""
    if decimals is None:
        return False
    read = {c.engine.split("+")[0] for c in cands if c.key is not None}
    if len(read) < 2 or {c.engine.split("+")[0] for c in backers} != read:
        return False
    if best[0] is None or any(c.parsed is not None and c.parsed.value and (c.parsed.value < 0) != (best[0] < 0)
                              for c in backers):
        return False  # the engines differ on the sign: a sign dispute, settled elsewhere
    rivals = [c for c in cands if c.key is not None and c.key != best and c not in backers]
    return all(c.parsed is not None and not c.parsed.blank and c.parsed.decimals != decimals for c in rivals)


def decide(cands: list[Candidate], decimals: int | None, two_engines: bool) -> Reading:
    """Vote among candidate readings of one cell."""
    votes: Counter[tuple[float | None, bool]] = Counter()
    weight: dict[tuple[float | None, bool], float] = {}
    for c in cands:
        k = c.key
        if k is None:
            continue
        votes[k] += 1
        weight[k] = weight.get(k, 0.0) + _weight(c, decimals)
    if not votes:
        return Reading(None, False, 0.0, cands[0].text if cands else "", tuple(c.engine for c in cands),
                       disagreement=len(cands) > 1, candidates=cands)
    best = max(weight, key=lambda k: (weight[k], votes[k]))
    top = best[0]
    twins = [k for k in weight if top is not None and top >= 0 and k[0] is not None and k[0] < 0 and -k[0] == top]
    if twins:
        # a minus is far more often lost than invented: keep the signed reading (it is flagged below)
        best = max(twins, key=lambda k: weight[k])
    backers = [c for c in cands if c.key == best or same_digits(c, best, decimals)]
    engines = tuple(sorted({c.engine.split("+")[0] for c in backers}))
    raw = backers[0].text
    others = [k for k in votes if k != best and not any(c.key == k and same_digits(c, best, decimals) for c in cands)]
    values = [k[0] for k in votes if k[0] is not None]
    sign_conflict = len({v < 0 for v in values if v != 0}) > 1 or any(
        k[0] is not None and best[0] is not None and abs(k[0]) == abs(best[0]) and k[0] != best[0] for k in others)
    dec_ok = decimals is None or best[1] or any(
        c.parsed is not None and c.parsed.decimals == decimals for c in backers)
    if not two_engines:
        conf = max(c.conf for c in backers)
        if not dec_ok:
            conf = min(conf, 0.5)
        return Reading(best[0], best[1], round(conf, 3), raw, engines, candidates=cands)
    if not others and len(engines) >= 2:
        c1 = max(c.conf for c in backers)
        conf = 1 - (1 - c1) * 0.5 if dec_ok else 0.5
        return Reading(best[0], best[1], round(min(conf, 0.99), 3), raw, engines, candidates=cands)
    n_for = votes[best]
    n_all = sum(votes.values())
    if n_for >= 3 and n_for >= n_all - 1 and len(engines) >= 2 and not sign_conflict and dec_ok:
        return Reading(best[0], best[1], 0.8, raw, engines, candidates=cands)
    if backed_by_each_engine(cands, backers, best, decimals) and dec_ok:
        return Reading(best[0], best[1], MIN_CONFIDENCE, raw, engines, candidates=cands)
    if not others:
        # one engine read a number, the other read nothing usable: unconfirmed, not disputed
        return Reading(best[0], best[1], 0.4, raw, engines, candidates=cands, single=True)
    want = _digits(raw)
    sign_only = best[0] is not None and bool(want) and all(
        c.parsed is None or c.parsed.value is None or _digits(c.text) == want for c in cands)
    return Reading(best[0], best[1], 0.4, raw, engines, disagreement=True, candidates=cands, sign_only=sign_only)


#: cells per page given a third look at most (one tesseract process each)
THIRD_LOOK_MAX = 16


def _third_reader(engine: str) -> Callable[[np.ndarray], tuple[str, float]]:
    if engine == "tesseract":
        return ocr.tesseract_alone
    return lambda c: ocr.rapid_crops([cv2.resize(c, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)])[0]


def closer_look(crop_: np.ndarray, engines: Sequence[str]) -> list[Candidate]:
    """The cell alone, enlarged, read by each of ``engines`` (tesseract, rapidocr): one
    :class:`Candidate` per engine, tagged ``<engine>+alone``. Stacked and page readings lose
    faint minus signs and thin decimal points that the cell read alone shows."""
    out = []
    for e in engines:
        if e not in ("tesseract", "rapidocr"):
            continue
        text, conf = _third_reader(e)(crop_)
        out.append(Candidate(e + "+alone", text, conf, parse_number(text)))
    return out


def _opposite_sign_twin(c: Candidate, kept: float) -> bool:
    """A reading of the kept digits with the other sign ('18' or '1.8' for -1.8): a sign dispute."""
    v = c.parsed.value if c.parsed is not None else None
    if v is None or v == 0 or kept == 0 or (v < 0) == (kept < 0):
        return False
    return abs(v) == abs(kept) or _digits(c.text) == _digits(f"{kept}")


def sign_disputed(rd: Reading, plausible: Callable[[float], bool]) -> bool:
    """Readings that dispute only the kept value's sign: the digits alike with the other sign
    (``sign_only``), or some reading is the kept digits with the other sign ('18' for -1.8) and
    every other rival is malformed for the kept reading's decimals or impossible ('8', '73.0').
    Settled, like ``sign_only``, only by the site's rows or the row's own BMD (valueflags.settle_signs)."""
    if rd.sign_only:
        return True
    kept = parse_number(rd.raw)
    if rd.value is None or rd.blank or not rd.disagreement or rd.repair or kept is None or kept.value != rd.value:
        return False
    twin = False
    for c in rd.candidates:
        if c.parsed is None or c.parsed.value is None or c.parsed.value == rd.value:
            continue
        if _opposite_sign_twin(c, rd.value):
            twin = True
        elif not c.parsed.blank and c.parsed.decimals == kept.decimals and plausible(c.parsed.value):
            return False
    return twin


def in_doubt_for_closer_look(rd: Reading, decimals: int | None, plausible: Callable[[float], bool]) -> bool:
    """A disagreement a closer look may settle: the kept value is printed to its column's decimals
    and plausible, and every rival reading is malformed for the column ('0783', '107' in a column
    of '0.753') or impossible (8.625 for a hip BMD), and none is the kept digits with the other
    sign (a sign dispute: settled only by the site's rows, valueflags.settle_signs)."""
    if rd.value is None or rd.blank or not rd.disagreement or rd.sign_only or rd.repair or rd.reread:
        return False
    kept = parse_number(rd.raw)
    if kept is None or kept.value != rd.value or (decimals is not None and kept.decimals != decimals):
        return False
    if not plausible(rd.value):
        return False
    for c in rd.candidates:
        if c.parsed is None or c.parsed.value is None or c.parsed.value == rd.value:
            continue
        if _opposite_sign_twin(c, rd.value):
            return False
        well_formed = not c.parsed.blank and (decimals is None or c.parsed.decimals == decimals)
        if well_formed and plausible(c.parsed.value):
            return False
    return True


def confirm_by_closer_look(rd: Reading, looks: list[Candidate], decimals: int | None,
                           plausible: Callable[[float], bool]) -> bool:
    """Settle a disagreement :func:`in_doubt_for_closer_look` chose with the cell read alone,
    enlarged (``looks``, vote.closer_look): an exact match with the kept reading (value, sign and
    decimals) by an engine, such that every engine has now read exactly the kept value, and no
    closer look reading another well-formed plausible value, confirms it (no longer disputed,
    confidence MIN_CONFIDENCE, ``Reading.settled`` saying how). Anything else changes nothing
    but the evidence kept (the cell stays flagged)."""
    kept = parse_number(rd.raw)
    if kept is None:
        return False
    rd.candidates.extend(looks)
    exact = {c.engine.split("+")[0] for c in looks
             if c.parsed is not None and c.parsed.value == rd.value and c.parsed.decimals == kept.decimals
             and not c.parsed.blank}
    rival = any(c.parsed is not None and c.parsed.value is not None and c.parsed.value != rd.value
                and not c.parsed.blank and (decimals is None or c.parsed.decimals == decimals)
                and plausible(c.parsed.value) for c in looks)
    read_exactly = {c.engine.split("+")[0] for c in rd.candidates
                    if c.parsed is not None and c.parsed.value == rd.value and c.parsed.decimals == kept.decimals
                    and not c.parsed.blank}
    if not exact or rival or not {"tesseract", "rapidocr"} <= read_exactly:
        return False
    rd.disagreement, rd.single = False, False
    rd.conf = max(rd.conf, MIN_CONFIDENCE)
    rd.engines = tuple(sorted({*rd.engines, *exact}))
    rd.settled = f"{', '.join(sorted(exact))} read the cell alone, enlarged, as {rd.raw.strip()}, as kept"
    return True


def _matches_kept(look: Candidate, value: float, kept: Parsed) -> bool:
    """A closer look read the kept value: exactly, or every digit and the sign with only the
    decimal point lost ('05' for 0.5, '-17' for -1.7; not '5'), as the vote takes stacked readings."""
    p = look.parsed
    if p is None or p.value is None or p.blank:
        return False
    return (p.value == value and p.decimals == kept.decimals) or (
        bool(kept.decimals) and p.decimals == 0 and (p.value < 0) == (value < 0)
        and "".join(ch for ch in look.text if ch.isdigit()) == f"{abs(value):.{kept.decimals}f}".replace(".", ""))


def third_look(readings: list[Reading], crops: Sequence[np.ndarray], engines: Sequence[str],
               stop: Callable[[], bool] | None = None) -> None:
    """A closer look at the cells one engine alone could read, or whose readings differ
    only in the sign: the cell alone, enlarged, read by the engine that did not give the
    kept reading. Stacked and page readings lose faint minus signs and thin decimals that
    the cell read alone shows.

    Only a match confirms (:func:`_matches_kept`: the kept value, or its digits and sign):
    an unconfirmed single reading then counts as two engines agreeing; a sign dispute is
    marked (``Reading.third``) for the reader to settle where the site's rows fit it. A
    reading that does not match changes nothing (the cell stays flagged). ``stop``: asked before
    each look; once it says so (the page's time budget is spent) no more looks are taken.
    """
    todo = [i for i, r in enumerate(readings) if r.value is not None and not r.repair and (r.single or r.sign_only)]
    for i in todo[:THIRD_LOOK_MAX]:
        if stop is not None and stop():
            return
        r = readings[i]
        kept = parse_number(r.raw)
        if kept is None or kept.value is None:
            continue
        others = [e for e in engines if e in ("tesseract", "rapidocr") and e not in r.engines]
        if not others and r.sign_only and r.candidates:
            # both engines backed the kept sign somewhere, a stray reading disputes it: the engine
            # that did not lay out the page looks at the cell alone
            others = [e for e in engines if e in ("tesseract", "rapidocr")
                      and e != r.candidates[0].engine.split("+")[0]]
        for e in others:
            look = closer_look(crops[i], [e])[0]
            r.candidates.append(look)
            if not _matches_kept(look, r.value, kept):
                continue
            r.engines = tuple(sorted({*r.engines, e}))
            if r.single:
                r.single, r.conf = False, 0.8
            else:
                r.third = e
            break


def read_cells(image: np.ndarray, cells: list[Cell], engines: Sequence[str],
               decimals: dict[int, int | None], stop: Callable[[], bool] | None = None) -> list[Reading]:
    """Decide every cell's value with the engines given.

    Each cell carries its first reading (from the engine that laid out the
    page); every other enabled engine re-reads it on a crop. ``decimals``
    maps the cell's index to its column's usual decimal count. ``stop``: the
    optional third looks (:func:`third_look`) end once it says so (time budget).
    """
    if not cells:
        return []
    readers = _readers(engines)
    primary = [Candidate(c.tokens[0].engine, c.text, c.conf, parse_number(c.text)) for c in cells]
    crops = [cellcrop.value_crop(image, c.box) for c in cells]
    cands: list[list[Candidate]] = [[p] for p in primary]
    for e, fn in readers.items():
        idx = [i for i, p in enumerate(primary) if p.engine != e]
        if not idx:
            continue
        res = fn([crops[i] for i in idx])
        for j, i in enumerate(idx):
            text, conf = res[j]
            cands[i].append(Candidate(e, text, conf, parse_number(text)))
    two = len({c.engine for lst in cands for c in lst}) >= 2
    if not two:
        return [decide(lst, decimals.get(i), False) for i, lst in enumerate(cands)]
    unsure = [i for i, lst in enumerate(cands) if len({c.key for c in lst}) > 1 or any(c.key is None for c in lst)]
    if unsure:
        big = [cellcrop.enhance(crops[i]) for i in unsure]
        for e, fn in readers.items():
            res = fn(big)
            for j, i in enumerate(unsure):
                text, conf = res[j]
                cands[i].append(Candidate(e + "+reread", text, conf, parse_number(text)))
    out = []
    for i, lst in enumerate(cands):
        r = decide(lst, decimals.get(i), True)
        r.engines = tuple(sorted({e.split("+")[0] for e in r.engines}))
        out.append(r)
    third_look(out, crops, list(readers), stop)
    return out
