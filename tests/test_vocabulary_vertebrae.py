"""Issue 21: one vertebra-range parser; the report reader's OCR-tolerant labels go through it.

Expected values are those of the report reader's old parser (``labels.levels``, frozen in
``bench/same_vertebrae.py``, which compares the two on the repo's strings and 300,000 random ones).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bmdkit import vocabulary
from bmdkit.model import Region
from bmdkit.report import labels

L = {1: Region.L1, 2: Region.L2, 3: Region.L3, 4: Region.L4}
BMDKIT = Path(vocabulary.__file__).resolve().parent


@pytest.mark.parametrize(("label", "levels"), [
    ("L1", (1,)), ("L2-L4", (2, 3, 4)), ("L1-4", (1, 2, 3, 4)), ("L1,L3", (1, 3)), ("L1-L2，L4", (1, 2, 4)),
    ("L1、L3", (1, 3)), ("L1;L3", (1, 3)), ("L1+L2", (1, 2)), ("L 2 - L 4", (2, 3, 4)),
    ("L1–L4", (1, 2, 3, 4)), ("Ｌ１-Ｌ４", (1, 2, 3, 4)),
    # OCR letters for the digit one
    ("Ll-L4", (1, 2, 3, 4)), ("LI-L4", (1, 2, 3, 4)), ("Li", (1,)), ("L|", (1,)), ("L|-L3", (1, 2, 3)),
    # a word before a level, an exclusion mark after it
    ("腰椎L1-L4", (1, 2, 3, 4)), ("腰椎L1,腰椎L3", (1, 3)), ("L1*", (1,)), ("L1-L3*", (1, 2, 3)),
    # misreads and what is not a lumbar level pair: unknown, never guessed
    ("12-L4", None), ("2-4", None), ("1.2L4", None), ("L2-L1", None), ("L5", None), ("L1-L5", None),
    ("L1,", None), ("L1,,L2", None), ("L1&L2", None), ("L1/L2", None), ("L1 and L2", None),
    ("L1至L4", None), ("L1 to L4", None), ("腰1-4", None), ("Total L1-L4", None), ("L1 L2", None),
    ("L!", None), ("", None), ("Neck", None),
])
def test_ocr_labels_read_as_the_report_reader_read_them(label: str, levels: tuple[int, ...] | None) -> None:
    expected = tuple(L[i] for i in levels) if levels else None
    assert vocabulary.parse_vertebrae(label, ocr=True) == expected


@pytest.mark.parametrize(("label", "expected"), [
    ("Total L1-L4", (Region.L1, Region.L2, Region.L3, Region.L4)),
    ("腰椎 L2-L4", (Region.L2, Region.L3, Region.L4)),
    ("L!", (Region.L1,)), ("Ll", (Region.L1,)), ("L3 *", (Region.L3,)), ("Lumbar L2", (Region.L2,)),
    ("1 L2", None),
])
def test_row_labels_name_their_levels(label: str, expected: tuple[Region, ...] | None) -> None:
    assert labels.split_label(label)[0] == expected


def test_ocr_mode_reads_labels_whole() -> None:
    with pytest.raises(ValueError):
        vocabulary.parse_vertebrae("L1-L4", ocr=True, within=True)


def test_the_ocr_grammar_comes_from_the_vocabulary() -> None:
    kinds = {t.kind for t in vocabulary.terms(reader=vocabulary.OCR_READER)}
    grammar = {"vertebra_separator", "vertebra_dash", "vertebra_prefix", "vertebra_mark", "vertebra_ocr_digit"}
    assert grammar <= kinds


def _regex_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


#: a regular expression reading a level range: a level digit class, a dash, and a second level digit class
_RANGE_REGEX = re.compile(r"\[1-[45]\].*(?:-|\\-|dash).*\[1-[45]\]|\(\[1-[45]\]\)\(\?:")


def test_there_is_one_vertebra_range_grammar() -> None:
    assert not hasattr(labels, "levels") and not hasattr(labels, "_LEVEL")
    offenders = [(str(p.relative_to(BMDKIT)), s) for p in sorted(BMDKIT.rglob("*.py"))
                 if p.name != "vocabulary.py" for s in _regex_literals(p) if _RANGE_REGEX.search(s)]
    assert offenders == []
    # the old grammar's own pattern is gone from the report reader
    assert not any("(?:-l?([1-5]))" in s for s in _regex_literals(BMDKIT / "report" / "labels.py"))
    # and the one parser is what checks and DICOM call
    from bmdkit.checks import spine
    from bmdkit.dicom import words
    assert spine.parse_label is vocabulary.parse_vertebrae
    assert "vocabulary.parse_vertebrae" in (BMDKIT / "dicom" / "words.py").read_text(encoding="utf-8")
    assert words.vertebra_set("Spine L2-L4 BMD") == (Region.L2, Region.L3, Region.L4)
