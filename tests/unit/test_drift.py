"""Drift of traffic vs a baseline: known shifts are detected, no shift is not (bounded false-alarm
rate over many seeds, small samples included), and each constraint check fires on its own."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml_code import sample_data
from ml_code.drift.compare import MIN_RECORDS, Settings, compare
from ml_code.steps.baseline import compute_statistics, suggest_constraints

Baseline = tuple[dict[str, Any], dict[str, Any]]
#: Features the generator's drift knob moves clearly; num_products and total_charges it does not.
SHIFTED = {"monthly_charges", "support_calls", "tenure_months", "region", "payment_method"}


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    train = sample_data.generate(2000, seed=1).drop(columns=["churn"])
    statistics = compute_statistics(train)
    return statistics, suggest_constraints(statistics)


def _traffic(rows: int, seed: int, drift: float = 0.0) -> pd.DataFrame:
    return sample_data.generate(rows, seed=seed, drift=drift).drop(columns=["churn"])


def _drifted(result: Any) -> set[str]:
    return {f.feature_name for f in result.features if f.drifted}


def _checks(result: Any) -> set[tuple[str, str]]:
    return {(v["feature_name"], v["constraint_check_type"]) for v in result.violations}


def test_a_known_shift_is_detected_on_the_shifted_features(baseline: Baseline) -> None:
    # GIVEN traffic from the generator's drift knob (newer, pricier, needier customers)
    result = compare(_traffic(400, seed=5, drift=1.0), *baseline)
    # THEN the features the knob moves are flagged, and num_products (untouched) is not
    drifted = _drifted(result)
    assert drifted >= SHIFTED
    assert "num_products" not in drifted
    assert {kind for _, kind in _checks(result)} == {"data_drift_check"}


@pytest.mark.parametrize("rows", [60, 300])
def test_no_shift_false_alarm_rate_is_bounded_over_50_seeds(baseline: Baseline, rows: int) -> None:
    # GIVEN 50 independent samples of undrifted traffic, WHEN each is checked
    alarms = sum(bool(compare(_traffic(rows, seed=1000 + s), *baseline).violations) for s in range(50))
    # THEN at most 1 in 25 runs raises any violation (measured: 0 of 50 at both sizes)
    assert alarms <= 2


def test_a_moderate_shift_is_found_with_a_few_hundred_records(baseline: Baseline) -> None:
    found = sum(
        "monthly_charges" in _drifted(compare(_traffic(300, 2000 + s, 0.5), *baseline)) for s in range(20)
    )
    assert found >= 12


def test_small_samples_raise_the_bar_to_the_noise_floor(baseline: Baseline) -> None:
    few, many = compare(_traffic(60, seed=3), *baseline), compare(_traffic(3000, seed=3), *baseline)
    assert all(f.threshold > 0.2 for f in few.features)  # the floor beats the 0.2 default
    assert all(f.threshold == 0.2 for f in many.features)


def test_too_few_records_reports_distances_without_judging(baseline: Baseline) -> None:
    result = compare(_traffic(MIN_RECORDS - 1, seed=3, drift=1.0), *baseline)
    assert not result.enough_data
    assert not result.violations
    assert max(f.distance for f in result.features) > 0


@pytest.mark.parametrize(
    ("feature", "check", "damage"),
    [
        ("age", "completeness_check", lambda t: t.assign(age=t["age"].where(t.index % 3 != 0))),
        ("contract", "unseen_category_check", lambda t: t.assign(contract=t["contract"].where(
            t.index % 5 != 0, "lifetime"))),
        ("monthly_charges", "data_type_check", lambda t: t.assign(monthly_charges=t["monthly_charges"].astype(
            object).where(t.index % 6 != 0, "n/a"))),
        ("region", "missing_column_check", lambda t: t.drop(columns=["region"])),
    ],
)  # fmt: skip
def test_each_constraint_check_fires_on_its_own(
    baseline: Baseline, feature: str, check: str, damage: Any
) -> None:
    clean = _traffic(300, seed=8)
    assert not compare(clean, *baseline).violations
    assert (feature, check) in _checks(compare(damage(clean), *baseline))


def test_blank_csv_cells_are_missing_values_not_type_errors(baseline: Baseline) -> None:
    traffic = _traffic(300, seed=8).astype(object).where(lambda t: t.notna(), "")
    assert not compare(traffic, *baseline).violations


def test_unseen_categories_are_counted(baseline: Baseline) -> None:
    traffic = _traffic(300, seed=8)
    traffic.loc[:9, "region"] = "mars"
    by_name = {f.feature_name: f for f in compare(traffic, *baseline).features}
    assert by_name["region"].unseen_categories == 10
    assert by_name["contract"].unseen_categories == 0


def test_per_feature_thresholds_override_the_default(baseline: Baseline) -> None:
    traffic = _traffic(400, seed=5, drift=1.0)
    loose = compare(traffic, *baseline, feature_thresholds={"monthly_charges": 0.99})
    assert "monthly_charges" not in _drifted(loose)
    assert {f.feature_name: f.threshold for f in loose.features}["monthly_charges"] == 0.99


def _without_bins(feature: dict[str, Any]) -> dict[str, Any]:
    if "numerical_statistics" not in feature:
        return feature
    numbers = {k: v for k, v in feature["numerical_statistics"].items() if k != "quantile_bins"}
    return {**feature, "numerical_statistics": numbers}


def test_a_baseline_without_quantile_bins_still_detects_drift(baseline: Baseline) -> None:
    statistics, constraints = baseline
    old = {**statistics, "features": [_without_bins(f) for f in statistics["features"]]}
    drifted = _drifted(compare(_traffic(400, seed=5, drift=1.0), old, constraints))
    assert {"monthly_charges", "support_calls"} <= drifted


def test_reports_have_the_agreed_shapes_and_finite_numbers(baseline: Baseline) -> None:
    traffic = _traffic(400, seed=5, drift=1.0).assign(age=np.nan)
    result = compare(traffic, *baseline)
    violations = result.violations_report()["violations"]
    assert all(set(v) == {"feature_name", "constraint_check_type", "description"} for v in violations)
    metrics = result.metrics_report("ep")
    assert (metrics["endpoint_name"], metrics["records"], metrics["violations"]) == (
        "ep",
        400,
        len(violations),
    )
    for feature in metrics["features"]:
        assert set(feature) == {"feature_name", "distance", "threshold", "missing_rate", "unseen_categories",
                                "drifted"}  # fmt: skip
        assert all(math.isfinite(feature[k]) for k in ("distance", "threshold", "missing_rate"))
    shares = result.distributions_report()["features"]
    assert all(len(f["bins"]) == len(f["baseline"]) == len(f["recent"]) for f in shares)


def test_an_empty_frame_reports_zeros(baseline: Baseline) -> None:
    result = compare(pd.DataFrame(), *baseline)
    assert (result.records, result.violations) == (0, [])
    assert all(f.distance == 0.0 and f.missing_rate == 0.0 for f in result.features)


@pytest.mark.parametrize(
    "bad",
    [{"threshold": 0.0}, {"threshold": 1.5}, {"feature_thresholds": {"age": -1}}, {"missing_tolerance": 1}],
)
def test_invalid_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be in"):
        Settings(**bad)
