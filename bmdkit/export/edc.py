"""The EDC field table and the rule for which values may leave bmdkit.

All three exports (REDCap, ODM, FHIR) share one table of sites and
measures (``reference_data/edc_fields.csv``) and one selection rule:

- a value is exported when its file is not failed and no open doubt holds
  it (:mod:`bmdkit.decisions.settle`): no unsettled ``review`` flag on the whole
  file, and none on its region that covers it (a flag naming a side or a
  measure holds back only that side or measure) unless a reviewer decided the
  value itself. One doubtful measure holds back only itself: the rest of
  the row is exported (REDCap, ODM and FHIR all take a partial row);
- a read value beats a computed one for the same region and side;
- when two files of one visit give different values for the same field,
  neither is exported and both are listed for review;
- everything not exported that was measured is listed for review, with the
  flag codes that hold it (``reason``) and what a reviewer must decide to
  release it (``detail``).

Values keep their provenance (method, confidence, file SHA-256 and path).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bmdkit import reference
from bmdkit.decisions.settle import Doubts, open_doubts
from bmdkit.flags import Severity
from bmdkit.model import Exam, Flag, InputKind, Method, Region, RegionResult, Side, Source
from bmdkit.privacy import SubjectExam


@dataclass(frozen=True)
class Site:
    code: str
    region: Region
    side: Side | None
    label: str


@dataclass(frozen=True)
class Measure:
    code: str
    attr: str
    label: str
    validation: str
    decimals: int
    unit: str


@dataclass(frozen=True)
class Value:
    """One exportable value with its provenance."""

    field: str
    site: Site
    measure: Measure
    value: float
    method: str
    confidence: float | None
    sha256: str
    path: str

    @property
    def text(self) -> str:
        """Exactly ``decimals`` decimals, as REDCap's number_Ndp types expect."""
        return f"{self.value:.{self.measure.decimals}f}"


@dataclass(frozen=True)
class ReviewItem:
    """A measured value that was not exported, and why."""

    subject_id: str
    visit: str
    field: str
    value: float
    reason: str
    path: str
    sha256: str
    detail: str = ""


@functools.lru_cache(maxsize=1)
def sites() -> tuple[Site, ...]:
    return tuple(
        Site(r["code"], Region(r["region"]), Side(r["side"]) if r["side"] else None, r["label"])
        for r in reference.table("edc_fields") if r["kind"] == "site"
    )


@functools.lru_cache(maxsize=1)
def measures() -> tuple[Measure, ...]:
    return tuple(
        Measure(r["code"], r["measure"], r["label"], r["validation"], int(r["decimals"]), r["unit"])
        for r in reference.table("edc_fields") if r["kind"] == "measure"
    )


def field_name(site: Site, measure: Measure) -> str:
    return f"{site.code}_{measure.code}"


def plausible_range(site: Site, measure: Measure) -> tuple[str, str]:
    """Min and max from ``plausible_ranges.csv`` where it has a row; blanks otherwise."""
    region = "vertebra" if site.region.is_vertebra else site.region.value
    for row in reference.table("plausible_ranges"):
        if row["measure"] == measure.attr and row["region"] in (region, "any"):
            return row["low"], row["high"]
    return "", ""


def _file_exams(sx: SubjectExam) -> dict[str, Exam]:
    """Each file of the visit as an exam (its regions and flags only), to ask what is still in doubt."""
    paths = {sha: path for path, sha in sx.sources}
    regions: dict[str, list[RegionResult]] = {}
    flags: dict[str, list[Flag]] = {}
    for r, sha in sx.regions:
        regions.setdefault(sha, []).append(r)
    for f, sha in sx.flags:
        flags.setdefault(sha, []).append(f)
    return {sha: Exam(Source(paths.get(sha, ""), sha, InputKind.UNKNOWN), regions=tuple(regions.get(sha, ())),
                      flags=tuple(flags.get(sha, ()))) for sha in {*regions, *flags}}


