"""Pictures for the review page: BMD by center and site, and phantom control charts.

Plots are drawn with matplotlib's Agg backend (no display) and returned as
PNG ``data:`` URIs, ``[{"title": ..., "uri": ...}]``.

Control charts come from a harmonization output folder (e.g. the folder
``bmdkit harmonize --charts DIR`` writes), read tolerantly: every PNG file
in the folder or one level below is embedded as it is (size- and
count-capped, PNG magic checked, symbolic links not followed). Only when the
folder holds no chart, a CSV of phantom scans whose name says "phantom"
(columns naming a date and a BMD, optionally a scanner, as in
``bmdkit.harmonize.phantom``) is drawn as a plain run chart with its mean,
for a first look: the limits and rules that decide drift belong to
:mod:`bmdkit.harmonize`, not to this picture.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib import font_manager

#: Fonts tried first for text in the plots (center and institution names may be Chinese);
#: DejaVu Sans (matplotlib's own) stays last for whatever they lack.
CJK_FONTS: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei",
                              "Source Han Sans SC")


def plot_fonts() -> list[str]:
    """The font family list for the plots: the CJK-capable fonts installed here, then DejaVu Sans."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in CJK_FONTS if f in installed] + ["DejaVu Sans"]


def _style() -> dict[str, Any]:
    """rc settings for every figure drawn here: a CJK-capable sans-serif font, and a real minus sign."""
    return {"font.family": "sans-serif", "font.sans-serif": plot_fonts(), "axes.unicode_minus": False}

from bmdkit.model import Region, Side

PLOT_SITES: tuple[tuple[Region, str], ...] = (
    (Region.SPINE_TOTAL, "Lumbar spine total"),
    (Region.FEMORAL_NECK, "Femoral neck"),
    (Region.TOTAL_HIP, "Total hip"),
)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_EMBEDDED_PNG_BYTES = 2 * 1024 * 1024
MAX_EMBEDDED_PNGS = 40
MAX_CSV_BYTES = 16 * 1024 * 1024


def _uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def bmd_by_center(lines: Sequence[Any], center_of: Callable[[Any], str]) -> list[dict[str, str]]:
    """One figure: BMD distribution per center, a panel per site (spine total, neck, total hip).

    Hip values use the left, right and mean results as printed (each exam
    counted once per site: mean if present, else left, else right).
    """
    with matplotlib.rc_context(_style()):
        return _bmd_by_center(lines, center_of)


def _bmd_by_center(lines: Sequence[Any], center_of: Callable[[Any], str]) -> list[dict[str, str]]:
    data: dict[Region, dict[str, list[float]]] = {site: defaultdict(list) for site, _ in PLOT_SITES}
    for ln in lines:
        exam = ln.exam
        center = center_of(ln)
        for site, _ in PLOT_SITES:
            sides = (None,) if site.is_spine else (Side.MEAN, Side.LEFT, Side.RIGHT)
            for side in sides:
                r = exam.region(site, side)
                if r is not None and r.bmd is not None:
                    data[site][center].append(r.bmd)
                    break
    if not any(data[s] for s, _ in PLOT_SITES):
        return []
    centers = sorted({c for s, _ in PLOT_SITES for c in data[s]})
    fig, axes = plt.subplots(1, len(PLOT_SITES), figsize=(4.2 * len(PLOT_SITES), 3.6), squeeze=False,
                             layout="constrained")
    for ax, (site, title) in zip(axes[0], PLOT_SITES):
        series = [data[site].get(c, []) for c in centers]
        present = [(c, s) for c, s in zip(centers, series) if s]
        if present:
            ax.boxplot([s for _, s in present], showfliers=True, widths=0.6)
            ax.set_xticks(range(1, len(present) + 1))
            ax.set_xticklabels([f"{c}\nn={len(s)}" for c, s in present], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("BMD (g/cm²)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("BMD by center (as read, not harmonized)", fontsize=11)
    return [{"title": "BMD by center and site (as read, not harmonized)", "uri": _uri(fig)}]


def control_charts(folder: Path) -> list[dict[str, str]]:
    """Control charts from a harmonization output folder: its PNGs, and phantom CSVs drawn here."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    out: list[dict[str, str]] = []
    for p in _candidates(folder, ".png"):
        if len(out) >= MAX_EMBEDDED_PNGS:
            break
        data = p.read_bytes() if p.stat().st_size <= MAX_EMBEDDED_PNG_BYTES else b""
        if data.startswith(_PNG_MAGIC):
            out.append({"title": f"{p.relative_to(folder)}",
                        "uri": "data:image/png;base64," + base64.b64encode(data).decode("ascii")})
    if out:  # the harmonizer drew the charts (with its limits and rules): no run charts of ours
        return out
    for p in _candidates(folder, ".csv"):
        if "phantom" in p.name.lower() and p.stat().st_size <= MAX_CSV_BYTES:
            with matplotlib.rc_context(_style()):
                out += _phantom_run_charts(p)
    return out


def _candidates(folder: Path, suffix: str) -> list[Path]:
    found = [p for p in folder.iterdir() if p.suffix.lower() == suffix]
    for sub in folder.iterdir():
        if sub.is_dir() and not sub.is_symlink():
            found += [p for p in sub.iterdir() if p.suffix.lower() == suffix]
    return sorted(p for p in found if p.is_file() and not p.is_symlink())


def _column(header: Sequence[str], *words: str) -> str | None:
    for h in header:
        if any(w in h.lower() for w in words):
            return h
    return None


def _phantom_run_charts(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        c_date, c_bmd = _column(header, "date"), _column(header, "bmd", "measured")
        c_scanner = _column(header, "scanner", "serial", "device")
        if not c_date or not c_bmd:
            return []
        series: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
        for row in reader:
            try:
                d = dt.date.fromisoformat((row.get(c_date) or "")[:10])
                v = float(row.get(c_bmd) or "")
            except ValueError:
                continue
            series[(row.get(c_scanner) or "all") if c_scanner else "all"].append((d, v))
    out = []
    for scanner, pts in sorted(series.items())[:MAX_EMBEDDED_PNGS]:
        if len(pts) < 2:
            continue
        pts.sort()
        mean = statistics.fmean(v for _, v in pts)
        fig, ax = plt.subplots(figsize=(6.5, 2.8))
        ax.plot(mdates.date2num([d for d, _ in pts]), [v for _, v in pts], marker=".", lw=0.8)
        ax.xaxis_date()
        ax.axhline(mean, color="grey", lw=0.8, ls="--", label=f"mean {mean:.4f}")
        ax.set_title(f"Phantom series, scanner {scanner} ({path.name})", fontsize=10)
        ax.set_ylabel("BMD (g/cm²)", fontsize=9)
        ax.legend(fontsize=8)
        fig.autofmt_xdate()
        out.append({"title": f"Phantom run chart: {scanner} (from {path.name}; limits in harmonize output)",
                    "uri": _uri(fig)})
    return out
