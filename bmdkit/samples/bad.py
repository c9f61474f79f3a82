"""Bad inputs every reader must survive: each fails with its path and a reason."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def write_empty(path: Path) -> dict[str, Any]:
    path.write_bytes(b"")
    return {"expect_status": "failed", "expect_flag": "empty_file", "shows": "a zero-byte file"}


def write_random(path: Path, rng: random.Random, size: int = 4096) -> dict[str, Any]:
    path.write_bytes(bytes(rng.randrange(256) for _ in range(size)))
    return {"expect_status": "failed", "expect_flag": "unsupported_kind", "shows": "random bytes"}


def write_pdf_without_report(path: Path) -> dict[str, Any]:
    """A well-formed PDF that is not a DXA report (an appointment letter)."""
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle("Appointment letter")
    y = 780
    for line in (
        "Outpatient Department - Appointment Confirmation",
        "",
        "Dear patient,",
        "your appointment with the endocrinology clinic is confirmed for next Tuesday at 09:30.",
        "Please bring your insurance card and a list of your current medicines.",
        "Parking is available in the south car park; the clinic is on the third floor.",
        "",
        "Kind regards, the clinic office",
    ):
        c.setFont("Helvetica", 11)
        c.drawString(60, y, line)
        y -= 18
    c.showPage()
    c.save()
    return {"expect_status": "failed", "expect_flag": "not_dxa", "shows": "a valid PDF with no DXA report in it"}
