"""What SageMaker needs while a pipeline job runs as the execution role: image, logs, metrics, ENIs.

:mod:`stacks.pipeline.execution_role` adds these to the role's job and storage statements.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.eni import DESCRIBE_FOR_ENIS


def arn(scope: Construct, service: str, resource: str) -> str:
    """ARN of ``resource`` (``type/name``) of ``service`` in ``scope``'s account and region."""
    return cdk.Stack.of(scope).format_arn(
        service=service, resource=resource, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
    )


def runtime_statements(
    scope: Construct,
    *,
    image_repository_arn: str,
    vpc_id: str,
    security_group_id: str,
    subnet_ids: Sequence[str],
) -> list[iam.PolicyStatement]:
    """The image, logs and metrics of a running job, then its ENIs in the project VPC."""
    return [
        *_container_statements(scope, image_repository_arn),
        *_network_statements(scope, vpc_id, security_group_id, subnet_ids),
    ]


def _container_statements(scope: Construct, image_repository_arn: str) -> list[iam.PolicyStatement]:
    """Pull the image; write the job's logs and metrics under SageMaker's names."""
    return [
        iam.PolicyStatement(
            sid="PullXgboostImage",
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resources=[image_repository_arn],
        ),
        # GetAuthorizationToken has no resource-level permissions.
        iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(
            sid="JobLogs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            resources=[arn(scope, "logs", "log-group:/aws/sagemaker/*")],
        ),
        iam.PolicyStatement(
            sid="JobMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
    ]


def _network_statements(
    scope: Construct, vpc_id: str, security_group_id: str, subnet_ids: Sequence[str]
) -> list[iam.PolicyStatement]:
    """Inspect the network; create the job's ENIs in the project subnets and security group only."""
    vpc_arn = arn(scope, "ec2", f"vpc/{vpc_id}")
    eni_arn = arn(scope, "ec2", "network-interface/*")
    return [
        # Describe* calls have no resource-level permissions.
        iam.PolicyStatement(
            sid="InspectNetwork",
            actions=list(DESCRIBE_FOR_ENIS),
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="CreateJobEnis",
            actions=["ec2:CreateNetworkInterface"],
            resources=[
                eni_arn,
                security_group_id and arn(scope, "ec2", f"security-group/{security_group_id}"),
                *(arn(scope, "ec2", f"subnet/{subnet}") for subnet in subnet_ids),
            ],
        ),
        iam.PolicyStatement(
            sid="ManageJobEnisInProjectVpc",
            actions=[
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=[eni_arn],
            conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
        ),
    ]
