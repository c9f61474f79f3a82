"""Which of L1-L4 count (ISCD), and the spine total over those that do.

For each vertebra read, the rules below give flags; some make it
non-evaluable (``evaluable=False``):

1. excluded by the scanner or report (the reader set ``evaluable=False``,
   or the printed total's label/vertebrae leave it out) -> ``vertebra_excluded``
   (info), **excluded**;
2. BMD or area outside ``plausible_ranges.csv`` -> ``vertebra_out_of_range``
   (review), **excluded**;
3. printed T-score differs by *more than* ``vertebra_t_discordance`` (1.0)
   from its adjacent vertebrae -> ``vertebra_t_discordant`` (review). "Adjacent"
   is the nearest vertebra above and below that survived rules 1-2 and has a
   T-score; the vertebra must differ from *every* such neighbour (an end
   vertebra has one). Exactly 1.0 does not exceed. By default a **flag only**
   (``settings.discordance_excludes``): ISCD says such a vertebra "may be
   excluded", and Hansen et al. 2005 found the rule hard to apply
   reproducibly, so a person decides. The flag message gives the total
   without that vertebra so the reviewer sees what excluding it would do;
4. areas out of anatomical order: a vertebra larger in area than one two or
   more levels below it (L1 > L3, L1 > L4, L2 > L4; an inversion between
   neighbours such as L3 > L4 is common and not flagged) ->
   ``vertebra_area_order`` (review) on the upper vertebra; flag only by
   default (``settings.area_order_excludes``), as levels may be mislabeled
   rather than abnormal.

Then, over the evaluable vertebrae E: fewer than ``min_evaluable_vertebrae``
-> ``too_few_vertebrae`` and no total (never diagnose from one vertebra).
Otherwise, if E differs from what the printed total covers (or there is no
printed total), a computed ``L1-L4`` region is added as ΣBMC/ΣArea over E,
with ``label`` (e.g. ``L2-L4``) and ``vertebrae``; its T-score only where the
reference of that exact combination is known (``young_adult.young_adult``),
else ``reference_unknown``. Missing BMC or area -> ``total_not_recomputable``:
BMDs are never averaged. The printed total stays beside the computed one;
no read value is changed (only the ``evaluable`` decision is written).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bmdkit.checks import spine
from bmdkit.checks.plausibility import violations
from bmdkit.checks.settings import CheckSettings
from bmdkit.checks.young_adult import young_adult
from bmdkit.flags import FlagCode
from bmdkit.model import VERTEBRAE, Exam, Flag, Location, Method, Region, RegionResult

#: Codes this module uses to exclude a vertebra (besides the scanner's own exclusion).
_OWN_EXCLUSIONS = (FlagCode.VERTEBRA_OUT_OF_RANGE, FlagCode.VERTEBRA_T_DISCORDANT, FlagCode.VERTEBRA_AREA_ORDER)


@dataclass
class Evaluation:
    """The outcome for one exam: evaluable per level, the flags, and the computed total."""

    evaluable: dict[Region, bool] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    total: RegionResult | None = None

    @property
    def evaluable_levels(self) -> tuple[Region, ...]:
        return tuple(v for v in VERTEBRAE if self.evaluable.get(v))


def _flagged(exam: Exam, v: Region, code: FlagCode) -> bool:
    return any(f.code is code and f.region == v.value for f in exam.flags)


def _scanner_excluded(exam: Exam, rows: dict[Region, RegionResult]) -> dict[Region, str]:
    """Levels the scanner or report left out, with how we know."""
    out: dict[Region, str] = {}
    total = spine.printed_total(exam)
    cover = spine.total_coverage(total) if total is not None else None
    for v, r in rows.items():
        if _flagged(exam, v, FlagCode.VERTEBRA_EXCLUDED) or r.evaluable is False and not any(_flagged(exam, v, c) for c in _OWN_EXCLUSIONS):
            out[v] = "marked excluded by the scanner or report"
        elif cover is not None and v not in cover:
            out[v] = f"not included in the printed spine total {total.label or spine.label_for(cover)}"  # type: ignore[union-attr]
    return out


def _discordant(rows: dict[Region, RegionResult], candidates: list[Region], s: CheckSettings) -> dict[Region, str]:
    """Rule 3 over ``candidates`` (levels still in, in anatomical order) that have a T-score."""
    with_t = [v for v in candidates if rows[v].t_score is not None and math.isfinite(rows[v].t_score)]  # type: ignore[arg-type]
    limit = round(s.vertebra_t_discordance * 10**s.t_score_decimals)
    out: dict[Region, str] = {}
    for i, v in enumerate(with_t):
        neighbours = [with_t[j] for j in (i - 1, i + 1) if 0 <= j < len(with_t)]
        if not neighbours:
            continue
        t = s.tenths(rows[v].t_score)  # type: ignore[arg-type]
        diffs = {n: abs(t - s.tenths(rows[n].t_score)) for n in neighbours}  # type: ignore[arg-type]
        if all(d > limit for d in diffs.values()):
            shown = ", ".join(f"{n.value} {rows[n].t_score:g}" for n in neighbours)
            out[v] = (f"T-score {rows[v].t_score:g} differs by more than {s.vertebra_t_discordance:g} "
                      f"from adjacent {shown}")
    return out


def _area_order(rows: dict[Region, RegionResult]) -> dict[Region, str]:
    """Rule 4: an upper vertebra larger than one two or more levels below."""
    out: dict[Region, str] = {}
    levels = [v for v in VERTEBRAE if v in rows and rows[v].area is not None and rows[v].area > 0]  # type: ignore[operator]
    for i, up in enumerate(levels):
        bigger = [lo for lo in levels[i + 1:]
                  if VERTEBRAE.index(lo) - VERTEBRAE.index(up) >= 2 and rows[up].area > rows[lo].area]  # type: ignore[operator]
        if bigger:
            shown = ", ".join(f"{lo.value} {rows[lo].area:g}" for lo in bigger)
            out[up] = f"area {rows[up].area:g} cm² larger than lower {shown}; levels may be mislabeled"
    return out


def _alternative(rows: dict[Region, RegionResult], levels: tuple[Region, ...], drop: Region, s: CheckSettings) -> str:
    rest = tuple(v for v in levels if v != drop)
    if len(rest) < s.min_evaluable_vertebrae:
        return ""
    sums = spine.sum_over(rows, rest)
    return f"; without it, {spine.label_for(rest)} ΣBMC/ΣArea = {sums.bmd:.3f}" if sums else ""


def _reference_name(exam: Exam, rows: dict[Region, RegionResult], levels: tuple[Region, ...]) -> str | None:
    total = spine.printed_total(exam)
    if total is not None and total.reference:
        return total.reference
    refs = {rows[v].reference for v in levels if rows[v].reference}
    return refs.pop() if len(refs) == 1 else None


def _confidence(rows: dict[Region, RegionResult], levels: tuple[Region, ...]) -> float | None:
    found = [rows[v].confidence for v in levels if rows[v].confidence is not None]
    return min(found) if found else None  # type: ignore[type-var]


def unread_levels(exam: Exam, rows: dict[Region, RegionResult] | None = None) -> tuple[Region, ...]:
    """Levels the printed total says it covers but whose rows were not read (e.g. an OCR miss).

    They are not "not evaluable": the scanner included them. They count
    towards the number of evaluable vertebrae, unchecked, and make a
    recomputation impossible (no BMC or area).
    """
    rows = spine.read_vertebrae(exam) if rows is None else rows
    total = spine.printed_total(exam)
    cover = spine.total_coverage(total) if total is not None else None
    if not rows or cover is None:
        return ()
    return tuple(v for v in cover if v not in rows)


def evaluable_levels(exam: Exam) -> tuple[Region, ...] | None:
    """The evaluable levels of a checked exam: vertebrae marked evaluable plus unread covered ones.

    ``None`` when the exam has no vertebra rows at all (only a total, or no spine).
    """
    rows = spine.read_vertebrae(exam)
    if not rows:
        return None
    unread = unread_levels(exam, rows)
    return tuple(v for v in VERTEBRAE if (v in rows and rows[v].evaluable is True) or v in unread)


def evaluate(exam: Exam, s: CheckSettings) -> Evaluation:
    """Apply the rules (see module docstring) to ``exam``'s read vertebrae."""
    ev = Evaluation()
    rows = spine.read_vertebrae(exam)
    if not rows:
        return ev
    misread = _misread(rows, s, ev)
    rows = {v: r for v, r in rows.items() if v not in misread}
    if not rows:
        return ev
    excluded = _exclusions(exam, rows, s, ev)
    ev.evaluable = {v: not excluded[v] for v in rows}
    unread = unread_levels(exam, rows)
    for v in (u for u in unread if u not in misread):
        ev.flags.append(Flag(FlagCode.MISSING_VALUE, f"{v.value}: covered by the printed spine total but its row "
                             "was not read; counted as the scanner included it, unchecked", region=v.value))
    levels = tuple(v for v in VERTEBRAE if ev.evaluable.get(v) or v in unread)
    if len(levels) < s.min_evaluable_vertebrae:
        names = ", ".join(v.value for v in levels) or "none"
        ev.flags.append(Flag(
            FlagCode.TOO_FEW_VERTEBRAE,
            f"{len(levels)} evaluable vertebra(e) in L1-L4 ({names}); at least {s.min_evaluable_vertebrae} "
            "needed: spine BMD not usable, use another site",
            region=Region.SPINE_TOTAL.value,
        ))
        return ev
    _recompute_total(exam, rows, levels, s, ev)
    return ev


