"""Reviewer decisions: what a reviewer decided about a doubtful value or a whole file, and applying it.

Used by the review page (which offers decisions), ``bmdkit apply-decisions``,
the batch (which re-applies ``audit.csv`` whenever it regenerates its
outputs) and the exports (which hold back what is still in doubt), so it sits
below all of them and imports none:

- :mod:`bmdkit.decisions.records`: the decisions CSV, ``audit.csv``
  (``load_audit``) and ``apply_decisions``;
- :mod:`bmdkit.decisions.exam_fields`: decisions on a file as a whole (exam
  date, scan type and side, page);
- :mod:`bmdkit.decisions.settle`: which review flags decisions settle, and
  what is still in doubt.

The old paths ``bmdkit.review.decisions``, ``bmdkit.review.settle`` and
``bmdkit.review.exam_fields`` name the same modules.
"""
