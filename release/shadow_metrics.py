"""The figures a shadow test is judged by: agreement, score distribution distance, latency.

Pure functions on plain sequences (no AWS): :func:`agreement` of paired predictions, the
population stability index (:func:`psi`) and Kolmogorov-Smirnov statistic (:func:`ks`) of the
shadow's scores against production's, and latency percentiles (:func:`percentiles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

#: PSI bins: production's deciles.
PSI_BINS: Final = 10
#: Share floor of an empty bin, so the log stays finite (a common PSI convention).
PSI_FLOOR: Final = 1e-4


def agreement(production: Sequence[str | None], shadow: Sequence[str | None]) -> float | None:
    """Share of paired rows whose predicted labels are equal; None without rows."""
    if not production:
        return None
    return sum(p == s for p, s in zip(production, shadow, strict=True)) / len(production)


def within_tolerance(production: Sequence[float], shadow: Sequence[float], tolerance: float) -> float | None:
    """Share of paired regression scores within ``tolerance`` (relative to production's magnitude,
    at least 1: an absolute tolerance for scores below 1); None without rows."""
    if not production:
        return None
    close = [abs(s - p) <= tolerance * max(1.0, abs(p)) for p, s in zip(production, shadow, strict=True)]
    return sum(close) / len(close)


def psi(production: Sequence[float], shadow: Sequence[float], bins: int = PSI_BINS) -> float | None:
    """Population stability index of ``shadow`` against ``production`` over production's quantile
    bins (empty bins floored at :data:`PSI_FLOOR`); None when either side is empty."""
    if not production or not shadow:
        return None
    base = np.asarray(production, dtype=float)
    edges = np.unique(np.quantile(base, np.linspace(0, 1, bins + 1)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, base, side="right"), minlength=len(edges) + 1)
    actual = np.bincount(
        np.searchsorted(edges, np.asarray(shadow, dtype=float), side="right"), minlength=len(edges) + 1
    )
    e = np.maximum(expected / expected.sum(), PSI_FLOOR)
    a = np.maximum(actual / actual.sum(), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def ks(production: Sequence[float], shadow: Sequence[float]) -> float | None:
    """Two-sample Kolmogorov-Smirnov statistic (largest gap of the two empirical CDFs); None
    when either side is empty."""
    if not production or not shadow:
        return None
    a, b = np.sort(np.asarray(production, dtype=float)), np.sort(np.asarray(shadow, dtype=float))
    points = np.concatenate([a, b])
    gap = np.searchsorted(a, points, side="right") / len(a) - np.searchsorted(b, points, side="right") / len(
        b
    )
    return float(np.max(np.abs(gap)))


def percentiles(values: Sequence[float], wanted: Sequence[int] = (50, 90)) -> dict[str, float] | None:
    """``{"p50": .., "p90": ..}`` of ``values`` (linear interpolation); None without values."""
    if not values:
        return None
    found = np.percentile(np.asarray(values, dtype=float), list(wanted))
    return {f"p{p}": round(float(v), 3) for p, v in zip(wanted, found, strict=True)}
