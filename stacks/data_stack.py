"""Data stack (stateful): the platform's KMS key, buckets and model registry.

Everything here outlives a ``cdk destroy``: RemovalPolicy.RETAIN on every resource and logical
IDs pinned with ``override_logical_id`` (tests/cdk pins them too), so a refactor can never
replace a key or a bucket full of artifacts.

Two buckets with two purposes (layout: :mod:`contracts.layout`): the artifact bucket, where
people and jobs work, and the delivery bucket, where the build's source and the CodePipeline
artifacts live and which no persona, job or endpoint role can write. The artifact bucket's policy
keeps what a training run wrote (``pipeline-runs/``, registered models included) writable only by
the training pipeline's role and deletable by nobody but the lifecycle rules, and refuses uploads
encrypted with anything but the data key.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts import layout
from contracts.config import RetentionConfig
from contracts.names import key_alias, model_package_group_name
from stacks.common.nag import acknowledge
from stacks.data.secure_bucket import SecureBucketProps, secure_bucket

#: Logical IDs of the stateful resources; renaming one replaces the resource.
LOGICAL_IDS = {
    "key": "DataKey",
    "artifact_bucket": "ArtifactBucket",
    "access_log_bucket": "AccessLogBucket",
    "delivery_bucket": "DeliveryBucket",
    "model_package_group": "ModelPackageGroup",
}


class DataStack(cdk.Stack):
    """The customer-managed key, artifact bucket, access-log bucket and model package group.

    Attributes:
        key: the customer-managed KMS key (rotation on) for data, logs and Studio storage.
        artifact_bucket: SSE-KMS bucket for datasets, pipeline artifacts and models.
        access_log_bucket: destination of the artifact bucket's server access logs.
        delivery_bucket: SSE-KMS bucket for the build's S3 source and CodePipeline artifacts.
        model_package_group_name: ``<prefix>-models``.
        model_package_group_arn: its ARN (a token).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        retention: RetentionConfig,
        env: cdk.Environment | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        self.key = kms.Key(
            self,
            LOGICAL_IDS["key"],
            alias=key_alias(prefix),
            description=f"{prefix}: SageMaker data, artifacts, Studio storage and logs",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.key.node.default_child.override_logical_id(LOGICAL_IDS["key"])  # type: ignore[union-attr]
        self._allow_cloudwatch_logs(prefix)

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
                key=self.key,
                access_log_bucket=self.access_log_bucket,
                access_log_prefix=layout.ARTIFACT_ACCESS_LOG_PREFIX,
                # Never pipeline-runs/ (registered models, baselines of deployed versions).
                expire_prefixes={
                    layout.CAPTURE_PREFIX: retention.capture_days,
                    layout.CHECKS_PREFIX: retention.drift_check_days,
                    layout.INTERMEDIATES_PREFIX: retention.intermediate_days,
                },
            ),
        )
        self._protect_artifacts(prefix)
        self.delivery_bucket = secure_bucket(
            self,
            LOGICAL_IDS["delivery_bucket"],
            props=SecureBucketProps(
                key=self.key,
                access_log_bucket=self.access_log_bucket,
                access_log_prefix=layout.DELIVERY_ACCESS_LOG_PREFIX,
            ),
        )
        for bucket in (self.access_log_bucket, self.artifact_bucket, self.delivery_bucket):
            acknowledge(
                bucket,
                "NIST.800.53.R5-S3BucketReplicationEnabled",
                "Single-region platform: versioning, noncurrent-version retention and "
                "RemovalPolicy.RETAIN protect the objects; cross-region replication is a "
                "disaster-recovery choice for the deployer, not a default.",
            )

        self.model_package_group_name = model_package_group_name(prefix)
        group = sagemaker.CfnModelPackageGroup(
            self,
            LOGICAL_IDS["model_package_group"],
            model_package_group_name=self.model_package_group_name,
            model_package_group_description=f"Approved and candidate models of {prefix}",
        )
        group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        group.override_logical_id(LOGICAL_IDS["model_package_group"])
        self.model_package_group_arn: str = group.attr_model_package_group_arn

    def _protect_artifacts(self, prefix: str) -> None:
        """Bucket-policy denies that no identity policy can undo (explicit Deny wins)."""
        bucket, key_arn = self.artifact_bucket, self.key.key_arn
        runs = bucket.arn_for_objects(f"{layout.RUNS_PREFIX}*")
        every_object = bucket.arn_for_objects("*")
        writer = f"arn:{cdk.Aws.PARTITION}:iam::{cdk.Aws.ACCOUNT_ID}:role{layout.runs_writer_path(prefix)}*"
        sse_key = "s3:x-amz-server-side-encryption-aws-kms-key-id"
        # Uploads use the bucket's default (the data key) or name it; never another key or SSE type.
        denies: list[tuple[str, list[str], str, dict[str, Any] | None]] = [
            (
                "OnlyThePipelineWritesRuns",
                ["s3:PutObject"],
                runs,
                {"ArnNotLike": {"aws:PrincipalArn": writer}},
            ),
            ("RunsAreNeverDeleted", ["s3:DeleteObject", "s3:DeleteObjectVersion"], runs, None),
            (
                "OnlyTheDataKey",
                ["s3:PutObject"],
                every_object,
                {"Null": {sse_key: "false"}, "StringNotEquals": {sse_key: key_arn}},
            ),
            (
                "OnlySseKms",
                ["s3:PutObject"],
                every_object,
                {
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                },
            ),
        ]
        # SSE-C sends neither header above: refuse it outright (the pipeline could not read it).
        denies.append(
            (
                "NoCustomerProvidedKeys",
                ["s3:PutObject"],
                every_object,
                {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
            )
        )
        for sid, actions, resource, conditions in denies:
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=actions,
                    resources=[resource],
                    conditions=conditions,
                )
            )

    def _allow_cloudwatch_logs(self, prefix: str) -> None:
        """Let CloudWatch Logs use the key for this project's log groups only.

        Every log group the key encrypts (flow logs, functions, builds) is named by CloudFormation,
        which starts a generated name with the stack's name, ``<prefix>-<part>``; SageMaker's own
        ``/aws/sagemaker/*`` groups are not encrypted with this key.
        """
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForThisProject",
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
                            f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
                            f":log-group:{prefix}-*"
                        )
                    }
                },
            )
        )
