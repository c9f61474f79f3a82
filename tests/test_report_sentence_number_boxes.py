"""Values a sentence gives keep their own place on the page, and a 0 OCR read as a letter is doubted.

Issue 22. A sentence's values were all located at their line's box, so the
checks' one-cell-one-column guard (``checks.cells``) took a BMD and a T-score
of one sentence for two columns read from the same ink and withdrew both:
``bmdkit check`` on a photo, scan or PDF of a prose report kept almost nothing
(3.6% of values on held-out seed 7373) while ``read_file`` read 99%. Each value
now has the stretch of its line its number takes. And 'o.788' / '©.788' (a
leading 0 OCR read as a letter or a mark) is read as 0.788 with a doubt, never
as the number 788.
"""

from __future__ import annotations

import heldout_reports as ho

from bmdkit.checks.cells import shared_cells
from bmdkit.flags import FlagCode
from bmdkit.model import Region
from bmdkit.pipeline import process_file
from bmdkit.report import sentences
from bmdkit.report.sentence_results import TextLine
from bmdkit.report.sentence_text import fold, split_sentences, tokens


def test_two_values_of_one_line_get_two_boxes() -> None:
    line = TextLine("腰椎L1-L4骨密度0.823 g/cm²，T值-3.0，Z值-1.2", 0.95, 1, (100, 40, 700, 60), "rapidocr")
    got = sentences.read_sentences([line])
    (r,) = [r for r in got.regions if r.region is Region.SPINE_TOTAL]
    boxes = {m: r.sources[m].location.box for m in ("bmd", "t_score", "z_score")}
    assert (r.bmd, r.t_score, r.z_score) == (0.823, -3.0, -1.2)
    assert len(set(boxes.values())) == 3, boxes
    xs = [boxes[m][0] for m in ("bmd", "t_score", "z_score")]
    assert xs == sorted(xs) and all(100 <= b[0] < b[2] <= 700 for b in boxes.values()), boxes
    assert shared_cells(r) == ()


def test_span_follows_a_sentence_split_inside_a_line() -> None:
    line = "L1-L4 BMD 0.823. Neck BMD 0.700"
    (a, b) = split_sentences([line])
    n = len(line)
    assert a.span_in_line(a.text.index("0.823"), a.text.index("0.823") + 5) == (10 / n, 15 / n)
    start = b.text.index("0.700")
    assert b.span_in_line(start, start + 5) == (line.index("0.700") / n, 1.0)


def test_sentence_pdf_and_scan_keep_their_values_through_the_checks(tmp_path) -> None:
    """Through process_file (what check and batch report): every value kept, no shared_cell flag."""
    from bmdkit.samples.sentence_gen import make_sentence_pages

    pages = make_sentence_pages(4, tmp_path, seed=4117, forms=("pdf", "scan"), langs=("en", "zh"))
    total = {"values": 0, "exact": 0, "silent": 0}
    for p in pages:
        ex = process_file(p.path)
        assert not [f.message for f in ex.flags if f.code is FlagCode.SHARED_CELL], p.path.name
        score = ho.score_exam(ex, p.truth, ("bmd", "t_score"), set(p.printed))
        for k in total:
            total[k] += score[k]
    assert total["values"] >= 8 and total["silent"] == 0, total
    assert total["exact"] >= 0.95 * total["values"], total


def test_a_zero_read_as_a_letter_is_doubted_not_a_number_of_its_own() -> None:
    for text, raw in (("Femoral neck BMD o.788 g/cm2, T-score -1.3", "o.788"),
                      ("股骨颈骨密度©.788 g/cm²，T值-1.3", "©.788"),
                      ("Neck BMD O.788, T-score -1.3", "o.788")):
        nums = [t for t in tokens(fold(text)) if t.kind == "number"]
        assert [(t.text, t.value) for t in nums] == [(raw, 0.788), ("-1.3", -1.3)], text
        assert nums[0].doubt and "0.788" in nums[0].doubt
    # a letter inside a word is no 0 ('no.5', 'to.788'), and a plain 0.788 is not doubted
    assert all(t.value != 0.5 for t in tokens(fold("see no.5")) if t.kind == "number")
    assert [t.doubt for t in tokens(fold("BMD 0.788")) if t.kind == "number"] == [None]


def test_a_doubted_zero_in_a_text_report_is_flagged_not_used(tmp_path) -> None:
    p = tmp_path / "report.txt"
    p.write_text("Bone density report\nExam date: 2026-02-14\n"
                 "The BMD measured at AP Spine L1-L4 is 0.923 g/cm2 with a T-score of -1.0.\n"
                 "Femur Neck Left: BMD o.788 g/cm2, T-score of -1.3.\n", encoding="utf-8")
    ex = process_file(p)
    (neck,) = [r for r in ex.regions if r.region is Region.FEMORAL_NECK]
    assert neck.bmd is None and neck.t_score == -1.3
    doubts = [f for f in ex.flags if f.region == "femoral_neck" and "o.788" in f.message]
    assert doubts and all(f.severity.value == "review" for f in doubts)
    assert not any("788" in f.message and "without a decimal point" in f.message for f in ex.flags)