def _misread(rows: dict[Region, RegionResult], s: CheckSettings, ev: Evaluation) -> dict[Region, list[str]]:
    """Levels whose BMD read from print is impossible, flagged on ``ev``.

    An impossible BMD read from print is a misread, not anatomy: flagged, and the level is left
    out of the rules as if its row were unread, so it never makes itself or a neighbour
    non-evaluable (a scanner's own data keeps the ISCD rule: out of range, not evaluable).
    """
    misread = {v: bad for v in rows if rows[v].method is Method.OCR and (bad := violations(rows[v], s, ("bmd",)))}
    for v, bad in misread.items():
        ev.flags.append(Flag(FlagCode.OUT_OF_RANGE, f"{v.value}: " + "; ".join(bad) + ": a misread, not "
                             "anatomy; check it on the page (left out of the evaluability rules)",
                             region=v.value, measure="bmd"))
    return misread


def _exclusions(exam: Exam, rows: dict[Region, RegionResult], s: CheckSettings,
                ev: Evaluation) -> dict[Region, list[str]]:
    """Why each read level is excluded (an empty list: it is not), the reasons flagged on ``ev``."""
    excluded: dict[Region, list[str]] = {v: [] for v in rows}
    for v, why in _scanner_excluded(exam, rows).items():
        ev.flags.append(Flag(FlagCode.VERTEBRA_EXCLUDED, f"{v.value}: {why}", region=v.value))
        excluded[v].append("excluded")
    for v in rows:
        bad = violations(rows[v], s, ("bmd", "area"))
        if bad:
            ev.flags.append(Flag(FlagCode.VERTEBRA_OUT_OF_RANGE, f"{v.value}: " + "; ".join(bad), region=v.value))
            excluded[v].append("out of range")

    candidates = [v for v in VERTEBRAE if v in rows and not excluded[v]]
    for v, why in _discordant(rows, candidates, s).items():
        alt = _alternative(rows, tuple(candidates), v, s)
        action = "excluded" if s.discordance_excludes else "kept; review whether to exclude it"
        ev.flags.append(Flag(FlagCode.VERTEBRA_T_DISCORDANT, f"{v.value}: {why} ({action}){alt}", region=v.value))
        if s.discordance_excludes:
            excluded[v].append("discordant")
    for v, why in _area_order(rows).items():
        action = "excluded" if s.area_order_excludes else "kept; review the level labels"
        ev.flags.append(Flag(FlagCode.VERTEBRA_AREA_ORDER, f"{v.value}: {why} ({action})", region=v.value))
        if s.area_order_excludes:
            excluded[v].append("area order")
    return excluded


