"""``bmdkit.read_results(DIR)``: a batch's results as a pandas DataFrame for analysts.

One row per file, region and side (a file without values gives one row
with empty region), with typed columns: dates as ``datetime64``, measures
and confidence as ``float64``, ``evaluable`` as pandas' nullable boolean,
categories as strings. Patient identifiers are not included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bmdkit.batchfolder import RESULTS_JSONL, iter_json_lines
from bmdkit.errors import ConfigError
from bmdkit.model import MEASURES

_STR = ("path", "sha256", "kind", "status", "vendor", "scanner_model", "study_instance_uid",
        "region", "side", "label", "vertebrae", "method", "reference", "flag_codes")
COLUMNS = ("path", "sha256", "kind", "status", "vendor", "scanner_model", "exam_date",
           "study_instance_uid", "region", "side", "label", "vertebrae", *MEASURES,
           "method", "confidence", "evaluable", "reference", "flag_codes")


def _rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    src = d["source"]
    base = {
        "path": src["path"], "sha256": src["sha256"], "kind": src["kind"], "status": d["status"],
        "vendor": d.get("vendor"), "scanner_model": d.get("scanner_model"),
        "exam_date": d.get("exam_date"), "study_instance_uid": d.get("study_instance_uid"),
    }
    flags = d.get("flags", [])
    file_flags = [f["code"] for f in flags if f.get("region") is None]
    rows = []
    for r in [*d.get("regions", []), *d.get("extra_regions", [])]:
        codes = file_flags + [f["code"] for f in flags if f.get("region") == r["region"]
                              and f.get("side") in (None, r.get("side"))]
        rows.append({
            **base, "region": r["region"], "side": r.get("side"), "label": r.get("label"),
            "vertebrae": "+".join(r["vertebrae"]) if r.get("vertebrae") else None,
            **{m: r.get(m) for m in MEASURES},
            "method": r.get("method"), "confidence": r.get("confidence"),
            "evaluable": r.get("evaluable"), "reference": r.get("reference"),
            "flag_codes": ";".join(dict.fromkeys(codes)),
        })
    if not rows:
        rows.append({**base, "flag_codes": ";".join(dict.fromkeys(file_flags))})
    return rows


def read_results(directory: str | Path) -> pd.DataFrame:
    """The results of the batch output folder ``directory``.

    Examples
    --------
    >>> import bmdkit
    >>> df = bmdkit.read_results("out/")            # doctest: +SKIP
    >>> df[df.region == "femoral_neck"].bmd.mean()  # doctest: +SKIP
    """
    path = Path(directory) / RESULTS_JSONL
    if not path.is_file():
        raise ConfigError("no results.jsonl in this folder", str(directory))
    rows: list[dict[str, Any]] = []
    for line in iter_json_lines(path):
        if line.error is not None:
            raise line.error
        rows.extend(_rows(line.data))
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    for c in _STR:
        df[c] = df[c].astype("string")
    for m in (*MEASURES, "confidence"):
        df[m] = pd.to_numeric(df[m], errors="coerce").astype("float64")
    df["exam_date"] = pd.to_datetime(df["exam_date"], format="%Y-%m-%d", errors="coerce")
    df["evaluable"] = df["evaluable"].astype("boolean")
    return df
