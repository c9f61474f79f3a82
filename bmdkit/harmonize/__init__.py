"""Harmonizing BMD across vendors and centers (issue 7).

Three layers, each its own step with its own provenance:

- :mod:`~bmdkit.harmonize.sbmd`: standardized BMD (mg/cm²) from published
  vendor equations;
- :mod:`~bmdkit.harmonize.crosscal`: pairwise vendor-to-vendor conversion
  (published) and in vivo cross-calibration fits (:mod:`.deming`);
- :mod:`~bmdkit.harmonize.phantom` and :mod:`~bmdkit.harmonize.drift`: the
  trial's own phantom calibration and drift detection per scanner.

:mod:`~bmdkit.harmonize.tscore` recomputes T-scores with a named reference
and :mod:`~bmdkit.harmonize.rows` puts everything beside the original
values, one row per exam region; originals are never overwritten.
"""
