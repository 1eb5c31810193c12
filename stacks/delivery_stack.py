"""Delivery: push → build pipeline → training pipeline; approval → deploy pipeline → staging → prod.

SKELETON (being built in this session): the constructor signature is the contract the
application wiring uses.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.config import AppConfig


class DeliveryStack(cdk.Stack):
    """CodePipelines for push-to-train and approve-to-deploy, plus scheduled retraining."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        training_pipeline_name: str,
        model_package_group_name: str,
        model_package_group_arn: str,
        notification_topic: sns.ITopic,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cdk.CfnWaitConditionHandle(self, "Skeleton")  # replaced as the stack is built
