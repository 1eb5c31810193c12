"""Stand-in shared resources for tests that build one stack alone.

They live in another stack (``deps``), so references cross stacks as in the platform.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from contracts.config import AppConfig
from stacks.common.shared import Network, SharedResources

GROUP_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/{name}"


def shared_resources(deps: cdk.Stack, config: AppConfig) -> SharedResources:
    """A key, two buckets and a model package group name in ``deps``, with ``config``'s settings."""
    group = f"{config.prefix}-models"
    return SharedResources(
        prefix=config.prefix,
        environment=config.env.name,
        tags=config.all_tags,
        instances=config.env.instances,
        stages=config.env.endpoints,
        key=kms.Key(deps, "Key"),
        artifact_bucket=s3.Bucket(deps, "Bucket"),
        delivery_bucket=s3.Bucket(deps, "DeliveryBucket"),
        model_package_group_name=group,
        model_package_group_arn=GROUP_ARN.format(name=group),
    )


def with_network_and_topic(
    shared: SharedResources,
    deps: cdk.Stack,
    *,
    cidr: str = "10.42.0.0/16",
    subnet_ids: Sequence[str] | None = None,
) -> SharedResources:
    """``shared`` plus an isolated VPC, its subnets (or existing ``subnet_ids``), a group and a topic."""
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
    network = Network(vpc=vpc, subnets=tuple(subnets), security_group=ec2.SecurityGroup(deps, "Sg", vpc=vpc))
    return shared.with_network(network).with_alert_topic(sns.Topic(deps, "Topic"))
