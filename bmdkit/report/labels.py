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

from bmdkit import reference
from bmdkit.model import Region, Side

_LEVEL = re.compile(r"l\s*([1-5])")


def normalize(text: str) -> str:
    """Lower case, NFKC (full-width to ASCII), no spaces, dashes folded to '-'."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"[\u2010-\u2015\u2212~]", "-", t)
    return re.sub(r"[\s:：]+", "", t)


@functools.cache
def _patterns(kind: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    rows = [r for r in reference.table("report_labels") if r["kind"] == kind]
    return tuple((r["key"], re.compile(r["pattern"], re.IGNORECASE)) for r in rows)


def match(kind: str, text: str, *, search: bool = False, raw: bool = False) -> str | None:
    """Key of the first ``kind`` pattern that matches ``text`` (full match unless ``search``)."""
    t = text.lower() if raw else normalize(text)
    for key, pat in _patterns(kind):
        if (pat.search(t) if search else pat.match(t)):
            return key
    return None


def measure_of(header: str) -> str | None:
    """bmd, bmc, area, t_score, z_score, percent, region, other, or None."""
    return match("measure", header)


def is_excluded_mark(label: str) -> bool:
    return match("excluded", label, search=True) is not None


def strip_marks(label: str) -> str:
    """The label without exclusion marks (asterisks, 'excluded')."""
    t = label
    for _, pat in _patterns("excluded"):
        t = pat.sub("", t)
    return t.strip(" ()[]")


def levels(text: str) -> tuple[Region, ...] | None:
    """Vertebral levels named in ``text``: 'L1' -> (L1,), 'L2-L4' -> (L2, L3, L4), 'L1,L3'."""
    t = normalize(text).replace("i", "1").replace("|", "1")
    t = re.sub(r"(?<=l)[l]", "1", t)
    if not _LEVEL.search(t):
        return None
    out: list[int] = []
    for part in re.split(r"[,，、;+]", t):
        m = re.fullmatch(r"[^l]*l([1-5])(?:-l?([1-5]))?\*?", part.strip())
        if not m:
            return None
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if b < a:
            return None
        out.extend(range(a, b + 1))
    if any(n > 4 for n in out):
        return None
    regions = {1: Region.L1, 2: Region.L2, 3: Region.L3, 4: Region.L4}
    return tuple(regions[n] for n in sorted(set(out)))


def hip_region(text: str) -> Region | None:
    key = match("region", text)
    return Region(key) if key else None


def side_of(text: str) -> Side | str | None:
    """Side.LEFT/RIGHT/MEAN, the string 'diff' for difference rows, or None."""
    key = match("side", text)
    if key is None:
        return None
    return "diff" if key == "diff" else Side(key)


def split_label(label: str) -> tuple[Region | tuple[Region, ...] | None, Side | str | None]:
    """Parse a row label into (hip region or vertebral levels, side).

    Handles 'Neck Left', 'Left Neck', '左股骨颈', '腰椎L1', 'Total Mean'.
    """
    text = strip_marks(label)
    text = re.sub(r"(?<![A-Za-z])([lL])[lI|!](?![A-Za-z])", r"\g<1>1", text)  # OCR: 'Ll' for 'L1'
    lv = levels(re.sub(r"^\D*?(?=[lL]\s*[1-5])", "", text)) if re.search(r"[lL]\s*[1-5]", text) else None
    if lv:
        return lv, None
    words = [w for w in re.split(r"\s+", unicodedata.normalize("NFKC", text).strip()) if w]
    side: Side | str | None = None
    region: Region | None = None
    rest: list[str] = []
    for w in words:
        s = side_of(w)
        if s is not None and side is None:
            side = s
        else:
            rest.append(w)
    joined = " ".join(rest)
    if joined:
        region = hip_region(joined)
    if region is None and words and len(words) == 1:
        # Chinese: side prefix glued to the region (左股骨颈, 右全髋)
        w = normalize(words[0])
        for i in (1, 2):
            s = side_of(w[:i])
            if s is not None and hip_region(w[i:]):
                return hip_region(w[i:]), s
        for i in (1, 2):
            s = side_of(w[-i:])
            if s is not None and hip_region(w[:-i]):
                return hip_region(w[:-i]), s
    return region, side


def vendor_of(text: str) -> str | None:
    return match("vendor", text, search=True, raw=True)


def heading_side(text: str) -> Side | None:
    key = match("heading_side", text, search=True, raw=True)
    return Side(key) if key else None


def is_dxa_text(text: str) -> int:
    """How many DXA vocabulary hits ``text`` has (0 = not a DXA report)."""
    return sum(1 for _, pat in _patterns("dxa_word") for _ in pat.finditer(text.lower()))
