"""The gate's decision and its sentence: each rule, each problem type, no sentinels."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ml_code.steps.gate_decision import ChampionScores, GateSettings, decide
from ml_code.steps.gate_words import METADATA_LIMIT, metadata_message

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/g/3"
#: botocore's CustomerMetadataValue pattern, with \p{L}/\p{N} as Python's isalnum
_ALLOWED = re.compile(r"^[\w\s.:/=+\-@]*$")


def _regression(rows: int, signal: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=rows)
    # a model explaining a share of the variance (r2 about signal)
    return y, signal * y + rng.normal(0, 0.3, rows) * (1 - signal)


def test_a_modest_regression_model_passes_against_the_mean_with_no_champion() -> None:
    # GIVEN a model with r2 about 0.43 on 67 test rows (the diabetes case of issue 17)
    rng = np.random.default_rng(5)
    y = rng.normal(150, 77, 67)
    predictions = y.mean() + 0.66 * (y - y.mean()) + rng.normal(0, 40, 67)
    gate = decide("regression", y, predictions, None, GateSettings())
    assert gate["metric"] == "rmse"
    assert (gate["decision"], gate["passed"], gate["reason"]) == ("passed", 1, "passed")
    assert gate["message"].startswith("Passed: rmse ")
    assert "beats the naive baseline (the mean as every prediction: " in gate["message"]
    assert gate["message"].endswith(
        "by 5 % lower, needed <= " + f"{gate['naive_baseline']['floor']:.4g}; no approved champion yet."
    )
    assert "1e9" not in gate["message"]
    assert "-1000000000" not in str(gate)


def test_noise_is_held_on_the_naive_floor() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=120)
    gate = decide("regression", y, rng.normal(size=120) * 0.2, None, GateSettings())
    assert (gate["decision"], gate["passed"], gate["reason"]) == ("held", 0, "baseline")
    assert gate["message"].startswith("Held: rmse ")
    assert "does not beat the naive baseline" in gate["message"]
    assert gate["message"].endswith("(no approved champion yet).")


def test_an_absolute_threshold_holds_a_model_that_beats_the_baseline() -> None:
    y = np.repeat([0.0, 1.0], 60)
    scores = np.where(y == 1, 0.6, 0.4) + np.random.default_rng(2).normal(0, 0.3, 120)
    settings = GateSettings(thresholds={"auc": 0.99})
    gate = decide("binary", y, scores, [0, 1], settings)
    assert gate["reason"] == "threshold"
    assert "is below the threshold 0.99" in gate["message"]
    # the run's QualityThreshold wins over the configured one
    assert (
        decide("binary", y, scores, [0, 1], GateSettings(threshold=0.6, thresholds={"auc": 0.99}))["passed"]
        == 1
    )


@pytest.mark.parametrize(
    ("y", "labels", "why"),
    [
        (np.repeat([0.0, 1.0], 20), [0, 1], "only 40 test rows (at least 50 needed)"),
        (
            np.repeat([0.0, 1.0], [95, 5]),
            ["no", "yes"],
            "class 'yes' has only 5 test rows (at least 10 needed)",
        ),
        (np.repeat([0.0, 1.0], 50), ["a", "b", "c"], "class 'c' has no test row"),
    ],
)
def test_too_few_rows_cannot_be_judged(y: np.ndarray, labels: list[object], why: str) -> None:
    problem = "binary" if len(labels) == 2 else "multiclass"
    predictions = y.copy() if problem == "binary" else np.eye(len(labels))[y.astype(int)]
    gate = decide(problem, y, predictions, labels, GateSettings())  # a perfect model, still held
    assert (gate["decision"], gate["reason"]) == ("held", "cannot_judge")
    assert gate["message"].startswith(f"Held, cannot judge: {why}, so ")
    assert gate["message"].endswith("add labelled rows or raise the test fraction.")


def test_a_worse_challenger_is_held_against_the_champion_with_its_interval() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 600).astype(float)
    onehot = np.eye(3)[y.astype(int)]
    champion = onehot * 0.9 + 0.05
    challenger = np.where(rng.random((600, 1)) < 0.7, onehot, np.roll(onehot, 1, axis=1)) * 0.9 + 0.05
    gate = decide(
        "multiclass", y, challenger, ["a", "b", "c"], GateSettings(), champion=ChampionScores(ARN, champion)
    )
    assert gate["metric"] == "macro_f1"
    assert gate["reason"] == "champion"
    found = gate["champion"]
    assert found["value"] == pytest.approx(1.0)
    assert found["lower"] <= found["improvement"] <= found["upper"] < 0
    assert (
        "but it is worse than the approved champion (version 3), which scores 1 on the same rows"
        in gate["message"]
    )
    assert "95 % lower bound" in gate["message"]
    assert "< -0.01 (the margin)" in gate["message"]


def test_a_fixed_margin_would_pass_what_the_interval_holds() -> None:
    # GIVEN a challenger 0.005 AUC below the champion on 300 noisy rows: within the 0.01 margin,
    # but the 95 % lower bound of the difference is far below -0.01
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300).astype(float)
    champion = y + rng.normal(0, 1.2, 300)
    challenger = champion + rng.normal(0, 0.5, 300)
    gate = decide("binary", y, challenger, [0, 1], GateSettings(), champion=ChampionScores(ARN, champion))
    found = gate["champion"]
    assert -0.01 < found["improvement"] < 0
    assert found["lower"] < -0.01
    assert gate["reason"] == "champion"


@pytest.mark.parametrize(("noise", "reason", "compared"), [(3.0, "passed", ">="), (30.0, "champion", "<")])
def test_an_error_metrics_margin_is_a_share_of_the_champions_error(
    noise: float, reason: str, compared: str
) -> None:
    # GIVEN a regression champion with an RMSE of about 58 (the target's units), and a challenger that
    # adds a little noise (3) or much (30) to its predictions
    rng = np.random.default_rng(7)
    y = rng.normal(150, 77, 400)
    champion = y + rng.normal(0, 60, 400)
    challenger = champion + np.random.default_rng(8).normal(0, noise, 400)
    # WHEN judged with the default margin 0.01
    gate = decide("regression", y, challenger, None, GateSettings(), champion=ChampionScores(ARN, champion))
    # THEN the loss allowed is 1 % of the champion's RMSE, not 0.01 RMSE units
    found = gate["champion"]
    assert found["allowed"] == pytest.approx(0.01 * found["value"])
    assert gate["reason"] == reason
    assert found["lower"] < -0.01  # an absolute 0.01 would hold even the near-identical challenger
    assert (
        f"lower bound {found['lower']:+.3g} {compared} -{found['allowed']:.4g} "
        "(the margin: 1 % of the champion's rmse)"
    ) in gate["message"]


def test_identical_models_differ_by_zero_not_minus_zero() -> None:
    y, predictions = _regression(200, 0.8)
    gate = decide("regression", y, predictions, None, GateSettings(),
                  champion=ChampionScores(ARN, predictions))  # fmt: skip
    assert (gate["champion"]["improvement"], gate["champion"]["lower"]) == (0.0, 0.0)
    assert "improvement +0, 95 % lower bound +0 >= " in gate["message"]
    assert "-0," not in gate["message"]
    assert not str(gate["champion"]["improvement"]).startswith("-")


def test_an_unreadable_champion_is_named_and_not_compared() -> None:
    y, predictions = _regression(200, 0.8)
    gate = decide("regression", y, predictions, None, GateSettings(),
                  champion=ChampionScores(ARN, error="NoSuchKey"))  # fmt: skip
    assert gate["passed"] == 1
    assert gate["champion_model_package_arn"] == ARN
    assert (
        "the approved champion (version 3) could not be scored (NoSuchKey), so it was not compared"
        in gate["message"]
    )


def test_the_same_rows_give_the_same_decision() -> None:
    y, predictions = _regression(300, 0.6, seed=4)
    champion = ChampionScores(ARN, predictions + np.random.default_rng(9).normal(0, 0.1, 300))
    assert decide("regression", y, predictions, None, GateSettings(), champion=champion) == decide(
        "regression", y, predictions, None, GateSettings(), champion=champion
    )


def test_the_metadata_message_keeps_to_the_registrys_characters_and_length() -> None:
    text = "Held: auc 0.61 (needed >= 0.7; 5 % lower) vs the champion's [0.1, 0.2], " * 6
    short = metadata_message(text)
    assert len(short) <= METADATA_LIMIT
    assert _ALLOWED.match(short)
    assert "at least 0.7" in short
    assert "5 percent lower" in short
