"""The gate's own AUC and macro-F1 (the bootstrap computes each twice per resample) agree with
scikit-learn's, ties, one-class and absent-label cases included."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from ml_code.steps.gate_baselines import fast_auc, fast_macro_f1


@pytest.mark.parametrize("decimals", [1, 2, 6])
def test_auc_is_scikit_learns_with_and_without_ties(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    for _ in range(100):
        rows = int(rng.integers(2, 300))
        y = rng.integers(0, 2, rows).astype(float)
        scores = np.round(rng.random(rows), decimals)  # 1 decimal: many ties
        if len(np.unique(y)) < 2:
            continue
        assert fast_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)


def test_auc_of_one_class_is_nan_and_a_perfect_ranking_is_one() -> None:
    assert math.isnan(fast_auc(np.zeros(5), np.arange(5.0)))
    assert fast_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert fast_auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5  # a tie counts half


def test_macro_f1_is_scikit_learns_over_the_labels_seen_or_predicted() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        rows, classes = int(rng.integers(1, 200)), int(rng.integers(2, 6))
        y = rng.integers(0, classes, rows)
        probabilities = rng.random((rows, classes))
        expected = skm.f1_score(y, probabilities.argmax(axis=1), average="macro", zero_division=0)
        assert fast_macro_f1(y, probabilities) == pytest.approx(expected, abs=1e-12)
