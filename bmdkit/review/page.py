"""The review page: one self-contained HTML file for a batch output folder.

Everything is inside the file: CSS and JavaScript inline (from
``bmdkit/review/static/``), crops and plots as ``data:`` URIs, the exams as
one JSON block parsed once by the script. No server, no network, no external
fonts. The script renders entries lazily (a chunk at a time, as the reviewer
scrolls), so a page of thousands of exams opens in seconds.

Privacy: the page never carries patient names, hospital IDs or birth dates,
nor the source path (file names often hold the patient's name). An exam is
shown by its trial subject (``subject`` field the batch adds) or else by the
first 12 digits of its SHA-256. Text read from the file (row labels, raw
cells, flag messages that quote them) passes through the exam's
:class:`~bmdkit.export.privacy.Redactor`, so a row labelled with the
patient's name shows ``<redacted>``.

Any field content is safe: the data block is JSON with ``<``, ``>``, ``&``
and U+2028/2029 written as ``\\uXXXX`` (so no field can close the script
element or open a comment), the template is filled in one pass (a field
holding ``{{js}}`` stays text), and the script escapes every value it
puts into HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit import __version__
from bmdkit.export.privacy import Redactor
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import MEASURES, Exam, Method, Status
from bmdkit.outfiles import open_private
from bmdkit.review.batchdir import Line, read_lines
from bmdkit.review.crops import Crop, CropOptions, Cropper, Strip
from bmdkit.review.decisions import DECISION_COLUMNS, decided_values

log = logging.getLogger(__name__)
_STATIC = Path(__file__).resolve().parent / "static"
_STATUS_ORDER = {Status.FLAGGED: 0, Status.FAILED: 1, Status.EXTRACTED: 2}

ExamCrops = dict[int, "Strip | dict[str, Crop]"]
CropFn = Callable[[Exam], ExamCrops]


@dataclass
class PageOptions:
    """What goes on the page.

    ``crops``: for ``all`` exams or only ``flagged`` ones (a lighter page);
    ``jobs``: processes that make the crops.
    """

    crops: str = "all"
    crop_options: CropOptions = field(default_factory=CropOptions)
    source_roots: tuple[Path, ...] = ()
    harmonize_dir: Path | None = None
    title: str = "bmdkit review"
    plots: bool = True
    jobs: int = 1


def center_of(line: Line) -> str:
    """The exam's center: the batch's subject.center, else the institution (identifiers masked), else '?'."""
    c = line.subject.get("center")
    if isinstance(c, str) and c.strip():
        return c.strip()
    return (Redactor.for_patient(line.exam.patient).text(line.exam.institution) or "").strip() or "?"


def subject_label(line: Line) -> str:
    s = line.subject.get("subject_id")
    if isinstance(s, (str, int)) and str(s).strip():
        return str(s).strip()
    return line.exam.source.sha256[:12]


def _needs_decision(exam: Exam) -> tuple[bool, set[str]]:
    """(a file-level review flag exists, regions named by review flags)."""
    review = [f for f in exam.flags if f.level is Severity.REVIEW and f.code is not FlagCode.CORRECTED]
    return any(f.region is None for f in review), {f.region for f in review if f.region}


def needing_decision(exam: Exam) -> frozenset[int]:
    """Indexes of the regions whose values a reviewer decides on (flagged exams only)."""
    if exam.status is not Status.FLAGGED:
        return frozenset()
    file_level, flagged = _needs_decision(exam)
    return frozenset(i for i, r in enumerate(exam.regions)
                     if (file_level or r.region.value in flagged) and r.method is not Method.COMPUTED)


def exam_entry(idx: int, line: Line, crops: ExamCrops) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON for one exam and its images (keyed ``exam/region`` for strips, ``exam/region/measure``).

    The exam's own identifiers are masked in its free text (labels, raw cells, flag messages).
    """
    e = Redactor.for_patient(line.exam.patient).exam(line.exam)
    need = needing_decision(e)
    decided = decided_values(e)
    regions = []
    out_crops: dict[str, str] = {}
    for i, r in enumerate(e.regions):
        got = crops.get(i)
        strip = got if isinstance(got, Strip) else None
        singles = got if isinstance(got, dict) else {}
        if strip is not None:
            out_crops[f"{idx}/{i}"] = strip.uri
        vals = []
        for m in MEASURES:
            v = r.value(m)
            src = r.sources.get(m)
            if v is None and src is None:
                continue
            loc = (src.location if src else None) or r.location
            conf = src.confidence if src and src.confidence is not None else r.confidence
            item: dict[str, Any] = {"m": m, "v": v, "c": conf}
            if loc is not None and loc.element:
                item["el"] = loc.element
            if src is not None and src.raw_text:
                item["raw"] = src.raw_text[:80]
            if src is not None and "reviewer" in src.engines:
                item["rev"] = 1
            done = decided.get((r.region.value, r.side.value if r.side else None, m))
            if done is not None:
                item["done"] = done
            if strip is not None and m in strip.windows:
                item["win"] = list(strip.windows[m])
            crop = singles.get(m)
            if crop is not None:
                if crop.uri:
                    out_crops[f"{idx}/{i}/{m}"] = crop.uri
                    item["crop"] = 1
                else:
                    item["nocrop"] = crop.reason
            vals.append(item)
        regions.append({
            "region": r.region.value, "side": r.side.value if r.side else None,
            "label": r.label, "method": r.method.value,
            "eval": r.evaluable, "vals": vals, "need": i in need,
            "strip": [strip.width, strip.height] if strip is not None else None,
        })
    subj = line.subject
    entry = {
        "id": idx, "sha": e.source.sha256, "subj": subject_label(line),
        "visit": subj.get("visit") if isinstance(subj.get("visit"), (str, int)) else None,
        "center": center_of(line), "date": e.exam_date.isoformat() if e.exam_date else None,
        "vendor": e.vendor.value, "model": e.scanner_model, "kind": e.source.kind.value,
        "status": e.status.value, "regions": regions,
        "flags": [[f.code.value, f.level.value, f.message, f.region] for f in e.flags],
    }
    return entry, out_crops


