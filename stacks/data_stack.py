"""Data stack (stateful): the platform's KMS key, buckets and model registry.

Everything here outlives a ``cdk destroy``: RemovalPolicy.RETAIN on every resource and logical
IDs pinned with ``override_logical_id`` (tests/cdk pins them too), so a refactor can never
replace a key or a bucket full of artifacts.

Two buckets with two purposes (layout: :mod:`contracts.layout`): the artifact bucket, where
people and jobs work, and the delivery bucket, where the build's source and the CodePipeline
artifacts live and which no persona, job or endpoint role can write. The artifact bucket's policy
(:mod:`stacks.data.artifact_policy`) keeps what a training run wrote writable only by the training
pipeline's role and deletable by nobody but the lifecycle rules, and refuses uploads encrypted with
anything but the data key (:mod:`stacks.data.data_key`).

This stack makes what the others share, so it takes the prefix those resources are named from
instead of a :class:`stacks.common.shared.SharedResources`. Endpoint stages in other accounts get
read access to the registry's versions and to the model artifacts (:mod:`stacks.data.stage_access`).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts import layout
from contracts.config import Endpoints, InstanceConfig, RetentionConfig, TrackingConfig
from contracts.names import model_package_group_name
from stacks.common.shared import Accounts, SharedResources
from stacks.data.artifact_policy import protect_artifacts
from stacks.data.data_key import data_key
from stacks.data.secure_bucket import SecureBucketProps, access_log_bucket, secure_bucket
from stacks.data.stage_access import StageAccess, share_with_stage_accounts
from stacks.tracking.server import TrackingServer, TrackingServerProps

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
        tracking: the MLflow tracking server (:mod:`stacks.tracking`), or None unless
            ``tracking.enabled``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: RetentionConfig,
        prefix: str,
        stage_access: StageAccess | None = None,
        tracking: TrackingConfig | None = None,
        env: cdk.Environment | None = None,
        description: str | None = None,
        synthesizer: cdk.IStackSynthesizer | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        self.key = data_key(self, LOGICAL_IDS["key"], prefix=prefix)
        self.access_log_bucket = access_log_bucket(self, LOGICAL_IDS["access_log_bucket"])
        self.artifact_bucket = secure_bucket(
            self,
            LOGICAL_IDS["artifact_bucket"],
            props=SecureBucketProps(
                key=self.key,
                access_log_bucket=self.access_log_bucket,
                access_log_prefix=layout.ARTIFACT_ACCESS_LOG_PREFIX,
                # Never pipeline-runs/ (registered models, baselines of deployed versions).
                expire_prefixes={
                    layout.CAPTURE_PREFIX: config.capture_days,
                    layout.CHECKS_PREFIX: config.drift_check_days,
                    layout.INTERMEDIATES_PREFIX: config.intermediate_days,
                },
            ),
        )
        protect_artifacts(self.artifact_bucket, key=self.key, prefix=prefix)
        self.delivery_bucket = secure_bucket(
            self,
            LOGICAL_IDS["delivery_bucket"],
            props=SecureBucketProps(
                key=self.key,
                access_log_bucket=self.access_log_bucket,
                access_log_prefix=layout.DELIVERY_ACCESS_LOG_PREFIX,
            ),
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
        share_with_stage_accounts(
            group,
            bucket=self.artifact_bucket,
            key=self.key,
            prefix=prefix,
            access=stage_access or StageAccess(),
        )
        self.tracking = (
            TrackingServer(
                self,
                "Tracking",
                props=TrackingServerProps(
                    prefix=prefix, config=tracking, bucket=self.artifact_bucket, key=self.key
                ),
            )
            if tracking is not None and tracking.enabled
            else None
        )

    def shared_resources(
        self,
        *,
        prefix: str,
        environment: str,
        tags: Mapping[str, str],
        instances: InstanceConfig,
        stages: Endpoints,
        accounts: Accounts,
    ) -> SharedResources:
        """What the stacks of this data stack's use case are handed: its key, buckets and group, with
        the names and settings given."""
        return SharedResources(
            prefix=prefix,
            environment=environment,
            tags=tags,
            instances=instances,
            stages=stages,
            key=self.key,
            artifact_bucket=self.artifact_bucket,
            delivery_bucket=self.delivery_bucket,
            model_package_group_name=self.model_package_group_name,
            model_package_group_arn=self.model_package_group_arn,
            accounts=accounts,
            tracking_server_name=self.tracking.name if self.tracking else None,
        )
