"""Shipping, visible in MLflow: the run of the version a deploy build shipped says so.

``python -m release.track_release --stage NAME --model-file FILE --tracking-server-arn ARN [--approval-only]
[--region R]``

The deploy build runs this after the stage's smoke test passed (an environment with a tracking
server only; :func:`stacks.delivery.commands.track_release`). It reads the version in ``FILE``
(from ``release.resolve``), finds its MLflow run in the version's customer metadata
(``MlflowRunId``/``MlflowExperimentId``, written by the pipeline's Register step) and sets
(:mod:`ml_code.tracking.lineage`):

* on the run: ``mlops.approval`` = the version's approval status (``Approved``: resolve ships
  nothing else) and ``mlops.shipped.<stage>`` = the version number;
* on the experiment: ``mlops.live.<stage>`` = the run id, so "which run produced prod's model" is
  ``MlflowClient().get_experiment_by_name(<pipeline>).tags["mlops.live.prod"]``.

With ``--approval-only`` (the staging build, right after it resolved the newest Approved version:
about a minute after the click) only ``mlops.approval`` is set, so an approval shows in MLflow
whether or not the deploy that follows succeeds.

A version without a run id (registered before the pipeline tracked runs), or whose run lives on
another tracking server, is reported and skipped (exit 0): not a failed deploy. A failing call
exits 2 with one line naming it (the build fails; running it again is harmless: tags are set, not
added). The server: ``$MLOPS_MLFLOW_URL`` when set (the offline demo's local one, unsigned), else
the tracking server's ``https://<region>.experiments.sagemaker.aws``, each request signed (SigV4,
``sagemaker-mlflow``) with the build role's credentials: a build outside the VPC reaches it there.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from contracts.approved_model import ApprovedModel, ApprovedModelError
from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.tracking import lineage
from ml_code.tracking.client import MlflowRest, TrackingError

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_sagemaker import SageMakerClient

PROG = "release.track_release"


@dataclass(frozen=True)
class TrackedVersion:
    """A registered version and the MLflow run that produced it."""

    arn: str
    version: int
    approval: str
    run_id: str
    experiment_id: str


def tracked_version(described: Any, server_arn: str) -> TrackedVersion | str:
    """The version's run from its ``DescribeModelPackage``; or why there is none to tag (text)."""
    arn = str(described.get("ModelPackageArn", "?"))
    metadata = described.get("CustomerMetadataProperties") or {}
    run_id = metadata.get(contract.MLFLOW_RUN_ID_METADATA_KEY)
    experiment_id = metadata.get(contract.MLFLOW_EXPERIMENT_ID_METADATA_KEY)
    if not run_id or not experiment_id:
        return f"{arn} names no MLflow run (registered before the pipeline tracked runs)"
    server = metadata.get(contract.MLFLOW_SERVER_METADATA_KEY)
    if server and server != server_arn:
        return f"{arn}'s run {run_id} is on {server}, not {server_arn}"
    return TrackedVersion(
        arn=arn,
        version=int(described["ModelPackageVersion"]),
        approval=str(described.get("ModelApprovalStatus", lineage.APPROVED)),
        run_id=str(run_id),
        experiment_id=str(experiment_id),
    )


def mark_shipped(rest: MlflowRest, tracked: TrackedVersion, stage: str) -> list[str]:
    """Tag the run shipped to ``stage`` and make it the experiment's live run there; what was set.

    Raises:
        TrackingError: a call to the tracking server failed (e.g. the run was deleted).
    """
    run_tags = {lineage.APPROVAL_TAG: tracked.approval, lineage.shipped_tag(stage): str(tracked.version)}
    lineage.set_run_tags(rest, tracked.run_id, run_tags)
    lineage.set_experiment_tag(rest, tracked.experiment_id, lineage.live_tag(stage), tracked.run_id)
    return [
        f"run {tracked.run_id}: " + ", ".join(f"{k}={v}" for k, v in run_tags.items()),
        f"experiment {tracked.experiment_id}: {lineage.live_tag(stage)}={tracked.run_id}",
    ]


def mark_approval(rest: MlflowRest, tracked: TrackedVersion) -> list[str]:
    """Tag the run with the version's approval status only (the staging build, before it ships).

    Raises:
        TrackingError: a call to the tracking server failed.
    """
    lineage.set_run_tags(rest, tracked.run_id, {lineage.APPROVAL_TAG: tracked.approval})
    return [f"run {tracked.run_id}: {lineage.APPROVAL_TAG}={tracked.approval}"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PROG}",
        allow_abbrev=False,
        description="Mark the MLflow run of the version in FILE as shipped to STAGE (and live there).",
    )
    parser.add_argument("--stage", required=True, help="the stage the version was shipped to")
    parser.add_argument(
        "--model-file", required=True, type=Path, help="approved-model JSON (from release.resolve)"
    )
    parser.add_argument("--tracking-server-arn", required=True, help="this environment's MLflow server")
    parser.add_argument(
        "--approval-only",
        action="store_true",
        help="tag the run's approval status only (the staging build runs this before it deploys)",
    )
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def main(
    argv: list[str] | None = None, sagemaker: SageMakerClient | None = None, mlflow_url: str | None = None
) -> int:
    """CLI entry point: 0 when tagged or skipped (said why), 2 (one line on stderr) on a failure.

    ``mlflow_url``: the tracking server's URL (default ``$MLOPS_MLFLOW_URL``; without either, the
    server's SageMaker endpoint, signed).
    """
    args = parse_args(argv)
    try:
        model = ApprovedModel.read(args.model_file)
        client = sagemaker or boto3.client("sagemaker", region_name=args.region)
        described = client.describe_model_package(ModelPackageName=model.model_package_arn)
        found = tracked_version(described, args.tracking_server_arn)
        if isinstance(found, str):
            print(f"{PROG}: skipped, {found}")
            return 0
        rest = lineage.connect(
            args.tracking_server_arn, mlflow_url or os.environ.get(contract.MLFLOW_URL_ENV)
        )
        lines = mark_approval(rest, found) if args.approval_only else mark_shipped(rest, found, args.stage)
    except (
        OSError,
        ApprovedModelError,
        DataValidationError,
        TrackingError,
        BotoCoreError,
        ClientError,
    ) as exc:
        print(f"{PROG}: {args.model_file} to {args.stage}: {exc}", file=sys.stderr)
        return 2
    done = f"{found.approval.lower()}, shipping to" if args.approval_only else "shipped to"
    print("\n".join(f"{found.arn} {done} {args.stage}; {line}" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
