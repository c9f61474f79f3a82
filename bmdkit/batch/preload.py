"""Imported once by the batch pool's fork server, before any worker exists.

Workers fork from the server with these modules already loaded, so they
start at once and the large shared libraries the readers load lazily are
already mapped: loading them later could fail under a worker's memory cap
(``dlopen`` needs address space). A module that is missing or broken is
skipped here (it then fails only the files that need it, in the worker),
never the fork server itself. Libraries that start threads or load models
at import (OCR engines) are deliberately left out: they are not safe to
fork.
"""

from __future__ import annotations

import importlib

from bmdkit.batch.lifetime import die_with_parent, in_fork_server

MODULES = (
    "bmdkit.batch.runner",  # what each task's call is unpickled from (it brings the ledger, sqlite3, rich)
    "bmdkit.pipeline", "bmdkit.export.jsonout", "bmdkit.dicom", "bmdkit.report", "bmdkit.merge",
    "bmdkit.checks", "numpy", "PIL.Image", "PIL.PngImagePlugin", "PIL.JpegImagePlugin",
    "PIL.TiffImagePlugin", "PIL.BmpImagePlugin", "cv2", "pypdfium2", "pdfplumber", "pydicom", "defusedxml.ElementTree",
)


def _load() -> list[str]:
    loaded = []
    for name in MODULES:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001, S110 - never take the fork server down
            pass
    return loaded


if in_fork_server():
    die_with_parent()  # the fork server goes with the batch; workers go with it
LOADED = _load()
