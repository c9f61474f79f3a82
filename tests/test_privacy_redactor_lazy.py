"""The redactor's plain-text pre-test (issue 20) masks exactly what its pattern masks.

:class:`bmdkit.privacy.Redactor` compiles its pattern only for a text that may
hold an identifier; a text in which no part occurs, both folded
(:data:`bmdkit.privacy._FOLD`), is returned as it is. These tests compare it, text by text, with the pattern applied to every
text (the behaviour before the pre-test), on seeded random identifiers and texts
that hold them in other cases, glued to words, and beside characters that
ignore-case matching treats as letters of another script (the long s, the Kelvin
sign, the dotted and dotless i).
"""

from __future__ import annotations

import random
import re

from bmdkit.privacy import REDACTED, Redactor, _part_pattern, identifier_parts

_TRICKY = ["\u017f", "\u212a", "\u0130", "\u0131", "\u00df", "\u00e9", "\u4e3d", "\u534e", "-", " ", "^", "_", "1"]
_SURNAMES = ["Wang", "Li", "Zhang", "Smith", "O'Neil", "Kiss", "Sk", "\u738b", "\u674e", "M\u00fcller",
             "\u039a\u03ce\u03c3\u03c4\u03b1\u03c2"]
_GIVEN = ["Lihua", "Wei", "Anna", "Kostas", "\u4e3d\u534e", "Jo", "Mary-Ann"]


def _eager(identifiers: list[str | None], text: str | None) -> str | None:
    """The pattern on every text, as the redactor did before the pre-test."""
    parts = sorted({p for i in identifiers for p in identifier_parts(i)}, key=len, reverse=True)
    if text is None or not parts:
        return text
    return re.compile("|".join(_part_pattern(p) for p in parts), re.IGNORECASE).sub(REDACTED, text)


def _variant(rng: random.Random, word: str) -> str:
    """``word`` in another case, maybe with a letter swapped for a look-alike that ignores case."""
    w = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)
    swaps = {"s": "\u017f", "k": "\u212a", "i": "\u0130", "K": "\u212a", "S": "\u017f", "I": "\u0131",
             "\u00fc": "\u00dc", "\u03c3": "\u03a3", "\u03c2": "\u03c3"}
    if rng.random() < 0.3:
        w = "".join(swaps.get(c, c) if rng.random() < 0.5 else c for c in w)
    return w


def _text(rng: random.Random, words: list[str]) -> str:
    pieces = []
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.4 and words:
            pieces.append(_variant(rng, rng.choice(words)))
        elif r < 0.7:
            pieces.append(rng.choice(["Total Hip", "L1-L4", "BMD 0.933", "Discovery A", "1.2.840.10008", "row"]))
        else:
            pieces.append(rng.choice(_TRICKY))
    return rng.choice(["", " ", "^", "x", "9"]).join(pieces)


def test_pre_test_masks_exactly_what_the_pattern_masks() -> None:
    rng = random.Random(2026)
    checked = masked = 0
    for _ in range(400):
        name = rng.choice(_SURNAMES) + rng.choice(["^", " ", ", ", ""]) + rng.choice(_GIVEN)
        ids = [name, rng.choice([None, f"{rng.randint(0, 10**8):08d}", "ID" + str(rng.randint(100, 99999)), "12"])]
        red = Redactor(ids)
        words = [p for i in ids for p in identifier_parts(i)]
        for _ in range(25):
            text = _text(rng, words)
            got, want = red.text(text), _eager(ids, text)
            assert got == want, (ids, text, got, want)
            checked += 1
            masked += want != text
    assert masked > checked // 5  # the texts really do hold identifiers often


def test_no_identifiers_and_none_text() -> None:
    assert Redactor([]).text("Wang Lihua") == "Wang Lihua"
    assert Redactor([None, ""]).text(None) is None
    assert Redactor(["Wang^Lihua"]).text(None) is None


def test_text_without_the_name_is_returned_without_compiling() -> None:
    red = Redactor(["Wang^Lihua", "00123456"])
    assert red.text("Lumbar spine L1-L4, Discovery A") == "Lumbar spine L1-L4, Discovery A"
    assert red._compiled is None  # the pre-test answered: no pattern was needed
    assert red.text("Report of WANG LIHUA, id 00123456") == f"Report of {REDACTED} {REDACTED}, id {REDACTED}"
    assert red.text("wangs and \u017fmith") == "wangs and \u017fmith"  # glued to a word: not a name
    assert Redactor(["Smith"]).text("Mr \u017fMITH") == f"Mr {REDACTED}"  # the long s matches s, ignoring case


