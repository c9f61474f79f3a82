"""Where received objects are kept: ``OUT/received/<study>/<instance>.dcm``, written atomically.

A network peer is hostile until proven otherwise: nothing it sends names a
path. The folder of a study and the file of an instance are named from the
Study and SOP Instance UIDs only when they are valid DICOM UIDs (digits and
dots, at most 64 characters, no leading zeros); otherwise from a SHA-256
(of the UID text, or of the object's bytes). An object is written to a
private temporary file under ``OUT/.incoming`` (outside the folder the batch
reads), flushed and ``fsync``-ed, then hard-linked into place, which never
replaces an existing file: an object sent twice is stored once, and a
half-written object is never visible to the batch. Temporary files left by
a killed process are removed when the store is opened again (a rollback).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from bmdkit.batchfolder.files import PRIVATE_DIR, PRIVATE_FILE, prepare_output_dir

RECEIVED_NAME = "received"
INCOMING_NAME = ".incoming"
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_MAX_UID = 64


def valid_uid(value: object) -> bool:
    """True for a DICOM UID (PS3.5 9.1): numeric components without leading zeros, at most 64 characters."""
    return isinstance(value, str) and 0 < len(value) <= _MAX_UID and _UID.fullmatch(value) is not None


def _hashed(text: str) -> str:
    return "h" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:40]


def study_dir_name(study_uid: object) -> str:
    """The folder name of a study: its UID when valid, else a hash of whatever was sent (or ``unknown``)."""
    if valid_uid(study_uid):
        return str(study_uid)
    return _hashed(str(study_uid)) if study_uid else "unknown-study"


def instance_file_name(sop_uid: object, data: bytes) -> str:
    """The file name of an instance: its SOP Instance UID when valid, else the SHA-256 of its bytes."""
    if valid_uid(sop_uid):
        return f"{sop_uid}.dcm"
    return "h" + hashlib.sha256(data).hexdigest() + ".dcm"


@dataclass(frozen=True)
class Stored:
    """Where an object was put, and whether it was new (False: an identical name was already stored)."""

    path: Path
    new: bool


class ObjectStore:
    """The received-objects folder of one output folder (see the module docstring)."""

    def __init__(self, out: str | Path) -> None:
        self.out = prepare_output_dir(out)
        self.root = self.out / RECEIVED_NAME
        self.incoming = self.out / INCOMING_NAME
        for d in (self.root, self.incoming):
            d.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        self.rollback()

    def rollback(self) -> None:
        """Remove temporary files a killed process left half-written (they were never acknowledged)."""
        for p in self.incoming.iterdir():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)

    def path_for(self, study_uid: object, sop_uid: object, data: bytes) -> Path:
        """The final path an object with these UIDs and bytes is stored under."""
        return self.root / study_dir_name(study_uid) / instance_file_name(sop_uid, data)

    def has(self, study_uid: object, sop_uid: object) -> bool:
        """True when an instance with this (valid) SOP Instance UID is already stored in this study."""
        return valid_uid(sop_uid) and self.path_for(study_uid, sop_uid, b"").exists()

    def put(self, study_uid: object, sop_uid: object, data: bytes) -> Stored:
        """Store ``data`` durably (fsync of file and folders) and return where; OSError if it cannot be."""
        final = self.path_for(study_uid, sop_uid, data)
        if final.exists():
            return Stored(final, False)
        study = final.parent
        if not study.is_dir():
            study.mkdir(mode=PRIVATE_DIR, exist_ok=True)
            _fsync_dir(self.root)
        tmp = self.incoming / f"{uuid.uuid4().hex}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, final)  # never replaces: a second copy of the same object is not stored again
            new = True
        except FileExistsError:
            new = False
        finally:
            tmp.unlink(missing_ok=True)
        if new:
            _fsync_dir(study)
        return Stored(final, new)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
