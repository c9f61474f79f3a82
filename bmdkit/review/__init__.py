"""The review page and reviewer decisions for a batch output folder.

- :mod:`bmdkit.review.page`: ``build_page(DIR)`` writes one self-contained HTML file;
- :mod:`bmdkit.review.crops`: crops of the page around each OCR value;
- :mod:`bmdkit.review.plots`: BMD by center, phantom control charts;
- :mod:`bmdkit.review.decisions`: the decisions CSV, ``load_audit`` and ``apply_decisions``;
- :mod:`bmdkit.review.exam_fields`: decisions on a file as a whole (exam date, scan type and side, page);
- :mod:`bmdkit.review.settle`: which review flags decisions settle, and what is still in doubt.
"""
