"""The EDC field table and the rule for which values may leave bmdkit.

All three exports (REDCap, ODM, FHIR) share one table of sites and
measures (``reference_data/edc_fields.csv``) and one selection rule:

- a value is exported when its file is not failed, no ``review`` or
  ``error`` flag touches its region (or the whole file), or a reviewer has
  accepted it (a ``corrected`` flag on the region, or on the file);
- a read value beats a computed one for the same region and side;
- when two files of one visit give different values for the same field,
  neither is exported and both are listed for review;
- everything not exported that was measured is listed for review.

Values keep their provenance (method, confidence, file SHA-256 and path).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bmdkit import reference
from bmdkit.export.privacy import SubjectExam
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Method, Region, RegionResult, Side


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


def _touches(flag_region: str | None, region: Region) -> bool:
    if flag_region is None:
        return False
    return flag_region == region.value or flag_region.split("/")[0].split(":")[0] == region.value


def _blocking(sx: SubjectExam, sha: str, region: Region) -> list[str]:
    """Codes of unresolved review/error flags on this file's region (or whole file)."""
    mine = [f for f, s in sx.flags if s == sha]
    accepted = [f for f in mine if f.code is FlagCode.CORRECTED and f.level is Severity.INFO]
    accepted_file = any(f.region is None for f in accepted)
    accepted_region = accepted_file or any(_touches(f.region, region) for f in accepted)
    out = []
    for f in mine:
        if f.level is Severity.INFO:
            continue
        if f.level is Severity.ERROR or f.region is None and not accepted_file or _touches(f.region, region) and not accepted_region:
            out.append(f.code.value)
    return out


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
    for site in sites():
        for (region, side, sha), (r, _) in sorted(chosen.items(), key=lambda kv: kv[0][2]):
            if region is not site.region or side is not site.side:
                continue
            blocked = _blocking(sx, sha, region)
            for m in measures():
                v = r.value(m.attr)
                if v is None:
                    continue
                name = field_name(site, m)
                src = r.sources.get(m.attr)
                conf = src.confidence if src and src.confidence is not None else r.confidence
                val = Value(name, site, m, float(v), r.method.value, conf, sha, paths.get(sha, ""))
                if blocked:
                    review.append(ReviewItem(sx.subject_id, sx.visit, name, float(v),
                                             ";".join(dict.fromkeys(blocked)), val.path, sha))
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
