"""The outcome of one harmonization step on one value: a number with its provenance, or a reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Harmonized:
    """A harmonized value and the equation (or calibration) that produced it.

    ``value`` is None when no equation applies; ``reason`` then says why, so
    a missing number is never silent. ``note`` carries caveats that do not
    stop the value (e.g. an equation derived on L2-L4 applied to L1-L4).
    """

    value: float | None
    unit: str
    equation_set: str = ""
    source: str = ""
    note: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None

    @classmethod
    def refused(cls, reason: str, unit: str = "") -> Harmonized:
        return cls(value=None, unit=unit, reason=reason)
