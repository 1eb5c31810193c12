"""Champion vs challenger on the same test rows: a seeded paired bootstrap of the metric difference.

Each resample draws the test rows with replacement (the same rows for both models: paired), scores
both, and keeps the challenger's *improvement* (challenger minus champion for a score, champion
minus challenger for an error, so positive always means the challenger is better). The one-sided
lower bound at ``confidence`` is the (1 - confidence) quantile of the improvements; the gate
registers when it is >= -margin (non-inferiority: the challenger is not worse by more than the margin).

Seeded (``numpy.random.default_rng(seed)``): the same rows give the same interval. Above
MAX_BOOTSTRAP_ROWS test rows, the resamples are drawn from a seeded subset of that many rows, which
bounds the time (each resample scores both models) and only widens the interval (more cautious).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.steps.gate_baselines import GateMetric

Array = npt.NDArray[Any]
DEFAULT_RESAMPLES: Final = 1000
DEFAULT_CONFIDENCE: Final = 0.95
MAX_BOOTSTRAP_ROWS: Final = 20_000


@dataclass(frozen=True)
class Interval:
    """The challenger's improvement over the champion on the full test rows, and its bounds."""

    improvement: float
    lower: float
    upper: float
    confidence: float
    resamples: int


def _improvement(metric: GateMetric, higher_is_better: bool, y: Array, new: Array, old: Array) -> float:
    difference = metric(y, new) - metric(y, old)
    return difference + 0.0 if higher_is_better else 0.0 - difference  # never IEEE's -0.0


def paired_bootstrap(
    metric: GateMetric,
    y_true: Array,
    challenger: Array,
    champion: Array,
    *,
    higher_is_better: bool,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> Interval:
    """The improvement's one-sided bounds at ``confidence`` (lower: the (1 - confidence) quantile).

    Raises:
        ValueError: the arrays differ in length, there are no rows, or fewer than half of the
            resamples give a finite metric (e.g. one class only).
    """
    rows = len(y_true)
    if rows == 0 or len(challenger) != rows or len(champion) != rows:
        raise ValueError(
            f"paired bootstrap needs equal, non-empty rows: {rows}, {len(challenger)}, {len(champion)}"
        )
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    point = _improvement(metric, higher_is_better, y_true, challenger, champion)
    subset = np.arange(rows)
    if rows > MAX_BOOTSTRAP_ROWS:
        subset = np.sort(rng.choice(rows, size=MAX_BOOTSTRAP_ROWS, replace=False))
    draws = np.empty(resamples)
    for r in range(resamples):
        index = subset[rng.integers(0, len(subset), size=len(subset))]
        draws[r] = _improvement(metric, higher_is_better, y_true[index], challenger[index], champion[index])
    finite = draws[np.isfinite(draws)]
    if len(finite) * 2 < resamples:
        raise ValueError(f"only {len(finite)} of {resamples} resamples gave a finite difference")
    lower, upper = np.quantile(finite, [1.0 - confidence, confidence])
    return Interval(point, float(lower) + 0.0, float(upper) + 0.0, confidence, len(finite))
