"""One endpoint stack on small stand-in dependencies, for tests that vary a stage cheaply.

The key, bucket, VPC, security group and topic live in another stack (``Deps``), so references
cross stacks as in the platform; the app carries cdk.json's context (its feature flags).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from platform_synth import APPROVED, cdk_context

from contracts.config import StageConfig
from stacks.endpoint_stack import EndpointStack


def build(
    stage: StageConfig,
    *,
    prefix: str = "mlops-demo-dev",
    version: int = APPROVED.version,
    cidr: str = "10.42.0.0/16",
    subnet_ids: Sequence[str] | None = None,
) -> EndpointStack:
    """The stage's endpoint stack in a fresh app; ``subnet_ids``: existing subnets instead of new ones."""
    app = cdk.App(context=cdk_context())
    deps = cdk.Stack(app, "Deps")
    vpc = ec2.Vpc(
        deps,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr(cidr),
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    subnets: list[ec2.ISubnet] = (
        list(vpc.isolated_subnets)
        if subnet_ids is None
        else [
            ec2.Subnet.from_subnet_attributes(deps, f"Existing{i}", subnet_id=s, availability_zone=f"az{i}")
            for i, s in enumerate(subnet_ids)
        ]
    )
    approved = APPROVED.model_copy(
        update={
            "version": version,
            "model_package_arn": APPROVED.model_package_arn.rsplit("/", 1)[0] + f"/{version}",
        }
    )
    return EndpointStack(
        app,
        f"{prefix}-endpoint-{stage.name}",
        prefix=prefix,
        stage=stage,
        approved=approved,
        key=kms.Key(deps, "Key"),
        artifact_bucket=s3.Bucket(deps, "Bucket"),
        vpc=vpc,
        subnets=subnets,
        security_group=ec2.SecurityGroup(deps, "Sg", vpc=vpc),
        alarm_topic=sns.Topic(deps, "Topic"),
    )
