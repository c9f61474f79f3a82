"""Proof for issue 21: the report reader's vertebra labels read the same through the one parser.

``labels.levels`` (the report reader's own OCR-tolerant range parser) was replaced by
``vocabulary.parse_vertebrae(text, ocr=True)``. This script keeps the old code FROZEN below and
compares it with the new calls on

(a) every label-like string in the repo's tests, samples, bench data and reference_data
    (lines, quoted strings, tokens and short windows around each ``L1``..``L5``), and
(b) random strings over a label alphabet (seeded), and
(c) label-shaped strings ('腰椎L1-L4*, L2' with OCR letters, dashes, separators) with random edits.

Three things are compared per string: ``levels`` against ``parse_vertebrae(ocr=True)``; the
vertebra step of ``labels.split_label`` (its ``L1`` finder, the words it drops, then the parser)
old against new; and the level finder ``fuzzy_label`` uses. Usage::

    .venv/bin/python bench/same_vertebrae.py [--random 200000] [--seed 21]

Prints the counts compared and every difference; exits 1 if any.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bmdkit import vocabulary
from bmdkit.model import Region
from bmdkit.report import labels

# ---- FROZEN REFERENCE: bmdkit/report/labels.py before issue 21 (normalize, levels, split_label's
# ---- vertebra step, fuzzy_label's level test), copied verbatim. Do not edit.

_OLD_LEVEL = re.compile(r"l\s*([1-5])")


def old_normalize(text: str) -> str:
    """Lower case, NFKC (full-width to ASCII), no spaces, dashes folded to '-'."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"[\u2010-\u2015\u2212~]", "-", t)
    return re.sub(r"[\s:：]+", "", t)


def old_levels(text: str) -> tuple[Region, ...] | None:
    """Vertebral levels named in ``text``: 'L1' -> (L1,), 'L2-L4' -> (L2, L3, L4), 'L1,L3'."""
    t = old_normalize(text).replace("i", "1").replace("|", "1")
    t = re.sub(r"(?<=l)[l]", "1", t)
    if not _OLD_LEVEL.search(t):
        return None
    out: list[int] = []
    for part in re.split(r"[,，、;+]", t):
        # a word before the level ('腰椎L1', 'lumbar l1') but no digits: '12-L4' is a misread, not L4
        m = re.fullmatch(r"[^l\d.\-]*l([1-5])(?:-l?([1-5]))?\*?", part.strip())
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


def old_split_label_levels(text: str) -> tuple[Region, ...] | None:
    """split_label's vertebra step (``text`` already through strip_marks and the 'Ll' repair)."""
    return old_levels(re.sub(r"^\D*?(?=[lL]\s*[1-5])", "", text)) if re.search(r"[lL]\s*[1-5]", text) else None


def old_fuzzy_names_level(label: str) -> bool:
    """fuzzy_label's test that a label names a level (never guessed)."""
    return re.search(r"l\s*[1-5]", old_normalize(labels.strip_marks(label))) is not None

# ---- END OF FROZEN REFERENCE


def new_levels(text: str) -> tuple[Region, ...] | None:
    return vocabulary.parse_vertebrae(text, ocr=True)


def new_fuzzy_names_level(label: str) -> bool:
    return vocabulary.find_level(labels.normalize(labels.strip_marks(label))) is not None


_SUFFIXES = {".py", ".txt", ".csv", ".json", ".md", ".html", ".htm", ".xml", ".tsv", ".yaml", ".yml", ".toml"}
_NAMES_LEVEL = re.compile(r"[lL]\s*[1-5]|[1-5]\s*[-–~至到]|腰")


def repo_strings() -> list[str]:
    """Label-like strings of the repo's test data and reference tables: each line, quoted string,
    token and short window (±12 characters) around a level."""
    out: set[str] = set()
    folders = [ROOT / "tests", ROOT / "samples", ROOT / "reference_data", ROOT / "bench"]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in _SUFFIXES or path.stat().st_size > 5_000_000:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            for line in text.splitlines():
                if not _NAMES_LEVEL.search(line):
                    continue
                line = line.strip()
                if len(line) <= 200:
                    out.add(line)
                quoted = re.findall(r"\"([^\"\n]{1,80})\"|'([^'\n]{1,80})'", line)
                out.update(q for pair in quoted for q in pair if q)
                out.update(re.split(r"\s+", line))
                out.update(re.split(r"[\s|,;\"'()\[\]]+", line))
                for m in _NAMES_LEVEL.finditer(line):
                    for a in (0, 3, 6, 12):
                        for b in (2, 3, 5, 8, 12):
                            out.add(line[max(0, m.start() - a):m.end() + b])
    return sorted(s for s in out if s)


