"""The quality gate's command-line arguments (what the pipeline definition passes Evaluate) and the
:class:`~ml_code.steps.gate_decision.GateSettings` they make.

``--threshold`` is the run's ``QualityThreshold`` parameter: a number, or ``none``/empty for no
absolute threshold (then ``--gate-threshold METRIC=X``, from ``pipeline.gate.thresholds``, applies).
"""

from __future__ import annotations

import argparse
import math
from typing import Final

from ml_code.contract import GATE_HIGHER_IS_BETTER
from ml_code.errors import DataValidationError
from ml_code.steps.gate_baselines import DEFAULT_MIN_LIFT
from ml_code.steps.gate_bootstrap import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES
from ml_code.steps.gate_decision import DEFAULT_MIN_CLASS_ROWS, DEFAULT_MIN_TEST_ROWS, GateSettings

#: What ``--threshold`` accepts for "no absolute threshold".
NO_THRESHOLD: Final = frozenset({"", "none"})


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--champion-margin", type=float, default=0.01)
    parser.add_argument("--threshold", default="none", help="QualityThreshold: a number, or none")
    parser.add_argument("--gate-metric", default="auto", choices=("auto", *GATE_HIGHER_IS_BETTER))
    parser.add_argument("--gate-threshold", action="append", default=[], help="METRIC=X, repeatable")
    parser.add_argument("--min-lift", type=float, default=DEFAULT_MIN_LIFT)
    parser.add_argument("--confidence", type=float, default=DEFAULT_CONFIDENCE)
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES)
    parser.add_argument("--min-test-rows", type=int, default=DEFAULT_MIN_TEST_ROWS)
    parser.add_argument("--min-class-rows", type=int, default=DEFAULT_MIN_CLASS_ROWS)
    parser.add_argument("--seed", type=int, default=42)


def parse_threshold(text: str) -> float | None:
    """``--threshold``'s value: None for ``none``/empty; raises DataValidationError for anything else."""
    if text.strip().lower() in NO_THRESHOLD:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataValidationError(f"QualityThreshold must be a number or none, got {text!r}")
    return value


def _thresholds(pairs: list[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for pair in pairs:
        metric, _, value = pair.partition("=")
        if metric not in GATE_HIGHER_IS_BETTER:
            raise DataValidationError(f"--gate-threshold {pair!r}: {metric!r} is not a gate metric")
        found[metric] = float(value)
    return found


def gate_settings(args: argparse.Namespace) -> GateSettings:
    """The settings of the parsed arguments; raises DataValidationError for one out of range."""
    if not 0.5 <= args.confidence < 1.0:
        raise DataValidationError(f"--confidence must be in [0.5, 1), got {args.confidence}")
    if args.resamples < 100:
        raise DataValidationError(f"--resamples must be >= 100, got {args.resamples}")
    return GateSettings(
        metric=args.gate_metric,
        threshold=parse_threshold(args.threshold),
        thresholds=_thresholds(args.gate_threshold),
        min_lift=args.min_lift,
        margin=args.champion_margin,
        confidence=args.confidence,
        resamples=args.resamples,
        min_test_rows=args.min_test_rows,
        min_class_rows=args.min_class_rows,
        seed=args.seed,
    )
