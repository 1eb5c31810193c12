"""The paired bootstrap of the challenger's improvement: seeded, paired, one-sided."""

from __future__ import annotations

import numpy as np
import pytest

from ml_code.steps.gate_baselines import gate_metric
from ml_code.steps.gate_bootstrap import paired_bootstrap


def _binary(rows: int, seed: int, noise_new: float, noise_old: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=rows).astype(float)
    return y, y + rng.normal(0, noise_new, rows), y + rng.normal(0, noise_old, rows)


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    y, new, old = _binary(300, 1, 1.0, 1.0)
    auc = gate_metric("auc")
    first = paired_bootstrap(auc, y, new, old, higher_is_better=True, seed=7)
    again = paired_bootstrap(auc, y, new, old, higher_is_better=True, seed=7)
    other = paired_bootstrap(auc, y, new, old, higher_is_better=True, seed=8)
    assert first == again
    assert (other.lower, other.upper) != (first.lower, first.upper)
    assert first.improvement == other.improvement  # the point estimate does not resample


def test_identical_models_differ_by_exactly_zero() -> None:
    y, new, _ = _binary(200, 2, 1.0, 1.0)
    interval = paired_bootstrap(gate_metric("auc"), y, new, new.copy(), higher_is_better=True, seed=1)
    assert (interval.improvement, interval.lower, interval.upper) == (0.0, 0.0, 0.0)


def test_a_clearly_better_challenger_has_a_positive_lower_bound() -> None:
    y, new, old = _binary(1000, 3, 0.3, 1.5)
    interval = paired_bootstrap(gate_metric("auc"), y, new, old, higher_is_better=True, seed=1)
    assert interval.lower > 0
    assert interval.lower <= interval.improvement <= interval.upper


def test_for_an_error_metric_improvement_is_the_champions_error_minus_the_challengers() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(size=500)
    better, worse = y + rng.normal(0, 0.1, 500), y + rng.normal(0, 1.0, 500)
    interval = paired_bootstrap(gate_metric("rmse"), y, better, worse, higher_is_better=False, seed=1)
    assert interval.improvement > 0.5
    assert interval.lower > 0


def test_bad_inputs_are_refused() -> None:
    y = np.zeros(10)
    with pytest.raises(ValueError, match="equal, non-empty rows"):
        paired_bootstrap(gate_metric("rmse"), y, y, y[:5], higher_is_better=False)
    with pytest.raises(ValueError, match="resamples gave a finite difference"):  # one class: no AUC
        paired_bootstrap(gate_metric("auc"), y, y, y, higher_is_better=True)
