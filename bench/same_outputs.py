"""Prove a reader change changes no output: save every output once, change the code, compare.

For every DICOM file of the bench mix directory and the bundled samples
(``samples/dicom``, ``samples/reports/*.dcm``, ``samples/bad/*.dcm``) this
records:

- ``read_dicom``: the whole :class:`~bmdkit.dicom.DicomReading` (exam with
  every field, the no-results reason, the page payload with a digest of its
  pixels / PDF bytes), or the exception it raised (type and message);
- ``check``: the contract JSON ``bmdkit check --format json`` prints
  (``read_file`` + ``export.jsonout.dumps``, in process), or the exception;
- with ``--cli``: the real ``bmdkit check --format json`` output and exit
  code, one process per file (slow: about 1.5 s a file).

Timing fields (any key naming seconds or elapsed time) are left out.

Usage::

    .venv/bin/python bench/same_outputs.py save /tmp/outputs_before.json [--dir /tmp/bdicom] [--cli]
    # ... change the code ...
    .venv/bin/python bench/same_outputs.py compare /tmp/outputs_before.json [--dir /tmp/bdicom] [--cli]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
_TIMING_KEYS = frozenset({"elapsed", "elapsed_s", "seconds", "duration", "duration_s", "read_seconds",
                          "timing", "time_s", "took_s"})


def files(mix_dir: Path | None) -> list[Path]:
    out: list[Path] = []
    if mix_dir is not None and mix_dir.is_dir():
        out += sorted(p for p in mix_dir.rglob("*.dcm") if p.is_file())
    out += sorted(p for p in (ROOT / "samples" / "dicom").rglob("*") if p.is_file())
    out += sorted((ROOT / "samples" / "reports").glob("*.dcm"))
    out += sorted((ROOT / "samples" / "bad").glob("*.dcm"))
    return out


def _digest(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def plain(obj: Any) -> Any:
    """Any reader output as JSON-able data, exact (floats by repr, arrays and bytes by digest)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__name__,
                **{f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__name__}.{obj.name}"
    if isinstance(obj, np.ndarray):
        return {"array": list(obj.shape), "dtype": str(obj.dtype), "sha256": _digest(obj.tobytes())}
    if isinstance(obj, (bytes, bytearray)):
        return {"bytes": len(obj), "sha256": _digest(bytes(obj))}
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items() if str(k) not in _TIMING_KEYS}
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, float):
        return repr(obj)
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return repr(obj)


def _drop_timing(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_timing(v) for k, v in obj.items() if k not in _TIMING_KEYS}
    if isinstance(obj, list):
        return [_drop_timing(x) for x in obj]
    return obj


def _shown(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def one(p: Path) -> dict[str, Any]:
    from bmdkit import read_file
    from bmdkit.dicom import read_dicom
    from bmdkit.export.jsonout import dumps
    from bmdkit.model import InputKind, Source
    from bmdkit.options import DEFAULT_OPTIONS

    out: dict[str, Any] = {}
    src = Source(_shown(p), "0" * 64, InputKind.DICOM)
    try:
        out["read_dicom"] = plain(read_dicom(p, src, DEFAULT_OPTIONS))
    except Exception as exc:  # noqa: BLE001 - the exception is the output
        out["read_dicom"] = {"raised": type(exc).__name__, "message": str(exc),
                             "fields": plain(getattr(exc, "__dict__", {}))}
    try:
        out["check"] = _drop_timing(json.loads(dumps(read_file(p, DEFAULT_OPTIONS))))
    except Exception as exc:  # noqa: BLE001
        out["check"] = {"raised": type(exc).__name__, "message": str(exc)}
    return out


def cli(p: Path) -> dict[str, Any]:
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "bmdkit"), "check", "--format", "json", str(p)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    try:
        body: Any = _drop_timing(json.loads(proc.stdout))
    except ValueError:
        body = proc.stdout
    return {"exit": proc.returncode, "stdout": body, "stderr": proc.stderr.strip()[-500:]}


def collect(paths: list[Path], with_cli: bool, jobs: int) -> dict[str, Any]:
    res = {_shown(p): one(p) for p in paths}
    if with_cli:
        with ThreadPoolExecutor(jobs) as pool:
            for p, r in zip(paths, pool.map(cli, paths)):
                res[_shown(p)]["cli"] = r
    return res


def _diff(a: Any, b: Any, where: str, out: list[str]) -> None:
    if len(out) > 40:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{where}.{k}: only {'after' if k not in a else 'before'}")
            else:
                _diff(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {str(a)[:200]!r} -> {str(b)[:200]!r}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("save", "compare"))
    ap.add_argument("saved", type=Path)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bdicom"), help="bench mix directory")
    ap.add_argument("--cli", action="store_true", help="also run the real `bmdkit check --format json`")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    os.chdir(ROOT)
    paths = files(args.dir)
    now = collect(paths, args.cli, args.jobs)
    if args.mode == "save":
        args.saved.write_text(json.dumps(now, sort_keys=True, ensure_ascii=False))
        print(f"saved the outputs of {len(now)} files to {args.saved}")
        return 0
    before = json.loads(args.saved.read_text())
    diffs: list[str] = []
    if set(before) != set(now):
        diffs.append(f"file lists differ: {sorted(set(before) ^ set(now))[:10]}")
    compared = {"read_dicom": 0, "check": 0, "cli": 0}
    for name in sorted(set(before) & set(now)):
        for part in compared:
            if part in now[name] and part in before[name]:
                compared[part] += 1
                _diff(before[name][part], now[name][part], f"{name}:{part}", diffs)
            elif part in now[name] or part in before[name]:
                if part != "cli" or args.cli:
                    diffs.append(f"{name}:{part}: present only {'after' if part in now[name] else 'before'}")
    counts = ", ".join(f"{v} {k}" for k, v in compared.items() if v)
    if diffs:
        print(f"DIFFERENT ({len(diffs)}{'+' if len(diffs) > 40 else ''} differences; compared {counts}):")
        print("\n".join("  " + d for d in diffs[:40]))
        return 1
    print(f"IDENTICAL: {len(now)} files, outputs compared: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
