"""Label words of printed DXA reports (English and Chinese), from reference_data.

Column headers, region names, sides and vendor names are matched against
regular expressions in ``reference_data/report_labels.csv`` (each row cites
where the wording was seen); no label word lives in code. Text is normalised
first (lower case, spaces and full-width punctuation folded) so that
``"BMD (g/cm²)"``, ``"BMD(g/cm2)"`` and ``"bmd"`` all match one pattern.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from bmdkit import reference, vocabulary
from bmdkit.model import Region, Side

#: lower case, NFKC, no spaces, dashes folded to '-' (one normaliser, shared with the vertebra parser)
normalize = vocabulary.normalize


@functools.cache
def _patterns(kind: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    rows = [r for r in reference.table("report_labels") if r["kind"] == kind]
    return tuple((r["key"], re.compile(r["pattern"], re.IGNORECASE)) for r in rows)


def match(kind: str, text: str, *, search: bool = False, raw: bool = False) -> str | None:
    """Key of the first ``kind`` pattern that matches ``text`` (full match unless ``search``)."""
    return next(iter(matches(kind, text, search=search, raw=raw)), None)


def matches(kind: str, text: str, *, search: bool = False, raw: bool = False) -> list[str]:
    """Keys of every ``kind`` pattern that matches ``text``, in table order (see :func:`match`)."""
    t = text.lower() if raw else normalize(text)
    return [key for key, pat in _patterns(kind) if (pat.search(t) if search else pat.match(t))]


#: the percent columns printed beside the scores (BMD as a percent of a reference mean): the
#: young-adult one (Hologic PR, Lunar YA / Young-Adult) beside the T-score, the age-matched one
#: (AM, Age-Matched) beside the Z-score, and a bare "%" whose word was not read
PERCENT_COLUMNS = ("ya_percent", "am_percent", "percent")

#: the percent column whose reference is that of each score: its side of 100 is the score's sign
PERCENT_OF_SCORE = {"t_score": "ya_percent", "z_score": "am_percent"}


def measure_of(header: str) -> str | None:
    """bmd, bmc, area, t_score, z_score, ya_percent, am_percent, percent, region, other, or None."""
    return match("measure", header)


def same_column(key: str | None, last: str) -> bool:
    """A header word ``key`` beside the column named ``last`` names that column again ('BMD g/cm2',
    'YA %': a bare percent after a young-adult or age-matched percent word is its unit)."""
    return key == last or (key == "percent" and last in PERCENT_COLUMNS)


def header_measure(text: str) -> str | None:
    """The measure a header cell names, its unit misread or not ('骨密度(g/cm-)', '骨矿含量(R)').

    The word decides when the whole cell does not match; a unit that is read
    and names another measure vetoes it.
    """
    key = measure_of(text)
    if key is not None:
        return key
    t = normalize(text)
    m = re.search(r"[\(（][^()（）]*[\)）]?$", t)
    if m is None or m.start() == 0:
        return None
    key = measure_of(t[:m.start()])
    unit = match("unit", m.group(0))
    return key if key is not None and unit in (None, key) else None


def unit_measure(text: str) -> str | None:
    """bmd, bmc or area when ``text`` is, or ends with, a column unit ('(g/cm²)', 'Dichte (g)').

    For headers whose word was misread or is unknown: the unit still names the column.
    """
    t = normalize(text)
    m = re.search(r"[\(（][^()（）]*[\)）]?$", t)
    return match("unit", t) or (match("unit", m.group(0)) if m else None)


def is_excluded_mark(label: str) -> bool:
    return match("excluded", label, search=True) is not None


def strip_marks(label: str) -> str:
    """The label without exclusion marks (asterisks, 'excluded')."""
    t = unicodedata.normalize("NFKC", label)  # full-width brackets: 'L1（排除）'
    for _, pat in _patterns("excluded"):
        t = pat.sub("", t)
    return re.sub(r"\s*[\(\[]\s*[\)\]]", "", t).strip(" ()[]")


def confused_level(text: str) -> Region | None:
    """The vertebra a label names if its 'L' was read as a one ('14', 'I4', '|4'), else None.

    Only the letter is repaired, never the digit; the caller must also find the
    row between its neighbours (L3 above '14'), since '14' alone proves nothing.
    """
    t = normalize(strip_marks(text))
    m = re.fullmatch(r"[1i|!\]]([1-4])\*?", t)
    return {"1": Region.L1, "2": Region.L2, "3": Region.L3, "4": Region.L4}[m.group(1)] if m else None


def hip_region(text: str) -> Region | None:
    key = match("region", text)
    return Region(key) if key else None


def side_of(text: str) -> Side | str | None:
    """Side.LEFT/RIGHT/MEAN, the string 'diff' for difference rows, or None."""
    key = match("side", text)
    if key is None:
        return None
    return "diff" if key == "diff" else Side(key)


def _label_vertebrae(text: str) -> tuple[Region, ...] | None:
    """The levels a row label names ('L1', 'L2-L4', 'Total L1-L4', '腰椎L1'), by the one parser.

    Words before the first level are dropped unless a digit stands among them.
    """
    first = vocabulary.find_level(text)
    if first is None:
        return None
    named = text if any(c.isdecimal() for c in text[:first.start()]) else text[first.start():]
    return vocabulary.parse_vertebrae(named, ocr=True)


def split_label(label: str) -> tuple[Region | tuple[Region, ...] | None, Side | str | None]:
    """Parse a row label into (hip region or vertebral levels, side).

    Handles 'Neck Left', 'Left Neck', 'Femoral Neck (L)', 'Neck-Right', '左股骨颈',
    '股骨颈(左)', '腰椎L1', 'Total Mean'.
    """
    text = strip_marks(label)
    text = re.sub(r"(?<![A-Za-z])([lL])[lI|!](?![A-Za-z])", r"\g<1>1", text)  # OCR: 'Ll' for 'L1'
    lv = _label_vertebrae(text)
    if lv:
        return lv, None
    # 'Femoral Neck (L)', 'Neck-Right', '股骨颈(左)': brackets and dashes part words like spaces
    words = [w for w in re.split(r"[\s\-/_,，()\[\]]+", unicodedata.normalize("NFKC", text).strip()) if w]
    side: Side | str | None = None
    region: Region | None = None
    rest: list[str] = []
    for w in words:
        s = side_of(w)
        if s is not None and side in (None, s):  # '左 Left': a bilingual label says its side twice
            side = s
        else:
            rest.append(w)
    joined = " ".join(rest)
    if joined:
        region = hip_region(joined)
    if region is None and len(rest) > 1:
        # bilingual ('股骨颈 Neck', '全髋 Total Hip'): each language's part on its own, agreeing
        parts = re.findall(r"[\u3400-\u9fff]+|[^\u3400-\u9fff\s]+(?:\s+[^\u3400-\u9fff\s]+)*", joined)
        named = {hip_region(p) for p in parts} - {None}
        if len(parts) > 1 and len(named) == 1:
            region = named.pop()
    if region is None and words and len(words) == 1:
        # side glued to the region: Chinese prints it so (左股骨颈, 右全髋), and OCR of small screen
        # type joins narrowly spaced words ('NeckMean', 'TotalLeft', 'LeftNeck')
        w = normalize(words[0])
        for i in range(1, len(w)):
            s = side_of(w[:i])
            if s is not None and s != "diff" and hip_region(w[i:]):
                return hip_region(w[i:]), s
            s = side_of(w[i:])
            if s is not None and hip_region(w[:i]):
                return hip_region(w[:i]), s
    return region, side


def vendor_of(text: str) -> str | None:
    return match("vendor", text, search=True, raw=True)


def heading_side(text: str) -> Side | None:
    key = match("heading_side", text, search=True, raw=True)
    return Side(key) if key else None


#: longest (normalized) line taken for a heading by :func:`fuzzy_heading_side`: headings stand alone
_HEADING_MAX_CHARS = 14


def fuzzy_heading_side(text: str) -> Side | None:
    """The side a misread hip heading names ('右航' for 右髋, 'Lcft Hip'), or None.

    Only a short line on its own, within one edit of side word + hip word
    (+ a heading tail such as 'BMD' or 骨密度: '左脑骨密度' for 左髋骨密度), with no
    nearer spelling of the other side.
    """
    t = normalize(text)
    if len(t) < (5 if t.isascii() else 2) or len(t) > _HEADING_MAX_CHARS:
        return None
    sides = [(w, Side(key)) for w, key in _words("side_word") if key in ("left", "right")]
    hips = [w for w, _ in _words("hip_word")]
    tails = [""] + [w for w, _ in _words("heading_tail")]
    best: dict[Side, int] = {}
    for s, side in sides:
        for h in hips:
            for e in tails:
                for word in (s + h + e, s + "侧" + h + e) if not s.isascii() else (s + h + e,):
                    d = edit_distance(t, word)
                    if d <= max(1, _allowed_edits(word)) and d < best.get(side, 99):
                        best[side] = d
    if len(best) == 1:
        return next(iter(best))
    if len(best) == 2:
        a, b = sorted(best.items(), key=lambda kv: kv[1])
        return a[0] if a[1] < b[1] else None
    return None


@functools.cache
def _words(kind: str) -> tuple[tuple[str, str], ...]:
    """(normalized word, key) of every spelled-out word of ``kind`` in report_labels.csv."""
    return tuple((normalize(r["pattern"]), r["key"]) for r in reference.table("report_labels") if r["kind"] == kind)


def side_word(text: str) -> Side | None:
    """The side ``text`` is, spelled out and nothing else ('右', 'Left'), or None."""
    t = normalize(text)
    return next((Side(key) for word, key in _words("side_word") if word == t), None)


def misread_side_word(label: str) -> tuple[Region, Side] | None:
    """(region, side) of a label whose region words are read exactly and whose one other word is
    a misread side word ('Total Rught', 'Neck Lent'): within the side word's allowed edits
    (:func:`_allowed_edits`) of one side's spellings and of no other side's. None otherwise, or
    where the region words alone do not name a region exactly (:func:`split_label`)."""
    words = label.split()
    found: list[tuple[Region, Side]] = []
    for k, w in enumerate(words):
        t = normalize(w)
        if not t or side_word(w) is not None:
            continue
        near = {key for word, key in _words("side_word") if edit_distance(t, word) <= _allowed_edits(word)}
        if len(near) != 1:
            continue
        region, side = split_label(" ".join(words[:k] + words[k + 1:]))
        if isinstance(region, Region) and side is None:
            found.append((region, Side(near.pop())))
    return found[0] if len(found) == 1 else None


def is_dxa_text(text: str) -> int:
    """How many DXA vocabulary hits ``text`` has (0 = not a DXA report)."""
    return sum(1 for _, pat in _patterns("dxa_word") for _ in pat.finditer(text.lower()))


def edit_distance(a: str, b: str, cap: int = 3) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``cap`` when it is at least that."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) >= cap:
            return cap
        prev = cur
    return min(prev[-1], cap)


def _allowed_edits(word: str) -> int:
    """Edits a misread label may be from ``word``: none for short Latin words
    ('lt', 'r.'), where one edit makes another word; one for most; two for long ones.
    A CJK character carries more than a letter, so a two-character word allows one."""
    if word.isascii():
        return 0 if len(word) < 4 else 1 if len(word) <= 7 else 2
    return 0 if len(word) < 2 else 1 if len(word) <= 4 else 2


@functools.cache
def _spellings() -> tuple[tuple[str, Region | None, Side | None], ...]:
    """Every spelled-out row label: region words alone, side words alone (with a
    region heading above), and side+region / region+side joined."""
    rows = reference.table("report_labels")
    regions = [(normalize(r["pattern"]), Region(r["key"])) for r in rows if r["kind"] == "region_word"]
    sides = [(normalize(r["pattern"]), Side(r["key"])) for r in rows if r["kind"] == "side_word"]
    out: list[tuple[str, Region | None, Side | None]] = [(w, reg, None) for w, reg in regions]
    out += [(s, None, side) for s, side in sides]
    for w, reg in regions:
        for s, side in sides:
            out += [(s + w, reg, side), (w + s, reg, side)]
    return tuple(out)


def fuzzy_measure(text: str, taken: frozenset[str] | set[str] = frozenset()) -> str | None:
    """The one measure a misread column header is nearest to ('传矿含量' for 骨矿含量), or None.

    Within each spelled-out header's allowed edits (none for short Latin
    words: 'bmc' is one edit from 'bmd'). Measures in ``taken`` (the table's
    other columns) are out of the running, so '值', one edit from both T值
    and Z值, names T only where Z is already a column. The caller flags it.
    """
    t = normalize(text)
    if not t or re.fullmatch(r"[\d.\-()%]+", t):
        return None
    best: dict[str, int] = {}
    for word, key in _words("measure_word"):
        if word.isascii() != t.isascii():
            continue  # 'T-' is not one edit from T值: a misreading keeps its script
        d = edit_distance(t, word)
        if d <= _allowed_edits(word) and d < best.get(key, 99):
            best[key] = d
    if not best:
        return None
    low = min(best.values())
    nearest = {k for k, d in best.items() if d == low}
    if low == 0 and nearest & set(taken):
        return None  # spelled right, and already a column: a repeated header
    near = nearest - set(taken)
    return near.pop() if len(near) == 1 else None


def fuzzy_label(label: str, side_only: bool = False) -> tuple[Region | None, Side | None] | None:
    """The one (hip region, side) a misread row label is nearest to, or None.

    For labels :func:`split_label` cannot place ('股骨预' for 股骨颈, 'Neck Mcan',
    '右总' for 右总髋): the nearest spelled-out label within its allowed edits,
    and only if no label with another meaning is as near. Vertebral levels are
    never guessed (one edit turns L2 into L3). A side alone ('Lefl') is a
    candidate only where ``side_only`` says a region heading stands above the
    rows (Hologic dual hip). The caller flags what it keeps.
    """
    t = normalize(strip_marks(label))
    if not t or vocabulary.find_level(t) or re.fullmatch(r"[\d.\-]+", t):
        return None
    best: dict[tuple[Region | None, Side | None], int] = {}
    for word, reg, side in _spellings():
        if reg is None and not side_only:
            continue
        d = edit_distance(t, word)
        if d <= _allowed_edits(word) and d < best.get((reg, side), 99):
            best[(reg, side)] = d
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: kv[1])
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]
