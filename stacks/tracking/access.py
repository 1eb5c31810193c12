"""Who may use the MLflow tracking server, through IAM: its clients' policy.

MLflow clients (the ``sagemaker-mlflow`` plugin) sign each REST call with SigV4 for the service
``sagemaker-mlflow``; IAM authorises it as ``sagemaker-mlflow:<Operation>`` on the server's ARN
(Service Authorization Reference, "Amazon SageMaker with MLflow", resource type
``mlflow-tracking-server``). Artifacts do not pass through the server: the client reads and
writes them in the artifact store itself, so a client also needs ``mlflow/`` in the bucket (the
data key it already has for the bucket's other prefixes).

Two levels, each scoped to this environment's one server and nothing else:

- **log** (the pipeline's execution role, the data scientist and ML engineer): read everything,
  create experiments, runs and registered-model versions, log metrics, parameters, inputs and
  tags, update a run (its end and status). No ``Delete*``, ``Rename*``, ``Restore*`` or
  ``Transition*``: a run, once logged, is evidence.
- **read** (the approver): read everything and open the UI; write nothing, not even a tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contracts import layout
from stacks.common.nag import IAM5, acknowledge, acknowledge_resource

#: Reading runs, experiments, metrics and registered models.
READ_ACTIONS: Final[tuple[str, ...]] = (
    "sagemaker-mlflow:Get*",
    "sagemaker-mlflow:Search*",
    "sagemaker-mlflow:List*",
)
#: Logging a run and registering its model on top of reading.
LOG_ACTIONS: Final[tuple[str, ...]] = (
    *READ_ACTIONS,
    "sagemaker-mlflow:CreateExperiment",
    "sagemaker-mlflow:CreateRun",
    "sagemaker-mlflow:UpdateRun",
    "sagemaker-mlflow:Log*",
    "sagemaker-mlflow:Set*",
    "sagemaker-mlflow:CreateRegisteredModel",
    "sagemaker-mlflow:CreateModelVersion",
)
#: SageMaker's control plane for the server: its URL, and the UI's presigned URL (Studio's MLflow page).
CONSOLE_ACTIONS: Final[tuple[str, ...]] = (
    "sagemaker:DescribeMlflowTrackingServer",
    "sagemaker:CreatePresignedMlflowTrackingServerUrl",
)


def tracking_server_arn(scope: Construct, name: str) -> str:
    """The ARN of the tracking server called ``name`` in ``scope``'s account and region.

    Built, not imported: the clients' stacks then depend on no export of the data stack.
    """
    return cdk.Stack.of(scope).format_arn(
        service="sagemaker", resource="mlflow-tracking-server", resource_name=name
    )


def client_statements(*, server_arn: str, bucket: s3.IBucket, write: bool) -> list[iam.PolicyStatement]:
    """Statements letting a role read (``write`` False) or log to (True) the server at ``server_arn``."""
    artifacts = bucket.arn_for_objects(f"{layout.MLFLOW_PREFIX}*")
    s3_actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"] if write else ["s3:GetObject"]
    return [
        iam.PolicyStatement(
            sid="LogToTrackingServer" if write else "ReadTrackingServer",
            actions=list(LOG_ACTIONS if write else READ_ACTIONS),
            resources=[server_arn],
        ),
        iam.PolicyStatement(sid="OpenTrackingServer", actions=list(CONSOLE_ACTIONS), resources=[server_arn]),
        # AccessUI names no resource type in the Service Authorization Reference, so it takes "*";
        # the UI opens only through a presigned URL, which the statement above limits to this server.
        iam.PolicyStatement(sid="TrackingUi", actions=["sagemaker-mlflow:AccessUI"], resources=["*"]),
        iam.PolicyStatement(
            sid="ListTrackingArtifacts",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{layout.MLFLOW_PREFIX}*"]}},
        ),
        iam.PolicyStatement(sid="TrackingArtifacts", actions=s3_actions, resources=[artifacts]),
    ]


def attach_tracking_policy(
    scope: Construct,
    construct_id: str,
    *,
    role: iam.IRole,
    server_name: str,
    bucket: s3.IBucket,
    write: bool,
) -> iam.ManagedPolicy:
    """A customer-managed policy on ``role`` for the server ``server_name``, its findings acknowledged."""
    policy = iam.ManagedPolicy(
        scope,
        construct_id,
        statements=client_statements(
            server_arn=tracking_server_arn(scope, server_name), bucket=bucket, write=write
        ),
        roles=[role],
    )
    _acknowledge(policy, LOG_ACTIONS if write else READ_ACTIONS, bucket)
    return policy


def _acknowledge(policy: iam.ManagedPolicy, actions: Sequence[str], bucket: s3.IBucket) -> None:
    for action in actions:
        if action.endswith("*"):
            acknowledge(
                policy,
                f"{IAM5}[Action::{action}]",
                f"MLflow's {action.split(':')[1]} family (one action per REST operation, new ones with "
                "each MLflow release) on this environment's one tracking server only; no Delete, "
                "Rename, Restore or Transition action is granted.",
            )
    acknowledge(
        policy,
        f"{IAM5}[Resource::*]",
        "sagemaker-mlflow:AccessUI only, which supports no resource-level permission; the UI is "
        "reached through a presigned URL, and the role may presign one for this server alone.",
    )
    acknowledge_resource(
        policy,
        bucket.arn_for_objects(f"{layout.MLFLOW_PREFIX}*"),
        "The MLflow artifact store: MLflow names run artifacts by experiment and run ID, so the "
        "prefix, not an object, is the unit; no delete.",
    )
