"""Deming (errors-in-both-variables) regression with jackknife standard errors.

In vivo cross-calibration scans the same patients on two machines; both
readings carry measurement error, so ordinary least squares would bias the
slope toward zero. Deming regression with error-variance ratio ``delta``
(var(error in y) / var(error in x); 1 gives orthogonal regression) is what
ISCD-style cross-calibration and Fan 2010 use. Standard errors come from the
delete-one jackknife, which needs no distributional assumption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DemingFit:
    """``y = slope × x + intercept`` with jackknife standard errors."""

    slope: float
    intercept: float
    se_slope: float
    se_intercept: float
    n: int
    delta: float
    method: str = "deming/jackknife"

    def predict(self, x: float) -> float:
        return self.slope * x + self.intercept

    def ci_slope(self, z: float = 1.96) -> tuple[float, float]:
        """Approximate confidence interval for the slope (normal, ``z`` standard errors)."""
        return (self.slope - z * self.se_slope, self.slope + z * self.se_slope)


def _point(x: np.ndarray, y: np.ndarray, delta: float) -> tuple[float, float]:
    mx, my = x.mean(), y.mean()
    sxx = float(np.mean((x - mx) ** 2))
    syy = float(np.mean((y - my) ** 2))
    sxy = float(np.mean((x - mx) * (y - my)))
    if sxy == 0.0:
        raise ValueError("x and y are uncorrelated: no Deming slope")
    d = syy - delta * sxx
    slope = (d + math.sqrt(d * d + 4.0 * delta * sxy * sxy)) / (2.0 * sxy)
    return slope, float(my - slope * mx)


def deming(x: np.typing.ArrayLike, y: np.typing.ArrayLike, delta: float = 1.0) -> DemingFit:
    """Fit ``y = b x + a`` allowing error in both; ``delta`` = var(err y) / var(err x).

    Examples
    --------
    >>> fit = deming([1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 7.0, 9.0])
    >>> round(fit.slope, 2)
    2.0
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError("x and y must be 1-D and of equal length")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must be finite")
    if delta <= 0:
        raise ValueError("delta must be positive")
    n = xa.size
    if n < 3:
        raise ValueError("at least 3 pairs are needed")
    slope, intercept = _point(xa, ya, delta)
    jack = np.empty((n, 2))
    for i in range(n):
        keep = np.arange(n) != i
        jack[i] = _point(xa[keep], ya[keep], delta)
    mean = jack.mean(axis=0)
    se = np.sqrt((n - 1) / n * np.sum((jack - mean) ** 2, axis=0))
    return DemingFit(slope=slope, intercept=intercept, se_slope=float(se[0]),
                     se_intercept=float(se[1]), n=n, delta=delta)
