"""Model-quality metrics in SageMaker's format (the report Model Monitor and the registry show).

Each scalar metric is ``{"value": x, "standard_deviation": s}``; like Model Monitor, the
standard deviation comes from 5 seeded resamples of 80% of the rows when there are at least
200 rows, and is the string ``"NaN"`` otherwise. Confusion matrices map actual label ->
predicted label -> count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sklearn import metrics as skm

from ml_code.contract import METRICS_SECTION_BY_PROBLEM

MIN_ROWS_FOR_STD: Final = 200
RESAMPLES: Final = 5
RESAMPLE_FRACTION: Final = 0.8
#: Curves are thinned to at most this many points to keep the report small.
MAX_CURVE_POINTS: Final = 101
THRESHOLD: Final = 0.5

Array = npt.NDArray[Any]
Metric = Callable[[Array, Array], float]


def _with_std(metric: Metric, y_true: Array, scores: Array, seed: int) -> dict[str, Any]:
    value = float(metric(y_true, scores))
    if len(y_true) < MIN_ROWS_FOR_STD:
        return {"value": value, "standard_deviation": "NaN"}
    rng = np.random.default_rng(seed)
    size = int(len(y_true) * RESAMPLE_FRACTION)
    samples = []
    for _ in range(RESAMPLES):
        index = rng.choice(len(y_true), size=size, replace=False)
        samples.append(float(metric(y_true[index], scores[index])))
    std = float(np.std(samples))
    # A resample can lack a class (AUC undefined); keep the report strict JSON like SageMaker's.
    return {"value": value, "standard_deviation": std if np.isfinite(std) else "NaN"}


def _confusion(y_true: Array, y_pred: Array, labels: Sequence[Any]) -> dict[str, dict[str, int]]:
    matrix = skm.confusion_matrix(y_true, y_pred, labels=list(range(len(labels))))
    return {
        str(actual): {str(pred): int(matrix[i, j]) for j, pred in enumerate(labels)}
        for i, actual in enumerate(labels)
    }


def _thin(*curves: Array) -> list[list[float]]:
    step = max(1, int(np.ceil(len(curves[0]) / MAX_CURVE_POINTS)))
    keep = np.unique(np.r_[np.arange(0, len(curves[0]), step), len(curves[0]) - 1])
    return [[float(v) for v in curve[keep]] for curve in curves]


def _safe_auc(y: Array, s: Array) -> float:
    # A resample (or a tiny test set) with one class has no AUC; report NaN rather than fail.
    return float(skm.roc_auc_score(y, s)) if len(np.unique(y)) > 1 else float("nan")


def binary_metrics(y_true: Array, scores: Array, labels: Sequence[Any], seed: int = 0) -> dict[str, Any]:
    """Binary metrics from class indices (0/1) and positive-class probabilities."""

    def pred(s: Array) -> Array:
        return (s >= THRESHOLD).astype(int)

    base = float(np.mean(y_true))

    def on_pred(fn: Callable[..., float], **kw: Any) -> Metric:
        return lambda y, s: fn(y, pred(s), zero_division=0, **kw)

    scalar: dict[str, Metric] = {
        "auc": _safe_auc,
        "accuracy": lambda y, s: skm.accuracy_score(y, pred(s)),
        "precision": on_pred(skm.precision_score),
        "recall": on_pred(skm.recall_score),
        "f0_5": on_pred(skm.fbeta_score, beta=0.5),
        "f1": on_pred(skm.f1_score),
        "f2": on_pred(skm.fbeta_score, beta=2.0),
        "true_positive_rate": on_pred(skm.recall_score),
        "true_negative_rate": on_pred(skm.recall_score, pos_label=0),
        "false_positive_rate": lambda y, s: 1 - skm.recall_score(y, pred(s), pos_label=0, zero_division=0),
        "false_negative_rate": lambda y, s: 1 - skm.recall_score(y, pred(s), zero_division=0),
    }
    report: dict[str, Any] = {name: _with_std(fn, y_true, scores, seed) for name, fn in scalar.items()}
    # Best constant classifier (always predicts the majority class), as SageMaker reports it.
    report["accuracy_best_constant_classifier"] = {"value": max(base, 1 - base), "standard_deviation": "NaN"}
    report["confusion_matrix"] = _confusion(y_true, pred(scores), labels)
    if len(np.unique(y_true)) > 1:
        fpr, tpr, _ = skm.roc_curve(y_true, scores)
        precision, recall, _ = skm.precision_recall_curve(y_true, scores)
        fpr_l, tpr_l = _thin(fpr, tpr)
        precision_l, recall_l = _thin(precision, recall)
        report["receiver_operating_characteristic_curve"] = {
            "false_positive_rates": fpr_l,
            "true_positive_rates": tpr_l,
        }
        report["precision_recall_curve"] = {"precisions": precision_l, "recalls": recall_l}
    return report


def multiclass_metrics(
    y_true: Array, probabilities: Array, labels: Sequence[Any], seed: int = 0
) -> dict[str, Any]:
    """Multiclass metrics from class indices and an (n, n_classes) probability matrix."""
    y_pred = probabilities.argmax(axis=1)

    def weighted(fn: Callable[..., float], **kw: Any) -> Metric:
        return lambda y, p: fn(y, p, average="weighted", zero_division=0, **kw)

    scalar: dict[str, Metric] = {
        "accuracy": skm.accuracy_score,
        "weighted_recall": weighted(skm.recall_score),
        "weighted_precision": weighted(skm.precision_score),
        "weighted_f0_5": weighted(skm.fbeta_score, beta=0.5),
        "weighted_f1": weighted(skm.f1_score),
        "weighted_f2": weighted(skm.fbeta_score, beta=2.0),
    }
    report: dict[str, Any] = {name: _with_std(fn, y_true, y_pred, seed) for name, fn in scalar.items()}
    # The gate's multiclass metrics: macro-F1 (every class counts alike), the probabilities' log-loss.
    report["macro_f1"] = _with_std(macro_f1, y_true, probabilities, seed)
    report["log_loss"] = _with_std(_log_loss(len(labels)), y_true, probabilities, seed)
    majority = np.bincount(y_true.astype(int), minlength=len(labels)).max() / len(y_true)
    report["accuracy_best_constant_classifier"] = {"value": float(majority), "standard_deviation": "NaN"}
    report["confusion_matrix"] = _confusion(y_true, y_pred, labels)
    return report


def macro_f1(y_true: Array, probabilities: Array) -> float:
    """Macro-averaged F1 of the argmax class (a class never predicted nor present counts 0)."""
    return float(skm.f1_score(y_true, probabilities.argmax(axis=1), average="macro", zero_division=0))


def _log_loss(n_classes: int) -> Metric:
    def metric(y_true: Array, probabilities: Array) -> float:
        return float(skm.log_loss(y_true, probabilities, labels=list(range(n_classes))))

    return metric


def regression_metrics(y_true: Array, predictions: Array, seed: int = 0) -> dict[str, Any]:
    """mse, rmse, mae and r2 of continuous predictions."""
    scalar: dict[str, Metric] = {
        "mse": skm.mean_squared_error,
        "rmse": lambda y, p: float(np.sqrt(skm.mean_squared_error(y, p))),
        "mae": skm.mean_absolute_error,
        "r2": skm.r2_score,
    }
    return {name: _with_std(fn, y_true, predictions, seed) for name, fn in scalar.items()}


def quality_report(
    problem_type: str, y_true: Array, predictions: Array, labels: Sequence[Any] | None, seed: int = 0
) -> dict[str, Any]:
    """``{<section>: metrics}`` for the problem type; raises ValueError for an unknown one or no rows."""
    if problem_type not in METRICS_SECTION_BY_PROBLEM:
        raise ValueError(f"unknown problem type {problem_type!r}")
    if len(y_true) == 0:
        raise ValueError("cannot compute metrics on zero rows")
    section = METRICS_SECTION_BY_PROBLEM[problem_type]
    if problem_type == "regression":
        return {section: regression_metrics(y_true, predictions, seed)}
    if labels is None:
        raise ValueError(f"{problem_type} metrics need the class labels")
    compute = binary_metrics if problem_type == "binary" else multiclass_metrics
    return {section: compute(y_true, predictions, labels, seed)}
