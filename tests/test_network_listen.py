"""``bmdkit listen`` against real DICOM clients: dcmtk's storescu/echoscu and pynetdicom's SCU.

The listener is a real process on a loopback port; the results of what it
receives must equal ``bmdkit batch`` on the same files (values, not the file
paths or bytes: the received copy has its own file meta header).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pydicom
import pytest
from network_servers import (SAMPLE_DICOM, echo, normalized, result_count, start_listener, storescu,
                             wait_for, write_listen_config)

from bmdkit.batch.runner import run_batch

pytestmark = pytest.mark.skipif(shutil.which("storescu") is None, reason="dcmtk is part of the test install")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``bmdkit batch`` on the sample DICOM files, normalized."""
    base = tmp_path_factory.mktemp("plain")
    (base / "in").mkdir()
    for f in SAMPLE_DICOM:
        shutil.copy(f, base / "in" / f.name)
    run_batch([base / "in"], base / "out", workers=2, progress=False)
    return normalized(base / "out")


def _stored(out: Path) -> list[Path]:
    return sorted(p for p in (out / "received").rglob("*") if p.is_file())


def _identifiers() -> set[str]:
    found: set[str] = set()
    for f in SAMPLE_DICOM:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        for value in (ds.get("PatientName"), ds.get("PatientID")):
            if value and len(str(value)) >= 4:
                found.add(str(value))
    return found


def test_listen_stores_once_processes_like_batch_and_refuses_strangers(tmp_path: Path, plain: list[str]) -> None:
    cfg = write_listen_config(tmp_path / "listen.toml", process_every_s=0.3)
    out = tmp_path / "out"
    lis = start_listener(out, cfg)
    try:
        r = subprocess.run(["echoscu", "-aet", "STORESCU", "-aec", "BMDKIT", "127.0.0.1", str(lis.port)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        t0 = time.monotonic()
        r = storescu(lis.port, SAMPLE_DICOM)
        sent_s = time.monotonic() - t0
        assert r.returncode == 0, r.stderr
        assert len(_stored(out)) == len(SAMPLE_DICOM)
        r = storescu(lis.port, SAMPLE_DICOM)  # everything again: acknowledged, stored once
        assert r.returncode == 0, r.stderr
        stranger = storescu(lis.port, SAMPLE_DICOM[:1], calling="STRANGER")
        assert stranger.returncode != 0 and "Calling AE Title Not Recognized" in stranger.stderr
        assert not echo(lis.port, calling="STRANGER")
        stored = _stored(out)
        assert len(stored) == len(SAMPLE_DICOM)
        assert all(p.parent.parent == out / "received" and p.suffix == ".dcm" for p in stored)
        wait_for(lambda: result_count(out) == len(SAMPLE_DICOM), 180, "the received objects to be processed",
                 lis.proc)
    finally:
        code = lis.stop()
    assert code == 0
    assert normalized(out) == plain
    log = lis.log_text()
    assert "Traceback" not in log
    assert "received 11 objects (11 duplicates" in log, log[-800:]
    leaked = [i for i in _identifiers() if i in log]
    assert not leaked, "patient identifiers in the listener's log"
    print(f"storescu sent {len(SAMPLE_DICOM)} objects in {sent_s:.2f} s")


def test_kill_and_restart_lose_nothing(tmp_path: Path, plain: list[str]) -> None:
    """SIGKILL right after the acknowledgements, then SIGTERM while processing: every object ends up processed."""
    cfg = write_listen_config(tmp_path / "listen.toml", process_every_s=30)
    out = tmp_path / "out"
    port = None
    lis = start_listener(out, cfg, grace=1)
    port = lis.port
    assert storescu(port, SAMPLE_DICOM).returncode == 0
    assert lis.stop(signal.SIGKILL) == -signal.SIGKILL  # acknowledged, not yet processed (30 s debounce)
    assert len(_stored(out)) == len(SAMPLE_DICOM)
    assert result_count(out) == 0
    assert not list((out / ".incoming").iterdir())

    cfg = write_listen_config(tmp_path / "listen.toml", process_every_s=0.1)
    lis = start_listener(out, cfg, port=port, grace=1)  # processes what is stored at once
    wait_for(lambda: (out / ".work").exists(), 60, "processing to start", lis.proc)
    time.sleep(1.0)
    assert lis.stop(signal.SIGTERM) == 0  # mid-processing: finishes or leaves the rest to the next start
    assert result_count(out) < len(SAMPLE_DICOM) or normalized(out) == plain

    lis = start_listener(out, cfg, port=port)
    try:
        wait_for(lambda: result_count(out) == len(SAMPLE_DICOM), 180, "the rest to be processed", lis.proc)
    finally:
        assert lis.stop() == 0
    assert normalized(out) == plain


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_limits_and_hostile_uids(tmp_path: Path) -> None:
    """Objects over the size cap get a failure status; sender-chosen UIDs never become paths."""
    from pynetdicom import AE
    from pynetdicom.sop_class import ComprehensiveSRStorage, SecondaryCaptureImageStorage

    cfg = write_listen_config(tmp_path / "listen.toml", process_every_s=60, max_object_bytes=100_000)
    out = tmp_path / "out"
    lis = start_listener(out, cfg, workers=1)
    try:
        ae = AE(ae_title="BMDTEST")
        ae.add_requested_context(SecondaryCaptureImageStorage)
        ae.add_requested_context(ComprehensiveSRStorage)
        ae.add_requested_context(SecondaryCaptureImageStorage, "1.2.840.10008.1.2.5")
        assoc = ae.associate("127.0.0.1", lis.port, ae_title="BMDKIT")
        assert assoc.is_established
        big = pydicom.dcmread(SAMPLE_DICOM[0])  # a 279 kB Secondary Capture
        assert assoc.send_c_store(big).Status == 0xA700
        small = pydicom.dcmread(next(f for f in SAMPLE_DICOM if "sr_nested" in f.name))
        small.StudyInstanceUID = "../../../etc"
        small.SOPInstanceUID = "1.2.3.04"  # leading zero: not a valid UID
        small.file_meta.MediaStorageSOPInstanceUID = small.SOPInstanceUID
        assert assoc.send_c_store(small).Status == 0x0000
        assoc.release()
    finally:
        assert lis.stop() == 0
    stored = _stored(out)
    assert len(stored) == 1
    assert stored[0].parent.parent == out / "received"
    assert stored[0].name.startswith("h") and ".." not in str(stored[0].relative_to(out))
    assert "refused" in lis.log_text()


def test_listen_without_allowed_titles_refuses_to_start(tmp_path: Path) -> None:
    r = subprocess.run([*__import__("network_servers").BMDKIT, "listen", "--out", str(tmp_path / "o"),
                        "--port", "1"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 64
    assert "allowed_ae_titles" in r.stderr and "Traceback" not in r.stderr