def _held(exam: Exam, doubts: Doubts, r: RegionResult, measure: str) -> tuple[str, str] | None:
    """(flag codes, what to decide) when the value is held back, else None."""
    errors = [f for f in exam.flags if f.level is Severity.ERROR]
    if errors:
        return ";".join(dict.fromkeys(f.code.value for f in errors)), "the file failed"
    blocking = doubts.blocking(r.region.value, r.side, measure)
    if not blocking:
        return None
    side = f" ({r.side.value})" if r.side else ""
    needs = []
    for name, why in doubts.fields.items():
        if name != "scan_type" and any(f in doubts.file_level for f in why):
            needs.append({"exam_date": "the exam date", "page": "the page as read"}[name]
                         + f" ({', '.join(dict.fromkeys(f.code.value for f in why))})")
    mine = doubts.values.get((r.region.value, r.side.value if r.side else None, measure), [])
    if mine:
        needs.append(f"{measure} of {r.region.value}{side} "
                     f"({', '.join(dict.fromkeys(f.code.value for f in mine))})")
    return ";".join(dict.fromkeys(f.code.value for f in blocking)), "decide " + "; ".join(needs)


def _held_computed(exam: Exam, doubts: Doubts, r: RegionResult) -> tuple[str, str] | None:
    """A computed value (the spine total over the evaluable vertebrae) is held while the file, its own
    region or any value it is computed from (any spine value) is still in doubt."""
    errors = [f for f in exam.flags if f.level is Severity.ERROR]
    if errors:
        return ";".join(dict.fromkeys(f.code.value for f in errors)), "the file failed"
    inputs = [f for (region, _, _), fs in doubts.values.items() if region and Region(region).is_spine for f in fs]
    own = [f for f in exam.flags if f.level is Severity.REVIEW and f.region == r.region.value]
    blocking = [*doubts.file_level, *inputs, *own]
    if not blocking:
        return None
    return (";".join(dict.fromkeys(f.code.value for f in blocking)),
            f"decide the values {r.region.value} is computed from (and the page, if flagged)")


def select_values(sx: SubjectExam) -> tuple[list[Value], list[ReviewItem]]:
    """Exportable values of one subject visit, and the values held back for review."""
    paths = {sha: path for path, sha in sx.sources}
    chosen: dict[tuple[Region, Side | None, str], tuple[RegionResult, str]] = {}
    for r, sha in sx.regions:
        k = (r.region, r.side, sha)
        prev = chosen.get(k)
        if prev is None or (prev[0].method is Method.COMPUTED and r.method is not Method.COMPUTED):
            chosen[k] = (r, sha)
    candidates: dict[str, list[Value]] = {}
    review: list[ReviewItem] = []
    files = _file_exams(sx)
    doubts = {sha: open_doubts(e) for sha, e in files.items()}
    for site in sites():
        for (region, side, sha), (r, _) in sorted(chosen.items(), key=lambda kv: kv[0][2]):
            if region is not site.region or side is not site.side:
                continue
            for m in measures():
                v = r.value(m.attr)
                if v is None:
                    continue
                name = field_name(site, m)
                src = r.sources.get(m.attr)
                conf = src.confidence if src and src.confidence is not None else r.confidence
                val = Value(name, site, m, float(v), r.method.value, conf, sha, paths.get(sha, ""))
                held = _held(files[sha], doubts[sha], r, m.attr) if r.method is not Method.COMPUTED else \
                    _held_computed(files[sha], doubts[sha], r)
                if held:
                    review.append(ReviewItem(sx.subject_id, sx.visit, name, float(v), held[0], val.path, sha,
                                             held[1]))
                else:
                    candidates.setdefault(name, []).append(val)
    values: list[Value] = []
    for name, vals in candidates.items():
        distinct = {v.text for v in vals}
        if len(distinct) == 1:
            values.append(vals[0])
        else:
            review.extend(ReviewItem(sx.subject_id, sx.visit, name, v.value,
                                     "files of this visit disagree", v.path, v.sha256) for v in vals)
    return values, review
