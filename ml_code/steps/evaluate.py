"""Evaluate step: score the model on the test split, compare with the champion, write the report.

Pure functions (:func:`extract_model`, :func:`load_model`, :func:`predict`,
:func:`quality_gate`, :func:`evaluate`) behind a thin :func:`main` that maps the processing
container: ``python3 evaluate.py --problem-type P [--model-package-group NAME]
[--champion-margin 0.01] [--model-dir DIR] [--test-dir DIR] [--output-dir DIR]``.
Writes evaluation.json (SageMaker's model-quality format plus the ``quality_gate`` section
the pipeline's condition reads) and PNG plots.
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
from ml_code.steps.train import load_split

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


def evaluate(
    model_dir: Path,
    test_file: Path,
    output_dir: Path,
    *,
    problem_type: str,
    champion: Champion | None = None,
    margin: float = 0.01,
) -> dict[str, Any]:
    """Score ``test_file`` with the model in ``model_dir``; write report and plots; return the report."""
    booster, transformer = load_model(model_dir)
    if transformer.problem_type != problem_type:
        raise DataValidationError(
            f"--problem-type {problem_type} but the model was trained as {transformer.problem_type}"
        )
    features, y_true = load_split(test_file, transformer)
    predictions = predict(booster, features)
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
    parser.add_argument("--test-dir", type=Path, default=None, help="dir with test.csv")
    parser.add_argument("--output-dir", type=Path, default=None)
    return parser.parse_args(argv)


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
            (args.test_dir or container_path(contract.TEST_INPUT_DIR)) / contract.TEST_FILE,
            output_dir,
            problem_type=args.problem_type,
            champion=champion,
            margin=args.champion_margin,
        )
    LOG.info("quality gate: %s", report[contract.GATE_SECTION])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the processing job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
