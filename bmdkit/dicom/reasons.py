"""Why a DXA DICOM file gave no results, in words that tell the site what to send.

The reason must be the real one:

- results were found (numbers under measure or region words, an SR with
  NUM items) but not understood: say so, with the element paths;
- a scan image: "DXA scan image with no results: ask the site for the
  report page", with vendor, model and scan type from the header;
- proprietary raw data (GE enCORE GEMS_LUNAR_RAW, Hologic .P/.R files) is
  named only when those elements are actually present (vendor_dicom.md §1,
  §2: Hologic's P/R blobs sit in group 0023 at xx02/xx04, GE's enCORE file in
  group 7003 at xx02).
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.tag import Tag

from bmdkit.dicom import header_facts, words
from bmdkit.dicom.base import private_blocks, text
from bmdkit.model import Vendor

ASK = "ask the site for the report page (PDF or DICOM) or the scanner's SR export"
#: (vendor word in the private creator, group, element offsets) of proprietary raw-file blobs
_RAW_BLOBS = (("hologic", 0x0023, (0x02, 0x04)), ("ge_lunar", 0x7003, (0x02,)))


def raw_blob(ds: Dataset) -> str | None:
    """'hologic' or 'ge_lunar' when that vendor's proprietary raw-file blob is present."""
    for (group, block), creator in private_blocks(ds).items():
        vendor = words.first(creator.replace("_", " "), "vendor")
        for want, g, offsets in _RAW_BLOBS:
            if vendor == want and group == g and any(
                    Tag(group, (block << 8) | off) in ds for off in offsets):
                return want
    return None


def not_understood(paths: list[str], where: str) -> str:
    """'results found but not understood' with up to five element paths."""
    shown = "; ".join(paths[:5]) + (f"; ... ({len(paths)} in all)" if len(paths) > 5 else "")
    return (f"results found but not understood: {where} holds result-like values that could not "
            f"be placed ({shown}); send this file to the bmdkit maintainers, or {ASK}")


def no_results(ds: Dataset, ctx: words.Meaning, vendor: Vendor, is_sr: bool,
               skipped: list[str], pixels_note: str | None = None, page: bool = False) -> str:
    """The reason a DXA file with nothing result-like gave no results.

    ``page``: the header says the object is a report page (its OCR found nothing).
    """
    what = ", ".join(s.value for s in header_facts.scan_types(ctx)) or "scan type not stated"
    model = text(ds, "ManufacturerModelName") or "model not stated"
    blob = None if is_sr else raw_blob(ds)
    if is_sr:
        base = "a structured report with no bone density results in it"
    elif blob == "ge_lunar":
        base = (f"DXA scan image with no results ({vendor.value}, {model}, {what}); its only data is an "
                "embedded enCORE raw file (GEMS_LUNAR_RAW), a proprietary format bmdkit cannot read")
    elif blob == "hologic":
        base = (f"DXA archive object with no results ({vendor.value}, {model}, {what}); its data is "
                "embedded raw scan files (.P/.R), a proprietary format bmdkit cannot read")
    elif page:
        base = f"DXA report page with no readable results ({vendor.value}, {model}, {what})"
    else:
        base = f"DXA scan image with no results ({vendor.value}, {model}, {what})"
    if pixels_note:
        base += f"; {pixels_note}"
    if skipped:
        base += f"; {len(skipped)} private element(s) over the size cap were not read ({', '.join(skipped[:3])})"
    return f"{base}: {ASK}"
