"""Drift statistics: known shifts are detected, no shift is not (with a bounded false-alarm rate)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml_code import sample_data
from ml_code.baseline import compute_statistics, suggest_constraints
from ml_code.drift import MIN_RECORDS, compare, js_distance


@pytest.fixture(scope="module")
def baseline() -> tuple[dict[str, Any], dict[str, Any]]:
    train = sample_data.generate(3000, seed=1).drop(columns=["churn"])
    statistics = compute_statistics(train)
    return statistics, suggest_constraints(statistics)


def _traffic(rows: int, seed: int, drift: float = 0.0) -> pd.DataFrame:
    return sample_data.generate(rows, seed=seed, drift=drift).drop(columns=["churn"])


def test_js_distance_bounds() -> None:
    assert js_distance(np.array([1, 2, 3]), np.array([2, 4, 6])) == pytest.approx(0.0)
    assert js_distance(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert js_distance(np.array([0, 0]), np.array([1, 1])) == 0.0


def test_a_known_shift_is_detected_on_the_shifted_features(
    baseline: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    # GIVEN traffic from the generator's drift knob (newer, pricier, needier customers)
    result = compare(_traffic(400, seed=5, drift=1.0), *baseline)
    # THEN the features the knob moves are flagged, and num_products (untouched) is not
    drifted = {f.feature_name for f in result.features if f.drifted}
    assert {"monthly_charges", "support_calls", "tenure_months", "contract"} <= drifted
    assert "num_products" not in drifted
    assert all(v["constraint_check_type"] for v in result.violations)


def test_no_shift_false_alarm_rate_is_bounded(baseline: tuple[dict[str, Any], dict[str, Any]]) -> None:
    # GIVEN 60 independent samples of undrifted traffic, WHEN each is checked
    alarms = sum(bool(compare(_traffic(300, seed=1000 + s), *baseline).violations) for s in range(60))
    # THEN at most 1 in 20 raise any violation (measured: 0 of 60 at the 0.2 default)
    assert alarms <= 3


def test_too_few_records_reports_distances_without_judging(
    baseline: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    result = compare(_traffic(MIN_RECORDS - 1, seed=3, drift=1.0), *baseline)
    assert not result.enough_data
    assert not any(f.drifted for f in result.features)
    assert max(f.distance for f in result.features) > 0


def test_missing_values_unseen_categories_and_schema(baseline: tuple[dict[str, Any], dict[str, Any]]) -> None:
    traffic = _traffic(300, seed=8)
    traffic.loc[: len(traffic) // 2, "age"] = None
    traffic.loc[:100, "contract"] = "lifetime"
    traffic["monthly_charges"] = traffic["monthly_charges"].astype(object)
    traffic.loc[:80, "monthly_charges"] = "n/a"
    traffic = traffic.drop(columns=["region"])
    checks = {(v["feature_name"], v["constraint_check_type"]) for v in compare(traffic, *baseline).violations}
    assert ("age", "completeness_check") in checks
    assert ("contract", "unseen_category_check") in checks
    assert ("monthly_charges", "data_type_check") in checks
    assert ("region", "missing_column_check") in checks


def test_per_feature_thresholds_override_the_default(baseline: tuple[dict[str, Any], dict[str, Any]]) -> None:
    traffic = _traffic(400, seed=5, drift=1.0)
    loose = compare(traffic, *baseline, feature_thresholds={"monthly_charges": 0.99})
    assert "monthly_charges" not in {f.feature_name for f in loose.features if f.drifted}


def test_reports_have_model_monitor_and_metrics_shapes(
    baseline: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    result = compare(_traffic(400, seed=5, drift=1.0), *baseline)
    violations = result.violations_report()["violations"]
    assert set(violations[0]) == {"feature_name", "constraint_check_type", "description"}
    metrics = result.metrics_report("ep")
    assert metrics["endpoint_name"] == "ep"
    assert metrics["violations"] == len(violations)
    assert set(metrics["features"][0]) == {
        "feature_name", "distance", "threshold", "missing_rate", "unseen_categories", "drifted",
    }  # fmt: skip
