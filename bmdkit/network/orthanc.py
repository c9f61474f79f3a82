"""Pull new instances from an Orthanc server through its REST API (the ``/changes`` feed).

``/changes?since=SEQ&limit=N`` lists what happened after change ``SEQ``;
each ``NewInstance`` change names an instance whose DICOM file
``/instances/{id}/file`` gives, byte for byte as Orthanc stored it. Each
file is read in bounded steps (at most ``max_object_bytes``), stored with
:class:`~bmdkit.network.store.ObjectStore` and, once a page's files are all
stored, the page's last sequence number is remembered
(:mod:`bmdkit.network.pull`), so the next run starts after it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bmdkit.network.config import Credentials
from bmdkit.network.pull import PullSummary, RemoteError, check_url, load_position, save_position, uids_of
from bmdkit.network.store import ObjectStore

log = logging.getLogger(__name__)

_ID = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{8}){4}")
_PAGE = 100
_MAX_JSON = 16 * 1024 * 1024
_CHUNK = 1 << 20


class OrthancClient:
    """Minimal read-only access to Orthanc's REST API, with basic authentication when given."""

    def __init__(self, url: str, credentials: Credentials | None = None, timeout_s: float = 60.0) -> None:
        self.url = check_url(url)
        self.timeout_s = timeout_s
        self._headers = {"Accept": "application/json"}
        if credentials is not None:
            token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"

    def get(self, path: str, cap: int) -> bytes:
        """The body of ``GET url+path``, at most ``cap`` bytes (RemoteError past it or on any failure)."""
        req = urllib.request.Request(self.url + path, headers=self._headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - http(s) checked
                chunks: list[bytes] = []
                size = 0
                while block := resp.read(_CHUNK):
                    size += len(block)
                    if size > cap:
                        raise _TooBig(cap)
                    chunks.append(block)
                return b"".join(chunks)
        except urllib.error.HTTPError as exc:
            hint = " (check BMDKIT_REMOTE_USER/BMDKIT_REMOTE_PASSWORD)" if exc.code in (401, 403) else ""
            raise RemoteError(f"Orthanc answered HTTP {exc.code}{hint}", self.url) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
            raise RemoteError(f"cannot reach Orthanc ({reason})", self.url) from None

    def changes(self, since: int) -> Iterator[tuple[list[str], int, bool]]:
        """Pages of (new instance IDs, last sequence number, done) after change ``since``."""
        while True:
            body = self.get(f"/changes?since={since}&limit={_PAGE}", _MAX_JSON)
            try:
                page: Any = json.loads(body)
                items = page["Changes"]
                last = int(page["Last"])
                done = bool(page["Done"])
            except (ValueError, KeyError, TypeError):
                raise RemoteError("the /changes answer is not Orthanc's format", self.url) from None
            ids = [c.get("ID") for c in items if isinstance(c, dict) and c.get("ChangeType") == "NewInstance"]
            yield [i for i in ids if isinstance(i, str) and _ID.fullmatch(i)], last, done
            if done or last <= since:
                return
            since = last


class _TooBig(Exception):
    def __init__(self, cap: int) -> None:
        super().__init__(cap)
        self.cap = cap


def pull_orthanc(url: str, out: Path, *, since: int | None = None, credentials: Credentials | None = None,
                 max_object_bytes: int = 512 * 1024 * 1024) -> PullSummary:
    """Store every instance added to Orthanc after ``since`` (default: where the last pull stopped)."""
    client = OrthancClient(url, credentials)
    store = ObjectStore(out)
    key = "orthanc " + client.url
    position = load_position(store.out, key) if since is None else since
    new = dup = refused = 0
    for ids, last, _done in client.changes(position):
        for iid in ids:
            try:
                data = client.get(f"/instances/{iid}/file", max_object_bytes)
            except _TooBig:
                log.warning("an instance exceeds the %d-byte object cap; not pulled", max_object_bytes)
                refused += 1
                continue
            except RemoteError as exc:
                if "HTTP 404" in str(exc):  # deleted since the change was logged
                    continue
                raise
            study, sop = uids_of(data)
            if sop is None:
                log.warning("an instance is not a readable DICOM object; not pulled")
                refused += 1
                continue
            stored = store.put(study, sop, data)
            new += stored.new
            dup += not stored.new
        position = max(position, last)
        save_position(store.out, key, position)
    return PullSummary(new, dup, refused, position)
