"""``<prefix>-deploy``: Source → Staging (resolve, deploy, smoke test) → Approve → Prod.

A version already live on staging and prod (an edit of a deployed Approved version starts this
pipeline too) stops the execution in the staging build: nothing is redeployed, no gate waits.

Started only by the approval rule (its source action has no trigger). CodePipeline also runs a
pipeline once when it is created; with nothing approved yet that first run stops at Staging,
where ``release.resolve`` reports that no version is deployable.

Prod ships exactly the version staging smoke-tested: the staging build hands on its model file
and exports ``MODEL_VERSION`` (shown in the manual approval); the prod build resolves that
version again, which fails if it was rejected or deleted while waiting at the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts.config import StageConfig
from contracts.names import deploy_pipeline_name, deploy_project_name, endpoint_name, endpoint_stack_name
from stacks.delivery import commands, role_policies
from stacks.delivery.acknowledgements import (
    acknowledge_artifact_grants,
    acknowledge_deploy_project,
    acknowledge_endpoint_stacks,
)
from stacks.delivery.build_project import BuildProject, BuildProjectProps
from stacks.delivery.codepipeline_v2 import v2_pipeline
from stacks.delivery.source import PipelineSource

STAGED: Final = "Staging"  # artifact name and variables namespace of the staging build
DEPLOY_TIMEOUT_MINUTES: Final = 120


@dataclass(frozen=True, kw_only=True)
class DeployPipelineProps:
    """The two stages, the model group, the source and the resources the builds use."""

    prefix: str
    env_name: str
    group: str
    staging: StageConfig
    prod: StageConfig
    source: PipelineSource
    key: kms.IKey
    #: Read by the smoke test (the approved version's samples under pipeline-runs/).
    artifact_bucket: s3.IBucket
    #: The delivery bucket: source and pipeline artifacts.
    delivery_bucket: s3.IBucket
    approval_topic: sns.ITopic


class DeployPipeline(Construct):
    """The deploy CodePipeline (V2) and a CodeBuild project per stage; ``pipeline`` exposed."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeployPipelineProps) -> None:
        super().__init__(scope, construct_id)
        p = props
        stages = [p.staging.name, p.prod.name]
        staging_project = self._project(
            p,
            p.staging,
            commands.staging_commands(
                env=p.env_name, prefix=p.prefix, group=p.group, stage=p.staging, stages=stages
            ),
            artifact_files=[p.staging.model_file],
            extra=role_policies.stop_when_live(
                cdk.Stack.of(self),
                pipeline=deploy_pipeline_name(p.prefix),
                endpoint_stacks=[endpoint_stack_name(p.prefix, stage) for stage in stages],
            ),
        )
        prod_project = self._project(
            p,
            p.prod,
            commands.prod_commands(
                env=p.env_name,
                prefix=p.prefix,
                group=p.group,
                stage=p.prod,
                staged_file=f"$CODEBUILD_SRC_DIR_{STAGED}/{p.staging.model_file}",
            ),
            artifact_files=[],
        )
        source, staged = codepipeline.Artifact("Source"), codepipeline.Artifact(STAGED)
        staging_action = actions.CodeBuildAction(
            action_name="ResolveDeploySmokeTest",
            project=staging_project,
            input=source,
            outputs=[staged],
            variables_namespace=STAGED,
            environment_variables={
                commands.EXECUTION_VARIABLE: codebuild.BuildEnvironmentVariable(
                    value="#{codepipeline.PipelineExecutionId}"
                )
            },
        )
        gate = _approval_gate(p, version=staging_action.variable(commands.VERSION_VARIABLE))
        prod_action = actions.CodeBuildAction(
            action_name="DeploySmokeTest", project=prod_project, input=source, extra_inputs=[staged]
        )
        self.pipeline = v2_pipeline(
            self,
            "Pipeline",
            name=deploy_pipeline_name(p.prefix),
            bucket=p.delivery_bucket,
            stages=[
                codepipeline.StageProps(
                    stage_name="Source", actions=[p.source.action(source, on_push=False)]
                ),
                codepipeline.StageProps(stage_name="Staging", actions=[staging_action]),
                codepipeline.StageProps(stage_name="Approve", actions=[gate]),
                codepipeline.StageProps(stage_name="Prod", actions=[prod_action]),
            ],
        )

    def _project(
        self,
        p: DeployPipelineProps,
        stage: StageConfig,
        build: list[str],
        *,
        artifact_files: list[str],
        extra: list[iam.PolicyStatement] | None = None,
    ) -> codebuild.PipelineProject:
        stack = cdk.Stack.of(self)
        project = BuildProject(
            self,
            stage.name.capitalize(),
            props=BuildProjectProps(
                name=deploy_project_name(p.prefix, stage.name),
                commands=build,
                key=p.key,
                statements=[
                    role_policies.cdk_deploy(stack),
                    *role_policies.read_registry(stack, p.group),
                    *role_policies.smoke_test(
                        stack,
                        endpoint=endpoint_name(p.prefix, stage.name),
                        bucket=p.artifact_bucket,
                        key=p.key,
                    ),
                    *(extra or []),
                ],
                artifact_files=artifact_files,
                exported_variables=[commands.VERSION_VARIABLE],
                # CloudFormation waits for the endpoint: create or blue/green update with canary
                # wait, baking and termination wait (see the stage's rollout config)
                timeout_minutes=DEPLOY_TIMEOUT_MINUTES,
            ),
        )
        acknowledge_artifact_grants(project, p.delivery_bucket)
        acknowledge_deploy_project(project, group=p.group, bucket=p.artifact_bucket)
        if extra:
            acknowledge_endpoint_stacks(
                project, stacks=[endpoint_stack_name(p.prefix, s) for s in (p.staging.name, p.prod.name)]
            )
        return project.project


def _approval_gate(p: DeployPipelineProps, *, version: str) -> actions.ManualApprovalAction:
    """The manual approval between the stages, announced on the topic with the staged ``version``."""
    staging, prod = endpoint_name(p.prefix, p.staging.name), endpoint_name(p.prefix, p.prod.name)
    return actions.ManualApprovalAction(
        action_name="ApproveProd",
        notification_topic=p.approval_topic,
        external_entity_link=(
            f"https://{cdk.Aws.REGION}.console.aws.amazon.com/sagemaker/home?region={cdk.Aws.REGION}"
            f"#/endpoints/{staging}"
        ),
        additional_information=(
            f"Model version {version} of {p.group} passed its smoke test on {staging}. Approve to roll "
            f"version {version} out to {prod} (canary, alarm rollback)."
        ),
    )
