"""Where a NUM of a structured report goes, from what its names say (see :mod:`.sr`).

Pure functions of the texts and codes of a content item (its concept name,
unit, modifiers) and of its context's meaning: the same names recur in every
SR, so the SR walker remembers each placement (:class:`Placements`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bmdkit.dicom import words
from bmdkit.model import Region, Side

#: (region, side, measure, conflict or why not placed, what the value is recorded with)
Placement = tuple["Region | None", "Side | None", "str | None", "str | None", "Placed | None"]
#: at most this many placements are remembered (:class:`Placements`)
PLACED_ENTRIES = 8192


class Placements:
    """Where NUMs were placed (:func:`placement`): by their context's meaning, then by the rest of
    what decides it (concept name, unit, modifiers); at most :data:`PLACED_ENTRIES` in all.

    By context first so that a walk hashes a context once for all the NUMs beneath it
    (:meth:`table`), not once a NUM.
    """

    def __init__(self) -> None:
        self.by_context: dict[words.Meaning, dict[tuple[object, ...], Placement]] = {}
        self.count = 0

    def table(self, ctx: words.Meaning) -> dict[tuple[object, ...], Placement]:
        """The placements under ``ctx``, by the rest of what decides them (read only: see :meth:`keep`)."""
        found = self.by_context.get(ctx)
        if found is None:
            found = self.by_context[ctx] = {}
        return found

    def keep(self, ctx: words.Meaning, key: tuple[object, ...], placed: Placement) -> bool:
        """Remember a placement; True when all before it were forgotten (the bound was reached:
        hostile files cannot make it grow), so that tables from :meth:`table` are stale."""
        cleared = self.count >= PLACED_ENTRIES
        if cleared:
            self.by_context.clear()
            self.count = 0
        self.table(ctx)[key] = placed
        self.count += 1
        return cleared


#: the placements made so far, in every SR read
PLACED = Placements()


@dataclass(frozen=True)
class Placed:
    """What a placed NUM's value is recorded with: the result's name (for a flag), label, vertebrae."""

    name: str
    label: str | None
    vertebrae: tuple[Region, ...] | None


def placement(m: words.Meaning, label: str, concept: tuple[str, str, str], unit_code: str, unit_text: str,
               mods: words.Meaning, mod_texts: list[str], ctx: words.Meaning) -> Placement:
    """Where a NUM goes: (region, side, measure, conflict, what it is recorded with), or with no
    region, why it is not placed (None: dropped without a word).

    ``m`` and ``label`` are the meaning and label of the ``concept`` name
    (:func:`name_meaning`); ``mods`` and ``mod_texts`` what its modifiers
    say; ``ctx`` the meaning of its context.
    """
    own = m.merged_under(mods)
    full = own.merged_under(ctx)
    verdict = words.weigh_unit(own.measure or full.measure, unit_code, unit_text)
    if verdict.measure is None:
        why = f"{verdict.why}" if own.region or own.total or own.context or full.measure else None
        return None, None, None, why, None
    if verdict.measure == "percent":
        return None, None, None, None, None
    region = words.resolve_region(full)
    if region is None and not full.diff:
        region = _whole_site(concept, label, mod_texts)
    if region is None or full.diff:
        if full.diff:
            return None, None, None, None, None
        return None, None, None, ("no region" + (": a femur value with no finding site"
                                                 if full.context == "hip" else "")), None
    side = full.side if region.is_hip else None
    name = region.value + (f"/{side.value}" if side else "")
    return region, side, verdict.measure, verdict.conflict, Placed(name, _label(full), full.vertebrae)


def _whole_site(concept: tuple[str, str, str], label: str, mod_texts: tuple[str, ...]) -> Region | None:
    """The region of a whole-site measurement ('DXA Lumbar spine [...]' -> L1-L4 total)."""
    _, code, scheme = concept
    if scheme.upper() in ("LN", "LOINC") and code in words.loinc_site_regions():
        return words.loinc_site_regions()[code]
    for t in (label, *mod_texts):
        region = words.whole_site(t)
        if region is not None:
            return region
    return None


@functools.lru_cache(maxsize=4096)
def name_meaning(meaning_text: str, code: str, scheme: str) -> tuple[words.Meaning, str]:
    """The meaning of a concept name (its text, and a LOINC code, which decides), and its label."""
    m = words.meaning(meaning_text)
    if scheme.upper() in ("LN", "LOINC") and code in words.loinc_codes():
        ctx, side, measure = words.loinc_codes()[code]
        m = words.Meaning(region=m.region, total=m.total, vertebrae=m.vertebrae,
                          side=m.side or side, diff=m.diff, context=m.context or ctx,
                          measure=measure or m.measure, excluded=m.excluded)  # the code decides
    return words.shared(m), meaning_text or code


@functools.lru_cache(maxsize=4096)
def code_value_meaning(meaning_text: str, code: str, scheme: str) -> tuple[words.Meaning, str]:
    """The meaning of a CODE item's value (SNOMED codes known in reference_data), and its text."""
    m = words.meaning(meaning_text)
    if scheme.upper() in ("SCT", "SRT", "SNM3") and code in words.snomed_codes():
        m = m.merged_under(words.snomed_codes()[code])
        meaning_text = meaning_text or words.snomed_display(code)
    return words.shared(m), meaning_text


def _label(m: words.Meaning) -> str | None:
    if m.vertebrae:
        idx = [int(v.value[1]) for v in m.vertebrae]
        if idx == list(range(idx[0], idx[0] + len(idx))):
            return f"{m.vertebrae[0].value}-{m.vertebrae[-1].value}"
        return ",".join(v.value for v in m.vertebrae)
    return None
