"""What the delivery builds' roles may do, one statement per need, each on named resources only.

The builds deploy through the CDK bootstrap roles (the CDK CLI assumes them to publish assets
and run CloudFormation), so their own roles hold no CloudFormation, IAM or SageMaker-admin rights.
Those are the roles of the bootstrap their own use case's stacks are synthesized for: the default
qualifier's for the project's own, an additional use case's own qualifier's for its builds
(:mod:`contracts.config.bootstrap`): a use case's build cannot assume the roles another use
case's stacks deploy through.
The deploy build of a stage in another account assumes that account's bootstrap roles and its
smoke role instead, and may not invoke any endpoint itself (:mod:`stacks.delivery.stage_accounts`).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from contracts.layout import BASELINE_PATTERN, CAPTURE_PREFIX, MODEL_ARTIFACTS_PATTERN, RUNS_PREFIX
from contracts.names import BOOTSTRAP_ROLES, bootstrap_role_name
from stacks.common.arns import pipeline_arn
from stacks.delivery.async_policies import async_round_trip
from stacks.delivery.stage_accounts import StageAccount


def cdk_deploy(stack: cdk.Stack, *, qualifier: str, into: StageAccount | None = None) -> iam.PolicyStatement:
    """``sts:AssumeRole`` on the bootstrap roles ``cdk deploy`` uses, by full name.

    The tooling account's of ``qualifier`` (``SharedResources.accounts.tooling_qualifier``: the one
    the use case's stacks are synthesized for), or, for a stage in another account (``into``), that
    account's only. Of the bootstrap roles, only :data:`contracts.names.BOOTSTRAP_ROLES`: not the
    lookup role (the app makes no context lookups: synth is offline) nor the image-publishing one
    (the app has no Docker image assets); a build that needs either fails loudly.
    """
    if into is not None:
        resources = list(into.bootstrap_roles)
    else:
        resources = [
            stack.format_arn(
                service="iam",
                region="",
                resource="role",
                resource_name=bootstrap_role_name(qualifier, kind, stack.account, stack.region),
            )
            for kind in BOOTSTRAP_ROLES
        ]
    return iam.PolicyStatement(
        sid="DeployThroughCdkBootstrapRoles", actions=["sts:AssumeRole"], resources=resources
    )


def smoke_test_through(into: StageAccount) -> iam.PolicyStatement:
    """``sts:AssumeRole`` on the stage account's smoke role (it may only invoke the stage's endpoint)."""
    return iam.PolicyStatement(
        sid="SmokeTestThroughTheStageRole", actions=["sts:AssumeRole"], resources=[into.smoke_role]
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
    stack: cdk.Stack, *, endpoint: str, bucket: s3.IBucket, key: kms.IKey, asynchronous: bool = False
) -> list[iam.PolicyStatement]:
    """Describe and invoke one endpoint; read (and decrypt) the version's sample payloads.

    ``release.smoke`` describes the endpoint and its config first (an async one is invoked through
    ``InvokeEndpointAsync``). For an ``asynchronous`` stage it also puts each sample under
    ``async-inference/<endpoint>/input/`` (encrypted with the data key, which the bucket demands)
    and reads the answer from ``output/`` or ``failures/``; listing that endpoint's folder lets a
    result not written yet read as missing rather than as access denied.
    """
    endpoint_arn = stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint)
    statements = [
        iam.PolicyStatement(
            sid="InvokeTheStageEndpoint",
            actions=["sagemaker:InvokeEndpointAsync" if asynchronous else "sagemaker:InvokeEndpoint"],
            resources=[endpoint_arn],
        ),
        iam.PolicyStatement(
            sid="DescribeTheStageEndpoint",
            actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig"],
            resources=[
                endpoint_arn,
                stack.format_arn(
                    service="sagemaker", resource="endpoint-config", resource_name=f"{endpoint}-*"
                ),
            ],
        ),
        *read_smoke_samples(bucket=bucket, key=key),
    ]
    if asynchronous:
        statements += async_round_trip(bucket=bucket, key=key, endpoint=endpoint)
    return statements


def tag_shipped_version(bucket: s3.IBucket) -> iam.PolicyStatement:
    """Read and set the tags of training outputs and baselines: ``release.release_tag`` marks the
    version a stage in another account may read (the bucket lets no one else tag under the runs)."""
    return iam.PolicyStatement(
        sid="TagShippedVersion",
        actions=["s3:GetObjectTagging", "s3:PutObjectTagging"],
        resources=[
            bucket.arn_for_objects(MODEL_ARTIFACTS_PATTERN),
            bucket.arn_for_objects(BASELINE_PATTERN),
        ],
    )


def read_smoke_samples(*, bucket: s3.IBucket, key: kms.IKey) -> list[iam.PolicyStatement]:
    """Read (and decrypt) the version's sample payloads, in the tooling account's artifact bucket."""
    return [
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


#: What ``release.track_release`` needs on the tracking server: read runs and experiments, set a
#: run's tag and an experiment's tag. No CreateRun, Log*, UpdateRun or Delete*: a deploy build
#: annotates the evidence, it never writes or removes it.
TAG_TRACKED_RUN_ACTIONS: tuple[str, ...] = (
    "sagemaker-mlflow:Get*",
    "sagemaker-mlflow:Search*",
    "sagemaker-mlflow:SetTag",
    "sagemaker-mlflow:SetExperimentTag",
)


def tag_tracked_runs(server_arn: str) -> iam.PolicyStatement:
    """Mark the shipped version's MLflow run (and its experiment's live run) on the one server."""
    return iam.PolicyStatement(
        sid="TagShippedRun", actions=list(TAG_TRACKED_RUN_ACTIONS), resources=[server_arn]
    )


def shadow_test(
    stack: cdk.Stack, *, endpoint: str, bucket: s3.IBucket, key: kms.IKey
) -> list[iam.PolicyStatement]:
    """What the Shadow build reads: the prod endpoint's served model (``release.shadow``), both
    variants' capture and their latency metrics (``release.shadow_report``)."""
    sagemaker = [
        stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint),
        # the endpoint stack's configs and models are <endpoint>-v<N>-<fingerprint>
        stack.format_arn(service="sagemaker", resource="endpoint-config", resource_name=f"{endpoint}-*"),
        stack.format_arn(service="sagemaker", resource="model", resource_name=f"{endpoint}-*"),
    ]
    capture = f"{CAPTURE_PREFIX}{endpoint}/"
    return [
        iam.PolicyStatement(
            sid="ReadServedModel",
            actions=[
                "sagemaker:DescribeEndpoint",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:DescribeModel",
            ],
            resources=sagemaker,
        ),
        iam.PolicyStatement(
            sid="ListShadowCapture",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{capture}*"]}},
        ),
        iam.PolicyStatement(
            sid="ReadShadowCapture",
            actions=["s3:GetObject"],
            resources=[bucket.arn_for_objects(f"{capture}*")],
        ),
        iam.PolicyStatement(sid="DecryptShadowCapture", actions=["kms:Decrypt"], resources=[key.key_arn]),
        # GetMetricStatistics has no resource-level permissions
        iam.PolicyStatement(
            sid="ReadVariantLatency", actions=["cloudwatch:GetMetricStatistics"], resources=["*"]
        ),
    ]
