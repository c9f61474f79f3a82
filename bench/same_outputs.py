"""Prove a reader change changes no output: save every output once, change the code, compare.

For every DICOM file of the bench mix directory and the bundled samples
(``samples/dicom``, ``samples/reports/*.dcm``, ``samples/bad/*.dcm``) this
records:

- ``read_dicom``: the whole :class:`~bmdkit.dicom.DicomReading` (exam with
  every field, the no-results reason, the page payload with a digest of its
  pixels / PDF bytes), or the exception it raised (type and message);
- ``check``: the contract JSON ``bmdkit check --format json`` prints
  (``pipeline.process_file``: read, checked, redacted, then
  ``export.jsonout.dumps``, in process), or the exception;
- with ``--cli``: the real ``bmdkit check --format json`` output and exit
  code, one process per file (slow: about 1.5 s a file).

Report pages are covered too: the 200 pages of ``bench/bench_ocr.py`` (its
``dev`` and ``heldout`` makers, the same seed and order as a default run) and
every report file of the samples (``samples/reports``: images, PDFs, report
DICOM; ``samples/bad/no_report.pdf``). For each, one in-process
``read_file`` records

- ``read_report``: every :class:`~bmdkit.model.Exam` that
  ``bmdkit.report.read_report`` returned during the call (every field), or
  the exception it raised;
- ``check``: the contract JSON, as for DICOM files.

The bench pages are written ONCE by ``pages`` into ``--pages``
(default ``/tmp/report_bench_pages``, with a ``manifest.json``); ``save`` and
``compare`` read those very files and never make them again, so a change to
the page generator cannot pass for a change of the reader.

Timing fields (any key naming seconds or elapsed time) are left out.

Usage::

    .venv/bin/python bench/same_outputs.py pages /tmp/report_bench_pages   # once
    .venv/bin/python bench/same_outputs.py save /tmp/outputs_before.json [--dir /tmp/bdicom] [--cli]
    # ... change the code ...
    .venv/bin/python bench/same_outputs.py compare /tmp/outputs_before.json [--dir /tmp/bdicom] [--cli]
    # or save the after-outputs too (e.g. from another tree) and compare the two files:
    .venv/bin/python bench/same_outputs.py diff /tmp/outputs_before.json --after /tmp/outputs_after.json
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
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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


def report_files(pages_dir: Path | None) -> list[Path]:
    """The report pages: the written bench pages (from their manifest) and the sample reports."""
    out: list[Path] = []
    if pages_dir is not None:
        manifest = pages_dir / "manifest.json"
        if not manifest.is_file():
            raise SystemExit(f"no {manifest}: write the pages once with `same_outputs.py pages {pages_dir}`")
        out += [pages_dir / row["file"] for row in json.loads(manifest.read_text())]
    out += sorted(p for p in (ROOT / "samples" / "reports").iterdir()
                  if p.is_file() and not p.name.endswith(".json"))
    out.append(ROOT / "samples" / "bad" / "no_report.pdf")
    return out


def write_pages(pages_dir: Path, n: int = 200, seed: int = 2026) -> int:
    """Write the bench_ocr page set (dev and heldout, as ``bench_ocr.run`` makes them) once, with a manifest."""
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_ocr

    from bmdkit.samples.truth import TruthGenerator

    if (pages_dir / "manifest.json").exists():
        raise SystemExit(f"{pages_dir} already holds pages; they are written once and never again")
    pages_dir.mkdir(parents=True, exist_ok=True)
    gen = TruthGenerator(seed)
    makers = {"dev": bench_ocr.dev_page, "heldout": bench_ocr.heldout_page}
    sets = ["dev", "heldout"]
    rows = []
    for i in range(n):
        s = sets[i % len(sets)]
        truth = gen.exam(exclude=["L1"] if i % 7 == 3 else None)
        path, fam, lang, deg = makers[s](truth, i // len(sets), pages_dir)
        rows.append({"file": path.name, "set": s, "family": fam, "lang": lang, "deg": deg,
                     "sha256": _digest(path.read_bytes())})
    (pages_dir / "manifest.json").write_text(json.dumps(rows, indent=1))
    return len(rows)


def one_report(p: Path) -> dict[str, Any]:
    """A report file: what ``read_report`` returned inside one ``read_file`` call, and the check JSON."""
    import bmdkit.report as report_pkg
    from bmdkit.export.jsonout import dumps
    from bmdkit.options import DEFAULT_OPTIONS
    from bmdkit.pipeline import process_file

    seen: list[Any] = []
    real = report_pkg.read_report

    def recording(*args: Any, **kwargs: Any) -> Any:
        try:
            exam = real(*args, **kwargs)
        except Exception as exc:  # the exception is the output (raised on)
            seen.append({"raised": type(exc).__name__, "message": str(exc)})
            raise
        seen.append(plain(exam))
        return exam

    report_pkg.read_report = recording  # type: ignore[assignment]
    out: dict[str, Any] = {"sha256": _digest(p.read_bytes())}
    try:
        out["check"] = _drop_timing(json.loads(dumps(process_file(p, DEFAULT_OPTIONS))))
    except Exception as exc:  # noqa: BLE001
        out["check"] = {"raised": type(exc).__name__, "message": str(exc)}
    finally:
        report_pkg.read_report = real  # type: ignore[assignment]
    out["read_report"] = seen
    return out


def collect_reports(paths: list[Path], jobs: int) -> dict[str, Any]:
    """``one_report`` for every path, ``jobs`` worker processes (each file is read in one process)."""
    with ProcessPoolExecutor(jobs) as pool:
        return {"report:" + _shown(p): r for p, r in zip(paths, pool.map(one_report, paths, chunksize=4))}


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
    from bmdkit.dicom import read_dicom
    from bmdkit.export.jsonout import dumps
    from bmdkit.model import InputKind, Source
    from bmdkit.options import DEFAULT_OPTIONS
    from bmdkit.pipeline import process_file

    out: dict[str, Any] = {}
    src = Source(_shown(p), "0" * 64, InputKind.DICOM)
    try:
        out["read_dicom"] = plain(read_dicom(p, src, DEFAULT_OPTIONS))
    except Exception as exc:  # noqa: BLE001 - the exception is the output
        out["read_dicom"] = {"raised": type(exc).__name__, "message": str(exc),
                             "fields": plain(getattr(exc, "__dict__", {}))}
    try:
        out["check"] = _drop_timing(json.loads(dumps(process_file(p, DEFAULT_OPTIONS))))
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
    ap.add_argument("mode", choices=("pages", "save", "compare", "diff"))
    ap.add_argument("saved", type=Path)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bdicom"), help="bench mix directory")
    ap.add_argument("--cli", action="store_true", help="also run the real `bmdkit check --format json`")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--after", type=Path, help="diff: the outputs saved after the change (nothing is read again)")
    ap.add_argument("--pages", type=Path, default=Path("/tmp/report_bench_pages"),
                    help="the bench report pages, written once by `pages`")
    ap.add_argument("--no-reports", action="store_true", help="DICOM files only")
    ap.add_argument("--reports-only", action="store_true", help="report pages only")
    args = ap.parse_args()
    os.chdir(ROOT)
    if args.mode == "pages":
        print(f"wrote {write_pages(args.saved)} pages to {args.saved}")
        return 0
    now: dict[str, Any] = {}
    if args.mode == "diff":
        now = json.loads(args.after.read_text())
    elif not args.reports_only:
        now.update(collect(files(args.dir), args.cli, args.jobs))
    if not args.no_reports and args.mode != "diff":
        now.update(collect_reports(report_files(args.pages), args.jobs))
    if args.mode == "save":
        args.saved.write_text(json.dumps(now, sort_keys=True, ensure_ascii=False))
        print(f"saved the outputs of {len(now)} files to {args.saved}")
        return 0
    before = json.loads(args.saved.read_text())
    diffs: list[str] = []
    if set(before) != set(now):
        diffs.append(f"file lists differ: {sorted(set(before) ^ set(now))[:10]}")
    compared = {"read_dicom": 0, "read_report": 0, "check": 0, "cli": 0, "sha256": 0}
    differing = dict.fromkeys(compared, 0)  # files whose part differs
    for name in sorted(set(before) & set(now)):
        for part in compared:
            if part in now[name] and part in before[name]:
                compared[part] += 1
                mine: list[str] = []
                _diff(before[name][part], now[name][part], f"{name}:{part}", mine)
                differing[part] += bool(mine)
                diffs += mine
            elif part in now[name] or part in before[name]:
                if part != "cli" or args.cli:
                    diffs.append(f"{name}:{part}: present only {'after' if part in now[name] else 'before'}")
    counts = ", ".join(f"{v} {k}" for k, v in compared.items() if v)
    if diffs:
        which = ", ".join(f"{v} {k}" for k, v in differing.items() if v)
        print(f"DIFFERENT ({len(diffs)} differences; files differing: {which or 'none'}; compared {counts}):")
        print("\n".join("  " + d for d in diffs[:40]))
        return 1
    print(f"IDENTICAL: {len(now)} files, outputs compared: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
