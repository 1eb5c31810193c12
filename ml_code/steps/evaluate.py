"""Evaluate step: score the model on the test split, judge it (the quality gate), write the report.

Pure functions (:func:`score_split`, :func:`evaluate`; the gate in :mod:`ml_code.steps.gate_decision`)
behind a thin :func:`main` that maps the processing container: ``python3 evaluate.py --problem-type P
[--model-package-group NAME] [--champion-margin 0.01] [--threshold none|X] [--gate-metric auto]
[--gate-threshold METRIC=X ...] [--min-lift 0.05] [--confidence 0.95] [--resamples 1000]
[--min-test-rows 50] [--min-class-rows 10] [--seed 42] [--model-dir DIR] [--test-dir DIR]
[--output-dir DIR] [--chunk-rows C]``. Writes evaluation.json (SageMaker's model-quality format plus
the ``quality_gate`` section: the decision, its sentence and its numbers, which the pipeline's
condition, Fail step, Register and Track steps read) and PNG plots.

The test folder holds one ``part-*.csv`` per preprocess host (and its raw rows, ``raw-<host>.csv``,
which the approved champion is scored on with its own transformer); every one is read ``--chunk-rows``
rows at a time and scored chunk by chunk. Only the targets and the predictions are kept: memory is
O(test rows) floats (8 bytes per row for the target, 8 per row and class for the predictions, twice
with a champion), not the features, because AUC and the paired bootstrap need every row's score.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import numpy.typing as npt

from ml_code import contract
from ml_code.container import container_path, run_step
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.champion import find_champion, score_champion
from ml_code.steps.gate_decision import ChampionScores, GateSettings, decide
from ml_code.steps.gate_model import MODEL_ARCHIVE, extract_model, load_model, predict
from ml_code.steps.gate_settings import add_gate_arguments, gate_settings
from ml_code.steps.plots import write_plots
from ml_code.steps.quality_metrics import quality_report
from ml_code.steps.split_files import DEFAULT_CHUNK_ROWS, no_rows_message, part_files, read_split
from ml_code.xgboost_lib import xgb

__all__ = ["MODEL_ARCHIVE", "evaluate", "extract_model", "load_model", "main", "predict", "score_split"]
LOG = logging.getLogger(__name__)


def score_split(
    booster: xgb.Booster,
    transformer: FeatureTransformer,
    test_dir: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Targets and predictions of every ``part-*.csv`` in ``test_dir``, scored a chunk at a time.

    Raises:
        DataValidationError: a part file is bad (naming it), or the folder holds no test row.
    """
    files = part_files(test_dir)
    targets: list[npt.NDArray[np.float64]] = []
    predictions: list[npt.NDArray[np.float64]] = []
    for features, target in read_split(files, transformer, chunk_rows):
        targets.append(target)
        predictions.append(predict(booster, features))
    if not targets:
        raise DataValidationError(no_rows_message(files, "the test folder"))
    return np.concatenate(targets), np.concatenate(predictions)


def evaluate(
    model_dir: Path,
    test_dir: Path,
    output_dir: Path,
    *,
    problem_type: str,
    settings: GateSettings | None = None,
    champion: ChampionScores | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, Any]:
    """Score the test folder with the model in ``model_dir``, judge it against the naive baseline and
    ``champion`` (its predictions on the same rows); write report and plots; return the report.

    Raises:
        DataValidationError: the model or the test rows are unusable, or the champion's predictions
            do not cover the test rows one for one.
    """
    booster, transformer = load_model(model_dir)
    if transformer.problem_type != problem_type:
        raise DataValidationError(
            f"--problem-type {problem_type} but the model was trained as {transformer.problem_type}"
        )
    y_true, predictions = score_split(booster, transformer, test_dir, chunk_rows)
    if champion is not None and champion.predictions is not None and len(champion.predictions) != len(y_true):
        found = len(champion.predictions)
        champion = ChampionScores(
            champion.model_package_arn, error=f"its {found} raw test rows are not the {len(y_true)} scored"
        )
    report = quality_report(problem_type, y_true, predictions, transformer.labels)
    try:
        gate = decide(
            problem_type,
            y_true,
            predictions,
            transformer.labels,
            settings or GateSettings(),
            champion=champion,
        )
    except ValueError as exc:  # a configured metric that does not fit the problem type
        raise DataValidationError(str(exc)) from exc
    report[contract.GATE_SECTION] = gate
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / contract.EVALUATION_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    write_plots(report[contract.METRICS_SECTION_BY_PROBLEM[problem_type]], output_dir, y_true, predictions)
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Evaluate the model on the test split and judge it.")
    parser.add_argument("--problem-type", required=True, choices=contract.PROBLEM_TYPES)
    parser.add_argument("--model-package-group", default="", help="look up the approved champion here")
    parser.add_argument("--model-dir", type=Path, default=None, help="dir with model.tar.gz")
    parser.add_argument("--test-dir", type=Path, default=None, help="dir with the test split's part-*.csv")
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows read at once")
    add_gate_arguments(parser)
    args = parser.parse_args(argv)
    if args.chunk_rows < 1:
        raise DataValidationError(f"--chunk-rows must be >= 1, got {args.chunk_rows}")
    return args


def _champion(args: argparse.Namespace, model_dir: Path, test_dir: Path) -> ChampionScores | None:
    """The approved champion's predictions on this run's raw test rows (None: no champion)."""
    if not args.model_package_group:
        return None
    found = find_champion(boto3.client("sagemaker"), args.model_package_group)
    if found is None:
        return None
    _, transformer = load_model(model_dir)
    return score_champion(
        found, boto3.client("s3"), part_files(test_dir), labels=transformer.labels, chunk_rows=args.chunk_rows
    )


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    settings = gate_settings(args)
    output_dir = args.output_dir or container_path(contract.EVALUATION_DIR)
    test_dir = args.test_dir or container_path(contract.TEST_INPUT_DIR)
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = extract_model(args.model_dir or container_path(contract.MODEL_INPUT_DIR), Path(scratch))
        report = evaluate(
            model_dir,
            test_dir,
            output_dir,
            problem_type=args.problem_type,
            settings=settings,
            champion=_champion(args, model_dir, test_dir),
            chunk_rows=args.chunk_rows,
        )
    LOG.info("quality gate: %s", report[contract.GATE_SECTION]["message"])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the processing job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
