"""Combine readings of one exam: DICOM values with the report read from the same file, or a study's files.

- :func:`merge_readings`: a DICOM file's exact values (script table, SR, XML)
  and the values OCR read from its own report page. The DICOM values stay;
  every report value that differs beyond print rounding becomes a
  ``sources_disagree`` flag on that region; report regions the DICOM lacks
  are added (they keep method ``ocr``); the report's flags are kept, except
  those about reading quality (low confidence, engine disagreement, missing
  value, page quality) for regions the DICOM holds exactly.
- :func:`merge_exams`: a batch's files into exams, the one way bmdkit groups
  a study's objects. GE Lunar sends one visit as many objects (an SR per
  analysis, report pages, scan images). Files are grouped into visits
  (:func:`group_exams`: StudyInstanceUID, or hospital patient ID and exam
  date, transitively), a visit's files split by patient and date, and their
  values by scan type (spine, hip, ...). Each part becomes one exam
  (:func:`merge_study`): a :class:`MergedExam` that records every file
  behind it (``merged_from``) and the file each value came from
  (``value_files``); two files that give different values for the same
  region, side and measure are flagged ``sources_disagree`` (the first
  file's value is kept: DICOM before OCR, then by path). A file that failed
  or was skipped is not merged; it stays on its own.

The batch writes the merged exams to ``exams.jsonl`` beside ``results.jsonl``
(which keeps one line per file): :mod:`bmdkit.merged_file`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bmdkit.dicom.compare import disagreement_flags, half_units
from bmdkit.flags import FlagCode
from bmdkit.model import (
    MEASURES,
    Exam,
    Flag,
    Location,
    Method,
    RegionResult,
    ScanType,
    Side,
    Source,
    Status,
    Vendor,
)

#: flags about how well a page was read; moot for values the DICOM file holds exactly
_READING_FLAGS = frozenset({FlagCode.LOW_CONFIDENCE, FlagCode.ENGINE_DISAGREEMENT,
                            FlagCode.MISSING_VALUE, FlagCode.PAGE_QUALITY})


def merge_readings(dicom_exam: Exam, report_exam: Exam) -> Exam:
    """The DICOM exam, cross-checked against (and completed by) the report read from its pages."""
    kept = {r.key: r for r in dicom_exam.regions}
    regions = list(dicom_exam.regions)
    flags = list(dicom_exam.flags)
    for rep in report_exam.regions:
        if rep.key in kept:
            flags.extend(disagreement_flags(kept[rep.key], rep, "DICOM values and the report page"))
        else:
            regions.append(rep)
            kept[rep.key] = rep
    known = {(f.code, f.message) for f in flags}
    exact = {r.region.value for r in dicom_exam.regions}
    for f in report_exam.flags:
        if (f.code, f.message) in known or f.code is FlagCode.NO_RESULTS:
            continue
        if f.code in _READING_FLAGS and exact and (f.region is None or f.region.split("/")[0] in exact):
            continue  # how well OCR read a value the DICOM holds exactly does not matter
        flags.append(f)
    reader = "+".join(x for x in (dicom_exam.reader, report_exam.reader) if x) or None
    return dicom_exam.replace(regions=tuple(regions), flags=tuple(flags), reader=reader,
                              exam_date=dicom_exam.exam_date or report_exam.exam_date,
                              scanner_model=dicom_exam.scanner_model or report_exam.scanner_model)



# -- a study's files -----------------------------------------------------------------------------

#: (region, side, computed, measure): one value of a merged exam
ValueKey = tuple[str, "str | None", bool, str]


@dataclass(frozen=True)
class MergedExam(Exam):
    """One exam made of several files of one visit and scan type.

    ``source`` is the first file's; ``merged_from`` lists every file behind
    the exam (the first included); ``value_files`` maps each value
    (:func:`value_key`) to the SHA-256 of the file it came from, and
    ``flag_files`` gives the file of each flag (same order as ``flags``).
    """

    merged_from: tuple[Source, ...] = ()
    value_files: Mapping[ValueKey, str] = field(default_factory=dict)
    flag_files: tuple[str, ...] = ()

    def file_of(self, r: RegionResult, measure: str) -> str:
        """SHA-256 of the file the value ``measure`` of ``r`` came from."""
        return self.value_files.get(value_key(r, measure), self.source.sha256)

    def flag_file(self, i: int) -> str:
        return self.flag_files[i] if i < len(self.flag_files) else self.source.sha256


def value_key(r: RegionResult, measure: str) -> ValueKey:
    return (r.region.value, r.side.value if r.side else None, r.method is Method.COMPUTED, measure)


def sources_of(exam: Exam) -> tuple[Source, ...]:
    """Every file behind ``exam`` (one, unless it is a :class:`MergedExam`)."""
    return exam.merged_from if isinstance(exam, MergedExam) and exam.merged_from else (exam.source,)


@dataclass(frozen=True)
class Visit:
    """What placing a file in a visit and scan type needs of it (:func:`visit_of`), and no more.

    The batch keeps one for every line when it writes ``exams.jsonl`` (in place of the whole
    exam, which it builds only for the files that are merged with others), and the worker makes
    it where the exam is at hand (:mod:`bmdkit.batch.made`).
    """

    path: str
    sha256: str
    failed: bool
    uid: str
    pid: str
    date: str  # ISO date, or "" when none was read
    families: tuple[str, ...]

    def visit_keys(self) -> list[str]:
        """The keys two files of one visit share: study UID; hospital patient ID and exam date."""
        keys = []
        if self.uid:
            keys.append("uid:" + self.uid)
        if self.pid and self.date:
            keys.append(f"pd:{self.pid}\x1f{self.date}")
        return keys

    def to_json(self) -> list[Any]:
        return [self.path, self.sha256, self.failed, self.uid, self.pid, self.date, list(self.families)]

    @classmethod
    def from_json(cls, v: list[Any]) -> Visit:
        return cls(str(v[0]), str(v[1]), bool(v[2]), str(v[3]), str(v[4]), str(v[5]), tuple(map(str, v[6])))


def visit_of(e: Exam) -> Visit:
    """What :func:`merge_plan` needs of exam ``e``."""
    return Visit(e.source.path, e.source.sha256, e.status is Status.FAILED, e.study_instance_uid or "",
                 _pid(e), e.exam_date.isoformat() if e.exam_date else "", tuple(_families(e)))


def _visit_groups(visits: Sequence[Visit]) -> list[list[int]]:
    """:func:`group_exams` on visits: the indices of each group, sorted by path; groups by first path."""
    parent = list(range(len(visits)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, v in enumerate(visits):
        for key in v.visit_keys():
            if key in owner:
                a, b = find(i), find(owner[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[key] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(visits)):
        groups.setdefault(find(i), []).append(i)
    out = [sorted(g, key=lambda i: visits[i].path) for g in groups.values()]
    return sorted(out, key=lambda g: visits[g[0]].path)


def group_exams(exams: Iterable[Exam]) -> list[list[Exam]]:
    """Files of one visit: groups of exams, each sorted by path; groups in order of their first path.

    Two files belong together when they share a ``study_instance_uid``, or
    the same hospital patient ID and exam date; the relation is transitive
    (union-find), so a spine file with a UID and a hip file without one still
    join through patient and date. A file with neither stays alone.
    """
    exams = list(exams)
    return [[exams[i] for i in g] for g in _visit_groups([visit_of(e) for e in exams])]


def _pid(e: Exam) -> str:
    return e.patient.patient_id.strip() if e.patient and e.patient.patient_id else ""


def study_key(exam: Exam) -> tuple[str, ...]:
    """StudyInstanceUID, else (patient ID, exam date): how a study is named."""
    if exam.study_instance_uid:
        return ("uid", exam.study_instance_uid)
    return ("patient-date", _pid(exam) or "?", exam.exam_date.isoformat() if exam.exam_date else "?")


def group_studies(exams: Iterable[Exam]) -> dict[tuple[str, ...], list[Exam]]:
    """:func:`group_exams` of the files that did not fail, keyed by the first file's :func:`study_key`."""
    usable = [e for e in exams if e.status is not Status.FAILED]
    return {study_key(g[0]): g for g in group_exams(usable)}


