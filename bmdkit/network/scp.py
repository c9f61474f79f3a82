"""``bmdkit listen``: a DICOM storage SCP (pynetdicom) that stores what DXA sites send, then batches it.

Accepted storage SOP classes (:data:`STORAGE_SOP_CLASSES`), every transfer
syntax pynetdicom knows: SR (Basic Text, Enhanced, Comprehensive,
Comprehensive 3D, Extensible), Secondary Capture (single- and multi-frame,
which is what scanners use for "OT" modality objects: DICOM has no separate
OT storage class), Encapsulated PDF, CR, and DX (for presentation and for
processing). DICOM defines no Bone Densitometry storage SOP class: DXA
scanners send their results as SR, Secondary Capture or Encapsulated PDF
objects with modality ``BMD`` or ``OT``, all accepted here. C-ECHO
(Verification) is answered.

Every object is written durably (:class:`~bmdkit.network.store.ObjectStore`)
before the success status goes back; one that cannot be stored gets a
failure status (``0xA700`` out of resources, ``0xC000`` cannot understand,
``0xA900`` SOP Instance UID differs from the request), so the sender keeps
it and can retry. Calling AE titles not on the allow list are refused at
association time. An association that sends more than
``max_association_bytes`` or an object larger than ``max_object_bytes`` is
aborted while the data arrive (not after holding it all), and objects past
``max_objects_per_association`` are refused.

Logs name the calling AE title, the SOP class and the size, never a UID,
a patient name or an ID; pynetdicom's own logger is held at WARNING because
its debug output dumps datasets.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydicom.uid import UID
from pynetdicom import ALL_TRANSFER_SYNTAXES, AE, evt
from pynetdicom import sop_class as sc

from bmdkit.network.config import ListenConfig
from bmdkit.network.process import ReceivedProcessor
from bmdkit.network.store import ObjectStore

log = logging.getLogger(__name__)

STORAGE_SOP_CLASSES: tuple[str, ...] = (
    sc.BasicTextSRStorage, sc.EnhancedSRStorage, sc.ComprehensiveSRStorage, sc.Comprehensive3DSRStorage,
    sc.ExtensibleSRStorage,
    sc.SecondaryCaptureImageStorage, sc.MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    sc.MultiFrameGrayscaleWordSecondaryCaptureImageStorage, sc.MultiFrameTrueColorSecondaryCaptureImageStorage,
    sc.MultiFrameSingleBitSecondaryCaptureImageStorage,
    sc.EncapsulatedPDFStorage,
    sc.ComputedRadiographyImageStorage,
    sc.DigitalXRayImageStorageForPresentation, sc.DigitalXRayImageStorageForProcessing,
)

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
MISMATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000
#: slack over ``max_object_bytes`` for the P-DATA bytes of one object: PDU headers and the command set
_PDU_SLACK = 256 * 1024
_P_DATA_TF = 0x04


@dataclass
class _Tally:
    """Bytes and objects received on one association so far."""

    bytes: int = 0
    pending: int = 0  # P-DATA bytes since the last C-STORE was handled: the object being received
    objects: int = 0


@dataclass
class ReceiveTally:
    """Totals since start-up: objects stored, duplicates, refusals, bytes, and when the first arrived."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    bytes: int = 0
    first: float | None = None
    last: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class StorageSCP:
    """The listener: an AE with storage and verification contexts, writing into ``store``."""

    def __init__(self, store: ObjectStore, ae_title: str, config: ListenConfig,
                 processor: ReceivedProcessor | None = None) -> None:
        self.store = store
        self.config = config
        self.processor = processor
        self.tally = ReceiveTally()
        self._assocs: dict[int, _Tally] = {}
        self._lock = threading.Lock()
        logging.getLogger("pynetdicom").setLevel(logging.WARNING)
        ae = AE(ae_title=ae_title)
        ae.maximum_associations = config.max_associations
        ae.require_calling_aet = sorted(config.allowed_ae_titles)
        ae.network_timeout = 60
        ae.acse_timeout = 30
        ae.dimse_timeout = 120
        for uid in STORAGE_SOP_CLASSES:
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        ae.add_supported_context(sc.Verification)
        self.ae = ae
        self.server: Any = None

    # -- running ------------------------------------------------------------------------------
    def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` in background threads; OSError when the port cannot be bound."""
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, self._on_echo),
                    (evt.EVT_DATA_RECV, self._on_data), (evt.EVT_RELEASED, self._on_end),
                    (evt.EVT_ABORTED, self._on_end), (evt.EVT_CONN_CLOSE, self._on_end)]
        self.server = self.ae.start_server((host, port), block=False, evt_handlers=handlers)

    def stop(self, grace_s: float) -> int:
        """Stop accepting associations, let open ones finish for up to ``grace_s``, abort the rest.

        Returns how many associations had to be aborted. An object whose data
        had not all arrived is not stored (nothing of it is visible); one
        stored but not yet acknowledged is kept, and a sender that retries it
        finds it stored once.
        """
        if self.server is not None:
            self.server.shutdown()
        deadline = time.monotonic() + grace_s
        while self.ae.active_associations and time.monotonic() < deadline:
            time.sleep(0.05)
        left = list(self.ae.active_associations)
        for assoc in left:
            assoc.abort()
        self.ae.shutdown()
        return len(left)

    # -- handlers -----------------------------------------------------------------------------
    def _assoc(self, assoc: Any) -> _Tally:
        with self._lock:
            return self._assocs.setdefault(id(assoc), _Tally())

    def _on_end(self, event: Any) -> None:
        with self._lock:
            self._assocs.pop(id(event.assoc), None)

    def _on_echo(self, event: Any) -> int:
        return SUCCESS

    def _on_data(self, event: Any) -> None:
        """Count P-DATA bytes as they arrive; abort an association past its caps before it is buffered."""
        data = event.data
        if not data or data[0] != _P_DATA_TF:
            return
        t = self._assoc(event.assoc)
        t.bytes += len(data)
        t.pending += len(data)
        if t.bytes > self.config.max_association_bytes:
            why = f"association exceeds {self.config.max_association_bytes} bytes"
        elif t.pending > self.config.max_object_bytes + _PDU_SLACK:
            why = f"object exceeds {self.config.max_object_bytes} bytes"
        else:
            return
        log.warning("aborting association from %s: %s", _ae(event), why)
        with self.tally.lock:
            self.tally.refused += 1
        event.assoc.abort(block=False)

    def _on_store(self, event: Any) -> int:
        """Store one object durably, then return success; any failure is a DICOM failure status."""
        t = self._assoc(event.assoc)
        t.pending = 0
        t.objects += 1
        status, what = self._store(event, t)
        with self.tally.lock:
            if status != SUCCESS:
                self.tally.refused += 1
        if status != SUCCESS:
            log.warning("refused an object from %s (0x%04X): %s", _ae(event), status, what)
        return status

    def _store(self, event: Any, t: _Tally) -> tuple[int, str]:
        if t.objects > self.config.max_objects_per_association:
            return OUT_OF_RESOURCES, f"more than {self.config.max_objects_per_association} objects in one association"
        try:
            data = event.encoded_dataset(include_meta=True)
        except Exception as exc:  # noqa: BLE001 - a peer's malformed data is refused, never raised
            return CANNOT_UNDERSTAND, f"dataset cannot be encoded ({type(exc).__name__})"
        if len(data) > self.config.max_object_bytes:
            return OUT_OF_RESOURCES, f"object of {len(data)} bytes exceeds {self.config.max_object_bytes}"
        try:
            ds = event.dataset
            study = ds.get("StudyInstanceUID")
            sop = ds.get("SOPInstanceUID")
        except Exception as exc:  # noqa: BLE001
            return CANNOT_UNDERSTAND, f"dataset cannot be decoded ({type(exc).__name__})"
        requested = event.request.AffectedSOPInstanceUID
        if sop is not None and requested is not None and str(sop) != str(requested):
            return MISMATCH, "SOP Instance UID differs from the one the request announced"
        try:
            stored = self.store.put(str(study) if study else None, str(sop) if sop else None, data)
        except OSError as exc:
            return OUT_OF_RESOURCES, f"cannot be stored ({exc.strerror or type(exc).__name__})"
        now = time.monotonic()
        with self.tally.lock:
            if stored.new:
                self.tally.stored += 1
                self.tally.bytes += len(data)
            else:
                self.tally.duplicates += 1
            self.tally.first = self.tally.first or now
            self.tally.last = now
        cls = UID(str(event.request.AffectedSOPClassUID or ""))
        log.info("%s %s from %s (%d bytes)", "stored" if stored.new else "already had",
                 cls.name if cls.is_valid else "an object", _ae(event), len(data))
        if stored.new and self.processor is not None:
            self.processor.notify()
        return SUCCESS, "stored"


def _ae(event: Any) -> str:
    """The calling AE title, for logs (printable ASCII only)."""
    title = str(getattr(event.assoc.requestor, "ae_title", "") or "?")
    return "".join(c if 32 < ord(c) < 127 else "?" for c in title)[:16]
