"""A seeded fuzz run through ``bmdkit batch``: nothing crashes, nothing is lost, nothing is doubled.

Bases are a freshly built sample set (a seed the readers were not tuned
on); :mod:`bmdkit.samples.hostile` mutates them into 100 cases (bit flips,
truncation, broken DICOM lengths and VRs, XML bombs and external entities,
a PNG decompression bomb, a 3000-page PDF, broken PDF objects, odd names,
links, an unreadable file). The batch runs as a user runs it (subprocess,
CLI) with OCR switched off so the test stays near a minute on two loaded
cores: image pages are still decoded under the caps, then fail as
``no_reader``. ``bench/fuzz.py`` does the same with 1,000 cases and OCR.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from conftest import ROOT, assert_valid

from bmdkit.samples.build import build_samples
from bmdkit.samples.hostile import make_cases


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("bmdkit_bench_fuzz", ROOT / "bench" / "fuzz.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory):
    fuzz = _fuzz_module()
    root = tmp_path_factory.mktemp("fuzz")
    build_samples(root / "bases", seed=29, count=8)
    bases = fuzz.bases_from(root / "bases")
    cases = make_cases(bases, root / "cases", 100, seed=5)
    fig = fuzz.run_batch_pass(cases, root / "cases", root / "out", timeout=60.0, workers=2, extra=["--no-ocr"])
    lines = [json.loads(x) for x in (root / "out" / "results.jsonl").read_text(encoding="utf-8").split("\n") if x]
    return fuzz, cases, fig, lines, root


def test_hundred_cases_no_exception_none_missing_none_doubled(fuzz_run) -> None:
    _, cases, fig, lines, _ = fuzz_run
    assert len(cases) >= 100
    assert fig.exit_code == 0
    assert fig.tracebacks == 0
    assert fig.exceptions == []  # no internal_error flag anywhere
    assert fig.hangs == []
    assert fig.missing == []
    assert fig.duplicates == []
    assert fig.unexpected == []
    # every line stands for at least one case; together they name every case once
    assert sum(len(fuzz_run[0].line_names(d)) for d in lines) == len(cases)


def test_every_line_is_valid_and_every_failure_says_why(fuzz_run, contract) -> None:
    _, _, _, lines, _ = fuzz_run
    for d in lines:
        assert_valid(contract, d)
        if d["status"] == "failed":
            errors = [f for f in d["flags"] if f["severity"] == "error"]
            assert errors and all(f["message"].strip() for f in errors), d["source"]["path"]


def test_crafted_hostile_cases_end_with_their_reason(fuzz_run) -> None:
    _, cases, _, lines, root = fuzz_run
    by_name = {}
    for d in lines:
        for n in fuzz_run[0].line_names(d):
            by_name[n] = d
    by_mut = {c.mutation: by_name[fuzz_run[0].expected_name(c)] for c in cases}

    def codes(mut: str) -> set[str]:
        return {f["code"] for f in by_mut[mut]["flags"]}

    assert by_mut["png_decompression_bomb"]["status"] == "failed"
    assert "resource_limit" in codes("png_decompression_bomb")
    assert "resource_limit" in codes("pdf_3000_pages")
    assert "empty_file" in codes("zero_bytes")
    assert "symbolic link" in " ".join(f["message"] for f in by_mut["symlink_loop"]["flags"])
    for mut in ("xml_entity_bomb", "xml_external_entity", "xml_deep_nesting"):
        assert "internal_error" not in codes(mut)
    # the external entity was not resolved: nothing of the host's files reached any output
    for f in (root / "out").iterdir():
        if f.is_file():
            assert b"root:x:0:0" not in f.read_bytes()
    # odd names are shown printably and were read, not merged away
    odd = by_mut["non_utf8_name"]
    assert "\\xff\\xfe" in " ".join(fuzz_run[0].line_names(odd))


def test_scoring_is_exact_about_names(fuzz_run) -> None:
    """The fuzz script's own check: a dropped line is missing, a repeated one a duplicate."""
    fuzz, cases, _, lines, _ = fuzz_run
    dropped = fuzz.score_lines(cases, lines[1:], 60.0)
    assert len(dropped.missing) == len(fuzz.line_names(lines[0]))
    doubled = fuzz.score_lines(cases, lines + lines[:1], 60.0)
    assert doubled.duplicates and not doubled.missing
    # a name that is only a prefix or suffix of a case's name does not count as seen
    renamed = [json.loads(json.dumps(d)) for d in lines]
    renamed[0]["source"]["path"] += ".bak"
    renamed[0]["source"].pop("seen_as", None)
    partial = fuzz.score_lines(cases, renamed, 60.0)
    assert partial.missing and partial.unexpected
