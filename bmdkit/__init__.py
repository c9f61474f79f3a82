"""bmdkit: bone densitometry (DXA) scans and reports into trustworthy numbers.

The library's front door::

    from bmdkit import read_file
    exam = read_file("scan.dcm")
    exam.status, exam.region(Region.FEMORAL_NECK, Side.LEFT)
"""

from __future__ import annotations

__version__ = "0.1.0"

from bmdkit.model import (  # noqa: E402
    Exam,
    Flag,
    InputKind,
    Method,
    Region,
    RegionResult,
    ScanType,
    Side,
    Status,
    Vendor,
)
from bmdkit.flags import FlagCode, Severity  # noqa: E402
from bmdkit.read import read_file  # noqa: E402

__all__ = [
    "__version__", "read_file", "Exam", "Flag", "FlagCode", "InputKind", "Method",
    "Region", "RegionResult", "ScanType", "Severity", "Side", "Status", "Vendor",
]


def __getattr__(name: str):  # lazy: pandas only when asked for
    if name == "read_results":
        from bmdkit.batch.results import read_results

        return read_results
    raise AttributeError(name)