def _by_patient_and_date(files: list[int], visits: Sequence[Visit]) -> list[list[int]]:
    """A visit's files (indices into ``visits``) split by hospital patient ID and exam date; a file
    lacking one joins the only part it fits."""
    parts: dict[tuple[str, str], list[int]] = {}
    loose = []
    for i in files:
        v = visits[i]
        if v.pid and v.date:
            parts.setdefault((v.pid, v.date), []).append(i)
        else:
            loose.append(i)
    for i in loose:
        pid, date = visits[i].pid, visits[i].date
        fits = [k for k in parts if (not pid or k[0] == pid) and (not date or k[1] == date)]
        parts.setdefault(fits[0] if len(fits) == 1 else (pid, date), []).append(i)
    return list(parts.values())


_FAMILY_OF_SCAN = {ScanType.SPINE: "spine", ScanType.HIP_LEFT: "hip", ScanType.HIP_RIGHT: "hip",
                   ScanType.HIP_DUAL: "hip", ScanType.FOREARM: "forearm", ScanType.WHOLE_BODY: "whole_body",
                   ScanType.OTHER: "other"}


def scan_family(r: RegionResult) -> str:
    """The scan a region is measured on: ``spine`` or ``hip`` (either side, or both)."""
    return "spine" if r.region.is_spine else "hip"


