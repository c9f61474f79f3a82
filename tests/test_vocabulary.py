"""The one vocabulary (reference_data/vocabulary.csv) and the one vertebra-range parser."""

from __future__ import annotations

import pytest

from bmdkit import reference, vocabulary
from bmdkit.model import Region

L = {1: Region.L1, 2: Region.L2, 3: Region.L3, 4: Region.L4}


def _levels(*n: int) -> tuple[Region, ...]:
    return tuple(L[i] for i in n)


def test_every_row_is_cited_and_read_by_a_known_reader() -> None:
    terms = vocabulary.terms()
    assert terms and all(t.source for t in terms)
    assert {t.reader for t in terms} <= set(vocabulary.READERS)
    assert {t.form for t in terms} <= {"word", "pattern"}


def test_the_old_tables_are_views_of_the_vocabulary() -> None:
    """report/ and dicom/ may still ask for report_labels and dicom_vocabulary by name."""
    labels = reference.table("report_labels")
    assert {"kind", "key", "pattern", "lang", "source"} == set(labels[0])
    assert len(labels) == len(vocabulary.terms(reader="report"))
    words = reference.table("dicom_vocabulary")
    assert {"kind", "key", "word", "lang", "source"} == set(words[0])
    assert len(words) == len(vocabulary.terms(reader="dicom"))
    assert {"report_labels", "dicom_vocabulary", "vocabulary"} <= set(reference.available_tables())


@pytest.mark.parametrize(("text", "key"), [("女", "female"), (" F ", "female"), ("Male", "male"), ("x", None)])
def test_sex_words(text: str, key: str | None) -> None:
    assert vocabulary.key_of("sex", text) == key


@pytest.mark.parametrize(("label", "levels"), [
    ("L1-L4", (1, 2, 3, 4)), ("L2 - L4", (2, 3, 4)), ("L2-4", (2, 3, 4)), ("L1,L3,L4", (1, 3, 4)),
    ("L1-L2,L4", (1, 2, 4)), ("Total L2-L4", (2, 3, 4)), ("腰椎 L1-L4", (1, 2, 3, 4)), ("L3", (3,)),
    ("腰1-4", (1, 2, 3, 4)), ("L1 to L3", (1, 2, 3)),
    ("Total", None), ("腰椎", None), ("L4-L2", None), ("L1-L5", None), ("", None), (None, None),
])
def test_a_label_read_whole(label: str | None, levels: tuple[int, ...] | None) -> None:
    assert vocabulary.parse_vertebrae(label) == (_levels(*levels) if levels else None)


@pytest.mark.parametrize(("text", "levels"), [
    ("Spine L2-L4 BMD", (2, 3, 4)), ("L1,L3", (1, 3)), ("腰椎L1至L4", (1, 2, 3, 4)),
    ("L3", None), ("BMD 2-4", None), ("L1-L5", (1, 2, 3, 4)),
])
def test_ranges_found_within_text(text: str, levels: tuple[int, ...] | None) -> None:
    assert vocabulary.parse_vertebrae(text, within=True) == (_levels(*levels) if levels else None)


def test_the_label_is_the_inverse_of_the_parser() -> None:
    for label in ("L1-L4", "L2-L4", "L1,L3,L4", "L2"):
        assert vocabulary.vertebra_label(vocabulary.parse_vertebrae(label)) == label
