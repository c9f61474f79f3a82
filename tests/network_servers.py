"""Real servers for the network tests: ``bmdkit listen`` and Orthanc, started and stopped by fixtures.

Orthanc 1.10 cannot bind its HTTP port to one address, so it runs in a
network namespace of its own that holds only a loopback interface
(``unshare -n``); the commands that talk to it run inside that namespace
(``nsenter``). Nothing these tests start listens beyond loopback. Where
namespaces are not permitted, Orthanc runs with remote access refused and
its DICOM server off, and :data:`IN_NETNS` says so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BMDKIT = [sys.executable, "-m", "bmdkit"]
SAMPLE_DICOM = sorted([*(ROOT / "samples" / "dicom").glob("*.dcm"), *(ROOT / "samples" / "reports").glob("*.dcm")])
ORTHANC_USER, ORTHANC_PASSWORD = "bmdkit", "test-secret-7"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def normalized(out: Path) -> list[str]:
    """``results.jsonl`` lines without where the file was (path) and its exact bytes (sha256, size), sorted."""
    lines = []
    for text in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(text)
        for key in ("path", "sha256", "size"):
            d["source"].pop(key, None)
        lines.append(json.dumps(d, sort_keys=True, ensure_ascii=False))
    return sorted(lines)


def result_count(out: Path) -> int:
    try:
        return len((out / "results.jsonl").read_text(encoding="utf-8").splitlines())
    except OSError:
        return 0


def wait_for(predicate: Any, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``predicate`` until true; fail naming ``what`` (and the process's exit) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Listener:
    """A running ``bmdkit listen`` process."""

    proc: subprocess.Popen[bytes]
    port: int
    out: Path
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def write_listen_config(path: Path, titles: tuple[str, ...] = ("STORESCU", "BMDTEST"), **extra: Any) -> Path:
    lines = ["[listen]", f"allowed_ae_titles = {json.dumps(list(titles))}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_listener(out: Path, config: Path, *, port: int | None = None, workers: int = 2,
                   grace: float = 20.0) -> Listener:
    """Start ``bmdkit -v listen`` on a loopback port and wait until it answers C-ECHO."""
    port = port or free_port()
    log = out.parent / f"{out.name}-listen-{time.monotonic_ns()}.log"
    fh = open(log, "wb")
    proc = subprocess.Popen([*BMDKIT, "-v", "listen", "--out", str(out), "--port", str(port), "--host",
                             "127.0.0.1", "--config", str(config), "-j", str(workers), "--grace", str(grace)],
                            stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    fh.close()
    wait_for(lambda: echo(port), 60, "the listener to answer C-ECHO", proc)
    return Listener(proc, port, out, log)


def echo(port: int, calling: str = "BMDTEST") -> bool:
    """True when a C-ECHO to 127.0.0.1:port succeeds (pynetdicom SCU)."""
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = 5
    assoc = ae.associate("127.0.0.1", port, ae_title="BMDKIT")
    if not assoc.is_established:
        return False
    status = assoc.send_c_echo()
    assoc.release()
    return bool(status) and status.Status == 0


def storescu(port: int, files: list[Path], calling: str = "STORESCU") -> subprocess.CompletedProcess[str]:
    """dcmtk's storescu, proposing RLE Lossless and the uncompressed syntaxes (the samples use both)."""
    return subprocess.run(["storescu", "-xr", "-aet", calling, "-aec", "BMDKIT", "127.0.0.1", str(port),
                           *map(str, files)], capture_output=True, text=True, timeout=120)


# -- Orthanc ------------------------------------------------------------------------------------

def _netns_ok() -> bool:
    if not shutil.which("unshare") or not shutil.which("nsenter"):
        return False
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return r.returncode == 0


IN_NETNS = _netns_ok()


@dataclass
class Orthanc:
    """A running Orthanc: its process, HTTP port and the prefix that runs a command beside it."""

    proc: subprocess.Popen[bytes]
    http_port: int
    prefix: list[str]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def run(self, argv: list[str], env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` where it can reach this Orthanc (inside its network namespace)."""
        return subprocess.run([*self.prefix, *argv], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=timeout)

    def upload(self, files: list[Path]) -> list[dict[str, Any]]:
        """POST each file to /instances (Orthanc's REST API); returns Orthanc's answers."""
        code = ("import base64,json,sys,urllib.request\n"
                "auth='Basic '+base64.b64encode(sys.argv[2].encode()).decode()\n"
                "out=[]\n"
                "for f in sys.argv[3:]:\n"
                "    req=urllib.request.Request(sys.argv[1]+'/instances',data=open(f,'rb').read(),"
                "headers={'Authorization':auth,'Content-Type':'application/dicom'})\n"
                "    out.append(json.loads(urllib.request.urlopen(req,timeout=60).read()))\n"
                "print(json.dumps(out))\n")
        r = self.run([sys.executable, "-c", code, self.url, f"{ORTHANC_USER}:{ORTHANC_PASSWORD}",
                      *map(str, files)])
        assert r.returncode == 0, r.stderr
        return list(json.loads(r.stdout))

    def has_dicomweb(self) -> bool:
        return Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so").exists()

    def alive(self) -> bool:
        code = ("import base64,sys,urllib.request\n"
                "auth='Basic '+base64.b64encode(sys.argv[2].encode()).decode()\n"
                "urllib.request.urlopen(urllib.request.Request(sys.argv[1]+'/system',"
                "headers={'Authorization':auth}),timeout=2).read()\n")
        return self.run([sys.executable, "-c", code, self.url, f"{ORTHANC_USER}:{ORTHANC_PASSWORD}"],
                        timeout=30).returncode == 0


def start_orthanc(workdir: Path) -> Iterator[Orthanc]:
    """Start Orthanc with its own config and storage under ``workdir``; yield it; stop it."""
    binary = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    workdir.mkdir(parents=True, exist_ok=True)
    http_port = 8042 if IN_NETNS else free_port()  # a namespace of its own: no port is taken
    plugin = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
    config = {
        "Name": "bmdkit-test", "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "index"), "HttpPort": http_port, "DicomServerEnabled": False,
        "DicomPort": free_port(), "RemoteAccessAllowed": False, "AuthenticationEnabled": True,
        "RegisteredUsers": {ORTHANC_USER: ORTHANC_PASSWORD}, "HttpDescribeErrors": True,
        "Plugins": [str(plugin)] if plugin.exists() else [],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
    }
    cfg = workdir / "orthanc.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    log = workdir / "orthanc.log"
    fh = open(log, "wb")
    if IN_NETNS:
        argv = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$1"', binary, str(cfg)]
    else:
        argv = [binary, str(cfg)]
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir)
    fh.close()
    prefix = ["nsenter", "-t", str(proc.pid), "-n", "--"] if IN_NETNS else []
    server = Orthanc(proc, http_port, prefix, log)
    try:
        wait_for(server.alive, 60, "Orthanc to answer", proc)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def env_with(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMDKIT_REMOTE")}
    env.update(extra)
    return env
