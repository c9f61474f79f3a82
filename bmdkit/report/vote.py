"""Two engines, one value: re-reading table cells and voting.

The layout engine's reading of a cell is checked by the other engine on a
crop of that cell (padded to the left, where a faint minus would sit). Two
equal readings are strong evidence. On disagreement the cell is re-read by
both engines on an enlarged, binarized crop and the readings vote; a value
whose candidates differ in sign or that has no clear majority is flagged
(ENGINE_DISAGREEMENT), never silently accepted. A reading whose decimals
differ from its column's (a lost decimal point: "-23" for "-2.3") loses
weight in the vote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from bmdkit.report import ocr
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
    #: where the site's other rows fit the value kept (reader._settle_signs)
    third: str = ""

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


def crop(image: np.ndarray, box: tuple[int, int, int, int], own_line: bool = False) -> np.ndarray:
    """The cell with padding; more on the left for a faint leading minus.

    ``own_line``: the padding above and below is blank paper, not the page: on small screen
    type rows sit about one text height apart, and a re-read label crop that takes in slivers
    of the rows above and below reads them as words ('Total Total Lest Right Mace').
    """
    x0, y0, x1, y1 = box
    h = max(y1 - y0, 8)
    H, W = image.shape[:2]
    a, b = max(0, int(x0 - 0.6 * h)), min(W, int(x1 + 0.3 * h))
    c, d = max(0, int(y0 - 0.3 * h)), min(H, int(y1 + 0.3 * h))
    if not own_line:
        return image[c:d, a:b]
    out = image[c:d, a:b].copy()
    paper = np.percentile(out, 95, axis=(0, 1)) if out.size else 255
    out[: max(0, y0 - c)] = paper
    out[max(0, y1 - c):] = paper
    return out


def enhance(c: np.ndarray) -> np.ndarray:
    """2x upscale and Otsu binarization for a second look."""
    big = cv2.resize(c, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return cv2.threshold(big, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


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


def _same_digits(c: Candidate, best: tuple[float | None, bool], decimals: int | None) -> bool:
    """A reading that lost only the decimal point ('-12' for '-1.2'): backs the digits and the sign."""
    if c.parsed is None or c.parsed.value is None or best[0] is None or decimals is None:
        return False
    if c.parsed.decimals == decimals or c.parsed.decimals != 0:
        return False
    want = f"{best[0]:.{decimals}f}".replace(".", "")
    return c.text.strip().replace("\u2212", "-").lstrip("0") == want.lstrip("0") or \
        f"{c.parsed.value:.0f}" == want.lstrip("0") or f"{c.parsed.value:.0f}" == "-" + want.lstrip("-").lstrip("0")


def _backed_by_each_engine(cands: list[Candidate], backers: list[Candidate], best: tuple[float | None, bool],
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
    backers = [c for c in cands if c.key == best or _same_digits(c, best, decimals)]
    engines = tuple(sorted({c.engine.split("+")[0] for c in backers}))
    raw = backers[0].text
    others = [k for k in votes if k != best and not any(c.key == k and _same_digits(c, best, decimals) for c in cands)]
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
    if _backed_by_each_engine(cands, backers, best, decimals) and dec_ok:
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


def third_look(readings: list[Reading], crops: Sequence[np.ndarray], engines: Sequence[str]) -> None:
    """A closer look at the cells one engine alone could read, or whose readings differ
    only in the sign: the cell alone, enlarged, read by the engine that did not give the
    kept reading. Stacked and page readings lose faint minus signs and thin decimals that
    the cell read alone shows.

    Only an exact match confirms (same value, sign and decimals as the kept reading):
    an unconfirmed single reading then counts as two engines agreeing; a sign dispute is
    marked (``Reading.third``) for the reader to settle where the site's rows fit it. A
    reading that does not match changes nothing (the cell stays flagged).
    """
    todo = [i for i, r in enumerate(readings) if r.value is not None and not r.repair and (r.single or r.sign_only)]
    for i in todo[:THIRD_LOOK_MAX]:
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
            text, conf = _third_reader(e)(crops[i])
            p = parse_number(text)
            r.candidates.append(Candidate(e + "+alone", text, conf, p))
            if p is None or p.value != r.value or p.decimals != kept.decimals or p.blank:
                continue
            r.engines = tuple(sorted({*r.engines, e}))
            if r.single:
                r.single, r.conf = False, 0.8
            else:
                r.third = e
            break


def read_cells(image: np.ndarray, cells: list[Cell], engines: Sequence[str],
               decimals: dict[int, int | None]) -> list[Reading]:
    """Decide every cell's value with the engines given.

    Each cell carries its first reading (from the engine that laid out the
    page); every other enabled engine re-reads it on a crop. ``decimals``
    maps the cell's index to its column's usual decimal count.
    """
    if not cells:
        return []
    readers = _readers(engines)
    primary = [Candidate(c.tokens[0].engine, c.text, c.conf, parse_number(c.text)) for c in cells]
    crops = [crop(image, c.box) for c in cells]
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
        big = [enhance(crops[i]) for i in unsure]
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
    third_look(out, crops, list(readers))
    return out
