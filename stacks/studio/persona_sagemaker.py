"""The SageMaker statements of a persona's role: registry, pipelines, endpoints, jobs, sandbox.

Versions are registered by the training pipeline only; only the approver changes a version's
status; builders start jobs inside the job boundary and run the training pipeline (never the
drift check); an ML engineer may run ``<prefix>-sandbox-*`` endpoints under the same conditions.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from contracts.names import sandbox_pattern
from stacks.common.job_conditions import (
    endpoint_config_conditions,
    job_conditions,
    model_conditions,
)
from stacks.studio.persona_props import BUILDERS, PersonaRoleProps
from stacks.studio.persona_statements import list_statement


def sagemaker_arn(resource: str) -> str:
    """ARN of a SageMaker resource in this stack's account and region (``resource`` = type/name)."""
    return f"arn:{cdk.Aws.PARTITION}:sagemaker:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:{resource}"


def sagemaker_statements(p: PersonaRoleProps, *, role_arn: str) -> list[iam.PolicyStatement]:
    """Read the registry, pipelines and endpoints; a builder runs jobs, the approver approves; an
    ML engineer runs sandbox endpoints. ``role_arn``: the persona's own role (passed to its jobs)."""
    group = p.model_package_group_name
    packages = sagemaker_arn(f"model-package/{group}/*")
    registry = [sagemaker_arn(f"model-package-group/{group}"), packages]
    pipelines = [
        sagemaker_arn(f"pipeline/{p.prefix}-*"),
        sagemaker_arn(f"pipeline/{p.prefix}-*/execution/*"),
    ]
    statements = [
        iam.PolicyStatement(
            sid="ReadRegistry",
            actions=["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage"],
            resources=registry,
        ),
        iam.PolicyStatement(
            sid="ReadPipelines",
            actions=[
                "sagemaker:DescribePipeline",
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
            ],
            resources=pipelines,
        ),
        iam.PolicyStatement(
            sid="ReadEndpoints",
            actions=["sagemaker:DescribeEndpoint"],
            resources=[sagemaker_arn(f"endpoint/{p.prefix}-*")],
        ),
        list_statement(),
    ]
    if p.persona in BUILDERS:
        statements += _builder_statements(p, role_arn)
    else:
        statements.append(
            iam.PolicyStatement(
                sid="ApproveOrRejectVersions",
                actions=["sagemaker:UpdateModelPackage"],
                resources=[packages],
            )
        )
    if p.persona == "ml_engineer":
        statements += _sandbox_statements(p)
    return statements


def fence_statement(use_case: str, prefix: str) -> iam.PolicyStatement:
    """Deny every SageMaker and ECR action on the resources named ``<prefix>-*`` (``use_case``'s)."""
    return iam.PolicyStatement(
        sid=f"NothingOfUseCase{use_case.capitalize()}",
        effect=iam.Effect.DENY,
        actions=["sagemaker:*", "ecr:*"],
        resources=[
            sagemaker_arn(f"*/{prefix}-*"),
            f"arn:{cdk.Aws.PARTITION}:ecr:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:repository/{prefix}-*",
        ],
    )


def _builder_statements(p: PersonaRoleProps, role_arn: str) -> list[iam.PolicyStatement]:
    """Start and manage jobs inside the boundary, run the training pipeline, invoke endpoints."""
    jobs = [sagemaker_arn(f"{kind}/{p.prefix}-*") for kind in ("processing-job", "training-job")]
    return [
        iam.PolicyStatement(
            sid="StartJobsInsideTheBoundary",
            actions=["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"],
            resources=jobs,
            conditions=job_conditions(p.boundary, network_isolation=True),
        ),
        iam.PolicyStatement(
            sid="ManageOwnJobs",
            actions=[
                "sagemaker:DescribeProcessingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:StopTrainingJob",
                "sagemaker:AddTags",
            ],
            resources=jobs,
        ),
        # The training pipeline only: the drift check's parameters (endpoint, capture, baseline)
        # are the schedules' to set, or a persona could publish forged drift for prod.
        iam.PolicyStatement(
            sid="RunTrainingPipeline",
            actions=["sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution"],
            resources=[
                sagemaker_arn(f"pipeline/{p.training_pipeline_name}"),
                sagemaker_arn(f"pipeline/{p.training_pipeline_name}/execution/*"),
            ],
        ),
        iam.PolicyStatement(
            sid="InvokeEndpoints",
            actions=["sagemaker:InvokeEndpoint"],
            resources=[sagemaker_arn(f"endpoint/{p.prefix}-*")],
        ),
        iam.PolicyStatement(
            sid="PassOwnRoleToJobs",
            actions=["iam:PassRole"],
            resources=[role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    ]


def _sandbox_statements(p: PersonaRoleProps) -> list[iam.PolicyStatement]:
    """Ad-hoc endpoints (``<prefix>-sandbox-*``) held to the job boundary; never a stage's."""
    name = sandbox_pattern(p.prefix)
    model, config, endpoint = (
        sagemaker_arn(f"{kind}/{name}") for kind in ("model", "endpoint-config", "endpoint")
    )
    return [
        iam.PolicyStatement(
            sid="SandboxModels",
            actions=["sagemaker:CreateModel"],
            resources=[model],
            conditions=model_conditions(p.boundary),
        ),
        iam.PolicyStatement(
            sid="SandboxEndpointConfigs",
            actions=["sagemaker:CreateEndpointConfig"],
            resources=[config],
            conditions=endpoint_config_conditions(p.boundary),
        ),
        iam.PolicyStatement(
            sid="SandboxEndpoints",
            actions=[
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:DeleteEndpoint",
                "sagemaker:DescribeModel",
                "sagemaker:DeleteModel",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:DeleteEndpointConfig",
            ],
            resources=[model, config, endpoint],
        ),
    ]
