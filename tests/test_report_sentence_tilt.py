"""Sentence pages photographed at a tilt keep their lines (issue 22; bmdkit.report.sweep).

RapidOCR reads a tilted line of print as one segment and gives it the upright box
around it, so on a page of prose the boxes of neighbouring lines overlap by most of
their height and words grouped by their centres interleave the sentences: region,
measure and value of one sentence land on different lines (seed 6161's English
photo failed outright). The tilt is told from the boxes themselves (their height
grows with their width; which way, from the lines that stand over one another),
and words are grouped along it. A page whose boxes read upright is left as it was.

The first tests build segments as the engine gives them (upright boxes around
tilted lines of a known layout) and check the lines; each asserts first that the
upright grouping fails on them, so the test is about a real failure. The last
reads a generated tilted photo with the real engines.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from bmdkit.model import Region, Side
from bmdkit.report import sweep
from bmdkit.report.lines import group_lines, line_text, split_tokens
from bmdkit.report.tokens import Token

#: a page of prose: one sentence a line, of different lengths (left-aligned, as printed)
PROSE = ("Bone Densitometry Report",
         "Patient: Zhang Yumei Sex: Female Age: 54",
         "FRAX 10-year probability of major osteoporotic fracture 12%, hip fracture 3.1%.",
         "Left femoral neck: BMD 0.743 g/cm2, T-score -1.5, Z-score -0.8.",
         "Right hip: femoral neck BMD 0.754 g/cm2, T-score -1.4; total hip BMD 0.812 g/cm2, T-score -1.2.",
         "In the left hip, the total hip BMD measured 0.828 g/cm2,",
         "Z-score of -0.3.",
         "WHO criteria: T-score -1.0 normal, -1.0 to -2.5 osteopenia, -2.5 osteoporosis.")

CHAR_W, TEXT_H, PITCH, LEFT, TOP = 11, 30, 42, 200, 300


def segment(text: str, x0: float, y_left: float, slope: float, engine: str = "rapidocr") -> Token:
    """The upright box an engine gives a line of ``text`` whose centre line starts at
    (``x0``, ``y_left``) and runs at ``slope``: its text height plus its width times the slope."""
    w = CHAR_W * len(text)
    ys = (y_left, y_left + slope * w)
    return Token(text, (int(x0), int(min(ys) - TEXT_H / 2), int(x0 + w), int(max(ys) + TEXT_H / 2)), 0.95, engine)


def page(slope: float, texts: tuple[str, ...] = PROSE, keystone: float = 0.0) -> list[Token]:
    """A page of ``texts``, one a line, tilted at ``slope`` (each line ``keystone`` steeper than the one above)."""
    return [segment(t, LEFT, TOP + i * PITCH, slope + i * keystone) for i, t in enumerate(texts)]


def upright(tokens: list[Token]) -> list[str]:
    """The lines as grouped before tilts were told (by the words' centres, boxes as read)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep, "measure", lambda *a: None)
        mp.setattr(sweep, "along", lambda *a: None)
        return [line_text(ln) for ln in group_lines(split_tokens(tokens))]


def lines_of(tokens: list[Token]) -> list[str]:
    return [line_text(ln) for ln in group_lines(split_tokens(tokens))]


@pytest.mark.parametrize("slope", [-0.11, -0.07, 0.07, 0.11])
def test_a_tilted_page_of_prose_keeps_each_sentence_on_its_line(slope: float) -> None:
    tokens = page(slope)
    assert upright(tokens) != list(PROSE)  # the centres interleave the sentences
    assert lines_of(tokens) == list(PROSE)


def test_a_keystone_keeps_each_line_whole() -> None:
    # the lines' tilt grows down the page (a photo taken from below): 0.06 at the top, 0.13 at the foot
    tokens = page(0.06, keystone=0.01)
    assert upright(tokens) != list(PROSE)
    assert lines_of(tokens) == list(PROSE)


def test_chinese_lines_read_as_one_word_each_keep_their_lines() -> None:
    # RapidOCR reads a Chinese line without spaces: nothing to split, the segment is the line
    zh = ("骨密度检测报告", "姓名：赵国平 性别：男", "L2椎体骨密度0.666g/cm²，T值-2.7。",
          "与前次检查相比，腰椎骨密度下降2.1%。", "腰椎（L1-L4）BMD为0.643克/平方厘米，T值为-2.9，Z值为-1.2。",
          "L1椎体骨密度0.565g/cm²，T值-3.6。", "结论：骨质疏松（最低T值-2.9，位于腰椎）")
    tokens = [segment(t.replace(" ", ""), LEFT, TOP + i * PITCH, -0.1) for i, t in enumerate(zh)]
    tokens = [Token(t.text, (t.box[0], t.box[1], t.box[0] + 3 * (t.box[2] - t.box[0]), t.box[3] + int(0.2 * (t.box[2] - t.box[0]))),
                    t.conf, t.engine) for t in tokens]  # wide characters: three Latin widths each
    want = [t.replace(" ", "") for t in zh]
    assert upright(tokens) != want
    assert lines_of(tokens) == want


def test_a_line_read_in_two_pieces_is_one_line() -> None:
    # the engine read 'Age: 54' apart from the rest of its tilted line
    first, second = "Patient: Zhang Yumei Sex: Female", "Age: 54"
    tokens = page(-0.1)
    gap = CHAR_W * (len(first) + 3)
    tokens[1] = segment(first, LEFT, TOP + PITCH, -0.1)
    tokens.insert(2, segment(second, LEFT + gap, TOP + PITCH - 0.1 * gap, -0.1))
    assert lines_of(tokens)[1] == f"{first} {second}"
    assert lines_of(tokens)[2:] == list(PROSE[2:])


def test_a_level_page_groups_as_before() -> None:
    tokens = page(0.0)
    assert not sweep.crowded(tokens)
    assert lines_of(tokens) == upright(tokens) == list(PROSE)
    # each segment split on its own, as before: the words share their segment's box height
    assert split_tokens(tokens) == [w for t in tokens for w in split_tokens([t])]
    assert {w.box[1::2] for w in split_tokens(tokens[4:5])} == {tokens[4].box[1::2]}


TABLE = (("Region", "BMD", "T-score", "Z-score"), ("Neck", "0.801", "-1.2", "-0.4"),
         ("Total", "0.905", "-0.6", "0.1"), ("Femoral Neck Left", "0.812", "-1.1", "-0.3"))


def table(slope: float) -> list[Token]:
    """A results table of short cells, its rows at ``slope``."""
    return [segment(cell, 100 + 260 * j, 200 + 45 * i + slope * 260 * j, slope)
            for i, row in enumerate(TABLE) for j, cell in enumerate(row)]


def test_a_level_table_groups_as_before() -> None:
    tokens = table(0.0)
    assert lines_of(tokens) == upright(tokens) == [" ".join(row) for row in TABLE]


def test_a_tilted_table_keeps_its_rows() -> None:
    # 2 degrees left after page straightening: the rows' cells are followed along it
    tokens = table(0.035)
    assert upright(tokens) != [" ".join(row) for row in TABLE]
    assert lines_of(tokens) == [" ".join(row) for row in TABLE]


def test_words_of_a_tilted_segment_get_their_own_boxes() -> None:
    tokens = page(-0.1)
    words = split_tokens(tokens)
    start = sum(len(t.split()) for t in PROSE[:4])
    right_hip = words[start:start + len(PROSE[4].split())]
    assert " ".join(w.text for w in right_hip) == PROSE[4]
    assert max(w.height for w in right_hip) < 0.5 * tokens[4].height  # not the whole segment's height
    # along the line, each word lies higher than the one before (the line rises to the right)
    centres = [w.yc for w in right_hip]
    assert centres == sorted(centres, reverse=True) and centres[0] - centres[-1] > 2 * TEXT_H
    assert all(abs(w.yc - (tokens[4].yc - 0.1 * (w.xc - tokens[4].xc))) < 0.2 * TEXT_H for w in right_hip)


# --- a generated photo, read with the real engines ---------------------------------------------

def tilted_photo(path: Path, lang: str, slope: float, seed: int) -> tuple[object, frozenset]:
    """A generated sentence report in ``lang`` (bmdkit.samples.sentence_gen), rasterised and
    sheared so that its lines fall at ``slope`` while its margins stay upright (a phone held
    below the page), lightly blurred, saved as a JPEG; its truth and printed values."""
    from bmdkit.samples.report_page.raster import rasterize
    from bmdkit.samples.sentence_gen import build_text_page, make_report
    from bmdkit.samples.truth import TruthGenerator

    rng = random.Random(seed)
    truth = TruthGenerator(seed).exam(scan_type="hip_dual")
    report = make_report(truth, lang, rng)
    img = np.asarray(rasterize(build_text_page(report, rng), dpi=200).image.convert("RGB"))
    h, w = img.shape[:2]
    shear = np.float32([[1, 0, 0], [slope, 1, max(0.0, -slope * w)]])
    warped = cv2.warpAffine(img, shear, (w, int(h + abs(slope) * w)), borderValue=(255, 255, 255))
    Image.fromarray(cv2.GaussianBlur(warped, (0, 0), 0.8)).save(path, quality=90)
    return truth, report.printed


@pytest.mark.slow
def test_a_tilted_bilingual_photo_is_read_exactly(tmp_path) -> None:
    # lines falling 12 degrees to the right past the page's upright margins; the page's own
    # deskewing (at most 6 degrees) leaves them tilted, and upright grouping ran the English
    # sentences into the Chinese ones: the left total hip was lost and the right hip's values
    # given two sides (2 of 8 values missing before, all 8 now)
    from bmdkit.read import read_file

    path = tmp_path / "tilted_bi.jpg"
    truth, printed = tilted_photo(path, "bi", 0.22, seed=11)
    exam = read_file(path)
    n = 0
    for tr in truth.contract_regions():
        for m in ("bmd", "t_score"):
            if (tr.region, tr.side, m) not in printed:
                continue
            got = exam.region(Region(tr.region), Side(tr.side) if tr.side else None)
            assert got is not None and got.value(m) == getattr(tr, m), (tr.region, tr.side, m, got, exam.flags)
            n += 1
    assert n == 8
    # nothing is reported that the page does not state
    assert {(r.region.value, r.side.value if r.side else None) for r in exam.regions} <= \
        {(tr.region, tr.side) for tr in truth.contract_regions()}
