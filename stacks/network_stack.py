"""Network stack: where SageMaker runs — a private VPC we create, or one the user already has.

Synth stays offline in both modes: nothing is looked up. An existing VPC is described entirely
by config (IDs, AZs, CIDR; :mod:`stacks.network.existing`); a created VPC
(:mod:`stacks.network.private_network`) takes its AZs from ``Fn::GetAZs`` at deploy time, and the
S3 prefix list the SageMaker group's egress names (:mod:`stacks.network.security_group`) is read
by a deploy-time custom resource.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from contracts.config import NetworkConfig
from stacks.common.images import registry_account
from stacks.common.shared import Network, SharedResources
from stacks.network.existing import import_network
from stacks.network.private_network import PrivateNetwork, PrivateNetworkProps
from stacks.network.security_group import sagemaker_security_group


class NetworkStack(cdk.Stack):
    """The VPC, its subnets and the security group every SageMaker workload uses.

    The data key (``shared.key``) encrypts the flow logs and the prefix-list lookup's log group.
    ``model_artifact_account``: for a stage's network in another account, the tooling account
    whose model artifacts its S3 gateway endpoint admits (:mod:`stacks.network.endpoint_policies`).

    Attributes:
        vpc: the VPC (created or imported).
        subnets: the private subnets SageMaker places its network interfaces in.
        sagemaker_security_group: the group for Studio apps, jobs and endpoints.
        network: the three together, as the other stacks receive them (``SharedResources.network``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: NetworkConfig,
        shared: SharedResources,
        model_artifact_account: str | None = None,
        env: cdk.Environment | None = None,
        synthesizer: cdk.IStackSynthesizer | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        self._az_count = config.max_azs
        # Where HTTPS to the AWS APIs goes: our endpoints' group, or (an existing VPC's endpoints
        # being someone else's) the VPC's own range.
        https_peer: ec2.IPeer = ec2.Peer.ipv4(config.cidr)
        if config.mode == "create":
            private = PrivateNetwork(
                self,
                "Network",
                props=PrivateNetworkProps(
                    cidr=config.cidr,
                    max_azs=config.max_azs,
                    interface_endpoints=config.interface_endpoints,
                    flow_log_retention_days=config.flow_log_retention_days,
                    flow_log_key=shared.key,
                    # The AWS-owned registry of the XGBoost image every job and endpoint pulls.
                    image_registry_accounts=(registry_account(self, "ImageRegistry"),),
                    model_artifact_account=model_artifact_account,
                ),
            )
            https_peer = private.endpoint_security_group
            self.vpc: ec2.IVpc = private.vpc
            subnets: list[ec2.ISubnet] = list(private.vpc.isolated_subnets)
        else:
            self.vpc, subnets = import_network(self, config)
        self.subnets = tuple(subnets)
        self.sagemaker_security_group = sagemaker_security_group(
            self, config, vpc=self.vpc, https_peer=https_peer, key=shared.key
        )
        self.network = Network(
            vpc=self.vpc, subnets=self.subnets, security_group=self.sagemaker_security_group
        )

    @property
    def availability_zones(self) -> list[str]:
        """``max_azs`` AZs picked by ``Fn::GetAZs`` at deploy time, whatever the stack's env.

        CDK's default gives env-agnostic stacks only 2 AZs and makes env-specific stacks look
        the AZs up (an AWS call at synth). Selecting from ``Fn::GetAZs`` keeps synth offline and
        honours ``maxAzs``; a region with fewer AZs than asked fails at deploy, not silently.
        """
        return [cdk.Fn.select(i, cdk.Fn.get_azs()) for i in range(self._az_count)]
