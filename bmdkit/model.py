"""The one data model of bmdkit.

Readers (DICOM, reports) produce an :class:`Exam`; checks, harmonization,
batch, exports and the review page consume it. The model is plain, frozen
dataclasses with enums; it knows nothing of JSON, DICOM or OCR. Patient
identifiers live in their own object (:class:`PatientIdentity`) so that code
which must not see them (logs, EDC exports) can drop them in one place.

Impossible shapes are rejected when an object is built (a side on a
vertebra, a confidence above 1), so a bug in a reader fails loudly instead
of producing a plausible-looking wrong record.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from bmdkit.flags import SKIP_CODES, FlagCode, Severity


class Vendor(str, Enum):
    """Scanner manufacturer, as far as the file or report tells."""

    HOLOGIC = "hologic"
    GE_LUNAR = "ge_lunar"
    NORLAND = "norland"
    UNKNOWN = "unknown"


class InputKind(str, Enum):
    """What a file is, decided from its content (never its name)."""

    DICOM = "dicom"
    IMAGE = "image"
    PDF = "pdf"
    UNKNOWN = "unknown"


class Region(str, Enum):
    """Skeletal regions bmdkit reports.

    The first seven are the contract's regions; the hip subregions are
    optional extras that appear in ``extra_regions`` of the JSON output.
    ``SPINE_TOTAL`` is the lumbar total whatever vertebrae it covers: its
    ``label`` says what was printed (``L1-L4``, ``L2-L4``) and its
    ``vertebrae`` which levels it sums.
    """

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"
    SPINE_TOTAL = "L1-L4"
    FEMORAL_NECK = "femoral_neck"
    TOTAL_HIP = "total_hip"
    TROCHANTER = "trochanter"
    INTERTROCHANTER = "intertrochanter"
    WARDS = "wards"
    UPPER_NECK = "upper_neck"
    SHAFT = "shaft"

    @property
    def is_vertebra(self) -> bool:
        return self in VERTEBRAE

    @property
    def is_spine(self) -> bool:
        return self in VERTEBRAE or self is Region.SPINE_TOTAL

    @property
    def is_hip(self) -> bool:
        return not self.is_spine

    @property
    def in_contract(self) -> bool:
        """True for the regions the JSON contract's ``regions`` enum allows."""
        return self in CONTRACT_REGIONS


VERTEBRAE: tuple[Region, ...] = (Region.L1, Region.L2, Region.L3, Region.L4)
CONTRACT_REGIONS = frozenset(
    {*VERTEBRAE, Region.SPINE_TOTAL, Region.FEMORAL_NECK, Region.TOTAL_HIP}
)


class Side(str, Enum):
    """Side of a hip result; ``MEAN`` is the dual-femur average the scanner prints."""

    LEFT = "left"
    RIGHT = "right"
    MEAN = "mean"


class Method(str, Enum):
    """How a value was obtained."""

    DICOM_PRIVATE = "dicom-private"
    DICOM_SR = "dicom-sr"
    OCR = "ocr"
    COMPUTED = "computed"


class ScanType(str, Enum):
    """What a file holds, as the scanner or report says."""

    SPINE = "spine"
    HIP_LEFT = "hip_left"
    HIP_RIGHT = "hip_right"
    HIP_DUAL = "hip_dual"
    FOREARM = "forearm"
    WHOLE_BODY = "whole_body"
    OTHER = "other"


class Status(str, Enum):
    """A file's outcome, derived from its regions and flags."""

    EXTRACTED = "extracted"
    FLAGGED = "flagged"
    FAILED = "failed"


class Outcome(str, Enum):
    """What became of an input: its status, or *skipped* for a file that is plainly not a scan
    or report. A skipped file's status is ``failed`` (nothing was read), but it is not counted
    or listed as a failure."""

    EXTRACTED = "extracted"
    FLAGGED = "flagged"
    FAILED = "failed"
    SKIPPED = "skipped"


MEASURES: tuple[str, ...] = ("bmd", "bmc", "area", "t_score", "z_score")
#: What a reviewer decides about a file as a whole (the ``measure`` of an exam-level decision):
#: its date, its scan type and side, and the page accepted as read.
EXAM_FIELDS: tuple[str, ...] = ("exam_date", "scan_type", "page")


