"""Reading printed DXA reports: scans, photos, PDFs and DICOM report pages.

``read_report(path, source, options, payload=None) -> Exam`` is the one entry
point (:mod:`bmdkit.report.driver`, a short driver). A page flows one way
through typed stages (bmdkit/report/README.md lists them, one line each):

1. page: ``pagefiles`` (load within the caps of ReadOptions), ``pdftext`` (a PDF
   text layer's words), ``preprocess`` + ``pageimage`` (straightening,
   orientation, the layout engine's reading);
2. tokens: ``tokens`` (:class:`~bmdkit.report.tokens.Token`), made by ``ocr``;
3. lines: ``lines``;
4. layout: ``headers``, ``columns``, ``rows``, driven by ``layout``, over the
   types of ``cells`` (Column, Cell, Row, Table);
5. reading: ``reading`` (cells voted between engines, ``vote``; blank cells, ``ink``);
6. repairs: ``repairs``;
7. regions: ``regions`` (RegionResults with side and scan type), with the
   flags of ``valueflags`` and the checks of ``crosscheck``.

Re-reading a crop (a row label, a header, the other engine's page) is the
service :class:`~bmdkit.report.rereading.PageRereader` that the stages are
handed. Thresholds that are choices live in :mod:`bmdkit.report.settings`;
label words in reference_data/report_labels.csv (``labels``); the exam date,
vendor and model in ``meta``, the patient in ``patient``.

``ReadOptions.ocr_engines`` chooses the engines; the order does not matter:
RapidOCR lays out the page when enabled (tesseract otherwise) and any other
enabled engine re-reads the cells.
"""

from bmdkit.report.driver import read_report

__all__ = ["read_report"]
