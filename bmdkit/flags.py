"""The closed list of flag codes bmdkit raises, each with its severity and meaning.

A flag is a record, not an exception: it says that a value (or a whole file)
needs a person, or cannot be used. Codes are stable strings that the imaging
core's scripts and the review page key on; add new codes, never rename one.

Severities:

- ``info``: worth knowing, does not stop the value from being used;
- ``review``: a person must look before the value is used (status ``flagged``);
- ``error``: nothing usable here (status ``failed``).
"""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    INFO = "info"
    REVIEW = "review"
    ERROR = "error"


class FlagCode(str, Enum):
    """Every flag bmdkit can raise. ``code.severity`` and ``code.meaning`` document each."""

    # --- the file as a whole -------------------------------------------------
    EMPTY_FILE = "empty_file"
    UNREADABLE = "unreadable"
    UNSUPPORTED_KIND = "unsupported_kind"
    NOT_A_SCAN = "not_a_scan"
    NOT_DXA = "not_dxa"
    NO_RESULTS = "no_results"
    NO_READER = "no_reader"
    RESOURCE_LIMIT = "resource_limit"
    INTERNAL_ERROR = "internal_error"
    UNKNOWN_VENDOR = "unknown_vendor"
    NO_EXAM_DATE = "no_exam_date"
    AMBIGUOUS_DATE = "ambiguous_date"
    UNPLACED_DATA = "unplaced_data"
    SOURCES_DISAGREE = "sources_disagree"
    SHARED_CELL = "shared_cell"
    PAGE_QUALITY = "page_quality"
    # --- one value -----------------------------------------------------------
    LOW_CONFIDENCE = "low_confidence"
    ENGINE_DISAGREEMENT = "engine_disagreement"
    LABEL_UNCERTAIN = "label_uncertain"
    MISSING_VALUE = "missing_value"
    REGION_NOT_READ = "region_not_read"
    BMD_BMC_AREA_MISMATCH = "bmd_bmc_area_mismatch"
    TOTAL_MISMATCH = "total_mismatch"
    T_SCORE_INCONSISTENT = "t_score_inconsistent"
    SIDES_INCONSISTENT = "sides_inconsistent"
    OUT_OF_RANGE = "out_of_range"
    REFERENCE_UNKNOWN = "reference_unknown"
    # --- vertebrae (ISCD) ----------------------------------------------------
    VERTEBRA_EXCLUDED = "vertebra_excluded"
    VERTEBRA_T_DISCORDANT = "vertebra_t_discordant"
    VERTEBRA_OUT_OF_RANGE = "vertebra_out_of_range"
    VERTEBRA_AREA_ORDER = "vertebra_area_order"
    TOO_FEW_VERTEBRAE = "too_few_vertebrae"
    TOTAL_NOT_RECOMPUTABLE = "total_not_recomputable"
    TOTAL_RECOMPUTED = "total_recomputed"
    # --- follow-up -----------------------------------------------------------
    SCANNER_CHANGED = "scanner_changed"
    VERTEBRAE_CHANGED = "vertebrae_changed"
    AREA_CHANGED = "area_changed"
    IMPLAUSIBLE_CHANGE = "implausible_change"
    # --- harmonization -------------------------------------------------------
    SCANNER_UNMATCHED = "scanner_unmatched"
    AFTER_DRIFT = "after_drift"
    NO_EQUATION = "no_equation"
    # --- batch and export ----------------------------------------------------
    DUPLICATE_INPUT = "duplicate_input"
    NAME_COLLISION = "name_collision"
    UNMAPPED_PATIENT = "unmapped_patient"
    OUTSIDE_VISIT_WINDOW = "outside_visit_window"
    CORRECTED = "corrected"
    ACCEPTED = "accepted"

    @property
    def severity(self) -> Severity:
        return _CATALOGUE[self][0]

    @property
    def meaning(self) -> str:
        return _CATALOGUE[self][1]


_I, _R, _E = Severity.INFO, Severity.REVIEW, Severity.ERROR

