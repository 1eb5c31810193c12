"""The execution role of one stage's hosted model: exactly what serving that version needs.

SageMaker assumes it to pull the serving image, read this version's model artifact, place the
model's network interfaces in the project VPC (instance stages; serverless has no VPC), write the
endpoint's logs, (when the stage captures traffic) write captured requests under
``data-capture/<endpoint>/`` and (an async stage) read the queued payloads under
``async-inference/<endpoint>/input/``, write answers and errors beside them and publish to the
stage's two notification topics. The permissions are a customer-managed policy of our own (no inline
policy, no AWS-managed one), one statement per need.

A stage in another account reads its model from the tooling account
(:mod:`stacks.endpoint.cross_account`).
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
from constructs import Construct

from contracts.approved_model import ApprovedModel
from stacks.common.eni import DESCRIBE_FOR_ENIS
from stacks.endpoint.async_inference import AsyncIo
from stacks.endpoint.cross_account import CrossAccountServing, model_data_key, tooling_model_statements

_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)[:@]"
)


@dataclass(frozen=True, kw_only=True)
class ExecutionRoleProps:
    """Everything the role is scoped to."""

    endpoint_name: str
    approved: ApprovedModel
    key: kms.IKey
    artifact_bucket: s3.IBucket
    #: The project VPC the model's ENIs go in, or None (serverless: no VPC, no EC2 permissions).
    vpc: ec2.IVpc | None
    subnet_ids: Sequence[str]
    security_group: ec2.ISecurityGroup
    #: Key prefix SageMaker writes this endpoint's captured data under, or None (capture off).
    capture_prefix: str | None
    #: Set for a stage in another account: the model is read from the tooling account.
    cross_account: CrossAccountServing | None = None
    #: Set for an async stage: its prefixes and notification topics.
    async_io: AsyncIo | None = None

    @property
    def encrypts(self) -> bool:
        """Whether SageMaker writes with the data key as this role (captured data, async results)."""
        return bool(self.capture_prefix) or self.async_io is not None


def repository_arn(stack: cdk.Stack, image_uri: str) -> str:
    """ARN of the ECR repository of ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``.

    Raises:
        ValueError: ``image_uri`` is not an ECR image URI with a tag or digest.
    """
    match = _IMAGE.match(image_uri)
    if match is None:
        raise ValueError(f"approved model image {image_uri!r} is not an ECR image URI (<repo>:<tag>)")
    return stack.format_arn(
        service="ecr",
        account=match["account"],
        region=match["region"],
        resource="repository",
        resource_name=match["repo"],
    )


class ModelExecutionRole(Construct):
    """``role`` (assumed by SageMaker) and ``policy`` (its only permissions)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ExecutionRoleProps) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            role_name=props.cross_account.role_name if props.cross_account else None,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Serves version {props.approved.version} of {props.approved.model_package_group} "
            f"on {props.endpoint_name}",
        )
        statements = _statements(self, props)
        self.policy = iam.ManagedPolicy(self, "Policy", statements=statements, roles=[self.role])


def _arn(stack: cdk.Stack, service: str, resource: str) -> str:
    return stack.format_arn(service=service, resource=resource, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME)


def _statements(scope: Construct, p: ExecutionRoleProps) -> list[iam.PolicyStatement]:
    """The model's files, key and image; its logs and metrics; its ENIs (in a VPC); captured data."""
    stack = cdk.Stack.of(scope)
    log_group = _arn(stack, "logs", f"log-group:/aws/sagemaker/Endpoints/{p.endpoint_name}")
    statements = [*_model_statements(stack, p), *_telemetry_statements(p, log_group)]
    if p.vpc is not None:
        statements += _eni_statements(stack, p, p.vpc)
    if p.capture_prefix:
        statements.append(
            iam.PolicyStatement(
                sid="WriteCapturedData",
                actions=["s3:PutObject"],
                resources=[p.artifact_bucket.arn_for_objects(f"{p.capture_prefix}*")],
            )
        )
    if p.async_io is not None:
        statements += _async_statements(p, p.async_io)
    return statements


