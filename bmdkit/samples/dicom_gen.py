"""Synthetic DXA DICOM files, shaped as vendor_dicom.md says each vendor writes them (facade).

Every file is written with pydicom from a :class:`~bmdkit.samples.truth.TruthExam`
and comes with a ground-truth dict (file, kind, expected status and flag,
the regions as the file holds them). Kinds:

==================  ==================================================================
hologic_script      report DICOM: Secondary Capture, Modality OT, report-page pixels and
                    a ``ResultsTable[c][r]`` script (LT, creator "HOLOGIC", group 0029)
hologic_script_alt  same, another column order, labels "Neck Left", "*" on excluded levels,
                    UT in group 0019
hologic_xml         Modality BMD, (0021,xx01) "Image Analysis Data in XML": ROI elements
hologic_xml_attr    XML with one element per region and measures as attributes
sr_flat             Enhanced SR, flat NUM list, LOINC codes where edc.md has them
sr_nested           Comprehensive SR, site > region containers, DCM/vendor local codes
sr_zh               Comprehensive SR in Chinese (ISO_IR 192), side > region containers
lunar_cr            GE Lunar CR scan image, scan type only in ProtocolName: no results
lunar_raw           GE Lunar CR with a GEMS_LUNAR_RAW blob (proprietary): no results
hologic_display     Hologic SC RGB display image with BodyPartExamined/Laterality: no results
ct                  a CT slice (valid DICOM, not DXA)
truncated           a report DICOM cut in the middle
hostile_xml         Hologic XML with a DTD and entity expansion (billion laughs)
report_page_sc      a report page as Secondary Capture, numbers only in pixels (OCR)
report_pdf          the report PDF in an Encapsulated PDF object, Modality DOC (OCR)
sr_loinc_*          Enhanced SR, concept name = the measurement (LOINC long names), site and
                    side in HAS CONCEPT MOD children (mod, lat, unitless; sr_loinc.py)
xml_nested_*        vendor XML with results as nested elements (child, ns_bom, ancestor;
                    xml_nested.py)
ge_*                real-shaped GE Lunar scan images, page-sized: knee, total body,
                    forearm, LVA, hip implant (CR, BMD or OT; scan_images.py): no results
==================  ==================================================================

The generator is development data; ``tests/heldout_dicom.py`` writes other
shapes (spellings, index orders, nesting, charsets, VRs) to measure the
readers on what they were not developed on.

The code lives in :mod:`bmdkit.samples.dicom_kinds`, one module per family of
shapes; this module re-exports its public names and the five private helpers tests
still call through it (``_add_pixels``, ``_dec``, ``_fmt``, ``_truth_dict``,
``_write``) so existing imports keep working.
"""

from __future__ import annotations

# re-exported for existing callers (``from bmdkit.samples import dicom_gen as g``)
from bmdkit.samples.dicom_kinds.bad_inputs import (  # noqa: F401
    BILLION_LAUGHS,
    write_ct,
    write_hostile_xml,
    write_truncated,
)
from bmdkit.samples.dicom_kinds.base import (  # noqa: F401
    CHARSETS,
    COMPREHENSIVE_SR,
    CR,
    CT,
    ENCAPSULATED_PDF,
    ENHANCED_SR,
    SC,
    UID_ROOT,
    _dec,
    _fmt,
    _write,
    base_dataset,
)
from bmdkit.samples.dicom_kinds.ground_truth import _truth_dict, file_regions  # noqa: F401
from bmdkit.samples.dicom_kinds.hologic_script import (  # noqa: F401
    script_text,
    write_hologic_script,
)
from bmdkit.samples.dicom_kinds.hologic_xml import (  # noqa: F401
    write_hologic_xml,
    xml_text,
)
from bmdkit.samples.dicom_kinds.images import write_hologic_display, write_lunar_cr  # noqa: F401
from bmdkit.samples.dicom_kinds.pixels import _add_pixels, report_page_pixels, scan_image  # noqa: F401
from bmdkit.samples.dicom_kinds.report_pages import write_report_page_sc, write_report_pdf  # noqa: F401
from bmdkit.samples.dicom_kinds.sr import (  # noqa: F401
    UNITS,
    code_item,
    coded_item,
    container,
    num_item,
    sr_content,
    text_item,
    write_sr,
)
from bmdkit.samples.dicom_kinds.write import (  # noqa: F401
    ALL_KINDS,
    BAD_KINDS,
    GE_SCAN_KINDS,
    GOOD_KINDS,
    NO_RESULT_KINDS,
    REPORT_KINDS,
    write_dicom_samples,
)
