"""The drift check's numbers: distance, noise floor (calibrated by simulation), exact rates, bins."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest

from ml_code.drift.stats import (
    binomial_tail,
    chi2_quantile,
    js_distance,
    noise_floor,
    numeric_bins,
    occupied,
    rate_exceeds,
)
from ml_code.steps.baseline import compute_statistics


def test_js_distance_is_0_for_the_same_shares_1_for_disjoint_0_when_empty() -> None:
    assert js_distance([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert js_distance([0, 0], [1, 1]) == 0.0
    assert 0 < js_distance([5, 5], [6, 4]) < js_distance([5, 5], [9, 1]) < 1


@pytest.mark.parametrize(("df", "alpha", "exact"), [(1, 0.05, 3.841), (2, 0.001, 13.816), (9, 0.001, 27.877)])
def test_chi2_quantile_is_within_3_percent(df: int, alpha: float, exact: float) -> None:
    assert chi2_quantile(df, alpha) == pytest.approx(exact, rel=0.03)


@pytest.mark.parametrize(("records", "bound"), [(300, 0.02), (50, 0.04)])
def test_noise_floor_is_exceeded_by_pure_noise_at_about_alpha(records: int, bound: float) -> None:
    # GIVEN 4000 samples drawn from the baseline's own distribution (10 equal bins)
    rng = np.random.default_rng(3)
    shares = np.full(10, 0.1)
    base, recent = rng.multinomial(2000, shares, size=4000), rng.multinomial(records, shares, size=4000)
    distances = np.array([js_distance(b, r) for b, r in zip(base, recent, strict=True)])
    # THEN the floor at alpha=0.01 is passed about 1% of the time (the tail is heavier with
    # 5 expected records per bin, documented in ml_code.drift.stats; the default alpha is 1e-4)
    rate = float((distances > noise_floor(10, records, 2000, alpha=0.01)).mean())
    assert 0.004 < rate < bound


def test_noise_floor_shrinks_with_records_and_is_1_without_any() -> None:
    floors = [noise_floor(10, n, 5000) for n in (50, 300, 3000)]
    assert floors == sorted(floors, reverse=True)
    assert floors[1] < 0.2 < floors[0]  # the default threshold decides from a few hundred records
    assert noise_floor(10, 0, 5000) == 1.0
    assert noise_floor(1, 100, 5000) == 0.0  # a single occupied bin cannot differ


@pytest.mark.parametrize(("k", "n", "p"), [(3, 50, 0.0067), (0, 10, 0.3), (7, 10, 0.3), (11, 10, 0.3)])
def test_binomial_tail_is_exact(k: int, n: int, p: float) -> None:
    exact = sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
    assert binomial_tail(k, n, p) == pytest.approx(exact, rel=1e-9, abs=1e-300)


def test_a_rate_must_pass_the_tolerance_and_be_significant() -> None:
    assert not rate_exceeds(0.06, 50, 0.007, 0.05)  # 3 of 50: above the tolerance, but chance
    assert rate_exceeds(0.30, 50, 0.007, 0.05)  # 15 of 50: not chance
    assert not rate_exceeds(0.04, 10_000, 0.0, 0.05)  # significant, but within the tolerance
    assert rate_exceeds(0.06, 10_000, 0.0, 0.05)
    assert not rate_exceeds(0.5, 0, 0.0, 0.05)


def test_numeric_bins_use_the_baselines_deciles_and_catch_values_outside_them() -> None:
    stats = compute_statistics(pd.DataFrame({"x": np.arange(1000.0)}))
    numbers = stats["features"][0]["numerical_statistics"]
    labels, base, recent = numeric_bins(numbers, np.array([-5.0, 10.0, 500.0, 5000.0]))
    assert len(labels) == len(base) == len(recent) == 10
    assert base.sum() == pytest.approx(1000)
    assert (recent[0], recent[4] + recent[5], recent[-1]) == (2.0, 1.0, 1.0)  # -5 and 10 in the first bin
    assert labels[0].startswith("<")
    assert labels[-1].startswith(">=")


def test_numeric_bins_fall_back_to_the_histogram_of_an_older_baseline() -> None:
    stats = compute_statistics(pd.DataFrame({"x": np.arange(100.0)}))
    numbers = {k: v for k, v in stats["features"][0]["numerical_statistics"].items() if k != "quantile_bins"}
    labels, base, recent = numeric_bins(numbers, np.array([-1.0, 50.0, 1e9]))
    assert len(labels) == 10
    assert base.sum() == 100
    assert (recent[0], recent[5], recent[-1]) == (1.0, 1.0, 1.0)
    assert occupied(base, recent) == 10
