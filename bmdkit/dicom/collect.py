"""Gather values found anywhere in a DICOM file into region results with provenance.

Each reader (SR, script table, XML) feeds a :class:`Collector` one value at a
time, already placed (region, side, measure) and with the element it came
from. The collector keeps the first value of each measure, flags a second
different one, applies vertebra exclusions and spine-total coverage, and
builds :class:`~bmdkit.model.RegionResult` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bmdkit.flags import FlagCode
from bmdkit.model import (
    MEASURES,
    VERTEBRAE,
    Flag,
    Location,
    Method,
    Region,
    RegionResult,
    Side,
    ValueSource,
)

#: exact DICOM values are read, not recognised: full confidence
EXACT = 1.0

Key = tuple[Region, Side | None]


@dataclass
class _Entry:
    values: dict[str, tuple[float, str, str | None]] = field(default_factory=dict)
    label: str | None = None
    vertebrae: tuple[Region, ...] | None = None
    element: str | None = None


class Collector:
    """Values of one source (e.g. 'script table') in one file."""

    def __init__(self, method: Method, what: str) -> None:
        self.method = method
        self.what = what
        self.entries: dict[Key, _Entry] = {}
        self.excluded: dict[Region, str] = {}
        self.included: set[Region] = set()
        self.flags: list[Flag] = []
        self.unplaced: list[str] = []

    def __bool__(self) -> bool:
        return any(e.values for e in self.entries.values())

    def add(self, region: Region, side: Side | None, measure: str, value: float | None,
            element: str, raw: str | None = None, label: str | None = None,
            vertebrae: tuple[Region, ...] | None = None) -> None:
        """Record one value; a second, different value for the same slot is flagged, not used."""
        if value is None or measure not in MEASURES:
            return
        if region.is_spine:
            side = None
        entry = self.entries.setdefault((region, side), _Entry())
        if entry.element is None:
            entry.element = element
        if label and not entry.label:
            entry.label = label
        if vertebrae and entry.vertebrae is None:
            entry.vertebrae = vertebrae
        old = entry.values.get(measure)
        if old is not None:
            if old[0] != value:
                name = region.value + (f"/{side.value}" if side else "")
                self.flags.append(Flag(
                    FlagCode.SOURCES_DISAGREE,
                    f"{name}: the {self.what} holds two values for {measure} "
                    f"({old[0]} at {old[1]}, {value} at {element}); the first is used",
                    region=name))
            return
        entry.values[measure] = (value, element, raw)

    def mark(self, vertebra: Region, excluded: bool, element: str) -> None:
        """The file says this vertebra is excluded from (or included in) the total."""
        if not vertebra.is_vertebra:
            return
        if excluded:
            self.excluded.setdefault(vertebra, element)
            self.included.discard(vertebra)
        elif vertebra not in self.excluded:
            self.included.add(vertebra)

    def unplaced_value(self, where: str) -> None:
        self.unplaced.append(where)

    def results(self) -> tuple[list[RegionResult], list[Flag]]:
        """Region results and the flags this source raised."""
        flags = list(self.flags)
        present = [v for v in VERTEBRAE if (v, None) in self.entries]
        total = self.entries.get((Region.SPINE_TOTAL, None))
        covered: tuple[Region, ...] | None = None
        if total is not None:
            if total.vertebrae is not None:
                covered = total.vertebrae
            elif present:
                covered = tuple(v for v in present if v not in self.excluded)
        excluded = dict(self.excluded)
        if covered is not None:
            for v in present:
                if v not in covered and v not in excluded:
                    excluded[v] = f"not in the total {covered[0].value}-{covered[-1].value}"
        out: list[RegionResult] = []
        for (region, side), e in self.entries.items():
            if not e.values:
                continue
            sources = {
                m: ValueSource(confidence=EXACT, location=Location(element=el), raw_text=raw)
                for m, (_, el, raw) in e.values.items()
            }
            kwargs: dict[str, object] = {m: v for m, (v, _, _) in e.values.items()}
            evaluable = None
            if region.is_vertebra:
                if region in excluded:
                    evaluable = False
                elif covered is not None and region in covered or region in self.included:
                    evaluable = True
            out.append(RegionResult(
                region=region, side=side, method=self.method, confidence=EXACT,
                label=e.label,
                vertebrae=(covered if region is Region.SPINE_TOTAL else None),
                evaluable=evaluable,
                location=Location(element=e.element, detail=self.what),
                sources=sources, **kwargs,  # type: ignore[arg-type]
            ))
        for v, why in excluded.items():
            if (v, None) in self.entries:
                flags.append(Flag(FlagCode.VERTEBRA_EXCLUDED,
                                  f"{v.value} excluded by the scanner ({self.what}: {why})",
                                  region=v.value))
        if self.unplaced:
            shown = ", ".join(self.unplaced[:5]) + (" ..." if len(self.unplaced) > 5 else "")
            flags.append(Flag(FlagCode.UNPLACED_DATA,
                              f"{len(self.unplaced)} result-like value(s) in the {self.what} "
                              f"could not be placed and were not used: {shown}"))
        order = {r: i for i, r in enumerate(Region)}
        out.sort(key=lambda r: (order[r.region], r.side.value if r.side else ""))
        return out, flags
