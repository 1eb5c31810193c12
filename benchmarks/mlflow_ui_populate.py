"""A development MLflow store shaped like the demo's, for checking the UI without running the demo.

One experiment named like a pipeline (``mlops-dev-training``), one run per made-up execution, each
as the Track step logs it (``ml_code.steps.track``): params (hyperparameters as ``hp.<name>``, the
data's URI and fingerprint), every report number under its dotted path, the training curve per
round (``train-auc``, ``validation-auc``), the evaluation report as an artifact, the execution ARN
and gate tags, FINISHED when the gate passed and FAILED when it rejected the model. The values are
made up (deterministic), not trained.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Final

from benchmarks.mlflow_ui_store import ARTIFACTS, DATABASE, StoreError, client
from emulator.tracking_server import LocalTrackingServer
from ml_code import contract
from ml_code.steps.track import GATE_MESSAGE_TAG, GATE_TAG
from ml_code.tracking.runs import EXECUTION_TAG

PIPELINE: Final = "mlops-dev-training"
PIPELINE_ARN: Final = f"arn:aws:sagemaker:us-east-1:000000000000:pipeline/{PIPELINE}"
#: (execution id, test AUC, gate outcome), oldest first
EXECUTIONS: Final = (
    ("4f1c9a20b7e3", 0.8534, contract.GATE_PASSED),
    ("a90d2e6c15f8", 0.7917, contract.GATE_REJECTED),
    ("c27b84f03d91", 0.8611, contract.GATE_PASSED),
)
ROUNDS: Final = 40


def report(auc: float) -> dict[str, Any]:
    """An evaluation report shaped like Evaluate's (binary classification)."""
    accuracy = round(0.55 + 0.3 * auc, 4)
    return {
        "binary_classification_metrics": {
            "auc": {"value": auc, "standard_deviation": "NaN"},
            "accuracy": {"value": accuracy, "standard_deviation": "NaN"},
            "f1": {"value": round(accuracy - 0.06, 4), "standard_deviation": "NaN"},
            "precision": {"value": round(accuracy - 0.03, 4), "standard_deviation": "NaN"},
            "recall": {"value": round(accuracy - 0.09, 4), "standard_deviation": "NaN"},
        },
        "quality_gate": {"threshold": 0.8, "champion_floor": 0.8434},
    }


def _numbers(tree: dict[str, Any], prefix: str = "") -> dict[str, float]:
    found: dict[str, float] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found |= _numbers(value, f"{prefix}{key}.")
        elif isinstance(value, int | float):
            found[f"{prefix}{key}"] = float(value)
    return found


def _curve(auc: float) -> list[tuple[str, float, int]]:
    """``train-auc`` and ``validation-auc`` per round, rising towards ``auc``."""
    points = []
    for step in range(ROUNDS):
        approach = 1 - math.exp(-step / 8)
        points.append(("train-auc", round(0.7 + (auc + 0.06 - 0.7) * approach, 6), step))
        points.append(("validation-auc", round(0.7 + (auc + 0.005 - 0.7) * approach, 6), step))
    return points


def write_runs(url: str) -> str:
    """Log EXECUTIONS to the server at ``url``; returns the experiment's id."""
    from mlflow.entities import Metric, Param, RunTag  # noqa: PLC0415

    tracking = client(url)
    experiment_id = tracking.create_experiment(PIPELINE)
    for execution_id, auc, gate in EXECUTIONS:
        tags = {EXECUTION_TAG: f"{PIPELINE_ARN}/execution/{execution_id}", GATE_TAG: gate,
                "mlops.steps": "Preprocess,Train,Evaluate,QualityGate,Track"}  # fmt: skip
        if gate == contract.GATE_REJECTED:
            tags[GATE_MESSAGE_TAG] = f"test auc {auc} is below the threshold 0.8"
        run = tracking.create_run(experiment_id, run_name=execution_id, tags=tags)
        run_id, at = run.info.run_id, run.info.start_time
        params = {"hp.max_depth": "5", "hp.eta": "0.2", "hp.num_round": "300", "target_column": "churn",
                  "input_data_uri": "s3://mlops-dev-data/raw/sample.csv",
                  "data_fingerprint": execution_id * 2}  # fmt: skip
        metrics = [Metric(key, value, at, 0) for key, value in _numbers(report(auc)).items()]
        metrics += [Metric(key, value, at, step) for key, value, step in _curve(auc)]
        tracking.log_batch(run_id, metrics=metrics, params=[Param(k, v) for k, v in params.items()],
                           tags=[RunTag(k, v) for k, v in tags.items()])  # fmt: skip
        tracking.log_dict(run_id, report(auc), "evaluation/evaluation.json")
        tracking.set_terminated(run_id, "FINISHED" if gate == contract.GATE_PASSED else "FAILED")
    return str(experiment_id)


def populate(store: Path) -> Path:
    """Make the development store in ``store`` (through a server on it, as the demo's runs are
    logged); returns ``store``. Raises StoreError if ``store`` already holds a store: development
    runs never go into the demo's."""
    if (store / DATABASE).exists():
        raise StoreError(f"{store / DATABASE} exists: --populate makes a new store; pass another --store")
    (store / ARTIFACTS).mkdir(parents=True, exist_ok=True)
    with LocalTrackingServer(store) as local:  # as make demo serves its store
        write_runs(local.wait())
    return store
