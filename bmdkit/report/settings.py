"""The report reader's operating settings: thresholds that are choices, not reference numbers.

Reference numbers (plausible ranges, reference populations, label words) live
in ``reference_data/``. What is here decides how hard the reader tries and
when it asks a person to look; each value says why it is what it is. One
frozen instance, :data:`SETTINGS`, is read at call time (``settings.SETTINGS.x``),
so a test can replace it whole with ``monkeypatch.setattr(settings, "SETTINGS", ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportSettings:
    """Thresholds of the report reader (see each field)."""

    #: a page whose cell readings average below this confidence gets a PAGE_QUALITY flag
    #: ("values read with low confidence"); tuned on the bench pages so clean scans stay quiet
    page_quality_min: float = 0.7
    #: a prepared page whose sharpness (variance of the Laplacian of its grey image,
    #: ``preprocess.sharpness``) is below this is flagged PAGE_QUALITY ("blurred"): sharp
    #: 200-300 dpi scans measure in the hundreds to thousands, a defocused phone photo below 50
    blurred_sharpness: float = 50.0
    #: residual line slope (dy/dx, about 0.3 degrees) above which a page is turned straight after OCR
    residual_skew_min: float = 0.005
    #: share of the per-file time limit after which optional passes (other page orientations,
    #: the second engine's layout) are not started, so a page with no table fails with its
    #: reason before the batch's timeout
    optional_pass_budget: float = 0.4
    #: share of the per-file time limit by which every whole-page OCR call must be done
    ocr_budget: float = 0.8
    #: the spine total's BMC and area may differ from the sums over its vertebrae by
    #: ``total_per_vertebra * n + total_base``: each printed value (n vertebrae and the
    #: total) is rounded to 0.01 and may be off by 0.005, plus a little slack (0.006 each)
    total_per_vertebra: float = 0.006
    total_base: float = 0.006
    #: a table's body ends at a vertical gap wider than this many text heights: rows sit about
    #: 1.2-1.6 heights apart, and the notes a vendor prints far below the table (GE's footer of
    #: precision and reference text, with its '68%' and '1SD') are not rows of it
    table_gap_heights: float = 4.0


SETTINGS = ReportSettings()
