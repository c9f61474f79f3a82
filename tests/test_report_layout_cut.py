"""Two tables side by side are cut apart only where the cut leaves words on both sides (layout.find_tables).

The cut is found on the words of a line (``split_tokens``), but made on the
tokens as the engine read them; RapidOCR reads a sentence as one token. A
sentence naming BMD and T-score twice looks like a header repeated side by
side, and a cut with every token on one side used to recurse on the same page
for ever (the page failed as "nested too deeply"; seed 8080's English scan).
"""

from __future__ import annotations

from bmdkit.report.layout import find_tables
from bmdkit.report.tokens import Token

SENTENCE = "Right hip: femoral neck BMD 0.971 g/cm², T-score 0.4; total hip BMD 1.051 g/cm2, T-score 0.7."


def test_a_sentence_read_as_one_token_is_not_cut_in_two() -> None:
    tokens = [Token("DXA report", (40, 20, 300, 44), 0.95, "rapidocr"),
              Token(SENTENCE, (40, 80, 1500, 104), 0.93, "rapidocr"),
              Token("Impression: osteopenia.", (40, 130, 520, 154), 0.94, "rapidocr")]
    found = find_tables(tokens)  # returns (it recursed without end before)
    assert found.tables == []
    assert [" ".join(t.text for t in line) for line in found.lines][1].startswith("Right hip:")


def test_two_tables_side_by_side_are_still_cut_apart() -> None:
    rows = [("Region", "BMD", "T-score", "Region", "BMD", "T-score"),
            ("Neck", "0.801", "-1.2", "Neck", "0.812", "-1.1"),
            ("Total", "0.905", "-0.6", "Total", "0.911", "-0.5")]
    xs = (40, 200, 320, 700, 860, 980)
    tokens = [Token(text, (x, 100 + 40 * r, x + 90, 124 + 40 * r), 0.95, "rapidocr")
              for r, row in enumerate(rows) for x, text in zip(xs, row, strict=True)]
    found = find_tables(tokens, guess=False)
    assert len(found.tables) == 2
    for tab in found.tables:
        assert len(tab.rows) == 2
