"""Drift baseline: Model-Monitor-shaped statistics and the constraints suggested from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml_code.steps.baseline import BUCKETS, MAX_DOMAIN_SIZE, compute_statistics, suggest_constraints


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [20.0, 30.0, None, 40.0, 50.0],
        "charge": [1.5, -2.0, 3.25, 4.0, 5.0],
        "plan": ["gold", "silver", "gold", None, ""],
    })  # fmt: skip


def by_name(doc: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(f for f in doc["features"] if f["name"] == name)


def test_statistics_follow_the_model_monitor_shape(frame: pd.DataFrame) -> None:
    stats = compute_statistics(frame)
    assert stats["dataset"] == {"item_count": 5}
    assert [f["name"] for f in stats["features"]] == ["age", "charge", "plan"]
    age = by_name(stats, "age")
    assert age["inferred_type"] == "Integral"  # float dtype, whole values
    numbers = age["numerical_statistics"]
    assert numbers["common"] == {"num_present": 4, "num_missing": 1}
    assert numbers["missing_rate"] == pytest.approx(0.2)
    assert (numbers["mean"], numbers["min"], numbers["max"], numbers["sum"]) == (35.0, 20.0, 50.0, 140.0)
    assert numbers["std_dev"] == pytest.approx(np.std([20, 30, 40, 50]))
    assert numbers["quantiles"]["0.5"] == 35.0


def test_numeric_histogram_has_ten_buckets_covering_every_value(frame: pd.DataFrame) -> None:
    buckets = by_name(compute_statistics(frame), "charge")["numerical_statistics"]["distribution"]["kll"][
        "buckets"
    ]
    assert len(buckets) == BUCKETS
    assert sum(b["count"] for b in buckets) == 5
    assert buckets[0]["lower_bound"] == -2.0
    assert buckets[-1]["upper_bound"] == 5.0
    assert by_name(compute_statistics(frame), "charge")["inferred_type"] == "Fractional"


def test_string_statistics_count_categories_and_treat_blank_as_missing(frame: pd.DataFrame) -> None:
    plan = by_name(compute_statistics(frame), "plan")
    assert plan["inferred_type"] == "String"
    strings = plan["string_statistics"]
    assert strings["common"] == {"num_present": 3, "num_missing": 2}
    assert strings["distinct_count"] == 2
    assert strings["distribution"]["categorical"]["buckets"] == [
        {"value": "gold", "count": 2},
        {"value": "silver", "count": 1},
    ]
    assert strings["missing_rate"] == pytest.approx(0.4)


def test_constraints_record_completeness_sign_and_domains(frame: pd.DataFrame) -> None:
    constraints = suggest_constraints(compute_statistics(frame))
    assert by_name(constraints, "age")["completeness"] == pytest.approx(0.8)
    assert by_name(constraints, "age")["num_constraints"] == {"is_non_negative": True}
    assert by_name(constraints, "charge")["num_constraints"] == {"is_non_negative": False}
    assert by_name(constraints, "plan")["string_constraints"] == {"domains": ["gold", "silver"]}
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1


def test_high_cardinality_strings_get_no_domain() -> None:
    ids = pd.DataFrame({"customer_id": [f"c{i}" for i in range(MAX_DOMAIN_SIZE + 1)]})
    (feature,) = suggest_constraints(compute_statistics(ids))["features"]
    assert "string_constraints" not in feature


def test_all_missing_numeric_column_has_counts_only() -> None:
    stats = compute_statistics(pd.DataFrame({"x": [np.nan, np.nan], "y": [1, 2]}))
    assert by_name(stats, "x")["numerical_statistics"]["common"] == {"num_present": 0, "num_missing": 2}
    assert by_name(suggest_constraints(stats), "x")["completeness"] == 0.0


def test_empty_frame_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty frame"):
        compute_statistics(pd.DataFrame({"x": []}))


def test_constraints_need_statistics_features() -> None:
    with pytest.raises(KeyError, match="features"):
        suggest_constraints({"version": 0.0})


def test_numeric_features_carry_decile_bins_with_their_shares() -> None:
    values = pd.DataFrame({"x": np.arange(1000.0), "few": np.tile([1, 2, 3, 4], 250)})
    stats = compute_statistics(values)
    bins = by_name(stats, "x")["numerical_statistics"]["quantile_bins"]
    assert len(bins["edges"]) == 9
    assert bins["edges"] == sorted(bins["edges"])
    assert bins["proportions"] == pytest.approx([0.1] * 10, abs=0.002)
    # ties merge: four distinct values give at most five bins, still summing to one
    few = by_name(stats, "few")["numerical_statistics"]["quantile_bins"]
    assert few["edges"] == [1.0, 2.0, 3.0, 4.0]
    assert few["proportions"] == pytest.approx([0.0, 0.25, 0.25, 0.25, 0.25])
    # the Model Monitor fields are all still there
    assert {"distribution", "quantiles", "mean", "missing_rate"} <= set(
        by_name(stats, "x")["numerical_statistics"]
    )