def summarize(lines: list[Line]) -> dict[str, Any]:
    """Counts per center and input kind, and flag codes by frequency with their meaning."""
    table: dict[tuple[str, str], Counter[str]] = {}
    codes: Counter[str] = Counter()
    for ln in lines:
        key = (center_of(ln), ln.exam.source.kind.value)
        table.setdefault(key, Counter())[ln.exam.status.value] += 1
        codes.update({f.code.value for f in ln.exam.flags})
    rows = [{"center": c, "kind": k, **{s.value: n.get(s.value, 0) for s in Status}}
            for (c, k), n in sorted(table.items())]
    flags = [{"code": c, "n": n, "severity": FlagCode(c).severity.value, "meaning": FlagCode(c).meaning}
             for c, n in codes.most_common()]
    totals = Counter(ln.exam.status.value for ln in lines)
    return {"rows": rows, "flags": flags, "totals": {s.value: totals.get(s.value, 0) for s in Status}}


def _safe_crops(crop_fn: CropFn, exam: Exam) -> ExamCrops:
    """Crops for one exam; a crash on one odd file shows as 'no crop' on its values, not a lost page."""
    try:
        return crop_fn(exam)
    except Exception as exc:  # noqa: BLE001 - crops are an aid; the reason is shown beside each value
        log.warning("crops failed for %s: %s", exam.source.sha256[:12], type(exc).__name__)
        reason = f"crop failed ({type(exc).__name__})"
        located = {i: [m for m, src in r.sources.items() if src.location is not None and src.location.box]
                   for i, r in enumerate(exam.regions)}
        return {i: {m: Crop(None, reason) for m in ms} for i, ms in located.items() if ms}


def _all_crops(lines: list[Line], wanted: list[int], crop_fn: CropFn, jobs: int) -> dict[int, ExamCrops]:
    """Crops of the exams ``wanted`` (line indexes), in ``jobs`` processes when the default cropper is used.

    Rendering pages is the slow part of building a page (about 30 ms per
    exam); a :class:`Cropper` pickles, so its work spreads over processes.
    """
    exams = [lines[i].exam for i in wanted]
    if jobs > 1 and len(exams) >= 16 and isinstance(getattr(crop_fn, "__self__", None), Cropper):
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            got = list(pool.map(_safe_crops, [crop_fn] * len(exams), exams, chunksize=32))
    else:
        got = [_safe_crops(crop_fn, e) for e in exams]
    return dict(zip(wanted, got))


