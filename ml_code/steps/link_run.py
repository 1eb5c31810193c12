"""LinkRun step: the execution's MLflow run names the model package version Register just created.

``python3 link_run.py --tracking-server-arn ARN --execution-arn ARN --model-package-arn ARN``

Runs after Register (gate passed) on the same image and bundle as the Track step, network isolation
off. It finds the run the Track step logged for this execution (experiment = the pipeline's name,
run tagged ``sagemaker.pipeline_execution_arn``) and tags it with the version's ARN and number and
``mlops.approval=PendingManualApproval`` (:mod:`ml_code.tracking.lineage`). Tags only: the
pipeline never approves a version (its role cannot ``UpdateModelPackage``); the deploy build marks
the run Approved when it ships the version (``release.track_release``).

The server: ``$MLOPS_MLFLOW_URL`` when set (offline, unsigned), else the tracking server's endpoint
signed with the job role. A missing run or a failed call fails the job, the reason naming it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ml_code import contract
from ml_code.container import run_step
from ml_code.steps.track import Execution
from ml_code.tracking import lineage
from ml_code.tracking.client import MlflowRest

LOG = logging.getLogger(__name__)


def link(rest: MlflowRest, execution: Execution, package: lineage.ModelPackage) -> str:
    """Tag the execution's run with ``package``; returns the run's id.

    Raises:
        TrackingError: there is no such run, or a call to the server failed.
    """
    run = lineage.execution_run(rest, execution.pipeline, execution.arn)
    lineage.set_run_tags(rest, run.run_id, lineage.registered_tags(package))
    return run.run_id


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Tag this execution's MLflow run with its model version.")
    parser.add_argument("--tracking-server-arn", required=True)
    parser.add_argument("--execution-arn", required=True)
    parser.add_argument("--model-package-arn", required=True, help="the version Register created")
    return parser.parse_args(argv)


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    execution = Execution.parse(args.execution_arn)
    package = lineage.ModelPackage.parse(args.model_package_arn)
    rest = lineage.connect(args.tracking_server_arn, os.environ.get(contract.MLFLOW_URL_ENV))
    run_id = link(rest, execution, package)
    LOG.info("run %s of %s now names %s (version %d)", run_id, execution.arn, package.arn, package.version)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the processing job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
