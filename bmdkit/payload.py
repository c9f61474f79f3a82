"""A report page handed from one reader to another.

The DICOM reader finds report pages stored as DICOM (Secondary Capture pixels,
encapsulated PDF) but does not read them itself: it hands them over as a
:class:`PagePayload`, and :mod:`bmdkit.read` passes that to the report reader.
Neither reader imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PagePayload:
    """Report pages taken out of a container file.

    ``images`` are uint8 arrays, (H, W) grey or (H, W, 3) RGB, one per page.
    ``pdf_bytes`` is an embedded PDF document. ``origin`` names where they came
    from, e.g. ``"dicom secondary capture"``.
    """

    origin: str
    images: tuple[np.ndarray, ...] = ()
    pdf_bytes: bytes | None = None

    def __post_init__(self) -> None:
        if not self.images and self.pdf_bytes is None:
            raise ValueError("a page payload needs images or a PDF")
        for im in self.images:
            if im.dtype != np.uint8 or im.ndim not in (2, 3):
                raise ValueError("page images must be uint8, (H, W) or (H, W, 3)")
