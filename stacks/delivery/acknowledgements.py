"""cdk-nag acknowledgements for the grants CodePipeline and CodeBuild generate, with reasons.

CDK writes these policies itself (pipeline and action roles, CodeBuild's service role); they are
scoped to the one artifact bucket, the one KMS key and the project's own log group and report
groups. Each wildcard is acknowledged by its exact rendered name on the construct that owns it, so
a new wildcard is still a finding.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from contracts.config import StageConfig
from contracts.layout import (
    ASYNC_FAILURE_FOLDER,
    ASYNC_INPUT_FOLDER,
    ASYNC_OUTPUT_FOLDER,
    BASELINE_PATTERN,
    CAPTURE_PREFIX,
    MODEL_ARTIFACTS_PATTERN,
    RUNS_PREFIX,
    async_folder,
)
from stacks.common.nag import IAM5, account_arn, acknowledge, acknowledge_resource

#: CDK's artifact grants on the bucket and its key: action wildcards -> why they are acceptable.
ARTIFACT_ACTIONS: dict[str, str] = {
    "kms:GenerateDataKey*": "CDK's grant to write pipeline artifacts with the project key (that key only).",
    "kms:ReEncrypt*": "CDK's grant to read/write artifacts encrypted with the project key (that key only).",
    "s3:Abort*": "CDK's write grant for pipeline artifacts, on the artifact bucket only.",
    "s3:DeleteObject*": "CDK's write grant for pipeline artifacts, on the artifact bucket only.",
    "s3:GetBucket*": "CDK's read grant on the artifact bucket (location, versioning) for artifacts.",
    "s3:GetObject*": "CDK's read grant for pipeline artifacts (object and version), artifact bucket only.",
    "s3:List*": "CDK's read grant lists the artifact bucket to fetch pipeline artifacts.",
}


def acknowledge_artifact_grants(scope: IConstruct, bucket: s3.IBucket) -> None:
    """The artifact-bucket and key grants CDK gives a pipeline, its actions or a build project."""
    for action, reason in ARTIFACT_ACTIONS.items():
        acknowledge(scope, f"{IAM5}[Action::{action}]", reason)
    acknowledge_resource(
        scope,
        bucket.arn_for_objects("*"),
        "Pipeline artifacts are objects with generated names in the artifact bucket; CDK grants on "
        "its objects.",
    )
    acknowledge(
        scope,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "CDK attaches these generated grants (pipeline, action and CodeBuild roles) as inline policies; "
        "each is scoped to the artifact bucket, the project key and the one action the role runs.",
    )


def acknowledge_project(project: codebuild.PipelineProject, role: IConstruct | None = None) -> None:
    """CodeBuild's own log-group and report-group grants of one project.

    On the project's own role, or on ``role`` when the project was given one (that role is not
    the project's child; CodeBuild's grants land in its default policy).
    """
    stack = cdk.Stack.of(project)
    child = project.node.default_child
    assert isinstance(child, cdk.CfnElement)
    logical = stack.get_logical_id(child)
    logs = account_arn(project, "logs", f"log-group:/aws/codebuild/<{logical}>:*")
    reports = account_arn(project, "codebuild", f"report-group/<{logical}>-*")
    scope = project if role is None else role
    acknowledge(
        scope,
        f"{IAM5}[Resource::{logs}]",
        "CodeBuild's default grant on the project's own /aws/codebuild/<project> log streams.",
    )
    acknowledge(
        scope,
        f"{IAM5}[Resource::{reports}]",
        "CodeBuild's default grant on the project's own test report groups (<project>-*).",
    )


def acknowledge_deploy_project(project: IConstruct, *, group: str, bucket: s3.IBucket) -> None:
    """The deliberate wildcards of a deploy build's own policy (resolve and smoke test)."""
    acknowledge(
        project,
        f"{IAM5}[Resource::*]",
        "sagemaker:ListModelPackages has no resource-level permissions (the resolve tool lists the "
        "approved versions of this project's group); nor has cloudwatch:GetMetricStatistics (the "
        "Shadow build reads the prod endpoint's ModelLatency per variant).",
    )
    versions = account_arn(project, "sagemaker", f"model-package/{group}/*")
    acknowledge(
        project,
        f"{IAM5}[Resource::{versions}]",
        "Versions are named <group>/<n>; the deploy builds describe versions of this project's group only.",
    )
    acknowledge_resource(
        project,
        bucket.arn_for_objects(f"{RUNS_PREFIX}*"),
        f"The smoke test reads the approved version's sample payloads under {RUNS_PREFIX}<execution>/.",
    )


