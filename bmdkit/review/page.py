"""The review page: one self-contained HTML file for a batch output folder.

Everything is inside the file: CSS and JavaScript inline (from
``bmdkit/review/static/``), crops and plots as ``data:`` URIs, the exams as
one JSON block parsed once by the script. No server, no network, no external
fonts. The script renders entries lazily (a chunk at a time, as the reviewer
scrolls), so a page of thousands of exams opens in seconds.

What needs a decision comes from :func:`bmdkit.decisions.settle.open_doubts`:
the values that open flags hold in doubt (a cell each), and the file as a
whole: the exam date (confirm one of the readings or enter it), the scan
type and side, and the page accepted as read. Files of one visit (spine,
hip, report page) are shown together under their subject and visit.
Centers are shown by the mapping's center code throughout (an unmapped
file's institution is matched to its code where the batch kept its
mapping), with the institution as printed beside it.

Privacy: the page never carries patient names, hospital IDs or birth dates,
nor the source path (file names often hold the patient's name). An exam is
shown by its trial subject (``subject`` field the batch adds) or else by the
first 12 digits of its SHA-256. Text read from the file (row labels, raw
cells, flag messages that quote them) passes through the exam's
:class:`~bmdkit.privacy.Redactor`, so a row labelled with the
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
from bmdkit.batchfolder.files import atomic_write
from bmdkit.decisions import exam_fields
from bmdkit.decisions.records import DECISION_COLUMNS
from bmdkit.decisions.settle import decided_values, open_doubts
from bmdkit.flags import FlagCode
from bmdkit.model import EXAM_FIELDS, MEASURES, Exam, Method, Outcome, ScanType, Status
from bmdkit.privacy import Redactor
from bmdkit.review.batchdir import Line, read_lines
from bmdkit.review.crops import Crop, CropOptions, Cropper, Strip

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


def institution_of(line: Line) -> str:
    """The institution as the file names it (the patient's identifiers masked), or ''."""
    return (Redactor.for_patient(line.exam.patient).text(line.exam.institution) or "").strip()


def center_of(line: Line, centers: dict[str, str] | None = None) -> str:
    """The exam's center code: the batch's subject.center, else the code the mapping gives its
    institution (``centers``: normalized institution name to code), else the institution, else '?'."""
    c = line.subject.get("center")
    if isinstance(c, str) and c.strip():
        return c.strip()
    inst = institution_of(line)
    key = "".join(inst.split()).casefold()
    return (centers or {}).get(key) or inst or "?"


def known_centers(directory: Path) -> dict[str, str]:
    """Institution names to center codes from the mapping the batch kept (empty without one)."""
    from bmdkit.batch.subjects import kept_mapping
    from bmdkit.errors import ConfigError

    try:
        kept = kept_mapping(directory)
    except ConfigError:
        return {}
    return kept[0].institutions() if kept else {}


def subject_label(line: Line) -> str:
    s = line.subject.get("subject_id")
    if isinstance(s, (str, int)) and str(s).strip():
        return str(s).strip()
    return line.exam.source.sha256[:12]


def needing_decision(exam: Exam) -> frozenset[int]:
    """Indexes of the regions with a value a reviewer still decides on (flagged exams only)."""
    if exam.status is not Status.FLAGGED:
        return frozenset()
    doubtful = open_doubts(exam).values
    return frozenset(i for i, r in enumerate(exam.regions) if r.method is not Method.COMPUTED and any(
        (r.region.value, r.side.value if r.side else None, m) in doubtful for m in MEASURES))


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def exam_decisions(e: Exam) -> dict[str, Any]:
    """The file-level decisions the page offers for ``e``: what is needed, the value as read, the
    readings to choose from (an ambiguous date's), and what was decided earlier."""
    doubts = open_doubts(e) if e.status is Status.FLAGGED else None
    decided = decided_values(e)
    out: dict[str, Any] = {}
    for name in EXAM_FIELDS:
        why = doubts.fields.get(name, []) if doubts else []
        done = decided.get((None, None, name))
        if not why and done is None:
            continue
        item: dict[str, Any] = {"need": bool(why), "why": sorted({f.code.value for f in why}),
                                "cur": exam_fields.current_text(e, name)}
        if name == "exam_date":
            item["readings"] = sorted({d for f in why for d in _ISO_DATE.findall(f.message)} | (
                {item["cur"]} if item["cur"] else set()))
        if done is not None:
            item["done"] = done
        out[name] = item
    return out


def exam_entry(idx: int, line: Line, crops: ExamCrops,
               centers: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON for one exam and its images (keyed ``exam/region`` for strips, ``exam/region/measure``).

    The exam's own identifiers are masked in its free text (labels, raw cells, flag messages).
    """
    e = Redactor.for_patient(line.exam.patient).exam(line.exam)
    need = needing_decision(e)
    doubtful = open_doubts(e).values if e.status is Status.FLAGGED else {}
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
            vkey = (r.region.value, r.side.value if r.side else None, m)
            done = decided.get(vkey)
            if done is not None:
                item["done"] = done
            if vkey in doubtful and r.method is not Method.COMPUTED:
                item["need"] = 1
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
        "center": center_of(line, centers), "inst": institution_of(line),
        "date": e.exam_date.isoformat() if e.exam_date else None,
        "vendor": e.vendor.value, "model": e.scanner_model, "kind": e.source.kind.value,
        "scan": [s.value for s in e.scan_types],
        "status": e.status.value, "regions": regions, "xdec": exam_decisions(e),
        "flags": [[f.code.value, f.level.value, f.message, f.region] for f in e.flags],
    }
    return entry, out_crops


def visit_groups(lines: list[Line]) -> list[int]:
    """A group number per line: files of one subject and visit, else of one study
    (:func:`bmdkit.batch.grouping.group_exams`: study UID, or patient and date), else alone."""
    from bmdkit.batch.grouping import group_exams

    by_subject: dict[tuple[str, str], int] = {}
    out = [-1] * len(lines)
    for i, ln in enumerate(lines):
        sid, visit = ln.subject.get("subject_id"), ln.subject.get("visit")
        if isinstance(sid, str) and sid and isinstance(visit, str) and visit:
            out[i] = by_subject.setdefault((sid, visit), len(by_subject))
    index = {id(ln.exam): i for i, ln in enumerate(lines)}
    n = len(by_subject)
    for group in group_exams([ln.exam for i, ln in enumerate(lines) if out[i] < 0]):
        for e in group:
            out[index[id(e)]] = n
        n += 1
    return out


def summarize(lines: list[Line], centers: dict[str, str] | None = None) -> dict[str, Any]:
    """Counts per center and input kind, and flag codes by frequency with their meaning."""
    table: dict[tuple[str, str], Counter[str]] = {}
    codes: Counter[str] = Counter()
    for ln in lines:
        key = (center_of(ln, centers), ln.exam.source.kind.value)
        table.setdefault(key, Counter())[ln.exam.outcome.value] += 1
        codes.update({f.code.value for f in ln.exam.flags})
    rows = [{"center": c, "kind": k, **{o.value: n.get(o.value, 0) for o in Outcome}}
            for (c, k), n in sorted(table.items())]
    flags = [{"code": c, "n": n, "severity": FlagCode(c).severity.value, "meaning": FlagCode(c).meaning}
             for c, n in codes.most_common()]
    totals = Counter(ln.exam.outcome.value for ln in lines)  # skipped files are not failures
    return {"rows": rows, "flags": flags, "totals": {o.value: totals.get(o.value, 0) for o in Outcome}}


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


def page_order(lines: list[Line], centers: dict[str, str] | None = None) -> tuple[list[int], list[int]]:
    """Line indexes in page order, and each line's visit group (see :func:`visit_groups`).

    Groups come in order of their most urgent file (flagged, failed, extracted), then center,
    date and subject; a group's files stay together, the urgent ones first.
    """
    groups = visit_groups(lines)
    rank: dict[int, tuple[Any, ...]] = {}
    for i, ln in enumerate(lines):
        key = (_STATUS_ORDER[ln.exam.status], center_of(ln, centers), ln.exam.exam_date or dt.date.min,
               subject_label(ln))
        rank[groups[i]] = min(rank.get(groups[i], key), key)
    order = sorted(range(len(lines)), key=lambda i: (
        rank[groups[i]], groups[i], _STATUS_ORDER[lines[i].exam.status], lines[i].exam.source.kind.value,
        lines[i].exam.source.sha256))
    return order, groups


def build_data(lines: list[Line], crop_fn: CropFn | None, options: PageOptions,
               centers: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the page script needs, as one JSON-able object."""
    order, groups = page_order(lines, centers)
    wanted = [i for i in order if options.crops == "all"
              or lines[i].exam.outcome not in (Outcome.EXTRACTED, Outcome.SKIPPED)]
    made = _all_crops(lines, wanted, crop_fn, options.jobs) if crop_fn is not None else {}
    exams, crops = [], {}
    for idx in order:
        ln = lines[idx]
        entry, uris = exam_entry(idx, ln, made.get(idx, {}), centers)
        entry["grp"] = groups[idx]
        exams.append(entry)
        crops.update(uris)
    return {
        "meta": {
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "software": f"bmdkit {__version__}", "n": len(lines),
            "columns": list(DECISION_COLUMNS),
            "meanings": {c.value: [c.severity.value, c.meaning] for c in FlagCode},
        },
        "summary": summarize(lines, centers),
        "scan_types": [t.value for t in ScanType],
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
    centers = known_centers(directory)
    data = build_data(lines, crop_fn, options, centers)
    plots: list[dict[str, str]] = []
    if options.plots:
        from bmdkit.review.plots import bmd_by_center, control_charts

        plots = bmd_by_center(lines, lambda ln: center_of(ln, centers))
        if options.harmonize_dir is not None:
            plots += control_charts(options.harmonize_dir)
    out = Path(out) if out else directory / "review.html"
    # the page shows crops of report pages, which can show the patient's name: owner-only
    with atomic_write(out, "w", encoding="utf-8") as fh:
        fh.write(render_html(data, plots, options.title))
    return out
