"""Control-chart PNG for one scanner's phantom series (matplotlib, Agg backend, no display).

Shows each phantom reading, the baseline mean, the ± percent limits and the
± k SD limits, marks outlier and shift alarms, and draws a vertical line
where the first shift began.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bmdkit.harmonize.drift import DriftResult
from bmdkit.harmonize.phantom import PhantomSeries


def control_chart(series: PhantomSeries, result: DriftResult, out: Path, title: str | None = None) -> Path:
    """Write the chart for ``series`` to ``out`` (PNG) and return the path."""
    st = result.settings
    m, sd = result.baseline_mean, result.baseline_sd
    x: list = list(series.dates)  # matplotlib plots dates; its stubs say float
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    try:
        ax.plot(x, series.values, marker=".", linewidth=0.8, color="black", label="phantom BMD")
        ax.axhline(m, color="green", linewidth=1, label=f"baseline mean (first {st.baseline_n})")
        for sign in (1, -1):
            ax.axhline(m * (1 + sign * st.pct_limit / 100), color="red", linestyle="--", linewidth=0.9,
                       label=f"±{st.pct_limit:g}%" if sign == 1 else None)
            ax.axhline(m + sign * st.k_sd * sd, color="orange", linestyle=":", linewidth=0.9,
                       label=f"±{st.k_sd:g} SD" if sign == 1 else None)
        ax.axvspan(x[0], x[min(st.baseline_n, len(x)) - 1], color="green", alpha=0.06)  # type: ignore[arg-type]
        for kind, colour, marker in (("outlier", "orange", "o"), ("shift", "red", "s")):
            idx = sorted({e.alarm_index for e in result.events if e.kind == kind})
            if idx:
                ax.scatter([x[i] for i in idx], [series.values[i] for i in idx], facecolors="none",
                           edgecolors=colour, marker=marker, s=60, label=f"{kind} alarm")
        first = result.first_shift
        if first is not None:
            onset = x[first.onset_index]
            ax.axvline(onset, color="red", linewidth=1.5,  # type: ignore[arg-type]
                       label=f"drift onset {onset} ({first.rule})")
        ax.set_title(title or f"scanner {series.scanner_id} · phantom {series.phantom_id}")
        ax.set_ylabel("BMD (g/cm²)")
        ax.legend(loc="upper left", fontsize=7, ncol=3)
        fig.autofmt_xdate()
        fig.tight_layout()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
