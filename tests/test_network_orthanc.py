"""``bmdkit batch --orthanc`` and ``--dicomweb`` against a real Orthanc (Debian's package, its own config).

Samples are uploaded through Orthanc's REST API; the pulled results must
equal ``bmdkit batch`` on the same files, and a second pull resumes after
the first (only what was added since).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from network_servers import (BMDKIT, ORTHANC_PASSWORD, ORTHANC_USER, SAMPLE_DICOM, Orthanc, env_with,
                             normalized, start_orthanc)

from bmdkit.batch.runner import run_batch

pytestmark = pytest.mark.skipif(shutil.which("Orthanc") is None and not Path("/usr/sbin/Orthanc").exists(),
                                reason="orthanc is part of the test install")

CREDS = {"BMDKIT_REMOTE_USER": ORTHANC_USER, "BMDKIT_REMOTE_PASSWORD": ORTHANC_PASSWORD}


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    yield from start_orthanc(tmp_path_factory.mktemp("orthanc"))


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    base = tmp_path_factory.mktemp("plain")
    run_batch(SAMPLE_DICOM, base / "out", workers=2, progress=False)
    return normalized(base / "out")


def _batch(orthanc: Orthanc, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    r = orthanc.run([*BMDKIT, "batch", "--no-progress", "-j", "2", *args], env=env or env_with(**CREDS))
    return r.returncode, r.stderr


def test_orthanc_pull_resumes_and_matches_batch(tmp_path: Path, orthanc: Orthanc, plain: list[str]) -> None:
    first, rest = SAMPLE_DICOM[:5], SAMPLE_DICOM[5:]
    orthanc.upload(first)
    out = tmp_path / "out"
    code, err = _batch(orthanc, "--orthanc", orthanc.url, "--out", str(out))
    assert code == 0, err
    assert "5 new objects pulled" in err
    position = json.loads((out / "pull-state.json").read_text())[f"orthanc {orthanc.url}"]
    assert position > 0

    orthanc.upload(rest)
    code, err = _batch(orthanc, "--orthanc", orthanc.url, "--out", str(out))
    assert code == 0, err
    assert f"{len(rest)} new objects pulled, 0 already stored" in err  # resumed after the first pull
    assert normalized(out) == plain
    # Orthanc returns the stored bytes: the pulled files are the samples themselves
    pulled = sorted(p.read_bytes() for p in (out / "received").rglob("*.dcm"))
    assert pulled == sorted(f.read_bytes() for f in SAMPLE_DICOM)

    code, err = _batch(orthanc, "--orthanc", orthanc.url, "--out", str(out), "--since", "0")
    assert code == 0, err
    assert f"0 new objects pulled, {len(SAMPLE_DICOM)} already stored" in err

    # DICOMweb (Orthanc's plugin) into another folder: the same values
    if not orthanc.has_dicomweb():
        pytest.skip("orthanc-dicomweb is not installed")
    web = tmp_path / "web"
    code, err = _batch(orthanc, "--dicomweb", orthanc.url + "/dicom-web", "--out", str(web))
    assert code == 0, err
    assert f"{len(SAMPLE_DICOM)} new objects pulled" in err
    assert normalized(web) == plain
    code, err = _batch(orthanc, "--dicomweb", orthanc.url + "/dicom-web", "--out", str(web))
    assert code == 0 and f"0 new objects pulled, {len(SAMPLE_DICOM)} already stored" in err


def test_orthanc_credentials_never_on_the_command_line(tmp_path: Path, orthanc: Orthanc) -> None:
    code, err = _batch(orthanc, "--orthanc", orthanc.url, "--out", str(tmp_path / "a"), env=env_with())
    assert code == 69 and "HTTP 401" in err and "Traceback" not in err
    url = orthanc.url.replace("http://", f"http://{ORTHANC_USER}:{ORTHANC_PASSWORD}@")
    code, err = _batch(orthanc, "--orthanc", url, "--out", str(tmp_path / "b"))
    assert code == 64 and "credentials in the URL" in err and ORTHANC_PASSWORD not in err
    cred = tmp_path / "cred.toml"
    cred.write_text(f'username = "{ORTHANC_USER}"\npassword = "{ORTHANC_PASSWORD}"\n')
    cred.chmod(0o644)
    code, err = _batch(orthanc, "--orthanc", orthanc.url, "--out", str(tmp_path / "c"), "--credentials", str(cred),
                       env=env_with())
    assert code == 64 and "chmod 600" in err
    cred.chmod(0o600)
    code, err = _batch(orthanc, "--orthanc", orthanc.url, "--out", str(tmp_path / "c"), "--credentials", str(cred),
                       "--since", "1000000000", env=env_with())  # authenticated; nothing after that change
    assert code == 0 and "0 new objects pulled" in err, err
