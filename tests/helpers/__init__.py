"""Helpers the tests share, that hold no tests themselves.

- :mod:`helpers.batch`: DICOM SR files and batch folders from generated truth
  (``write_sr``, ``store_exams``, ``visit_series``), a slow or crashing worker;
- :mod:`helpers.readings`: cell readings as the vote makes them (``sure``, ``single``,
  ``disputed``), for tests of what settles a reading;
- :mod:`helpers.review`: rendered report pages and review batches
  (``make_batch``, ``make_exam``, ``chrome``).

Import them as ``from helpers.batch import write_sr`` (pytest puts ``tests/`` on the path).
"""