def test_garbled_numbers_from_two_engines_never_break_the_reader() -> None:
    """OCR garbles digits into letters and marks ('o.3', '©.788', '0.86l', '一0.2'), differently per
    engine: the sentence reader joins the two readings without an error, and every value it keeps is
    the printed one or carries a review flag about its region (s31-0020: 'o.3' once crashed the
    scoping of unplaced values with a ValueError and the whole page failed)."""
    import random

    from bmdkit.flags import Severity

    printed = [("Femoral neck left BMD {} g/cm2, T-score {}.", "femoral_neck", ("bmd", "t_score"), ("0.788", "-0.3")),
               ("Total hip left BMD {} g/cm2, T-score {}, Z-score {}.", "total_hip", ("bmd", "t_score", "z_score"),
                ("0.912", "0.3", "1.6")),
               ("腰椎L1-L4骨密度{} g/cm²，T值{}，Z值{}", "L1-L4", ("bmd", "t_score", "z_score"), ("0.823", "-3.0", "-1.2"))]
    # what OCR makes of a character; a lost minus is given to one engine only (both losing it leave
    # nothing on the page to tell, the irreducible case no reader can see)
    swaps = {"0": ["o", "O", "©", "D"], "1": ["l", "I", "|"], "-": ["一", "_", "~"], ".": [",", "", " "],
             "5": ["s", "S"], "8": ["B"]}
    rng = random.Random(2202)
    for _ in range(1000):
        lines, truth = [], {}
        for i, (form, region, measures, values) in enumerate(printed):
            truth[region] = dict(zip(measures, map(float, values)))
            loses_minus = rng.choice(("tesseract", "rapidocr"))
            for engine in ("tesseract", "rapidocr"):
                garbled = ["".join((rng.choice(swaps[c] + ([""] if c == "-" and engine == loses_minus else []))
                                    if c in swaps and rng.random() < 0.15 else c) for c in v) for v in values]
                lines.append(TextLine(form.format(*garbled), 0.9, 1, (10, 20 * i, 600, 20 * i + 16), engine))
        lines.sort(key=lambda ln: ln.engine)
        got = sentences.read_sentences(lines)
        for r in got.regions:
            for m, v in truth.get(r.region.value, {}).items():
                if r.value(m) is not None and r.value(m) != v:
                    assert any(f.region == r.region.value and f.level is Severity.REVIEW
                               and f.measure in (m, None) for f in got.flags), ([ln.text for ln in lines], r.region.value, m, r.value(m),
                                                                         [f.message for f in got.flags])


def test_generated_reports_garbled_per_engine_are_right_or_flagged() -> None:
    """Whole generated reports (English, Chinese, bilingual; every sentence form the generator
    writes), each line garbled on its own for each engine: a value kept is the printed one or has a
    review flag about its region and measure. Found '0.6l2' read as a number and the level L2 (the
    right femoral neck's T- and Z-scores given to L2), and '001' backing 1.0."""
    import random

    from bmdkit.flags import Severity
    from bmdkit.samples.sentence_gen import make_report
    from bmdkit.samples.truth import TruthGenerator

    swaps = {"0": ["o", "O", "©", "D"], "1": ["l", "I", "|"], "-": ["一", "_", "~"], ".": [",", "", " "],
             "5": ["s", "S"], "8": ["B"], "2": ["z"], "\u2212": ["一", "_"]}
    rng, gen = random.Random(2208), TruthGenerator(2208)
    silent = []
    for _ in range(1200):
        truth = gen.exam(scan_type=rng.choice(("spine", "hip_left", "hip_right", "hip_dual")))
        lines = []
        for i, text in enumerate(make_report(truth, rng.choice(("en", "zh", "bi")), rng).lines):
            loses = rng.choice(("tesseract", "rapidocr"))
            for e in ("tesseract", "rapidocr"):
                g = "".join((rng.choice(swaps[c] + ([""] if c in "-\u2212" and e == loses else [])))
                            if c in swaps and rng.random() < 0.08 else c for c in text)
                lines.append(TextLine(g, 0.9, 1, (10, 20 * i, 900, 20 * i + 16), e))
        got = sentences.read_sentences(sorted(lines, key=lambda ln: ln.engine))
        printed = {(r.region, r.side): r for r in truth.regions}
        for r in got.regions:
            t = printed.get((r.region.value, r.side.value if r.side else None))
            for m in ("bmd", "t_score", "z_score"):
                v, want = r.value(m), getattr(t, m) if t is not None else None
                if v is None or want is not None and abs(v - want) < 1e-9:
                    continue
                if not any(f.region == r.region.value and f.level is Severity.REVIEW and f.measure in (m, None)
                           and f.side in (r.side, None) for f in got.flags):
                    silent.append((r.region.value, r.side, m, v, want))
    assert silent == []
