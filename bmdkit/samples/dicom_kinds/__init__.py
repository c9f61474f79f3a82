"""Synthetic DXA DICOM files, one module per family of file shapes.

``base`` (dataset attributes, UIDs, writing), ``pixels``, ``ground_truth``
(the dict written beside each file), ``hologic_script``, ``hologic_xml``,
``sr``, ``images`` (scan images without results), ``bad_inputs``,
``report_pages`` (pages for OCR) and ``write`` (kinds and the entry point).
:mod:`bmdkit.samples.dicom_gen` re-exports the names for existing callers.
"""
