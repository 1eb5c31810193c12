"""The environment's managed MLflow tracking server and the role SageMaker runs it with.

Why a tracking server (``AWS::SageMaker::MlflowTrackingServer``) and not the serverless MLflow
App (``AWS::SageMaker::MlflowApp``): the server's REST API is authorised per operation
(``sagemaker-mlflow:CreateRun``, ``GetRun``, ...), so IAM alone can let the approver read and
never write; an App's data plane is one action (``sagemaker:CallMlflowAppApi``) for the whole API,
read and delete alike. The price is idle cost: a server is billed per hour while it exists, so it
is opt-in per environment (``tracking.enabled``, :mod:`contracts.config.tracking`).

It is stateful: the server holds the run metadata (experiments, runs, metrics, the MLflow model
registry) in a store SageMaker manages, deleted with the server. Hence RETAIN and a pinned logical
ID, like the rest of the data stack. Its artifacts live in the artifact bucket under ``mlflow/``
(:data:`contracts.layout.MLFLOW_PREFIX`), encrypted with the data key.

The role's trust is held to this account and this server with ``aws:SourceAccount`` and
``aws:SourceArn``, written ``...IfExists``: SageMaker documents these keys for the jobs it runs, not
for MLflow, so a request naming another account or server is refused while one without the keys
(if the service sends none) still lets the server start. Not verified against a live deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts import layout
from contracts.config import TrackingConfig
from contracts.names import tracking_server_name
from stacks.common.nag import acknowledge_resource
from stacks.tracking.access import tracking_server_arn

#: The server's logical ID; renaming it replaces the server and loses every run.
LOGICAL_ID: Final = "TrackingServer"


@dataclass(frozen=True, kw_only=True)
class TrackingServerProps:
    """The environment's prefix, its settings, and where the artifacts go."""

    prefix: str
    config: TrackingConfig
    bucket: s3.IBucket
    key: kms.IKey


class TrackingServer(Construct):
    """A managed MLflow tracking server with its artifact store in ``mlflow/`` of the artifact bucket.

    Attributes:
        name: ``<prefix>-mlflow`` (:func:`contracts.names.tracking_server_name`).
        arn: the server's ARN, as clients name it (``MLFLOW_TRACKING_URI``).
        role: the role SageMaker assumes to reach the artifact store.
        server: the ``AWS::SageMaker::MlflowTrackingServer``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: TrackingServerProps) -> None:
        super().__init__(scope, construct_id)
        self.name = tracking_server_name(props.prefix)
        self.arn = tracking_server_arn(self, self.name)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com").with_conditions(
                {
                    "StringEqualsIfExists": {"aws:SourceAccount": stack.account},
                    "ArnLikeIfExists": {"aws:SourceArn": self.arn},
                }
            ),
            description=f"{props.prefix}: the MLflow tracking server's access to its artifact store",
        )
        self.policy = iam.ManagedPolicy(
            self, "Policy", statements=_artifact_statements(props), roles=[self.role]
        )
        acknowledge_resource(
            self.policy,
            props.bucket.arn_for_objects(f"{layout.MLFLOW_PREFIX}*"),
            "The tracking server's own artifact store: MLflow names objects by experiment and run ID "
            "under this one prefix; nothing else in the bucket is reachable.",
        )
        config = props.config
        self.server = sagemaker.CfnMlflowTrackingServer(
            self,
            LOGICAL_ID,
            tracking_server_name=self.name,
            artifact_store_uri=layout.tracking_artifact_uri(props.bucket.bucket_name),
            role_arn=self.role.role_arn,
            tracking_server_size=config.size,
            mlflow_version=config.mlflow_version,
            weekly_maintenance_window_start=config.maintenance_window,
            # Versions are registered by the pipeline's RegisterModel step, gated; never from MLflow.
            automatic_model_registration=False,
        )
        self.server.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.server.override_logical_id(LOGICAL_ID)
        # The server checks its role's access when it is created.
        self.server.node.add_dependency(self.policy)


def _artifact_statements(props: TrackingServerProps) -> list[iam.PolicyStatement]:
    """Read and write ``mlflow/`` (no delete), list only that prefix, use the data key for S3."""
    bucket = props.bucket
    return [
        iam.PolicyStatement(
            sid="ArtifactStore",
            actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            resources=[bucket.arn_for_objects(f"{layout.MLFLOW_PREFIX}*")],
        ),
        iam.PolicyStatement(
            sid="ListArtifactStore",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{layout.MLFLOW_PREFIX}*"]}},
        ),
        iam.PolicyStatement(
            sid="FindBucket", actions=["s3:GetBucketLocation"], resources=[bucket.bucket_arn]
        ),
        iam.PolicyStatement(
            sid="UseDataKeyThroughS3",
            actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=[props.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"}},
        ),
    ]
