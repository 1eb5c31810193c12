"""Evaluate step: score the model on the test split, compare with the champion, write the report.

Pure functions (:func:`extract_model`, :func:`load_model`, :func:`predict`,
:func:`quality_gate`, :func:`evaluate`) behind a thin :func:`main` that maps the processing
container: ``python3 evaluate.py --problem-type P [--model-package-group NAME]
[--champion-margin 0.01] [--model-dir DIR] [--test-dir DIR] [--output-dir DIR] [--chunk-rows C]``.
Writes evaluation.json (SageMaker's model-quality format plus the ``quality_gate`` section
the pipeline's condition reads) and PNG plots.

The test folder holds one ``part-*.csv`` per preprocess host; every one is read ``--chunk-rows``
rows at a time and scored chunk by chunk. Only the targets and the predictions are kept: memory is
O(test rows) floats (8 bytes per row for the target, 8 per row and class for the predictions), not
the features, because the report's metrics (AUC and its curves, the resampled standard deviations)
need every row's score at once: about 160 MB for ten million rows of a binary model, twice that
while the chunks' arrays are joined.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Final

import boto3
import numpy as np
import numpy.typing as npt
import xgboost as xgb

from ml_code import contract
from ml_code.container import container_path, run_step
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.champion import Champion, find_champion
from ml_code.steps.plots import write_plots
from ml_code.steps.quality_metrics import quality_report
from ml_code.steps.split_files import DEFAULT_CHUNK_ROWS, no_rows_message, part_files, read_split

LOG = logging.getLogger(__name__)
MODEL_ARCHIVE: Final = "model.tar.gz"
#: The floor when there is no champion: any candidate passes.
NO_CHAMPION_FLOOR: Final = -1e9


def extract_model(model_input_dir: Path, dest: Path) -> Path:
    """Unpack ``model.tar.gz`` from ``model_input_dir`` into ``dest``; returns the model dir.

    A directory that already holds the model files is returned as is. Raises
    DataValidationError when neither is there or the archive has unsafe paths.
    """
    if (model_input_dir / contract.MODEL_FILE).is_file():
        return model_input_dir
    archive = model_input_dir / MODEL_ARCHIVE
    if not archive.is_file():
        found = sorted(p.name for p in model_input_dir.glob("*")) if model_input_dir.is_dir() else []
        raise DataValidationError(f"no {MODEL_ARCHIVE} in {model_input_dir}; found {found}")
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if not target.is_relative_to(dest.resolve()) or member.issym() or member.islnk():
                raise DataValidationError(f"{MODEL_ARCHIVE} has an unsafe member {member.name!r}")
        tar.extractall(dest)  # noqa: S202 - every member was checked above
    return dest


def load_model(model_dir: Path) -> tuple[xgb.Booster, FeatureTransformer]:
    """The booster and transformer train wrote; raises DataValidationError for a missing file."""
    missing = [f for f in (contract.MODEL_FILE, contract.TRANSFORMER_FILE) if not (model_dir / f).is_file()]
    if missing:
        raise DataValidationError(f"model artefacts {missing} not found in {model_dir}")
    booster = xgb.Booster()
    booster.load_model(str(model_dir / contract.MODEL_FILE))
    transformer = FeatureTransformer.from_json(
        (model_dir / contract.TRANSFORMER_FILE).read_text(encoding="utf-8")
    )
    return booster, transformer


def predict(booster: xgb.Booster, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Positive-class probability (binary), class probabilities (multiclass) or values (regression)."""
    return np.asarray(booster.predict(xgb.DMatrix(features)), dtype=np.float64)


def quality_gate(
    problem_type: str, report: dict[str, Any], champion: Champion | None, margin: float
) -> dict[str, Any]:
    """The ``quality_gate`` section: the candidate's gate metric and the floor it must reach."""
    metric = contract.GATE_METRIC_BY_PROBLEM[problem_type]
    value = report[contract.METRICS_SECTION_BY_PROBLEM[problem_type]][metric]["value"]
    return {
        "metric": metric,
        "value": value,
        "champion_value": champion.value if champion else None,
        "champion_floor": champion.value - margin if champion else NO_CHAMPION_FLOOR,
        "champion_model_package_arn": champion.model_package_arn if champion else None,
    }


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
    champion: Champion | None = None,
    margin: float = 0.01,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, Any]:
    """Score the test folder with the model in ``model_dir``; write report and plots; return the report."""
    booster, transformer = load_model(model_dir)
    if transformer.problem_type != problem_type:
        raise DataValidationError(
            f"--problem-type {problem_type} but the model was trained as {transformer.problem_type}"
        )
    y_true, predictions = score_split(booster, transformer, test_dir, chunk_rows)
    report = quality_report(problem_type, y_true, predictions, transformer.labels)
    report[contract.GATE_SECTION] = quality_gate(problem_type, report, champion, margin)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / contract.EVALUATION_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    write_plots(report[contract.METRICS_SECTION_BY_PROBLEM[problem_type]], output_dir, y_true, predictions)
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Evaluate the model on the test split.")
    parser.add_argument("--problem-type", required=True, choices=contract.PROBLEM_TYPES)
    parser.add_argument("--model-package-group", default="", help="look up the approved champion here")
    parser.add_argument("--champion-margin", type=float, default=0.01)
    parser.add_argument("--model-dir", type=Path, default=None, help="dir with model.tar.gz")
    parser.add_argument("--test-dir", type=Path, default=None, help="dir with the test split's part-*.csv")
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows read at once")
    args = parser.parse_args(argv)
    if args.chunk_rows < 1:
        raise DataValidationError(f"--chunk-rows must be >= 1, got {args.chunk_rows}")
    return args


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    output_dir = args.output_dir or container_path(contract.EVALUATION_DIR)
    champion = None
    if args.model_package_group:
        metric = contract.GATE_METRIC_BY_PROBLEM[args.problem_type]
        champion = find_champion(
            boto3.client("sagemaker"), boto3.client("s3"), args.model_package_group, metric
        )
    with tempfile.TemporaryDirectory() as scratch:
        report = evaluate(
            extract_model(args.model_dir or container_path(contract.MODEL_INPUT_DIR), Path(scratch)),
            args.test_dir or container_path(contract.TEST_INPUT_DIR),
            output_dir,
            problem_type=args.problem_type,
            champion=champion,
            margin=args.champion_margin,
            chunk_rows=args.chunk_rows,
        )
    LOG.info("quality gate: %s", report[contract.GATE_SECTION])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the processing job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
