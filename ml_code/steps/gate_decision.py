"""The quality gate's decision, made in Evaluate, with the one sentence that explains it.

In order, the candidate is held when:

1. *cannot judge*: fewer than ``min_test_rows`` test rows, or (classification) a class of the model
   with no test row, or the rarest class with fewer than ``min_class_rows``: a decision on so few rows
   would be noise, so the sentence says what to do instead (more data, a larger test fraction);
2. it misses an absolute threshold on its metric (``QualityThreshold``, else ``pipeline.gate.thresholds``);
3. it does not beat the naive baseline (:mod:`ml_code.steps.gate_baselines`) by ``min_lift``;
4. the approved champion, scored on the same test rows, is better by more than the margin at
   ``confidence`` (:mod:`ml_code.steps.gate_bootstrap`). The margin is ``margin`` itself for a score
   (AUC, macro-F1, r2) and that share of the champion's error for an error (RMSE, MAE, log-loss), as
   the naive floor's lift is: an RMSE in the target's units (say 65) has no use for 0.01 of them.

Otherwise it passes. A champion that could not be scored is named in the sentence and not compared.
The section holds ``decision`` ("passed"/"held"), ``passed`` (1/0: the pipeline's condition),
``reason``, ``message``, ``metadata_message`` (the registry's allowed characters) and the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.contract import GATE_HIGHER_IS_BETTER
from ml_code.steps.gate_baselines import (
    BASELINE_WORDS,
    DEFAULT_MIN_LIFT,
    RELATIVE_LIFT,
    Floor,
    gate_metric,
    gate_metric_name,
    naive_floor,
    naive_predictions,
)
from ml_code.steps.gate_bootstrap import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, Interval, paired_bootstrap
from ml_code.steps.gate_words import cannot_judge_words, champion_words, held_words, metadata_message, number

Array = npt.NDArray[Any]
DEFAULT_MIN_TEST_ROWS: Final = 50
DEFAULT_MIN_CLASS_ROWS: Final = 10


@dataclass(frozen=True, kw_only=True)
class GateSettings:
    """How the gate judges (``pipeline.gate`` in config; ``threshold`` is the run's QualityThreshold)."""

    metric: str = "auto"
    threshold: float | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    min_lift: float = DEFAULT_MIN_LIFT
    margin: float = 0.01
    confidence: float = DEFAULT_CONFIDENCE
    resamples: int = DEFAULT_RESAMPLES
    min_test_rows: int = DEFAULT_MIN_TEST_ROWS
    min_class_rows: int = DEFAULT_MIN_CLASS_ROWS
    seed: int = 42

    def threshold_for(self, metric: str) -> float | None:
        return self.threshold if self.threshold is not None else self.thresholds.get(metric)


@dataclass(frozen=True)
class ChampionScores:
    """The approved champion's predictions on this run's test rows, or why there are none."""

    model_package_arn: str
    predictions: Array | None = None
    error: str | None = None


def cannot_judge(y_true: Array, labels: Sequence[Any] | None, settings: GateSettings) -> str | None:
    """Why the test rows are too few to judge on, or None."""
    rows = len(y_true)
    if rows < settings.min_test_rows:
        return f"only {rows} test rows (at least {settings.min_test_rows} needed)"
    if not labels:
        return None
    counts = np.bincount(y_true.astype(int), minlength=len(labels))
    absent = [str(labels[i]) for i in np.flatnonzero(counts == 0)]
    if absent:
        return f"class {', '.join(repr(a) for a in absent[:3])} has no test row"
    rarest = int(np.argmin(counts))
    if counts[rarest] < settings.min_class_rows:
        return (
            f"class {str(labels[rarest])!r} has only {counts[rarest]} test rows "
            f"(at least {settings.min_class_rows} needed)"
        )
    return None


def _compare(
    metric: str,
    y_true: Array,
    predictions: Array,
    champion: ChampionScores,
    *,
    settings: GateSettings,
    n: int,
) -> tuple[dict[str, Any], Interval | None]:
    """The champion's part of the section, and the interval when it could be scored."""
    found: dict[str, Any] = {"model_package_arn": champion.model_package_arn, "error": champion.error}
    if champion.predictions is None:
        return found, None
    score = gate_metric(metric, n)
    try:
        interval = paired_bootstrap(
            score, y_true, predictions, champion.predictions,
            higher_is_better=GATE_HIGHER_IS_BETTER[metric], resamples=settings.resamples,
            confidence=settings.confidence, seed=settings.seed,
        )  # fmt: skip
    except ValueError as exc:
        return {**found, "error": f"the paired bootstrap failed: {exc}"}, None
    value = score(y_true, champion.predictions)
    found.update(
        value=value, improvement=interval.improvement, lower=interval.lower,
        upper=interval.upper, confidence=interval.confidence, resamples=interval.resamples,
        margin=settings.margin, allowed=allowed_loss(metric, settings.margin, value),
    )  # fmt: skip
    return found, interval


def allowed_loss(metric: str, margin: float, champion_value: float) -> float:
    """How much worse than the champion the challenger may be: ``margin`` for a score, that share of
    the champion's value for an error."""
    return margin * abs(champion_value) if metric in RELATIVE_LIFT else margin


def decide(
    problem_type: str,
    y_true: Array,
    predictions: Array,
    labels: Sequence[Any] | None,
    settings: GateSettings,
    *,
    champion: ChampionScores | None = None,
) -> dict[str, Any]:
    """The ``quality_gate`` section (see the module doc); raises ValueError for a metric that does not
    apply to ``problem_type``."""
    metric = gate_metric_name(problem_type, settings.metric)
    n_classes = len(labels) if labels else 0
    score = gate_metric(metric, n_classes)
    value = score(y_true, predictions)
    baseline = score(y_true, naive_predictions(problem_type, y_true, n_classes))
    floor = naive_floor(metric, baseline, settings.min_lift)
    threshold = settings.threshold_for(metric)
    section: dict[str, Any] = {
        "metric": metric, "value": value, "higher_is_better": GATE_HIGHER_IS_BETTER[metric],
        "test_rows": len(y_true), "threshold": threshold,
        "naive_baseline": {"kind": BASELINE_WORDS[problem_type], "value": baseline, "floor": floor.floor,
                           "min_lift": settings.min_lift},
        "champion": None, "champion_model_package_arn": None, "champion_value": None,
    }  # fmt: skip
    interval = None
    if champion is not None:
        section["champion"], interval = _compare(
            metric, y_true, predictions, champion, settings=settings, n=n_classes
        )
        section["champion_model_package_arn"] = champion.model_package_arn
        section["champion_value"] = section["champion"].get("value")
    reason, message = _verdict(section, floor, interval, cannot_judge(y_true, labels, settings))
    passed = reason == "passed"
    section.update(
        decision="passed" if passed else "held", passed=int(passed), reason=reason, message=message
    )
    section["metadata_message"] = metadata_message(message)
    return section


def _verdict(
    section: Mapping[str, Any], floor: Floor, interval: Interval | None, too_few: str | None
) -> tuple[str, str]:
    """The reason code and the sentence."""
    metric, value, rows, threshold = (
        section["metric"],
        section["value"],
        section["test_rows"],
        section["threshold"],
    )
    higher = GATE_HIGHER_IS_BETTER[metric]
    measured = f"{metric} {number(value)} on {rows} test rows"
    versus = champion_words(section["champion"], metric)
    if too_few is not None:
        return "cannot_judge", cannot_judge_words(measured, too_few)
    if threshold is not None and not (value >= threshold if higher else value <= threshold):
        side = "below" if higher else "above"
        return "threshold", held_words(f"{measured} is {side} the threshold {number(threshold)}", versus)
    baseline = (
        f"the naive baseline ({section['naive_baseline']['kind']}: {number(floor.baseline)}) "
        f"by {floor.lift_words(metric)}, needed {'>=' if higher else '<='} {number(floor.floor)}"
    )
    if not floor.reached(value, metric):
        return "baseline", held_words(f"{measured} does not beat {baseline}", versus)
    if interval is not None and interval.lower < -section["champion"]["allowed"]:
        return "champion", held_words(f"{measured} beats {baseline}, but {versus}", None)
    return "passed", f"Passed: {measured} beats {baseline}; {versus}."
