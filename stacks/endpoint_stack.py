"""One endpoint stage (staging or prod) serving the approved model version.

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

from release.contract import ApprovedModel
from stacks.config_release import StageConfig


class EndpointStack(cdk.Stack):
    """Model, endpoint config and endpoint of one stage, with alarms, autoscaling and rollback."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        stage: StageConfig,
        approved: ApprovedModel,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection | Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        alarm_topic: sns.ITopic,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cdk.CfnWaitConditionHandle(self, "Skeleton")  # replaced as the stack is built
        self.endpoint_name = endpoint_name(prefix, stage.name)


def endpoint_name(prefix: str, stage: str) -> str:
    """``<project>-<env>-<stage>``: the endpoint's fixed name (dashboards, alarms and tools use it)."""
    return f"{prefix}-{stage}"
