"""``exams.jsonl``: a batch's files merged into exams (:mod:`bmdkit.merge`), as contract JSON lines.

The batch writes it beside ``results.jsonl`` (which keeps one line per file):
a file not merged with others keeps its line as it is; a merged exam's line
adds ``merged_from`` (every file behind it), ``value_files`` (the file of each
value) and ``file`` per flag. Exports and the trial checks read the exams back
with :func:`load_merged`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bmdkit.batchfolder.files import atomic_write
from bmdkit.batchfolder.layout import EXAMS_JSONL, RESULTS_JSONL
from bmdkit.batchfolder.lines import iter_json_lines, read_exams_strict
from bmdkit.merge import (
    MergedExam,
    ValueKey,
    Visit,
    merge_exams,
    merge_plan,
    merge_study,
    value_key,
    visit_of,
)
from bmdkit.model import MEASURES, Exam, InputKind, Source


def merged_to_dict(exam: Exam, include_patient: bool = True) -> dict[str, Any]:
    """The contract object of an exam; a :class:`MergedExam` adds ``merged_from`` (path, sha256, kind of
    every file), ``value_files`` per region (measure -> SHA-256 of its file) and ``file`` per flag."""
    from bmdkit.export.jsonout import exam_to_dict, in_contract_order

    d = exam_to_dict(exam, include_patient)
    if not isinstance(exam, MergedExam):
        return d
    d["merged_from"] = [{"path": s.path, "sha256": s.sha256, "kind": s.kind.value} for s in exam.merged_from]
    for rd, r in zip([*d["regions"], *d["extra_regions"]], in_contract_order(exam).regions):
        rd["value_files"] = {m: exam.file_of(r, m) for m in MEASURES if r.value(m) is not None}
    for i, fd in enumerate(d["flags"]):
        fd["file"] = exam.flag_file(i)
    return d


def exam_from_line(d: Mapping[str, Any]) -> Exam:
    """An exam from a line of exams.jsonl (a :class:`MergedExam` when it has ``merged_from``) or results.jsonl."""
    from bmdkit.export.jsonout import exam_from_dict

    exam = exam_from_dict(dict(d))
    merged = d.get("merged_from")
    if not merged:
        return exam
    files: dict[ValueKey, str] = {}
    for rd, r in zip([*d.get("regions", []), *d.get("extra_regions", [])], exam.regions):
        for m, sha in (rd.get("value_files") or {}).items():
            files[value_key(r, m)] = sha
    return MergedExam(
        **{f: getattr(exam, f) for f in Exam.__dataclass_fields__},
        merged_from=tuple(Source(s["path"], s["sha256"], InputKind(s.get("kind") or "unknown")) for s in merged),
        value_files=files,
        flag_files=tuple(f.get("file") or exam.source.sha256 for f in d.get("flags", [])),
    )


@dataclass(frozen=True)
class _ExamsLine:
    """A line of exams.jsonl: file ``index``'s own line as it is, or the line of a merged exam."""

    order: tuple[str, str]  # (path, sha256) of the exam's first file
    index: int | None
    merged: dict[str, Any] | None


def _exams_lines(visits: Sequence[Visit], exam_at: Callable[[int], Exam],
                 line_at: Callable[[int], dict[str, Any]]) -> list[_ExamsLine]:
    """exams.jsonl's lines for the files ``visits``, in order: ``exam_at(i)`` and ``line_at(i)`` give
    file ``i``'s exam and results.jsonl line, asked only for files merged with others (a merged exam
    takes ``subject`` from its first file's line)."""
    made: dict[int, Exam] = {}
    out = []
    for part in merge_plan(visits):
        if part.family is None:
            i = part.members[0]
            out.append(_ExamsLine((visits[i].path, visits[i].sha256), i, None))
            continue
        for i in part.members:
            if i not in made:
                made[i] = exam_at(i)
        exam = merge_study([made[i] for i in part.members], family=part.family)
        first = line_at(next(i for i in part.members if visits[i].sha256 == exam.source.sha256))
        d = merged_to_dict(exam, include_patient=first.get("patient") is not None)
        if first.get("subject") is not None:
            d["subject"] = first["subject"]
        out.append(_ExamsLine((exam.source.path, exam.source.sha256), None, d))
    return sorted(out, key=lambda x: x.order)


def merged_lines(lines: Iterable[tuple[Exam, dict[str, Any]]]) -> list[dict[str, Any]]:
    """exams.jsonl's lines from results.jsonl's (each with its exam): a file not merged keeps its line as
    it is; a merged exam takes ``subject`` from its first file's line."""
    pairs = list(lines)
    outs = _exams_lines([visit_of(e) for e, _ in pairs], lambda i: pairs[i][0], lambda i: pairs[i][1])
    return [pairs[x.index][1] if x.index is not None else x.merged for x in outs]  # type: ignore[misc]


def write_exams(directory: str | Path, lines: Iterable[tuple[Exam, dict[str, Any]]],
                target: Path | None = None) -> Path:
    """Write ``DIR/exams.jsonl`` (or ``target``) from results.jsonl's lines, owner-only and atomically."""
    path = target or Path(directory) / EXAMS_JSONL
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as fh:
        for d in merged_lines(lines):
            fh.write(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n")
    return path


def write_exams_of(target: Path, visits: Sequence[Visit], texts: Sequence[str]) -> None:
    """Write exams.jsonl to ``target`` (owner-only, atomically) from the lines of results.jsonl as
    written (``texts``: JSON with sorted keys and a line end) and each file's :class:`Visit`.

    A file not merged with others keeps its line's very text; only the files merged are parsed
    and made exams again (a large batch is mostly scan images that merge with nothing).
    """
    from bmdkit.export.jsonout import exam_from_dict

    parsed: dict[int, dict[str, Any]] = {}  # a merged file's line, parsed once for its exam and its subject

    def line_at(i: int) -> dict[str, Any]:
        if i not in parsed:
            parsed[i] = json.loads(texts[i])
        return parsed[i]

    with atomic_write(target, "w", encoding="utf-8", newline="\n") as fh:
        for x in _exams_lines(visits, lambda i: exam_from_dict(line_at(i)), line_at):
            fh.write(texts[x.index] if x.index is not None else json.dumps(x.merged, ensure_ascii=False,
                                                                           sort_keys=True) + "\n")


def load_merged(directory: str | Path) -> list[Exam] | None:
    """The merged exams of a batch output folder, or None when it has no ``exams.jsonl``.

    An ``exams.jsonl`` older than ``results.jsonl`` (a tool rewrote the results
    on its own) is not trusted: the exams are merged again from the results.
    """
    out = Path(directory)
    merged, results = out / EXAMS_JSONL, out / RESULTS_JSONL
    if not merged.is_file():
        return None
    if results.is_file() and results.stat().st_mtime_ns > merged.stat().st_mtime_ns:
        return merge_exams(read_exams_strict(results))
    lines = []
    for line in iter_json_lines(merged):
        if line.error is not None:
            raise line.error
        lines.append(exam_from_line(line.data))
    return lines