def acknowledge_smoke_test(
    project: IConstruct, *, stage: StageConfig, endpoint: str, bucket: s3.IBucket
) -> None:
    """The smoke test of a stage in this account: its endpoint's configs, and an async stage's folders."""
    acknowledge(
        project,
        f"{IAM5}[Resource::{account_arn(project, 'sagemaker', f'endpoint-config/{endpoint}-*')}]",
        f"The smoke test describes the config {endpoint} runs (to invoke an async one asynchronously); "
        "config names are <endpoint>-v<version>-<fingerprint>, only this endpoint's.",
    )
    if stage.async_inference is None:
        return
    for folder, why in (
        (ASYNC_INPUT_FOLDER, "puts each sample payload as a new object"),
        (ASYNC_OUTPUT_FOLDER, "reads the answer object SageMaker names <inference id>.out"),
        (ASYNC_FAILURE_FOLDER, "reads the error object SageMaker names <inference id>-error.out"),
    ):
        acknowledge_resource(
            project,
            bucket.arn_for_objects(f"{async_folder(endpoint, folder)}*"),
            f"The async smoke test {why} under {async_folder(endpoint, folder)} (this endpoint's only).",
        )


def acknowledge_release_tagging(project: IConstruct, *, bucket: s3.IBucket) -> None:
    """The deploy build of a stage in another account tags the version it ships (``release.release_tag``)."""
    for pattern, what in ((MODEL_ARTIFACTS_PATTERN, "model file"), (BASELINE_PATTERN, "baseline files")):
        acknowledge_resource(
            project,
            bucket.arn_for_objects(pattern),
            f"Run and job folders are generated names; the build tags the shipped version's {what} "
            "(chosen by release.resolve) as released to its stage, and may only read and set tags there.",
        )


def acknowledge_endpoint_stacks(project: IConstruct, *, stacks: list[str]) -> None:
    """The staging build reads the endpoint stacks' outputs; a stack ARN ends in a generated ID."""
    for name in stacks:
        acknowledge(
            project,
            f"{IAM5}[Resource::" + account_arn(project, "cloudformation", f"stack/{name}/*") + "]",
            "A stack's ARN ends in an ID CloudFormation generates; DescribeStacks is limited to this "
            "endpoint stack (the staging build checks which version each stage already serves).",
        )


def acknowledge_run_tagging(project: IConstruct, *, actions: tuple[str, ...]) -> None:
    """The deploy build reads and tags runs on the tracking server (``release.track_release``)."""
    for action in actions:
        if action.endswith("*"):
            acknowledge(
                project,
                f"{IAM5}[Action::{action}]",
                f"MLflow's {action.split(':')[1]} family (read-only, one action per REST operation) on "
                "this environment's one tracking server; the build only sets tags on the shipped "
                "version's run and experiment, and cannot create, log to or delete runs.",
            )


def acknowledge_shadow_test(project: IConstruct, *, endpoint: str, bucket: s3.IBucket) -> None:
    """The Shadow build's wildcards: the prod endpoint's generated config and model names, its
    capture folder, and CloudWatch's metric read (no resource-level permissions)."""
    for kind in ("endpoint-config", "model"):
        acknowledge(
            project,
            f"{IAM5}[Resource::" + account_arn(project, "sagemaker", f"{kind}/{endpoint}-*") + "]",
            f"The endpoint stack names each {kind} <endpoint>-v<N>-<fingerprint>; release.shadow only "
            "describes the prod endpoint's to learn which version it serves now.",
        )
    acknowledge_resource(
        project,
        bucket.arn_for_objects(f"{CAPTURE_PREFIX}{endpoint}/*"),
        "Capture files are yyyy/mm/dd/hh/<generated>.jsonl under each variant; the shadow report reads "
        "the prod endpoint's capture only, for the window's hours.",
    )
