"""Imported once by the batch pool's fork server, before any worker exists.

Workers fork from the server with these modules already loaded, so they
start at once and the large shared libraries the readers load lazily are
already mapped: loading them later could fail under a worker's memory cap
(``dlopen`` needs address space). A module that is missing or broken is
skipped here (it then fails only the files that need it, in the worker),
never the fork server itself. The reference tables every file needs are
loaded here too (:data:`WARM`). Libraries that start threads or load models
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
    # tesseract's wrapper starts no thread, but imports pandas (about 0.25 s): once here, not in
    # each worker's first page
    "pytesseract",
)

#: calls that load, on first use, the reference tables the readers and checks need for every
#: file (each caches what it loads): made once here, so no worker, nor one restarted after a
#: crash or a time limit, loads them again (about 20 ms each: bench/bench_dicom.py)
WARM: tuple[tuple[str, str, tuple[object, ...], dict[str, object]], ...] = (
    ("bmdkit.dicom.words", "find", ("L1-L4", "region"), {}),
    ("bmdkit.dicom.words", "loinc_codes", (), {}),
    ("bmdkit.vocabulary", "parse_vertebrae", ("L1-L4",), {}),
    ("bmdkit.vocabulary", "parse_vertebrae", ("L1-L4",), {"ocr": True}),
    ("bmdkit.checks.settings", "default_settings", (), {}),
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


def _warm() -> list[str]:
    warmed = []
    for module, name, args, kwargs in WARM:
        try:
            getattr(importlib.import_module(module), name)(*args, **kwargs)
            warmed.append(f"{module}.{name}")
        except Exception:  # noqa: BLE001, S110 - a table that fails to load fails the files that need it, later
            pass
    return warmed


if in_fork_server():
    die_with_parent()  # the fork server goes with the batch; workers go with it
LOADED = _load()
WARMED = _warm()