def _families(e: Exam) -> list[str]:
    fams = list(dict.fromkeys(scan_family(r) for r in e.regions))
    if not fams:
        fams = list(dict.fromkeys(_FAMILY_OF_SCAN[s] for s in e.scan_types)) or ["unknown"]
    return fams


@dataclass(frozen=True)
class Part:
    """One exam of :func:`merge_plan`: the file ``members[0]`` as it is (``family`` None), or the
    files ``members`` merged into one exam of the scan ``family`` (:func:`merge_study`)."""

    members: tuple[int, ...]
    family: str | None = None


def merge_plan(visits: Sequence[Visit]) -> list[Part]:
    """Which files become which exams (see the module docstring), by index into ``visits``.

    A file that failed or was skipped stays on its own, unchanged; so does a
    file that is alone in its visit and scan type. Parts come in visit order;
    callers sort the exams made by their first file's path.
    """
    out: list[Part] = []
    for group in _visit_groups(visits):
        usable = [i for i in group if not visits[i].failed]
        out.extend(Part((i,)) for i in group if visits[i].failed)
        for part in _by_patient_and_date(usable, visits):
            buckets: dict[str, list[int]] = {}
            for i in part:
                for fam in visits[i].families:
                    buckets.setdefault(fam, []).append(i)
            for fam, files in buckets.items():
                if len(files) == 1 and visits[files[0]].families == (fam,):
                    out.append(Part((files[0],)))
                else:
                    out.append(Part(tuple(files), fam))
    return out


def merge_exams(exams: Iterable[Exam]) -> list[Exam]:
    """A batch's files as exams: one per visit and scan type (:func:`merge_plan`), in order of their
    first file's path."""
    exams = list(exams)
    out = [exams[p.members[0]] if p.family is None
           else merge_study([exams[i] for i in p.members], family=p.family)
           for p in merge_plan([visit_of(e) for e in exams])]
    return sorted(out, key=lambda e: (e.source.path, e.source.sha256))


def _rank(e: Exam) -> tuple[bool, str, str]:
    """DICOM values before OCR and before files without values, then by path."""
    exact = any(r.method is not Method.OCR for r in e.regions)
    return (not exact, e.source.path, e.source.sha256)


def _fmt(v: float) -> str:
    return f"{v:g}"


def merge_study(exams: Sequence[Exam], family: str | None = None) -> MergedExam:
    """One exam from files of one visit (and scan type, ``family``: only its regions are taken).

    A value found in two files is taken from the first (:func:`_rank`) and
    the others are compared with it: a difference beyond print rounding is a
    ``sources_disagree`` flag naming region, side and measure. A measure the
    first file lacks is taken from the next that has it. Each region's
    location says which file it came from; ``value_files`` says it per value.
    """
    if not exams:
        raise ValueError("no exams to merge")
    ordered = sorted(exams, key=_rank)
    files: dict[ValueKey, str] = {}
    kept, flags = _merge_regions(ordered, family, files)
    flags += _file_flags(ordered, files)
    return _merged_exam(ordered, family, kept, files, _unique_flags(flags))


#: a region's identity in a merge: region, side, computed
_RegionKey = tuple[str, "str | None", bool]


def _merge_regions(ordered: list[Exam], family: str | None, files: dict[ValueKey, str],
                   ) -> tuple[dict[_RegionKey, RegionResult], list[tuple[Flag, str]]]:
    """Each region of ``family`` from the first file that has it, measures it lacks filled from later
    files; ``files`` gets each value's file; the flags are the disagreements (with the first file's SHA)."""
    tol = half_units()
    kept: dict[_RegionKey, RegionResult] = {}
    paths = {e.source.sha256: e.source.path for e in ordered}
    flags: list[tuple[Flag, str]] = []
    for e in ordered:
        for r in e.regions:
            if family is not None and scan_family(r) != family:
                continue
            k = value_key(r, "")[:3]
            cur = kept.get(k)
            if cur is None:
                kept[k] = _tag(r, e.source.path)
                for m in MEASURES:
                    if r.value(m) is not None:
                        files[value_key(r, m)] = e.source.sha256
                continue
            merged = _fill(cur, r, e, ordered[0], files, paths, tol, flags)
            if merged is not None:
                kept[k] = merged
    return kept, flags


