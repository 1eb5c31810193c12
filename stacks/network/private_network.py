"""A VPC with no route to the internet, reaching AWS only through VPC endpoints whose policies
keep requests inside this account (see :mod:`stacks.network.endpoint_policies`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from contracts.config import INTERFACE_ENDPOINTS
from stacks.common.nag import acknowledge
from stacks.network.endpoint_policies import interface_endpoint_policy, s3_gateway_policy

#: Studio, notebook and MLflow (``experiments``) endpoints are ``aws.sagemaker.REGION.*``, not
#: ``com.amazonaws``.
_SERVICE_PREFIXES: Final[Mapping[str, str]] = {
    "studio": "aws.sagemaker", "notebook": "aws.sagemaker", "experiments": "aws.sagemaker",
}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class PrivateNetworkProps:
    """What the network needs: its CIDR, AZ count, endpoints and flow-log settings.

    ``image_registry_accounts`` are the AWS-owned ECR registry accounts workloads pull images
    from (may be deploy-time tokens); the ECR endpoints admit their resources.
    """

    cidr: str
    max_azs: int
    interface_endpoints: tuple[str, ...]
    flow_log_retention_days: int
    flow_log_key: kms.IKey
    image_registry_accounts: tuple[str, ...] = ()
    #: A stage's network in another account: the tooling account, whose training outputs (the
    #: approved model.tar.gz) the S3 gateway endpoint lets this account's roles read.
    model_artifact_account: str | None = None


class PrivateNetwork(Construct):
    """PRIVATE_ISOLATED subnets (no NAT, no IGW), flow logs, an S3 gateway endpoint and the
    configured interface endpoints behind a security group that only admits HTTPS from the VPC.
    Every endpoint has a policy admitting only this account's principals and resources.

    Attributes:
        vpc: the VPC.
        endpoint_security_group: the interface endpoints' group (HTTPS in from the VPC CIDR).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: PrivateNetworkProps) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            max_azs=props.max_azs,
            nat_gateways=0,
            create_internet_gateway=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20
                )
            ],
            # CDK's restricting custom resource gives its provider role an AWS-managed policy
            # (AWSLambdaBasicExecutionRole); nothing here is attached to the default group.
            restrict_default_security_group=False,
        )
        acknowledge(
            self.vpc.node.find_child("Resource"),  # the CfnVPC
            "NIST.800.53.R5-VPCDefaultSecurityGroupClosed",
            "Nothing in this VPC is attached to the default security group: every interface "
            "endpoint and SageMaker ENI gets an explicit group, and the subnets have no route "
            "to the internet. CDK's closing custom resource (restrictDefaultSecurityGroup) "
            "gives its provider role the AWS-managed AWSLambdaBasicExecutionRole policy, "
            "which this project attaches nowhere.",
        )
        s3_endpoint = self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        for statement in s3_gateway_policy(model_artifact_account=props.model_artifact_account):
            s3_endpoint.add_to_policy(statement)
        self.flow_log_group = self._flow_logs(props)
        self.endpoint_security_group = self._interface_endpoints(props)

    def _flow_logs(self, props: PrivateNetworkProps) -> logs.LogGroup:
        """All traffic of the VPC, to a retained log group encrypted with ``flow_log_key``."""
        group = logs.LogGroup(
            self,
            "FlowLogGroup",
            encryption_key=props.flow_log_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Config already checked the value against CloudWatch's allowed retention periods.
        cast(logs.CfnLogGroup, group.node.default_child).retention_in_days = props.flow_log_retention_days
        flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        acknowledge(
            flow_log.node.find_child("IAMRole").node.find_child("DefaultPolicy"),
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK's policy for the flow-log delivery role: it only lets VPC Flow Logs write to "
            "this one log group and belongs to no human or workload identity.",
        )
        return group

    def _interface_endpoints(self, props: PrivateNetworkProps) -> ec2.SecurityGroup:
        """The configured interface endpoints, each with its policy, behind the returned group."""
        group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        group.add_ingress_rule(ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(443), "HTTPS from the VPC to AWS APIs")
        subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        for name in props.interface_endpoints:
            suffix = INTERFACE_ENDPOINTS[name]
            endpoint = self.vpc.add_interface_endpoint(
                _pascal(name),
                service=ec2.InterfaceVpcEndpointAwsService(suffix, prefix=_SERVICE_PREFIXES.get(suffix)),
                private_dns_enabled=True,
                subnets=subnets,
                security_groups=[group],
                open=False,
            )
            for statement in interface_endpoint_policy(
                suffix, image_registry_accounts=props.image_registry_accounts
            ):
                endpoint.add_to_policy(statement)
        return group


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_")) + "Endpoint"