def _recompute_total(exam: Exam, rows: dict[Region, RegionResult], levels: tuple[Region, ...],
                     s: CheckSettings, ev: Evaluation) -> None:
    """ΣBMC/ΣArea over the evaluable ``levels`` as ``ev.total``, unless the printed total covers them."""
    spine_key = Region.SPINE_TOTAL.value
    total = spine.printed_total(exam)
    printed_cover = (spine.total_coverage(total) if total is not None else None) or (tuple(rows) if total else None)
    if printed_cover == levels:
        return  # the printed total already covers exactly the evaluable vertebrae
    label = spine.label_for(levels)
    sums = spine.sum_over(rows, levels)
    if sums is None:
        missing = [v.value for v in levels if v not in rows or rows[v].bmc is None or rows[v].area is None]
        ev.flags.append(Flag(
            FlagCode.TOTAL_NOT_RECOMPUTABLE,
            f"spine total over evaluable {label} not recomputed: BMC or area missing for {', '.join(missing)} "
            "(BMDs are not averaged)",
            region=spine_key,
        ))
        return
    ref_name = _reference_name(exam, rows, levels)
    ya = young_adult(exam, spine_key if len(levels) == 4 else label, ref_name)
    bmd = round(sums.bmd, 3)
    t = round(ya.t_score(sums.bmd), s.t_score_decimals) + 0.0 if ya else None
    ev.total = RegionResult(
        region=Region.SPINE_TOTAL, method=Method.COMPUTED, bmd=bmd, bmc=round(sums.bmc, 2),
        area=round(sums.area, 2), t_score=t, label=label, vertebrae=levels,
        reference=ya.population if ya else None, confidence=_confidence(rows, levels),
        location=Location(detail=f"{_TOTAL_DETAIL} {label} (ISCD)"),
    )
    shown = f"{total.label or 'printed total'} {total.bmd:g}" if total is not None and total.bmd is not None else "no printed total"
    ev.flags.append(Flag(
        FlagCode.TOTAL_RECOMPUTED,
        f"spine total recomputed over evaluable {label}: BMD {bmd:.3f} ({shown} kept beside it)",
        region=spine_key,
    ))
    if ya is None:
        ev.flags.append(Flag(
            FlagCode.REFERENCE_UNKNOWN,
            f"no T-score for the recomputed {label} total: the reference for this combination of vertebrae "
            f"({ref_name or 'unnamed'}) is not in reference_populations.csv",
            region=spine_key,
        ))


_TOTAL_DETAIL = "ΣBMC/ΣArea over evaluable"


def is_own_total(r: RegionResult) -> bool:
    """True for a spine total this module computed (recognised by its location detail)."""
    return r.location is not None and (r.location.detail or "").startswith(_TOTAL_DETAIL)


def apply_evaluation(exam: Exam, ev: Evaluation) -> Exam:
    """``exam`` with ``evaluable`` written on read vertebrae and the computed total in place."""
    regions: list[RegionResult] = []
    foreign_total = False
    for r in exam.regions:
        if r.region is Region.SPINE_TOTAL and r.method is Method.COMPUTED:
            if is_own_total(r):
                continue  # replaced below (keeps apply_all idempotent)
            foreign_total = True  # computed by another stage: left alone
        if r.region.is_vertebra and r.method is not Method.COMPUTED and r.region in ev.evaluable:
            r = r.replace(evaluable=ev.evaluable[r.region])
        regions.append(r)
    if ev.total is not None and not foreign_total:
        regions.append(ev.total)
    return exam.with_regions(regions)
