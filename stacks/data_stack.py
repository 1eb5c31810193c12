"""Data stack (stateful): the platform's KMS key, buckets and model registry.

Everything here outlives a ``cdk destroy``: RemovalPolicy.RETAIN on every resource and logical
IDs pinned with ``override_logical_id`` (tests/cdk pins them too), so a refactor can never
replace a key or a bucket full of artifacts.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.constructs.nag import acknowledge
from stacks.constructs.secure_bucket import SecureBucketProps, secure_bucket

#: Logical IDs of the stateful resources; renaming one replaces the resource.
LOGICAL_IDS = {
    "key": "DataKey",
    "artifact_bucket": "ArtifactBucket",
    "access_log_bucket": "AccessLogBucket",
    "model_package_group": "ModelPackageGroup",
}


class DataStack(cdk.Stack):
    """The customer-managed key, artifact bucket, access-log bucket and model package group.

    Attributes:
        key: the customer-managed KMS key (rotation on) for data, logs and Studio storage.
        artifact_bucket: SSE-KMS bucket for datasets, pipeline artifacts and models.
        access_log_bucket: destination of the artifact bucket's server access logs.
        model_package_group_name: ``<prefix>-models``.
        model_package_group_arn: its ARN (a token).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        env: cdk.Environment | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        self.key = kms.Key(
            self,
            LOGICAL_IDS["key"],
            alias=f"alias/{prefix}",
            description=f"{prefix}: SageMaker data, artifacts, Studio storage and logs",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.key.node.default_child.override_logical_id(LOGICAL_IDS["key"])  # type: ignore[union-attr]
        self._allow_cloudwatch_logs()

        self.access_log_bucket = secure_bucket(
            self,
            LOGICAL_IDS["access_log_bucket"],
            props=SecureBucketProps(key=None, access_log_bucket=None, expiration_days=365),
        )
        for rule in ("AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled"):
            acknowledge(
                self.access_log_bucket,
                rule,
                "This bucket is the server-access-log destination; logging it into itself would "
                "loop and a second log bucket would only move the problem.",
            )
        acknowledge(
            self.access_log_bucket,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "S3 server access logging only delivers to buckets encrypted with S3-managed keys "
            "(SSE-S3); SSE-KMS targets are rejected.",
        )
        self.artifact_bucket = secure_bucket(
            self,
            LOGICAL_IDS["artifact_bucket"],
            props=SecureBucketProps(
                key=self.key, access_log_bucket=self.access_log_bucket, access_log_prefix="artifact-bucket/"
            ),
        )
        for bucket in (self.access_log_bucket, self.artifact_bucket):
            acknowledge(
                bucket,
                "NIST.800.53.R5-S3BucketReplicationEnabled",
                "Single-region platform: versioning, noncurrent-version retention and "
                "RemovalPolicy.RETAIN protect the objects; cross-region replication is a "
                "disaster-recovery choice for the deployer, not a default.",
            )

        self.model_package_group_name = f"{prefix}-models"
        group = sagemaker.CfnModelPackageGroup(
            self,
            LOGICAL_IDS["model_package_group"],
            model_package_group_name=self.model_package_group_name,
            model_package_group_description=f"Approved and candidate models of {prefix}",
        )
        group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        group.override_logical_id(LOGICAL_IDS["model_package_group"])
        self.model_package_group_arn: str = group.attr_model_package_group_arn

    def _allow_cloudwatch_logs(self) -> None:
        """Let CloudWatch Logs use the key for this account's log groups (flow logs, jobs)."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsInThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],  # in a key policy "*" means this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )
