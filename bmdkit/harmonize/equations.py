"""Versioned harmonization equation tables, loaded from ``reference_data``.

Two tables hold every published equation bmdkit applies:

- ``sbmd_equations.csv``: vendor BMD (g/cm²) to standardized BMD (mg/cm²),
  one row per equation set, version, vendor and region;
- ``pairwise_equations.csv``: one vendor's BMD to another's, one row per
  direction (the published pairs are separate regressions, not inverses).

Each row names its citation, the scanner models it was derived on and a
``status``: only ``verified`` rows are applied by default; ``historical``
rows and ``site_fit`` rows (a site's own Deming fit, see
:mod:`bmdkit.harmonize.crosscal`) need an explicit opt-in; ``not_available`` rows are placeholders for an
equation set whose coefficients nobody has read yet (e.g. Fan 2010) and are
never applied. A new equation set is new rows, not new code.
"""

from __future__ import annotations

from dataclasses import dataclass

from bmdkit import reference
from bmdkit.errors import ReferenceDataError
from bmdkit.model import Region, Vendor

SBMD_TABLE = "sbmd_equations"
PAIRWISE_TABLE = "pairwise_equations"
DEFAULT_STATUSES: frozenset[str] = frozenset({"verified"})
APPLICABLE_STATUSES: frozenset[str] = frozenset({"verified", "historical", "site_fit"})

# Which table region a model region is harmonized with. Single vertebrae
# have no published equation; the spine total (whatever vertebrae it covers)
# uses the spine row, whose ``derived_region`` records what it was fit on.
_TABLE_REGION: dict[Region, str] = {
    Region.SPINE_TOTAL: "spine",
    Region.TOTAL_HIP: "total_hip",
    Region.FEMORAL_NECK: "femoral_neck",
    Region.TROCHANTER: "trochanter",
}


def table_region(region: Region) -> str | None:
    """The equation-table region name for ``region``, or None if none applies."""
    return _TABLE_REGION.get(region)


@dataclass(frozen=True)
class SbmdEquation:
    """One vendor-to-sBMD equation.

    ``linear``: sBMD = scale × (a + b × BMD); ``centred``: sBMD = scale × (b ×
    (BMD − x0) + y0). The published form is kept so the row can be checked
    against its source by eye.
    """

    equation_set: str
    version: str
    vendor: Vendor
    region: str
    derived_region: str
    form: str
    a: float | None
    b: float | None
    x0: float | None
    y0: float | None
    scale: float
    output_unit: str
    derived_on: str
    status: str
    source: str

    @property
    def label(self) -> str:
        return f"{self.equation_set} v{self.version}"

    def apply(self, bmd_g_cm2: float) -> float:
        """sBMD in ``output_unit`` (mg/cm²) from a vendor BMD in g/cm²."""
        if self.status not in APPLICABLE_STATUSES or self.b is None:
            raise ReferenceDataError(f"equation {self.label} {self.vendor.value}/{self.region} is not available")
        if self.form == "linear":
            assert self.a is not None
            return self.scale * (self.a + self.b * bmd_g_cm2)
        assert self.x0 is not None and self.y0 is not None
        return self.scale * (self.b * (bmd_g_cm2 - self.x0) + self.y0)

    def invert(self, sbmd: float) -> float:
        """The vendor BMD (g/cm²) this equation maps to ``sbmd`` (used only when asked to bridge)."""
        if self.status not in APPLICABLE_STATUSES or self.b is None:
            raise ReferenceDataError(f"equation {self.label} {self.vendor.value}/{self.region} is not available")
        y = sbmd / self.scale
        if self.form == "linear":
            assert self.a is not None
            return (y - self.a) / self.b
        assert self.x0 is not None and self.y0 is not None
        return (y - self.y0) / self.b + self.x0


@dataclass(frozen=True)
class PairwiseEquation:
    """``to = slope × from + intercept`` for one measure, region and direction."""

    equation_set: str
    version: str
    measure: str
    from_vendor: Vendor
    to_vendor: Vendor
    region: str
    derived_region: str
    slope: float | None
    intercept: float | None
    unit: str
    derived_on: str
    status: str
    source: str

    @property
    def label(self) -> str:
        return f"{self.equation_set} v{self.version}"

    def apply(self, value: float) -> float:
        if self.status not in APPLICABLE_STATUSES or self.slope is None or self.intercept is None:
            raise ReferenceDataError(f"equation {self.label} is not available")
        return self.slope * value + self.intercept


