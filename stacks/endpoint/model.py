"""The hosted model of one stage: an execution role scoped to one model version, and the model.

The model is created from the approved *model package* (the registry entry a human approved), not
from a loose image + artifact pair, so what is served is exactly what was reviewed. It runs with
network isolation inside the platform's private subnets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from release.contract import ApprovedModel
from stacks.constructs.nag import acknowledge

_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)"
)


@dataclass(frozen=True, kw_only=True)
class HostedModelProps:
    """What the hosted model needs."""

    name: str
    approved: ApprovedModel
    key: kms.IKey
    artifact_bucket: s3.IBucket
    subnets: Sequence[ec2.ISubnet]
    security_group: ec2.ISecurityGroup


def model_data_key(approved: ApprovedModel) -> str:
    """The object key of the version's model.tar.gz inside its bucket."""
    return approved.model_data_url.removeprefix("s3://").partition("/")[2]


class HostedModel(Construct):
    """``CfnModel`` from the approved package, with its least-privilege execution role."""

    def __init__(self, scope: Construct, construct_id: str, *, props: HostedModelProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Serves version {props.approved.version} of {props.approved.model_package_group}",
        )
        # A customer-managed policy (ours, not an AWS-managed one), so it can be reviewed on its own.
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        policy.add_statements(
            iam.PolicyStatement(
                sid="ReadThisModelVersion",
                actions=["s3:GetObject"],
                resources=[props.artifact_bucket.arn_for_objects(model_data_key(props.approved))],
            ),
            iam.PolicyStatement(
                sid="DescribeThePackage",
                actions=["sagemaker:DescribeModelPackage"],
                resources=[props.approved.model_package_arn],
            ),
            iam.PolicyStatement(
                sid="DecryptModelData",
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=[props.key.key_arn],
            ),
            iam.PolicyStatement(
                sid="PullServingImage",
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[_repository_arn(stack, props.approved.image_uri)],
            ),
            iam.PolicyStatement(
                sid="EcrLogin",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],  # no resource level
            ),
            iam.PolicyStatement(
                sid="WriteEndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/Endpoints/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="PublishEndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource level; the namespace is pinned
                conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
            ),
            iam.PolicyStatement(
                sid="AttachToPrivateSubnets",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ],
                resources=["*"],  # SageMaker creates the ENIs; EC2 describes have no resource level
            ),
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, cloudwatch:PutMetricData (namespace-pinned) and the EC2 ENI and "
            "describe calls SageMaker makes to place the model in the VPC have no resource-level "
            "permissions.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            "/aws/sagemaker/Endpoints/*]",
            "SageMaker names each endpoint's log group /aws/sagemaker/Endpoints/<endpoint>; the wildcard is "
            "that prefix only.",
        )
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            model_name=props.name,
            execution_role_arn=self.role.role_arn,
            containers=[
                sagemaker.CfnModel.ContainerDefinitionProperty(
                    model_package_name=props.approved.model_package_arn
                )
            ],
            enable_network_isolation=True,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=[s.subnet_id for s in props.subnets],
                security_group_ids=[props.security_group.security_group_id],
            ),
        )
        self.model.node.add_dependency(policy)


def _repository_arn(stack: cdk.Stack, image_uri: str) -> str:
    match = _IMAGE.match(image_uri)
    if match is None:
        raise ValueError(f"approved model image {image_uri!r} is not an ECR image URI")
    return stack.format_arn(
        service="ecr",
        account=match["account"],
        region=match["region"],
        resource="repository",
        resource_name=match["repo"],
    )
