"""Network stack: where SageMaker runs — a private VPC we create, or one the user already has.

Synth stays offline in both modes: nothing is looked up. An existing VPC is described entirely
by config (IDs, AZs, CIDR); a created VPC takes its AZs from ``Fn::GetAZs`` at deploy time, and
the S3 prefix list the SageMaker group's egress names is read by a deploy-time custom resource.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from contracts.config import NetworkConfig
from stacks.common.images import xgboost_registries
from stacks.common.nag import acknowledge
from stacks.network.private_network import PrivateNetwork, PrivateNetworkProps
from stacks.network.s3_prefix_list import S3PrefixList, S3PrefixListProps


class NetworkStack(cdk.Stack):
    """The VPC, its subnets and the security group every SageMaker workload uses.

    ``flow_log_key`` (the data key) encrypts the flow logs and the prefix-list lookup's log group.

    Attributes:
        vpc: the VPC (created or imported).
        subnets: the private subnets SageMaker places its network interfaces in.
        sagemaker_security_group: the group for Studio apps, jobs and endpoints.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: NetworkConfig,
        flow_log_key: kms.IKey,
        env: cdk.Environment | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        self._az_count = network.max_azs
        # Where HTTPS to the AWS APIs goes: our endpoints' group, or (an existing VPC's endpoints
        # being someone else's) the VPC's own range.
        https_peer: ec2.IPeer = ec2.Peer.ipv4(network.cidr)
        if network.mode == "create":
            # The AWS-owned registry of the SageMaker XGBoost image every job and endpoint pulls,
            # per region (the pipeline stacks name the image from the same table).
            registries = cdk.CfnMapping(
                self,
                "ImageRegistry",
                mapping={region: {"Account": account} for region, account in xgboost_registries().items()},
            )
            private = PrivateNetwork(
                self,
                "Network",
                props=PrivateNetworkProps(
                    cidr=network.cidr,
                    max_azs=network.max_azs,
                    interface_endpoints=network.interface_endpoints,
                    flow_log_retention_days=network.flow_log_retention_days,
                    flow_log_key=flow_log_key,
                    image_registry_accounts=(registries.find_in_map(cdk.Aws.REGION, "Account"),),
                ),
            )
            https_peer = private.endpoint_security_group
            self.vpc: ec2.IVpc = private.vpc
            self.subnets: list[ec2.ISubnet] = list(private.vpc.isolated_subnets)
            acknowledge(
                private.vpc.node.default_child,  # type: ignore[arg-type]
                "NIST.800.53.R5-VPCDefaultSecurityGroupClosed",
                "Nothing in this VPC is attached to the default security group: every interface "
                "endpoint and SageMaker ENI gets an explicit group, and the subnets have no route "
                "to the internet. CDK's closing custom resource (restrictDefaultSecurityGroup) "
                "gives its provider role the AWS-managed AWSLambdaBasicExecutionRole policy, "
                "which this project attaches nowhere.",
            )
        else:
            self.vpc, self.subnets = _import_network(self, network)
        self.sagemaker_security_group = self._sagemaker_security_group(
            network, https_peer=https_peer, key=flow_log_key
        )

    @property
    def availability_zones(self) -> list[str]:
        """``max_azs`` AZs picked by ``Fn::GetAZs`` at deploy time, whatever the stack's env.

        CDK's default gives env-agnostic stacks only 2 AZs and makes env-specific stacks look
        the AZs up (an AWS call at synth). Selecting from ``Fn::GetAZs`` keeps synth offline and
        honours ``maxAzs``; a region with fewer AZs than asked fails at deploy, not silently.
        """
        return [cdk.Fn.select(i, cdk.Fn.get_azs()) for i in range(self._az_count)]

    def _sagemaker_security_group(
        self, network: NetworkConfig, *, https_peer: ec2.IPeer, key: kms.IKey
    ) -> ec2.ISecurityGroup:
        """The configured group as is, or a new one whose egress reaches only what SageMaker needs.

        Egress: itself (all traffic), NFS to the VPC (Studio's home EFS), HTTPS to ``https_peer``
        (the interface endpoints) and HTTPS to the region's S3 prefix list (the gateway endpoint).
        Nothing goes to an address range outside the VPC but S3's.
        """
        if network.security_group_id is not None:
            return ec2.SecurityGroup.from_security_group_id(
                self, "SageMakerSecurityGroup", network.security_group_id, mutable=False
            )
        group = ec2.SecurityGroup(
            self,
            "SageMakerSecurityGroup",
            vpc=self.vpc,
            description="SageMaker Studio apps, jobs and endpoints",
            allow_all_outbound=False,
        )
        # Studio apps talk to each other and training/processing instances talk to each other
        # (distributed jobs) inside this group; AWS documents both for VpcOnly domains.
        group.add_ingress_rule(group, ec2.Port.all_traffic(), "Studio apps and distributed jobs")
        for child in group.node.children:
            if isinstance(child, ec2.CfnSecurityGroupIngress):
                acknowledge(
                    child,
                    "NIST.800.53.R5-EC2RestrictedCommonPorts",
                    "The only source is this same security group (self-reference), which AWS "
                    "requires for VpcOnly Studio inter-app traffic and distributed training; no "
                    "address range is admitted on any port.",
                )
        group.add_egress_rule(group, ec2.Port.all_traffic(), "Studio apps and distributed jobs")
        group.add_egress_rule(ec2.Peer.ipv4(network.cidr), ec2.Port.tcp(2049), "Studio home EFS (NFS)")
        group.add_egress_rule(https_peer, ec2.Port.tcp(443), "HTTPS to the AWS API endpoints")
        s3 = S3PrefixList(self, "S3PrefixList", props=S3PrefixListProps(key=key))
        group.add_egress_rule(s3.peer, ec2.Port.tcp(443), "HTTPS to S3 through the gateway endpoint")
        return group


def _import_network(stack: cdk.Stack, network: NetworkConfig) -> tuple[ec2.IVpc, list[ec2.ISubnet]]:
    """The existing VPC and subnets named in config, without any lookup."""
    assert network.vpc_id is not None  # config guarantees it in existing mode
    subnets = [
        ec2.Subnet.from_subnet_attributes(stack, f"Subnet{i}", subnet_id=subnet_id, availability_zone=az)
        for i, (subnet_id, az) in enumerate(zip(network.subnet_ids, network.availability_zones, strict=True))
    ]
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id=network.vpc_id,
        vpc_cidr_block=network.cidr,
        # Unique AZs only: the stack hands SageMaker ``subnets`` itself, not the VPC's subnet groups.
        availability_zones=sorted(set(network.availability_zones)),
    )
    return vpc, subnets