def _num(row: dict[str, str], key: str) -> float | None:
    text = row.get(key, "")
    if text == "":
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise ReferenceDataError(f"column {key!r} is not a number: {text!r}") from exc


def load_sbmd(table_name: str = SBMD_TABLE) -> list[SbmdEquation]:
    """Every row of the sBMD table, placeholders included."""
    out = []
    for row in reference.table(table_name):
        out.append(SbmdEquation(
            equation_set=row["equation_set"], version=row["version"], vendor=Vendor(row["vendor"]),
            region=row["region"], derived_region=row.get("derived_region", ""), form=row["form"],
            a=_num(row, "a"), b=_num(row, "b"), x0=_num(row, "x0"), y0=_num(row, "y0"),
            scale=_num(row, "scale") or 1.0, output_unit=row["output_unit"],
            derived_on=row.get("derived_on", ""), status=row["status"], source=row["source"],
        ))
        if row["form"] not in ("linear", "centred", "placeholder"):
            raise ReferenceDataError(f"unknown equation form {row['form']!r} in {table_name}")
    return out


def load_pairwise(table_name: str = PAIRWISE_TABLE) -> list[PairwiseEquation]:
    """Every row of the pairwise table, placeholders included."""
    return [
        PairwiseEquation(
            equation_set=row["equation_set"], version=row["version"], measure=row["measure"],
            from_vendor=Vendor(row["from_vendor"]), to_vendor=Vendor(row["to_vendor"]),
            region=row["region"], derived_region=row.get("derived_region", ""),
            slope=_num(row, "slope"), intercept=_num(row, "intercept"), unit=row["unit"],
            derived_on=row.get("derived_on", ""), status=row["status"], source=row["source"],
        )
        for row in reference.table(table_name)
    ]


def _pick(rows: list, equation_set: str | None, statuses: frozenset[str], what: str) -> object | None:
    rows = [r for r in rows if r.status in statuses and r.status in APPLICABLE_STATUSES]
    if equation_set is not None:
        name, _, version = equation_set.partition(":")
        rows = [r for r in rows if r.equation_set == name and (not version or r.version == version)]
    if not rows:
        return None
    sets = {(r.equation_set, r.version) for r in rows}
    if len(sets) > 1:
        # Newest version of one set wins; different sets must be chosen by name.
        names = {s for s, _ in sets}
        if len(names) > 1:
            raise ReferenceDataError(f"several equation sets give {what}: {sorted(names)}; choose one by name")
        best = max(rows, key=lambda r: int(r.version) if r.version.isdigit() else -1)
        rows = [r for r in rows if r.version == best.version]
    return rows[0]


def find_sbmd(
    vendor: Vendor, region: Region, equation_set: str | None = None,
    statuses: frozenset[str] = DEFAULT_STATUSES, table_name: str = SBMD_TABLE,
) -> SbmdEquation | None:
    """The sBMD equation for ``vendor`` and ``region`` (``set`` or ``set:version``), or None."""
    treg = table_region(region)
    if treg is None:
        return None
    rows = [e for e in load_sbmd(table_name) if e.vendor is vendor and e.region == treg]
    return _pick(rows, equation_set, statuses, f"sBMD {vendor.value}/{treg}")  # type: ignore[return-value]


def find_pairwise(
    from_vendor: Vendor, to_vendor: Vendor, region: Region, measure: str = "bmd",
    equation_set: str | None = None, statuses: frozenset[str] = DEFAULT_STATUSES,
    table_name: str = PAIRWISE_TABLE,
) -> PairwiseEquation | None:
    """The pairwise equation in the direction asked, or None (never an inverted one)."""
    treg = table_region(region)
    if treg is None:
        return None
    rows = [
        e for e in load_pairwise(table_name)
        if e.from_vendor is from_vendor and e.to_vendor is to_vendor and e.region == treg and e.measure == measure
    ]
    return _pick(rows, equation_set, statuses,  # type: ignore[return-value]
                 f"{from_vendor.value}->{to_vendor.value} {treg}")
