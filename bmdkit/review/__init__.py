"""The review page and reviewer decisions for a batch output folder.

- :mod:`bmdkit.review.page`: ``build_page(DIR)`` writes one self-contained HTML file;
- :mod:`bmdkit.review.crops`: crops of the page around each OCR value;
- :mod:`bmdkit.review.plots`: BMD by center, phantom control charts;
- reviewer decisions (the CSV, ``audit.csv``, applying them, what is still in doubt) are
  :mod:`bmdkit.decisions`'s; ``bmdkit.review.decisions``, ``.settle`` and ``.exam_fields``
  remain as old names of its modules.
"""
