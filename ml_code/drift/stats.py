"""The numbers behind the drift check: distances, the noise floor they are judged against, bins.

Distance: Jensen-Shannon distance (base 2; 0 = same distribution, 1 = disjoint), bounded and
defined when a bin is empty, unlike PSI or KL. A distance measured on a sample is never exactly
0: for ``n`` recent records against ``N`` baseline values in ``k`` bins, sampling alone gives
``8 ln2 · n_eff · d² ≈ χ²(k-1)`` with ``n_eff = nN/(n+N)`` (JS divergence is a Pearson χ²/8
for small differences). :func:`noise_floor` turns that into the distance noise exceeds with
probability ``alpha``: ~0.15 for 300 records in 10 bins, ~0.35 for 50. The check flags a feature
only above both its configured threshold and this floor, so small samples do not raise false
alarms. (The approximation is close from ~10 expected records per bin; below that the true tail
is heavier, ~5x at 50 records in 10 bins, which the small default ``alpha`` absorbs.)
Standard library + numpy only, so it runs in the training image's processing container.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any, Final

import numpy as np

#: Per-feature chance that sampling noise alone is flagged (before the threshold also applies):
#: with ~10 features, about 1 check in 1000 (measured in tests/unit/test_drift_stats.py).
DEFAULT_ALPHA: Final = 1e-4

Counts = np.ndarray[Any, np.dtype[np.float64]]


def js_distance(p: Sequence[float] | Counts, q: Sequence[float] | Counts) -> float:
    """Jensen-Shannon distance (base 2) of two count or share vectors; 0.0 when either is empty."""
    a = np.asarray(p, dtype=np.float64)
    b = np.asarray(q, dtype=np.float64)
    if a.sum() <= 0 or b.sum() <= 0:
        return 0.0
    a, b = a / a.sum(), b / b.sum()
    m = (a + b) / 2

    def kl(x: Counts) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / m[mask])))

    return float(np.sqrt(max(0.0, (kl(a) + kl(b)) / 2)))


def chi2_quantile(df: int, alpha: float) -> float:
    """Upper ``alpha`` quantile of χ²(df) (Wilson-Hilferty; within ~3% for df >= 1)."""
    z = NormalDist().inv_cdf(1 - alpha)
    h = 2 / (9 * df)
    return float(df * max(0.0, 1 - h + z * math.sqrt(h)) ** 3)


def noise_floor(bins: int, recent: int, baseline: int, alpha: float = DEFAULT_ALPHA) -> float:
    """JS distance that sampling noise exceeds with probability ``alpha``; 1.0 with no records."""
    if recent <= 0 or baseline <= 0 or bins < 2:
        return 1.0 if recent <= 0 or baseline <= 0 else 0.0
    n_eff = recent * baseline / (recent + baseline)
    return min(1.0, math.sqrt(chi2_quantile(bins - 1, alpha) / (8 * math.log(2) * n_eff)))


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space from ``k`` (exact, no overflow)."""
    if k <= 0 or p >= 1:
        return 1.0
    if k > n or p <= 0:
        return 0.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    total = 0.0
    for i in range(k, n + 1):
        term = math.exp(log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q)
        total += term
        if i > n * p and term <= total * 1e-12:  # past the mode the terms only shrink
            break
    return min(1.0, total)


def rate_exceeds(
    rate: float, n: int, baseline: float, tolerance: float, alpha: float = DEFAULT_ALPHA
) -> bool:
    """True when a share measured on ``n`` records is above ``baseline + tolerance`` and
    significantly above ``baseline`` (exact one-sided binomial test at ``alpha``)."""
    if n <= 0 or rate <= baseline + tolerance:
        return False
    return binomial_tail(round(rate * n), n, baseline) < alpha


def _label(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"< {hi:.4g}"
    if hi is None:
        return f">= {lo:.4g}"
    return f"[{lo:.4g}, {hi:.4g})"


def numeric_bins(stats: Mapping[str, Any], values: Counts) -> tuple[list[str], Counts, Counts]:
    """(bin labels, baseline counts, recent counts) of a numeric feature.

    Uses the baseline's ``quantile_bins`` when present; a baseline from before them falls back to
    Model Monitor's equal-width ``kll`` buckets (values outside the training range count in the
    end buckets). Returns empty lists when the baseline has no values.
    """
    total = float(stats.get("common", {}).get("num_present", 0))
    if "quantile_bins" in stats:
        edges = np.asarray(stats["quantile_bins"]["edges"], dtype=np.float64)
        base = np.asarray(stats["quantile_bins"]["proportions"], dtype=np.float64) * total
        in_bins = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(base))
        bounds = [None, *edges.tolist(), None]
        labels = [_label(lo, hi) for lo, hi in itertools.pairwise(bounds)]
        return labels, base, in_bins.astype(np.float64)
    buckets = stats.get("distribution", {}).get("kll", {}).get("buckets", [])
    if not buckets:
        return [], np.zeros(0), np.zeros(0)
    edges = np.array([b["lower_bound"] for b in buckets] + [buckets[-1]["upper_bound"]])
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(buckets) - 1)
    recent = np.bincount(index, minlength=len(buckets)).astype(np.float64)
    labels = [_label(b["lower_bound"], b["upper_bound"]) for b in buckets]
    return labels, np.array([b["count"] for b in buckets], dtype=np.float64), recent


def occupied(*counts: Counts) -> int:
    """Number of bins holding a value in any of ``counts`` (the test's degrees of freedom + 1)."""
    return int(np.count_nonzero(np.sum(np.vstack(counts), axis=0))) if counts and len(counts[0]) else 0
