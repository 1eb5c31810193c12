"""Track step: log this pipeline execution as one MLflow run, after the quality gate (both branches).

``python3 track.py --tracking-server-arn ARN --execution-arn ARN --gate {passed,rejected}
[--gate-message TEXT] [--param KEY=VALUE ...] [--tag KEY=VALUE ...]`` (input and output folders
default to the contract's: ``TRACK_EVALUATION_DIR``, ``TRACK_MODEL_DIR``, ``TRACK_BASELINE_DIR``,
``TRACKING_DIR``). The experiment is the pipeline's name, the run is named after the execution id and
found again by its ``sagemaker.pipeline_execution_arn`` tag, so a re-run of the step logs into the
same run. It holds the ``--param`` values plus the data fingerprint, every number of the evaluation
report, the training curve per round, the reports and baseline as artifacts, and the tags
``mlops.gate`` (and ``mlops.gate_message`` when rejected) plus the ``--tag`` values; it ends
FINISHED when the gate passed, FAILED when it rejected the model. ``tracking.json`` then holds
``{"run_id", "experiment_id", "run_url"}`` for the Register step's customer metadata, and when
the gate passed ``"model_card"``, the version's model card (:mod:`ml_code.steps.model_card`).

The server: ``$MLOPS_MLFLOW_URL`` when set (offline, unsigned), else the tracking server's
``https://<region>.experiments.sagemaker.aws`` signed with the job role (:mod:`ml_code.tracking.sigv4`).
Any tracking failure fails the job, the reason naming the call and the server's answer.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ml_code import contract
from ml_code.container import container_path, run_step
from ml_code.errors import DataValidationError
from ml_code.steps.model_card import card_facts, model_card_json
from ml_code.tracking import artifacts, lineage, runs
from ml_code.tracking.arns import sagemaker_arn
from ml_code.tracking.client import MlflowRest
from ml_code.tracking.evidence import Evidence, gather

LOG = logging.getLogger(__name__)
#: MLflow's run status per gate outcome.
STATUS: Final = {contract.GATE_PASSED: "FINISHED", contract.GATE_REJECTED: "FAILED"}
GATE_TAG: Final = "mlops.gate"
GATE_MESSAGE_TAG: Final = "mlops.gate_message"
#: tracking.json's key for the version's model card (gate passed only): Register's ``ModelCard``.
MODEL_CARD_KEY: Final = contract.TRACKING_MODEL_CARD_PATH
#: MLflow keeps tag values up to 8,000 characters (params 6,000); a gate message is far shorter.
_MAX_MESSAGE: Final = 5000


@dataclass(frozen=True)
class Execution:
    """A pipeline execution: ``arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>``."""

    arn: str
    pipeline: str
    execution_id: str

    @classmethod
    def parse(cls, arn: str) -> Execution:
        """Raises DataValidationError for anything else."""
        found = sagemaker_arn(arn, "pipeline", 3)
        if found is None or found.path[1] != "execution":
            raise DataValidationError(
                f"--execution-arn {arn!r} is not a pipeline execution ARN "
                "(arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>)"
            )
        return cls(arn, found.path[0], found.path[2])


def key_values(items: list[str], flag: str) -> dict[str, str]:
    """``["k=v", ...]`` as a dict; raises DataValidationError for an item without ``=`` or key."""
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DataValidationError(f"{flag} {item!r} is not KEY=VALUE")
        found[key] = value
    return found


def run_tags(
    execution: Execution, gate: str, gate_message: str | None, tags: Mapping[str, str]
) -> dict[str, str]:
    """The given tags, the execution's ARN and the gate's outcome (and message, when it rejected)."""
    found = {**tags, runs.EXECUTION_TAG: execution.arn, GATE_TAG: gate}
    if gate == contract.GATE_REJECTED and gate_message:
        found[GATE_MESSAGE_TAG] = gate_message[:_MAX_MESSAGE]
    return found


def track(
    rest: MlflowRest, execution: Execution, gate: str, evidence: Evidence, *,
    params: Mapping[str, str], tags: Mapping[str, str], now_ms: int,
) -> dict[str, Any]:  # fmt: skip
    """Log ``evidence`` as the execution's run and end it by the gate; returns tracking.json's content.

    Raises:
        TrackingError: a call to the server (or the artifact store) failed.
    """
    experiment = runs.experiment_id(rest, execution.pipeline)
    run = runs.open_run(rest, experiment, execution.execution_id, execution.arn, now_ms)
    calls = runs.log_batch(rest, run, evidence.metrics, {**params, **evidence.params}, tags)
    uploaded = artifacts.upload(rest, run.artifact_uri, evidence.artifacts)
    runs.end_run(rest, run, STATUS[gate], int(time.time() * 1000))
    LOG.info(
        "run %s: %d metrics in %d calls, %d artifacts to %s, %s",
        *(run.run_id, len(evidence.metrics), calls, len(uploaded), run.artifact_uri, STATUS[gate]),
    )
    return {
        contract.TRACKING_RUN_ID_PATH: run.run_id,
        contract.TRACKING_EXPERIMENT_ID_PATH: experiment,
        "run_url": f"{rest.base_url}/#/experiments/{experiment}/runs/{run.run_id}",
    }


def _model_card(
    args: argparse.Namespace,
    execution: Execution,
    evidence: Evidence,
    params: Mapping[str, str],
    tracked: Mapping[str, Any],
) -> str:
    """The registered version's card (``ModelCardContent``), from what the run logged."""
    report_file = (
        args.evaluation_dir or container_path(contract.TRACK_EVALUATION_DIR)
    ) / contract.EVALUATION_FILE
    history_file = evidence.artifacts[f"model/{contract.TRAINING_HISTORY_FILE}"]
    facts = card_facts(
        {**params, **evidence.params},
        json.loads(report_file.read_text(encoding="utf-8")),
        json.loads(history_file.read_text(encoding="utf-8")),
        gate=args.gate,
        pipeline=execution.pipeline,
        execution_arn=execution.arn,
        run_id=tracked[contract.TRACKING_RUN_ID_PATH],
        experiment_id=tracked[contract.TRACKING_EXPERIMENT_ID_PATH],
    )
    return model_card_json(facts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Log this pipeline execution as an MLflow run.")
    parser.add_argument("--tracking-server-arn", required=True)
    parser.add_argument("--execution-arn", required=True)
    parser.add_argument("--gate", required=True, choices=tuple(STATUS))
    parser.add_argument("--gate-message", default=None)
    parser.add_argument("--param", action="append", default=[], help="KEY=VALUE, logged as a param")
    parser.add_argument("--tag", action="append", default=[], help="KEY=VALUE, logged as a tag")
    for name, default in (
        ("evaluation", contract.TRACK_EVALUATION_DIR),
        ("model", contract.TRACK_MODEL_DIR),
        ("baseline", contract.TRACK_BASELINE_DIR),
        ("output", contract.TRACKING_DIR),
    ):
        parser.add_argument(f"--{name}-dir", type=Path, default=None, help=f"default: {default}")  # fmt: skip
    return parser.parse_args(argv)


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    now_ms = int(time.time() * 1000)
    execution = Execution.parse(args.execution_arn)
    params = key_values(args.param, "--param")
    tags = run_tags(execution, args.gate, args.gate_message, key_values(args.tag, "--tag"))
    rest = lineage.connect(args.tracking_server_arn, os.environ.get(contract.MLFLOW_URL_ENV))
    with tempfile.TemporaryDirectory(prefix="track-") as work:
        evidence = gather(
            args.evaluation_dir or container_path(contract.TRACK_EVALUATION_DIR),
            args.model_dir or container_path(contract.TRACK_MODEL_DIR),
            args.baseline_dir or container_path(contract.TRACK_BASELINE_DIR),
            Path(work),
        )
        tracked = track(rest, execution, args.gate, evidence, params=params, tags=tags, now_ms=now_ms)
        if args.gate == contract.GATE_PASSED:
            tracked[MODEL_CARD_KEY] = _model_card(args, execution, evidence, params, tracked)
    out = args.output_dir or container_path(contract.TRACKING_DIR)
    out.mkdir(parents=True, exist_ok=True)
    (out / contract.TRACKING_FILE).write_text(json.dumps(tracked, indent=2), encoding="utf-8")
    LOG.info("tracked %s as %s", execution.arn, tracked["run_url"])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the processing job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
