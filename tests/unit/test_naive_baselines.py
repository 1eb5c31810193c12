"""The gate's naive baselines and floors, per problem type."""

from __future__ import annotations

import numpy as np
import pytest

from ml_code.steps.gate_baselines import gate_metric, gate_metric_name, naive_floor, naive_predictions


def test_binary_baseline_is_a_constant_score_with_auc_one_half() -> None:
    y = np.array([0, 0, 0, 1, 1, 0, 1, 0], dtype=float)
    baseline = naive_predictions("binary", y, 2)
    assert gate_metric("auc")(y, baseline) == pytest.approx(0.5)
    assert naive_floor("auc", 0.5, 0.05).floor == pytest.approx(0.55)


def test_multiclass_baseline_answers_the_most_frequent_class() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 2, 2], dtype=float)
    baseline = naive_predictions("multiclass", y, 3)
    # macro-F1 of always "0": F1 of class 0 is 2*0.5/(1.5) = 2/3, the others 0
    assert gate_metric("macro_f1", 3)(y, baseline) == pytest.approx((2 / 3) / 3)
    assert gate_metric("log_loss", 3)(y, baseline) == pytest.approx(-np.mean(np.log([0.5] * 4 + [0.25] * 4)))


def test_regression_baseline_is_the_mean_and_its_floor_is_five_percent_lower() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    baseline = naive_predictions("regression", y, 0)
    rmse = gate_metric("rmse")(y, baseline)
    assert rmse == pytest.approx(np.std(y))
    assert gate_metric("r2")(y, baseline) == pytest.approx(0.0)
    floor = naive_floor("rmse", rmse, 0.05)
    assert floor.floor == pytest.approx(0.95 * rmse)
    assert floor.reached(0.9 * rmse, "rmse")
    assert not floor.reached(0.96 * rmse, "rmse")
    assert floor.lift_words("rmse") == "5 % lower"


@pytest.mark.parametrize(
    ("problem", "metric"), [("binary", "auc"), ("multiclass", "macro_f1"), ("regression", "rmse")]
)
def test_auto_metric_per_problem_type(problem: str, metric: str) -> None:
    assert gate_metric_name(problem, "auto") == metric


def test_a_metric_of_another_problem_type_is_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"pipeline\.gate\.metric .auc. does not apply"):
        gate_metric_name("regression", "auc")