@dataclass(frozen=True)
class Location:
    """Where a value was read.

    For DICOM: ``element`` is a path such as ``(0019,1000)`` or
    ``ContentSequence[2].ContentSequence[0]``. For a page: ``page`` (1-based)
    and ``box`` ``(x0, y0, x1, y1)`` in pixels of the page image as read.
    """

    element: str | None = None
    page: int | None = None
    box: tuple[int, int, int, int] | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.box is not None:
            if len(self.box) != 4:
                raise ValueError("box must be (x0, y0, x1, y1)")
            x0, y0, x1, y1 = self.box
            if x1 < x0 or y1 < y0:
                raise ValueError(f"box corners out of order: {self.box}")
        if self.page is not None and self.page < 1:
            raise ValueError("page numbers are 1-based")


@dataclass(frozen=True)
class ValueSource:
    """Provenance of one measure of one region (e.g. the T-score cell)."""

    confidence: float | None = None
    location: Location | None = None
    raw_text: str | None = None
    engines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_confidence(self.confidence)


@dataclass(frozen=True)
class RegionResult:
    """One region's results as read (or computed) from one exam."""

    region: Region
    method: Method
    side: Side | None = None
    bmd: float | None = None
    bmc: float | None = None
    area: float | None = None
    t_score: float | None = None
    z_score: float | None = None
    evaluable: bool | None = None
    confidence: float | None = None
    label: str | None = None
    vertebrae: tuple[Region, ...] | None = None
    reference: str | None = None
    location: Location | None = None
    sources: Mapping[str, ValueSource] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.side is not None and self.region.is_spine:
            raise ValueError(f"a spine region ({self.region.value}) has no side")
        if self.vertebrae is not None:
            if self.region is not Region.SPINE_TOTAL:
                raise ValueError("only the spine total covers vertebrae")
            if not all(v in VERTEBRAE for v in self.vertebrae):
                raise ValueError(f"not lumbar vertebrae: {self.vertebrae}")
            object.__setattr__(
                self, "vertebrae", tuple(sorted(set(self.vertebrae), key=VERTEBRAE.index))
            )
        if self.evaluable is not None and not self.region.is_vertebra:
            raise ValueError("evaluable applies to single vertebrae only")
        _check_confidence(self.confidence)
        for name in self.sources:
            if name not in MEASURES:
                raise ValueError(f"unknown measure {name!r}")

    @property
    def key(self) -> tuple[Region, Side | None]:
        """Identity of the region within an exam (region and side)."""
        return (self.region, self.side)

    def value(self, measure: str) -> float | None:
        if measure not in MEASURES:
            raise KeyError(measure)
        return getattr(self, measure)

    def replace(self, **changes: object) -> RegionResult:
        return replace(self, **changes)


@dataclass(frozen=True)
class Flag:
    """Something a person should know about an exam or one of its values.

    ``region`` names the region a flag is about (None: the whole file). ``side``
    and ``measure`` narrow it further where a reader or a decision knows them
    (a T-score disagreement on the right total hip): a flag without them is
    about every side and every measure of its region. Exports and the review
    page hold back, and ask about, exactly what a flag covers.

    ``measures`` (optional, with ``measure`` None) names the measures of a flag
    about several but not all of its row's values: a BMD = BMC / area mismatch
    is about the BMD, BMC and area, not the row's T- and Z-scores. A reader of
    flags that does not know it takes the flag as about every measure (wider,
    never narrower).
    """

    code: FlagCode
    message: str
    region: str | None = None
    severity: Severity | None = None
    side: Side | None = None
    measure: str | None = None
    measures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity is None:
            object.__setattr__(self, "severity", self.code.severity)
        if self.measure is not None and self.measure not in MEASURES and self.measure not in EXAM_FIELDS:
            raise ValueError(f"unknown measure {self.measure!r} on a flag")
        if self.measures and (self.measure is not None or any(m not in MEASURES for m in self.measures)):
            raise ValueError(f"flag measures {self.measures!r}: known measures, and only without one measure")

    def covers(self, region: str, side: Side | None, measure: str) -> bool:
        """True when this flag is about the value ``measure`` of ``region``/``side``."""
        return (self.region == region and (self.side is None or self.side is side)
                and (self.measure is None or self.measure == measure)
                and (not self.measures or measure in self.measures))

    @property
    def level(self) -> Severity:
        assert self.severity is not None
        return self.severity


