"""Reading printed DXA reports: scans, photos, PDFs and DICOM report pages.

``read_report(path, source, options, payload=None) -> Exam`` is the one entry
point (:mod:`bmdkit.report.reader`). The package, one job per module:

- ``pages``: load image / PDF / payload pages within the caps of ReadOptions;
- ``pdftext``: words and boxes from a PDF text layer (no OCR, confidence 1.0,
  engine ``pdf-text``);
- ``preprocess``: page detection, perspective, illumination, deskew, upscale,
  ruling-line removal (OpenCV);
- ``ocr``: RapidOCR (layout + reading of the whole page) and tesseract
  (re-reading numeric cells in one batched call);
- ``table``: header detection by label words, columns by clustering numbers,
  rows to regions and sides;
- ``numbers``: numbers with OCR repairs and minus-sign shapes;
- ``labels``: label words from reference_data/report_labels.csv;
- ``vote``: agreement between engines, re-reads, per-value confidence;
- ``crosscheck``: BMD = BMC/area, totals, T against BMD, Z against T;
- ``meta``: exam date (all printed forms), vendor, model.

``ReadOptions.ocr_engines`` chooses the engines; the order does not matter:
RapidOCR lays out the page when enabled (tesseract otherwise) and any other
enabled engine re-reads the cells.
"""

from bmdkit.report.reader import read_report

__all__ = ["read_report"]