_CATALOGUE: dict[FlagCode, tuple[Severity, str]] = {
    FlagCode.EMPTY_FILE: (_E, "The file is empty (zero bytes)."),
    FlagCode.UNREADABLE: (_E, "The file is corrupt or truncated and could not be parsed."),
    FlagCode.UNSUPPORTED_KIND: (_E, "The content is not DICOM, PDF or a supported image format."),
    FlagCode.NOT_A_SCAN: (_I, "The file is plainly not a scan or report (notes, data, an office document, a "
                             "DICOMDIR, folder metadata): skipped, not failed."),
    FlagCode.NOT_DXA: (_E, "The file is valid but is not a bone densitometry (DXA) exam or report."),
    FlagCode.NO_RESULTS: (_E, "A DXA file with no numeric results in it (e.g. a scan image only)."),
    FlagCode.NO_READER: (_E, "No reader for this kind of input is installed or built yet."),
    FlagCode.RESOURCE_LIMIT: (_E, "Reading stopped at a configured limit (time, memory, pixels, pages)."),
    FlagCode.INTERNAL_ERROR: (_E, "bmdkit hit an unexpected error on this file; please report it."),
    FlagCode.UNKNOWN_VENDOR: (_I, "The scanner manufacturer could not be determined."),
    FlagCode.NO_EXAM_DATE: (_R, "No exam date was found; visits cannot be assigned without one."),
    FlagCode.AMBIGUOUS_DATE: (_R, "The exam date could be read more than one way (e.g. day and month)."),
    FlagCode.UNPLACED_DATA: (_R, "Result-like data was found whose meaning could not be placed; it was not used."),
    FlagCode.SOURCES_DISAGREE: (_R, "Two sources in the same file or study give different values."),
    FlagCode.SHARED_CELL: (_R, "Two measures of one row were read from the same place on the page (a column may be "
                               "blank): neither value is used; read them from the page."),
    FlagCode.PAGE_QUALITY: (_R, "The page image is of poor quality (blur, skew, low resolution)."),
    FlagCode.LOW_CONFIDENCE: (_R, "A value was read with low confidence."),
    FlagCode.ENGINE_DISAGREEMENT: (_R, "The OCR engines read this value differently."),
    FlagCode.LABEL_UNCERTAIN: (_R, "The row's label was misread; the region was taken from the nearest label word."),
    FlagCode.MISSING_VALUE: (_I, "A value expected for this region was not present."),
    FlagCode.REGION_NOT_READ: (_R, "The page shows a region or value (its table implies it) that could not be read."),
    FlagCode.BMD_BMC_AREA_MISMATCH: (_R, "BMD does not equal BMC / area within rounding."),
    FlagCode.TOTAL_MISMATCH: (_R, "The spine total does not equal the sum of its vertebrae's BMC over their area."),
    FlagCode.T_SCORE_INCONSISTENT: (_R, "The T-score does not fit the BMD (sign or size) or the other regions."),
    FlagCode.SIDES_INCONSISTENT: (_R, "The dual-femur mean does not lie between (or equal the average of) the left and right values."),
    FlagCode.OUT_OF_RANGE: (_R, "A value lies outside the plausible range for its region."),
    FlagCode.REFERENCE_UNKNOWN: (_I, "The reference population behind a T- or Z-score is not known."),
    FlagCode.VERTEBRA_EXCLUDED: (_I, "The scanner or report marked this vertebra as excluded."),
    FlagCode.VERTEBRA_T_DISCORDANT: (_R, "This vertebra's T-score differs by more than 1.0 from its neighbours (ISCD)."),
    FlagCode.VERTEBRA_OUT_OF_RANGE: (_R, "This vertebra's BMD or area is outside plausible ranges."),
    FlagCode.VERTEBRA_AREA_ORDER: (_R, "Vertebral areas are out of anatomical order; levels may be mislabeled."),
    FlagCode.TOO_FEW_VERTEBRAE: (_R, "Fewer than two evaluable vertebrae in L1-L4: the spine is not usable."),
    FlagCode.TOTAL_NOT_RECOMPUTABLE: (_R, "The spine total over the evaluable vertebrae cannot be recomputed (BMC or area missing)."),
    FlagCode.TOTAL_RECOMPUTED: (_I, "The spine total was recomputed over the evaluable vertebrae."),
    FlagCode.SCANNER_CHANGED: (_R, "A different scanner or vendor was used between visits."),
    FlagCode.VERTEBRAE_CHANGED: (_R, "A different set of vertebrae was evaluable between visits."),
    FlagCode.AREA_CHANGED: (_R, "A region's area changed between visits beyond the configured percent."),
    FlagCode.IMPLAUSIBLE_CHANGE: (_R, "The change in BMD between visits is implausibly large."),
    FlagCode.SCANNER_UNMATCHED: (_R, "The scan could not be matched to a configured scanner."),
    FlagCode.AFTER_DRIFT: (_R, "The scan was taken after its scanner's phantom series began to drift."),
    FlagCode.NO_EQUATION: (_R, "No harmonization equation exists for this vendor, region or model."),
    FlagCode.DUPLICATE_INPUT: (_I, "The same file content was seen under more than one name."),
    FlagCode.NAME_COLLISION: (_R, "Another input is shown under the same name (or this place held other "
                                  "content before); each is kept as its own result: check which is which."),
    FlagCode.UNMAPPED_PATIENT: (_R, "The patient is not in the subject mapping; not exported."),
    FlagCode.OUTSIDE_VISIT_WINDOW: (_R, "The exam date falls outside every visit window."),
    FlagCode.CORRECTED: (_I, "A reviewer changed this value (or the exam date, or the scan type and side); the value "
                             "first read is in the flag message and the audit trail."),
    FlagCode.ACCEPTED: (_I, "A reviewer looked at this value (or the exam date, scan type, or the page as a whole) "
                            "and accepted it as read; nothing was changed. See the audit trail."),
}

#: flags about what the scan shows under the ISCD rules (a vertebra to exclude or keep, a spine
#: total to recompute), not about how a value was read: a reviewer's clinical call on values read
#: right. The benches count review burden with and without them.
ISCD_CODES: frozenset[FlagCode] = frozenset({
    FlagCode.VERTEBRA_EXCLUDED, FlagCode.VERTEBRA_T_DISCORDANT, FlagCode.VERTEBRA_OUT_OF_RANGE,
    FlagCode.VERTEBRA_AREA_ORDER, FlagCode.TOO_FEW_VERTEBRAE, FlagCode.TOTAL_NOT_RECOMPUTABLE,
    FlagCode.TOTAL_RECOMPUTED,
})

#: codes that make a file *skipped* rather than failed (see :class:`bmdkit.model.Outcome`)
SKIP_CODES: frozenset[FlagCode] = frozenset({FlagCode.NOT_A_SCAN})

missing = set(FlagCode) - set(_CATALOGUE)
if missing:  # pragma: no cover - guarded by tests too
    raise RuntimeError(f"flag codes without a meaning: {sorted(c.value for c in missing)}")
del missing