def _fill(cur: RegionResult, r: RegionResult, e: Exam, first_file: Exam, files: dict[ValueKey, str],
          paths: dict[str, str], tol: Mapping[str, float],
          flags: list[tuple[Flag, str]]) -> RegionResult | None:
    """``cur`` with the measures (and evaluability) it lacks taken from ``r`` of file ``e``, or None if
    nothing is taken; a measure both have and that differs beyond print rounding is flagged."""
    sha = e.source.sha256
    fill: dict[str, Any] = {}
    sources = dict(cur.sources)
    for m in MEASURES:
        new, old = r.value(m), cur.value(m)
        if new is None:
            continue
        if old is None:
            fill[m] = new
            files[value_key(r, m)] = sha
            if m in r.sources:
                sources[m] = r.sources[m]
        elif abs(new - old) > tol.get(m, 0.0) + 1e-9:
            first = files.get(value_key(r, m), first_file.source.sha256)
            side = f" {r.side.value}" if r.side else ""
            flags.append((Flag(
                FlagCode.SOURCES_DISAGREE,
                f"{r.region.value}{side} {m}: files of one study disagree ({_fmt(old)} in "
                f"{paths[first]}, {_fmt(new)} in {e.source.path}); kept {_fmt(old)}",
                region=r.region.value, side=r.side, measure=m), first))
    if cur.evaluable is None and r.evaluable is not None:
        fill["evaluable"] = r.evaluable
    return cur.replace(sources=sources, **fill) if fill else None


def _file_flags(ordered: list[Exam], files: Mapping[ValueKey, str]) -> list[tuple[Flag, str]]:
    """Each file's own flags that still apply: about the exam, or about values taken from that file."""
    flags: list[tuple[Flag, str]] = []
    for e in ordered:
        sha = e.source.sha256
        for f in e.flags:
            if f.code is FlagCode.NO_RESULTS:
                continue
            if f.region is None:
                flags.append((f, sha))
                continue
            region, _, side_text = f.region.partition("/")
            side = f.side or (Side(side_text) if side_text in {s.value for s in Side} else None)
            mine = [k for k, s in files.items() if s == sha and k[0] == region and (side is None or k[1] == side.value)
                    and (f.measure is None or k[3] == f.measure)]
            if mine:  # a flag about values this file gave; one about values taken from another file is moot
                flags.append((f, sha))
    return flags


def _unique_flags(flags: list[tuple[Flag, str]]) -> list[tuple[Flag, str]]:
    """``flags`` without repeats (same code, message, place and file), in order."""
    seen: set[tuple[Any, ...]] = set()
    unique: list[tuple[Flag, str]] = []
    for f, sha in flags:
        key = (f.code, f.message, f.region, f.side, f.measure, sha)
        if key not in seen:
            seen.add(key)
            unique.append((f, sha))
    return unique


def _merged_exam(ordered: list[Exam], family: str | None, kept: dict[_RegionKey, RegionResult],
                 files: dict[ValueKey, str], unique: list[tuple[Flag, str]]) -> MergedExam:
    """The merged exam: the first file's source, each exam attribute from the first file that has it."""
    scan_types = [s for e in ordered for s in e.scan_types
                  if family is None or _FAMILY_OF_SCAN[s] == family]
    if not scan_types:
        scan_types = _scan_types_of(list(kept.values()))
    base = ordered[0]
    readers = [x for e in ordered for x in (e.reader or "").split("+") if x]

    def first(attr: str) -> Any:
        return next((getattr(e, attr) for e in ordered if getattr(e, attr) not in (None, "")), None)

    vendor = next((e.vendor for e in ordered if e.vendor is not Vendor.UNKNOWN), base.vendor)
    return MergedExam(
        source=base.source, vendor=vendor, scanner_model=first("scanner_model"),
        scanner_serial=first("scanner_serial"), scanner_software=first("scanner_software"),
        institution=first("institution"), exam_date=first("exam_date"),
        study_instance_uid=first("study_instance_uid"), scan_types=tuple(dict.fromkeys(scan_types)),
        patient=first("patient"), regions=tuple(kept.values()), flags=tuple(f for f, _ in unique),
        reader="+".join(dict.fromkeys(readers)) or None,
        merged_from=tuple(e.source for e in ordered), value_files=files,
        flag_files=tuple(sha for _, sha in unique),
    )


def _scan_types_of(regions: list[RegionResult]) -> list[ScanType]:
    out = []
    if any(r.region.is_spine for r in regions):
        out.append(ScanType.SPINE)
    sides = {r.side for r in regions if r.region.is_hip}
    if Side.LEFT in sides and Side.RIGHT in sides or Side.MEAN in sides:
        out.append(ScanType.HIP_DUAL)
    elif Side.LEFT in sides:
        out.append(ScanType.HIP_LEFT)
    elif Side.RIGHT in sides:
        out.append(ScanType.HIP_RIGHT)
    return out


def _tag(r: RegionResult, path: str) -> RegionResult:
    loc = r.location or Location()
    detail = f"file {path}" + (f"; {loc.detail}" if loc.detail else "")
    return r.replace(location=Location(element=loc.element, page=loc.page, box=loc.box, detail=detail))