_FRAGMENTS = (
    ["l", "L", "1", "2", "3", "4", "5", "i", "I", "|", "!", "-", "–", "—", "−", "~", ",", "，", "、", ";", "；",
     "+", " ", "*", ".", "0", "6", "9", ":", "：", "(", ")", "/", "&", "至", "到", "腰", "椎", "第", "一", "四",
     "a", "e", "o", "t", "s", "x", "ı", "ſ", "Ｌ", "１", "ｌ", "İ", "\t", "ℓ", "Ⅰ", "¹", "²", "٣"]
    + ["腰椎", "total", "Total", "TOTAL", "L1-L4", "L2-L4", "L1", "L4", "Ll", "LI", "L|", "to", "and", "spine",
       "lumbar", "Lumbar spine", "12", "1.2", "excluded", " - ", "L 1", "腰椎L1"]
)


def random_strings(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    weights = [6 if f in ("l", "L", "1", "2", "3", "4", "-", ",") else 1 for f in _FRAGMENTS]
    out = []
    for _ in range(n):
        k = rng.choice((1, 2, 3, 3, 4, 4, 5, 6, 7, 9, 12))
        out.append("".join(rng.choices(_FRAGMENTS, weights, k=k)))
    return out


def shaped_strings(n: int, seed: int) -> list[str]:
    """Label-shaped strings ('腰椎L1-L4*, L2') with one to three random edits from the fragments."""
    rng = random.Random(seed + 1)
    words = [""] * 12 + ["腰椎", "腰椎 ", "Total ", "total", "Lumbar spine ", "AP ", "前后位", "x", "1", "L"]
    letters = ["L"] * 8 + ["l", "Ｌ", "", "I", "|", "1"]
    ones = ["1", "1", "1", "l", "i", "I", "|", "!"]
    dashes = ["-"] * 8 + ["–", "~", " - ", "至", "to", "—", "", "--", "−"]
    seps = [","] * 6 + ["，", "、", ";", "；", "+", " , ", "&", "/", " and ", ",,"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            a = rng.choice(ones + ["2", "3", "4", "5", "0"])
            part = rng.choice(words) + rng.choice(letters) + rng.choice(("", "", " ")) + a
            if rng.random() < 0.6:
                part += rng.choice(dashes) + rng.choice(letters + [""]) + rng.choice("2334451l")
            parts.append(part + rng.choice(("",) * 8 + ("*", " *", ".", "(排除)")))
        t = rng.choice(seps).join(parts)
        for _ in range(rng.choice((0, 0, 0, 0, 1, 1, 2, 3))):
            i = rng.randrange(len(t) + 1)
            op = rng.random()
            frag = rng.choice(_FRAGMENTS)
            if op < 0.4:
                t = t[:i] + frag + t[i:]   # insert
            elif op < 0.7:
                t = t[:i] + t[i + 1:]   # delete
            else:
                t = t[:i] + frag + t[i + 1:]   # replace
        out.append(t)
    return out


def compare(strings: list[str]) -> list[tuple[str, str, object, object]]:
    diffs: list[tuple[str, str, object, object]] = []
    for s in strings:
        for what, old, new in (
            ("levels", old_levels, new_levels),
            ("split_label", old_split_label_levels, labels._label_vertebrae),
            ("fuzzy_label level test", old_fuzzy_names_level, new_fuzzy_names_level),
        ):
            a, b = old(s), new(s)
            if a != b:
                diffs.append((what, s, a, b))
    return diffs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=200_000)
    ap.add_argument("--shaped", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=21)
    args = ap.parse_args(argv)
    repo = repo_strings()
    rand = random_strings(args.random, args.seed)
    shaped = shaped_strings(args.shaped, args.seed)
    total = 0
    for name, strings in (("repo strings", repo), ("random strings", rand), ("label-shaped strings", shaped)):
        diffs = compare(strings)
        parsed = sum(1 for s in strings if old_levels(s) is not None)
        total += len(diffs)
        print(f"{name}: {len(strings)} compared ({parsed} name levels by the old parser), "
              f"{len(diffs)} differing")
        for what, s, a, b in diffs[:200]:
            print(f"  {what}: {s!r}: old {a} new {b}")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
