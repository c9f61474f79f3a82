"""DICOM reader: results, metadata and report pages from DXA DICOM files.

``read_dicom(path, source, options) -> DicomReading`` is what
:mod:`bmdkit.read` calls. Values are found by meaning (region, measure and
side words in English and Chinese, units, LOINC codes) in structured
reports, Hologic report scripts and vendor XML, never by a fixed tag.
"""

from bmdkit.dicom.objects import DicomReading, read_dicom

__all__ = ["DicomReading", "read_dicom"]