def _async_statements(p: ExecutionRoleProps, io: AsyncIo) -> list[iam.PolicyStatement]:
    """Read the queued payloads, write answers and errors, notify the two topics."""
    bucket = p.artifact_bucket
    return [
        iam.PolicyStatement(
            sid="ReadAsyncRequests",
            actions=["s3:GetObject"],
            resources=[bucket.arn_for_objects(f"{io.reads}*")],
        ),
        iam.PolicyStatement(
            sid="WriteAsyncResults",
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in io.writes],
        ),
        iam.PolicyStatement(sid="NotifyAsyncResults", actions=["sns:Publish"], resources=list(io.topic_arns)),
    ]


def _model_statements(stack: cdk.Stack, p: ExecutionRoleProps) -> list[iam.PolicyStatement]:
    """Read this version's model file and package, use the data key, pull the serving image."""
    if p.cross_account is not None:
        reads = tooling_model_statements(
            stack, approved=p.approved, serving=p.cross_account, key=p.key, capturing=p.encrypts
        )
        return [*reads, _describe_package(p), _pull_image(stack, p)]
    return [
        iam.PolicyStatement(
            sid="ReadThisModelVersion",
            actions=["s3:GetObject"],
            resources=[p.artifact_bucket.arn_for_objects(model_data_key(p.approved))],
        ),
        _describe_package(p),
        iam.PolicyStatement(
            sid="UseDataKey",
            actions=["kms:Decrypt", "kms:DescribeKey"]
            + (["kms:Encrypt", "kms:GenerateDataKey"] if p.encrypts else []),
            resources=[p.key.key_arn],
        ),
        _pull_image(stack, p),
    ]


def _describe_package(p: ExecutionRoleProps) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="DescribeThePackage",
        actions=["sagemaker:DescribeModelPackage"],
        resources=[p.approved.model_package_arn],
    )


def _pull_image(stack: cdk.Stack, p: ExecutionRoleProps) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="PullServingImage",
        actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        resources=[repository_arn(stack, p.approved.image_uri)],
    )


def _telemetry_statements(p: ExecutionRoleProps, log_group: str) -> list[iam.PolicyStatement]:
    """Write the endpoint's logs (``log_group``) and metrics; the calls with no resource-level scope."""
    return [
        iam.PolicyStatement(
            sid="WriteEndpointLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group, f"{log_group}:log-stream:*"],
        ),
        # No resource-level permissions: the ECR token, EC2 describes (in a VPC) and PutMetricData
        # (pinned to SageMaker's endpoint namespace by a condition).
        iam.PolicyStatement(
            sid="NoResourceLevel",
            actions=["ecr:GetAuthorizationToken"] + ([] if p.vpc is None else list(DESCRIBE_FOR_ENIS)),
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="PublishEndpointMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
        ),
    ]


def _eni_statements(stack: cdk.Stack, p: ExecutionRoleProps, vpc: ec2.IVpc) -> list[iam.PolicyStatement]:
    """The model's network interfaces: created in the project subnets, managed in the project VPC."""
    eni = _arn(stack, "ec2", "network-interface/*")
    return [
        iam.PolicyStatement(
            sid="CreateModelEnis",
            actions=["ec2:CreateNetworkInterface"],
            resources=[
                eni,
                _arn(stack, "ec2", f"security-group/{p.security_group.security_group_id}"),
                *(_arn(stack, "ec2", f"subnet/{subnet}") for subnet in p.subnet_ids),
            ],
        ),
        iam.PolicyStatement(
            sid="ManageModelEnisInProjectVpc",
            actions=[
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=[eni],
            conditions={"ArnEquals": {"ec2:Vpc": _arn(stack, "ec2", f"vpc/{vpc.vpc_id}")}},
        ),
    ]
