"""Production monitoring: drift-check pipeline, drift alarms → retraining, dashboards, notifications.

SKELETON (being built in this session): the constructor signature is the contract the
application wiring uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.config import AppConfig
from stacks.config_release import StageConfig


class MonitoringStack(cdk.Stack):
    """Drift checks on captured traffic, the retraining trigger, dashboards and the alert topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection | Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        training_pipeline_name: str,
        model_package_group_name: str,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.topic = sns.Topic(self, "Notifications", master_key=key, enforce_ssl=True)

    def add_drift_schedule(self, scope: Construct, *, stage: StageConfig, endpoint_name: str) -> None:
        """Schedule the drift check of ``endpoint_name`` (in ``scope``, the stage's endpoint stack)."""