@dataclass(frozen=True)
class PatientIdentity:
    """Identifiers as found in the file; never logged, never exported to an EDC."""

    name: str | None = None
    patient_id: str | None = None
    birth_date: _dt.date | None = None
    sex: str | None = None
    other: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # keep identifiers out of accidental logs
        return "PatientIdentity(<redacted>)"

    __str__ = __repr__

    def is_empty(self) -> bool:
        return not (self.name or self.patient_id or self.birth_date or self.sex or self.other)


#: the characters of a SHA-256 written as bmdkit writes it (lowercase hex)
_SHA256_DIGITS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Source:
    """The input file an exam was read from."""

    path: str
    sha256: str
    kind: InputKind
    size: int | None = None
    #: what the file holds where ``kind`` cannot say it (the contract's kinds have no text file):
    #: "text_report" for a plain-text report read by sentences; None otherwise
    input_form: str | None = None

    def __post_init__(self) -> None:
        if len(self.sha256) != 64 or not _SHA256_DIGITS.issuperset(self.sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")


def scan_types_of(regions: Iterable[RegionResult]) -> tuple[ScanType, ...]:
    """The scans results come from: spine, and the left, right or both hips (by the hip rows' sides)."""
    regions = list(regions)
    out: list[ScanType] = []
    if any(r.region.is_spine for r in regions):
        out.append(ScanType.SPINE)
    sides = {r.side for r in regions if r.region.is_hip}
    if Side.LEFT in sides and Side.RIGHT in sides:
        out.append(ScanType.HIP_DUAL)
    elif Side.LEFT in sides:
        out.append(ScanType.HIP_LEFT)
    elif Side.RIGHT in sides:
        out.append(ScanType.HIP_RIGHT)
    return tuple(out)


@dataclass(frozen=True)
class Exam:
    """Everything bmdkit knows about one input file."""

    source: Source
    vendor: Vendor = Vendor.UNKNOWN
    scanner_model: str | None = None
    scanner_serial: str | None = None
    scanner_software: str | None = None
    institution: str | None = None
    exam_date: _dt.date | None = None
    study_instance_uid: str | None = None
    scan_types: tuple[ScanType, ...] = ()
    patient: PatientIdentity | None = None
    regions: tuple[RegionResult, ...] = ()
    flags: tuple[Flag, ...] = ()
    reader: str | None = None

    def __post_init__(self) -> None:
        seen: set[tuple[Region, Side | None, Method]] = set()
        for r in self.regions:
            k = (r.region, r.side, r.method)
            if k in seen:
                raise ValueError(f"region {r.region.value}/{r.side} given twice by {r.method.value}")
            seen.add(k)

    @property
    def status(self) -> Status:
        """extracted, flagged or failed; derived, never stored."""
        return derive_status(self.regions, self.flags)

    @property
    def outcome(self) -> Outcome:
        """The status, or ``skipped`` when a flag says the file is not a scan; derived, never stored."""
        if any(f.code in SKIP_CODES for f in self.flags):
            return Outcome.SKIPPED
        return Outcome(self.status.value)

    def region(
        self, region: Region, side: Side | None = None, method: Method | None = None
    ) -> RegionResult | None:
        """The first result for ``region``/``side``, read values before computed ones."""
        hits = [r for r in self.regions if r.region is region and r.side is side]
        if method is not None:
            hits = [r for r in hits if r.method is method]
        hits.sort(key=lambda r: r.method is Method.COMPUTED)
        return hits[0] if hits else None

    def with_flags(self, flags: Iterable[Flag]) -> Exam:
        return replace(self, flags=self.flags + tuple(flags))

    def with_regions(self, regions: Iterable[RegionResult]) -> Exam:
        return replace(self, regions=tuple(regions))

    def replace(self, **changes: object) -> Exam:
        return replace(self, **changes)


def derive_status(regions: Iterable[RegionResult], flags: Iterable[Flag]) -> Status:
    """failed on any error flag or no value at all; flagged on any review flag."""
    flags = list(flags)
    if any(f.level is Severity.ERROR for f in flags):
        return Status.FAILED
    if not any(r.bmd is not None or r.t_score is not None for r in regions):
        return Status.FAILED
    if any(f.level is Severity.REVIEW for f in flags):
        return Status.FLAGGED
    return Status.EXTRACTED


def _check_confidence(value: float | None) -> None:
    if value is not None and not (0.0 <= value <= 1.0):
        raise ValueError(f"confidence must lie in [0, 1], got {value}")
