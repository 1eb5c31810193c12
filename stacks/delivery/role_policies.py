"""What the delivery builds' roles may do, one statement per need, each on named resources only.

The builds deploy through the CDK bootstrap roles (the CDK CLI assumes them to publish assets
and run CloudFormation), so their own roles hold no CloudFormation, IAM or SageMaker-admin rights.
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from contracts.layout import RUNS_PREFIX
from stacks.common.arns import pipeline_arn

#: The CDK bootstrap roles (default qualifier) the CDK CLI assumes to publish file assets and
#: deploy. Not the lookup role (the app makes no context lookups: synth is offline) nor the
#: image-publishing one (the app has no Docker image assets); a build that needs either fails loudly.
BOOTSTRAP_ROLES: Final[tuple[str, ...]] = ("deploy", "file-publishing")
BOOTSTRAP_QUALIFIER: Final = "hnb659fds"


def cdk_deploy(stack: cdk.Stack) -> iam.PolicyStatement:
    """``sts:AssumeRole`` on the bootstrap roles of :data:`BOOTSTRAP_ROLES`, by full name."""
    return iam.PolicyStatement(
        sid="DeployThroughCdkBootstrapRoles",
        actions=["sts:AssumeRole"],
        resources=[
            stack.format_arn(
                service="iam",
                region="",
                resource="role",
                resource_name=f"cdk-{BOOTSTRAP_QUALIFIER}-{kind}-role-{stack.account}-{stack.region}",
            )
            for kind in BOOTSTRAP_ROLES
        ],
    )


def start_pipeline(stack: cdk.Stack, name: str) -> iam.PolicyStatement:
    """Start (and read the definition of, to check parameters) one SageMaker pipeline."""
    return iam.PolicyStatement(
        sid="StartTrainingPipeline",
        actions=["sagemaker:StartPipelineExecution", "sagemaker:DescribePipeline"],
        resources=[pipeline_arn(stack, name)],
    )


def read_registry(stack: cdk.Stack, group: str) -> list[iam.PolicyStatement]:
    """List the group's versions (no resource-level permission exists) and describe them."""
    return [
        iam.PolicyStatement(
            sid="ListModelVersions",
            actions=["sagemaker:ListModelPackages"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="DescribeVersionsOfThisGroup",
            actions=["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
            resources=[
                stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{group}/*"),
                stack.format_arn(service="sagemaker", resource="model-package-group", resource_name=group),
            ],
        ),
    ]


def smoke_test(
    stack: cdk.Stack, *, endpoint: str, bucket: s3.IBucket, key: kms.IKey
) -> list[iam.PolicyStatement]:
    """Invoke one endpoint; read (and decrypt) the version's sample payloads."""
    return [
        iam.PolicyStatement(
            sid="InvokeTheStageEndpoint",
            actions=["sagemaker:InvokeEndpoint"],
            resources=[stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint)],
        ),
        iam.PolicyStatement(
            sid="ReadSmokeSamples",
            actions=["s3:GetObject"],
            # the samples are <run>/preprocess/test/smoke-samples.json of the version's run
            resources=[bucket.arn_for_objects(f"{RUNS_PREFIX}*")],
        ),
        iam.PolicyStatement(sid="DecryptSmokeSamples", actions=["kms:Decrypt"], resources=[key.key_arn]),
    ]


def stop_when_live(
    stack: cdk.Stack, *, pipeline: str, endpoint_stacks: list[str]
) -> list[iam.PolicyStatement]:
    """Read the endpoint stacks' outputs; stop executions of this one deploy pipeline."""
    return [
        iam.PolicyStatement(
            sid="ReadEndpointStacks",
            actions=["cloudformation:DescribeStacks"],
            resources=[
                stack.format_arn(service="cloudformation", resource="stack", resource_name=f"{name}/*")
                for name in endpoint_stacks
            ],
        ),
        iam.PolicyStatement(
            sid="StopThisDeploy",
            actions=["codepipeline:StopPipelineExecution"],
            resources=[
                stack.format_arn(
                    service="codepipeline", resource=pipeline, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
                )
            ],
        ),
    ]
