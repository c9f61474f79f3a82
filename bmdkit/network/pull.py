"""What pulls from a PACS share: the result of a pull, its errors, and how far each source got.

The position of each source (Orthanc's change sequence number; for DICOMweb,
how many instances were listed) is kept in ``OUT/pull-state.json``, keyed
by the source's URL, written atomically after every page whose objects are
stored, so a killed pull resumes where it stopped and re-fetches at most
one page (whose objects the store then finds already stored).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pydicom
from pydicom.errors import InvalidDicomError

from bmdkit.batchfolder.files import atomic_write
from bmdkit.errors import BmdkitError, ConfigError
from bmdkit.flags import FlagCode

STATE_NAME = "pull-state.json"


class RemoteError(BmdkitError):
    """The PACS could not be reached or refused a request (the message says which and why)."""

    flag_code = FlagCode.UNREADABLE


@dataclass(frozen=True)
class PullSummary:
    """Objects pulled now (new), already stored, refused (too big or not DICOM), and the new position."""

    new: int
    duplicates: int
    refused: int
    position: int


def check_url(url: str) -> str:
    """The URL without a trailing slash; ConfigError for a non-HTTP URL or one carrying credentials."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("the URL must be http:// or https:// with a host", url if "@" not in url else "")
    if parts.username or parts.password:
        raise ConfigError("credentials in the URL are not accepted: use BMDKIT_REMOTE_USER/"
                          "BMDKIT_REMOTE_PASSWORD or a credentials file")
    return url.rstrip("/")


def load_position(out: Path, key: str) -> int:
    """The remembered position of source ``key`` in ``out`` (0 when none)."""
    try:
        state = json.loads((out / STATE_NAME).read_text(encoding="utf-8"))
        value = state.get(key, 0)
        return int(value) if isinstance(value, int) and value >= 0 else 0
    except (OSError, ValueError, AttributeError):
        return 0


def save_position(out: Path, key: str, position: int) -> None:
    """Remember ``position`` for ``key``: written to a temporary file, fsync-ed and moved into place."""
    path = out / STATE_NAME
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict):
            state = {}
    except (OSError, ValueError):
        state = {}
    state[key] = position
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1, sort_keys=True)


def uids_of(data: bytes) -> tuple[str | None, str | None]:
    """(Study Instance UID, SOP Instance UID) read from an object's header; (None, None) if not DICOM."""
    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True,
                             specific_tags=["StudyInstanceUID", "SOPInstanceUID"])
    except (InvalidDicomError, ValueError, EOFError, OSError, KeyError, TypeError, AttributeError):
        return None, None
    study, sop = ds.get("StudyInstanceUID"), ds.get("SOPInstanceUID")
    return (str(study) if study else None), (str(sop) if sop else None)