def _eager_exam(red_ids: list[str | None], exam):  # type: ignore[no-untyped-def]
    """The exam masked field by field with the pattern, as :meth:`Redactor.exam` did before (rebuilt always)."""
    from dataclasses import replace

    def text(t: str | None) -> str | None:
        return _eager(red_ids, t)

    def loc(x):  # type: ignore[no-untyped-def]
        return replace(x, detail=text(x.detail)) if x is not None and x.detail else x

    def region(r):  # type: ignore[no-untyped-def]
        sources = {m: replace(s, raw_text=text(s.raw_text), location=loc(s.location)) for m, s in r.sources.items()}
        return r.replace(label=text(r.label), location=loc(r.location), sources=sources)

    return replace(exam, scanner_model=text(exam.scanner_model), scanner_serial=text(exam.scanner_serial),
                   scanner_software=text(exam.scanner_software), institution=text(exam.institution),
                   study_instance_uid=text(exam.study_instance_uid), regions=tuple(region(r) for r in exam.regions),
                   flags=tuple(replace(f, message=text(f.message) or "") for f in exam.flags))


def test_exam_masked_as_before_and_untouched_exam_is_not_rebuilt() -> None:
    from dataclasses import replace

    from helpers.batch import truth_to_exam

    from bmdkit.export.jsonout import exam_to_dict
    from bmdkit.flags import FlagCode
    from bmdkit.model import Flag, Location
    from bmdkit.samples.truth import TruthGenerator

    gen = TruthGenerator(7)
    for i in range(12):
        exam = truth_to_exam(gen.exam(scan_type="spine" if i % 2 else "hip_dual"), f"/site/e{i}.dcm")
        name, pid = exam.patient.name, exam.patient.patient_id
        ids = [name, pid]
        red = Redactor(ids)
        assert red.exam(exam) is exam  # nothing to mask: the very same exam
        assert exam_to_dict(red.exam(exam)) == exam_to_dict(_eager_exam(ids, exam))
        r0 = exam.regions[0]
        leaky = replace(
            exam, institution=f"Clinic of {name}" if i % 3 == 0 else exam.institution,
            regions=(r0.replace(label=f"{r0.label} {pid}", location=Location(page=1, detail=f"row of {name}")),
                     *exam.regions[1:]),
            flags=(Flag(FlagCode.UNPLACED_DATA, f"row '{name}' not placed"), Flag(FlagCode.UNPLACED_DATA, "other")),
        )
        masked = red.exam(leaky)
        assert exam_to_dict(masked) == exam_to_dict(_eager_exam(ids, leaky))
        assert name not in json_text(masked) and pid not in json_text(masked)
        assert masked.regions[1:] == leaky.regions[1:] and masked.flags[1] is leaky.flags[1]


def json_text(exam) -> str:  # type: ignore[no-untyped-def]
    import json

    from bmdkit.export.jsonout import exam_to_dict

    d = exam_to_dict(exam)
    d.pop("patient", None)
    return json.dumps(d, ensure_ascii=False)


def test_chinese_text_without_the_name_needs_no_pattern() -> None:
    red = Redactor(["\u738b\u4e3d\u534e", "00123456"])
    assert red.text("\u8170\u690e L1-L4 \u9aa8\u5bc6\u5ea6") == "\u8170\u690e L1-L4 \u9aa8\u5bc6\u5ea6"
    assert red._compiled is None
    assert red.text("\u60a3\u8005\u4e3d\u534e") == f"\u60a3\u8005{REDACTED}"  # the given name alone
    assert Redactor(["M\u00fcller"])._folded is None  # a cased letter outside ASCII: every text to the pattern


def test_lookalikes_are_all_the_characters_that_match_ascii_ignoring_case() -> None:
    """Every code point outside ASCII that ignore-case matching takes for an ASCII letter or digit is
    in _ASCII_LOOKALIKES (with the letter it matches), and none takes a Chinese character for another."""
    import sys

    from bmdkit.privacy import _ASCII_LOOKALIKES, _CJK

    ascii_class = re.compile("[a-z0-9]", re.IGNORECASE)
    cjk_class = re.compile(_CJK.pattern, re.IGNORECASE)
    found = {}
    for cp in range(0x80, sys.maxunicode + 1):
        c = chr(cp)
        if ascii_class.fullmatch(c):
            found[c] = next(a for a in "abcdefghijklmnopqrstuvwxyz0123456789"
                            if re.fullmatch(a, c, re.IGNORECASE))
        if not _CJK.fullmatch(c):
            assert not cjk_class.fullmatch(c), hex(cp)
    assert found == _ASCII_LOOKALIKES