def build_data(lines: list[Line], crop_fn: CropFn | None, options: PageOptions) -> dict[str, Any]:
    """Everything the page script needs, as one JSON-able object."""
    order = sorted(range(len(lines)), key=lambda i: (
        _STATUS_ORDER[lines[i].exam.status], center_of(lines[i]),
        lines[i].exam.exam_date or dt.date.min, subject_label(lines[i])))
    wanted = [i for i in order if options.crops == "all" or lines[i].exam.status is not Status.EXTRACTED]
    made = _all_crops(lines, wanted, crop_fn, options.jobs) if crop_fn is not None else {}
    exams, crops = [], {}
    for idx in order:
        ln = lines[idx]
        entry, uris = exam_entry(idx, ln, made.get(idx, {}))
        exams.append(entry)
        crops.update(uris)
    return {
        "meta": {
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "software": f"bmdkit {__version__}", "n": len(lines),
            "columns": list(DECISION_COLUMNS),
            "meanings": {c.value: [c.severity.value, c.meaning] for c in FlagCode},
        },
        "summary": summarize(lines),
        "exams": exams,
        "crops": crops,
    }


#: Characters written as ``\uXXXX`` in the page's JSON: none can then end the script element
#: (``</script>``), open an HTML comment (``<!--``) or end a JavaScript line (U+2028/2029).
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SCRIPT_UNSAFE_RE = re.compile("[<>&\u2028\u2029]")
_SLOT = re.compile(r"\{\{(title|css|data|js)\}\}")


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element whatever the strings hold; parses to the same value.

    These characters can only occur inside JSON strings, where ``\\uXXXX`` is
    the same character.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _SCRIPT_UNSAFE_RE.sub(lambda m: _SCRIPT_UNSAFE[m.group()], text)


def fill_template(template: str, slots: dict[str, str]) -> str:
    """``{{name}}`` slots replaced in one pass: text put into one slot is never searched for another."""
    return _SLOT.sub(lambda m: slots[m.group(1)], template)


def render_html(data: dict[str, Any], plots: list[dict[str, str]], title: str) -> str:
    """The page: static CSS and JS inlined, data in one JSON script block."""
    css = (_STATIC / "review.css").read_text(encoding="utf-8")
    js = (_STATIC / "review.js").read_text(encoding="utf-8")
    tpl = (_STATIC / "review.html").read_text(encoding="utf-8")
    data = {**data, "plots": plots}
    return fill_template(tpl, {"title": html.escape(title), "css": css, "data": _json_for_script(data), "js": js})


def build_page(directory: Path, out: Path | None = None, options: PageOptions | None = None,
               crop_fn: CropFn | None = None) -> Path:
    """Write the review page for batch folder ``directory``; returns its path.

    ``crop_fn`` makes the crops for one exam; by default a :class:`Cropper`
    over ``options.source_roots`` (or, when none are given, the folder's
    parent and the current directory, as relative paths in results.jsonl are
    relative to where the batch ran).
    """
    options = options or PageOptions()
    directory = Path(directory)
    lines = read_lines(directory)
    if crop_fn is None:
        roots = options.source_roots or (Path.cwd(), directory.resolve().parent, directory)
        crop_fn = Cropper(roots, options.crop_options).exam_crops
    data = build_data(lines, crop_fn, options)
    plots: list[dict[str, str]] = []
    if options.plots:
        from bmdkit.review.plots import bmd_by_center, control_charts

        plots = bmd_by_center(lines, center_of)
        if options.harmonize_dir is not None:
            plots += control_charts(options.harmonize_dir)
    out = Path(out) if out else directory / "review.html"
    tmp = out.with_name(out.name + ".tmp")
    # the page shows crops of report pages, which can show the patient's name: owner-only
    with open_private(tmp, "w", encoding="utf-8") as fh:
        fh.write(render_html(data, plots, options.title))
    tmp.replace(out)
    return out
