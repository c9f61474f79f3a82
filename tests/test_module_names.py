"""Module names that say one thing (issue 21): no two modules of bmdkit share the names that
once meant different things in different packages, and no module is called ``reader.py`` beside
the one entry point ``bmdkit/read.py``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import bmdkit

PACKAGE = Path(bmdkit.__file__).parent

#: names that were each used by two or three modules for different things (issue 21)
ONCE_AT_MOST = ("table.py", "meta.py", "pages.py", "tscore.py")


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]


def test_no_two_modules_share_a_name_that_once_meant_two_things() -> None:
    names = Counter(p.name for p in _modules())
    shared = {n: names[n] for n in ONCE_AT_MOST if names[n] > 1}
    assert shared == {}, f"module names used more than once: {shared}"


def test_one_entry_point_named_read_and_no_module_named_reader() -> None:
    readers = sorted(str(p.relative_to(PACKAGE)) for p in _modules() if p.name == "reader.py")
    assert readers == [], f"modules named reader.py beside bmdkit/read.py: {readers}"
    assert (PACKAGE / "read.py").is_file()


def test_one_normalizer_name_per_meaning() -> None:
    """``vocabulary.normalize`` folds report text for matching; nothing else is called normalise."""
    spelled = [str(p.relative_to(PACKAGE)) for p in _modules() if "def normalise(" in p.read_text(encoding="utf-8")]
    assert spelled == []
