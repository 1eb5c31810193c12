"""Existing-VPC mode: the VPC and subnets named in config, imported without any lookup."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from contracts.config import NetworkConfig


def import_network(scope: Construct, config: NetworkConfig) -> tuple[ec2.IVpc, list[ec2.ISubnet]]:
    """The existing VPC and subnets of ``config`` (``mode: existing``), described entirely by it.

    Raises:
        ValueError: ``config`` names no VPC (config refuses that in existing mode).
    """
    if config.vpc_id is None:
        raise ValueError("network.vpcId is required in existing mode")
    subnets = [
        ec2.Subnet.from_subnet_attributes(scope, f"Subnet{i}", subnet_id=subnet_id, availability_zone=az)
        for i, (subnet_id, az) in enumerate(zip(config.subnet_ids, config.availability_zones, strict=True))
    ]
    vpc = ec2.Vpc.from_vpc_attributes(
        scope,
        "Vpc",
        vpc_id=config.vpc_id,
        vpc_cidr_block=config.cidr,
        # Unique AZs only: the stack hands SageMaker ``subnets`` itself, not the VPC's subnet groups.
        availability_zones=sorted(set(config.availability_zones)),
    )
    return vpc, subnets
