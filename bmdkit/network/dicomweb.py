"""Pull instances from a DICOMweb server: QIDO-RS lists them, WADO-RS retrieves each (``dicomweb-client``).

DICOMweb has no changes feed, so "how far it got" is the store itself: an
instance whose SOP Instance UID is already stored is not retrieved again,
and the number of instances listed is remembered in ``pull-state.json`` for
the record. Each run lists every instance (in pages); on a large archive,
prefer Orthanc's REST feed (``--orthanc``), which lists only what is new.
A retrieved object is re-encoded from the dataset the server sends (its
bytes, and so its SHA-256, may differ from the file the scanner wrote; its
values do not).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from bmdkit.network.config import Credentials
from bmdkit.network.pull import PullSummary, RemoteError, check_url, save_position
from bmdkit.network.store import ObjectStore, valid_uid

log = logging.getLogger(__name__)

_PAGE = 100
_STUDY, _SERIES, _SOP = "0020000D", "0020000E", "00080018"


def _value(item: dict[str, Any], tag: str) -> str | None:
    v = item.get(tag, {}).get("Value") if isinstance(item.get(tag), dict) else None
    return v[0] if isinstance(v, list) and v and isinstance(v[0], str) else None


def pull_dicomweb(url: str, out: Path, *, credentials: Credentials | None = None,
                  max_object_bytes: int = 512 * 1024 * 1024) -> PullSummary:
    """Store every instance the DICOMweb server lists that is not stored yet."""
    from dicomweb_client.api import DICOMwebClient
    from dicomweb_client.session_utils import create_session_from_user_pass

    base = check_url(url)
    session = (create_session_from_user_pass(credentials.username, credentials.password)
               if credentials is not None else None)
    client = DICOMwebClient(base, session=session)
    store = ObjectStore(out)
    new = dup = refused = listed = 0
    offset = 0
    while True:
        try:
            page = client.search_for_instances(offset=offset, limit=_PAGE,
                                               fields=["StudyInstanceUID", "SeriesInstanceUID"])
        except Exception as exc:  # noqa: BLE001 - requests' errors and HTTP errors alike
            raise RemoteError(f"QIDO-RS search failed ({_why(exc)})", base) from None
        if not page:
            break
        offset += len(page)
        for item in page:
            listed += 1
            study, series, sop = _value(item, _STUDY), _value(item, _SERIES), _value(item, _SOP)
            if not (valid_uid(study) and valid_uid(series) and valid_uid(sop)):
                log.warning("the server listed an instance without valid UIDs; not pulled")
                refused += 1
                continue
            if store.has(study, sop):
                dup += 1
                continue
            try:
                ds = client.retrieve_instance(study, series, sop)
            except Exception as exc:  # noqa: BLE001
                raise RemoteError(f"WADO-RS retrieve failed ({_why(exc)})", base) from None
            buf = io.BytesIO()
            ds.save_as(buf, enforce_file_format=True)
            data = buf.getvalue()
            if len(data) > max_object_bytes or str(ds.get("SOPInstanceUID", "")) != sop:
                log.warning("an instance is too big or not the one listed; not pulled")
                refused += 1
                continue
            stored = store.put(study, sop, data)
            new += stored.new
            dup += not stored.new
        if len(page) < _PAGE:
            break
    save_position(store.out, "dicomweb " + base, listed)
    return PullSummary(new, dup, refused, listed)


def _why(exc: Exception) -> str:
    code = getattr(getattr(exc, "response", None), "status_code", None)
    return f"HTTP {code}" if code else type(exc).__name__
