"""``<prefix>-deploy``: Source → Staging (resolve, deploy, smoke test) → Approve → Prod.

A version already live on staging and prod (an edit of a deployed Approved version starts this
pipeline too) stops the execution in the staging build: nothing is redeployed, no gate waits.

Started only by the approval rule (its source action has no trigger). CodePipeline also runs a
pipeline once when it is created; with nothing approved yet that first run stops at Staging,
where ``release.resolve`` reports that no version is deployable.

Prod ships exactly the version staging smoke-tested: the staging build hands on its model file
and exports ``MODEL_VERSION`` (shown in the manual approval); the prod build resolves that
version again, which fails if it was rejected or deleted while waiting at the gate.

A stage in another account is shipped the same way by a build whose role has a fixed name and
may assume exactly that account's CDK bootstrap roles and smoke role
(:mod:`stacks.delivery.stage_accounts`): ``cdk deploy`` goes through the former, the smoke test
through the latter (``--role-arn``).

With a tracking server, each build then marks the version's MLflow run shipped (``release.track_release``;
its role reads runs and sets tags there), outside the VPC: the server's public endpoint, signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    acknowledge_release_tagging,
    acknowledge_run_tagging,
)
from stacks.delivery.build_project import BuildProject, BuildProjectProps
from stacks.delivery.codepipeline_v2 import v2_pipeline
from stacks.delivery.source import PipelineSource
from stacks.delivery.stage_accounts import StageAccount

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
    #: The tooling account's CDK bootstrap the endpoint stacks deploy through (the use case's own).
    qualifier: str
    #: The stages in other accounts (stage name -> what their build may reach there); empty: none.
    stage_accounts: Mapping[str, StageAccount] = field(default_factory=dict)
    #: The environment's MLflow tracking server; None: it has none (nothing is marked shipped).
    tracking_server_arn: str | None = None

    def smoke_role(self, stage: StageConfig) -> str | None:
        """The smoke role ``stage``'s build smoke-tests through; None in the tooling account."""
        into = self.stage_accounts.get(stage.name)
        return None if into is None else into.smoke_role


class DeployPipeline(Construct):
    """The deploy CodePipeline (V2) and a CodeBuild project per stage; ``pipeline`` exposed."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeployPipelineProps) -> None:
        super().__init__(scope, construct_id)
        p = props
        # staging's build first, then prod's (construct order: their logical IDs)
        staging_project, prod_project = self._staging_project(p), self._prod_project(p)
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

    def _staging_project(self, p: DeployPipelineProps) -> codebuild.PipelineProject:
        """Resolve the newest Approved version, stop if live everywhere, deploy, smoke-test, hand on."""
        stages = [p.staging.name, p.prod.name]
        return self._project(
            p,
            p.staging,
            commands.staging_commands(
                env=p.env_name,
                prefix=p.prefix,
                group=p.group,
                stage=p.staging,
                stages=stages,
                smoke_role=p.smoke_role(p.staging),
                tracked=p.tracking_server_arn is not None,
            ),
            artifact_files=[p.staging.model_file],
            extra=role_policies.stop_when_live(
                cdk.Stack.of(self),
                pipeline=deploy_pipeline_name(p.prefix),
                endpoint_stacks=[endpoint_stack_name(p.prefix, stage) for stage in stages],
            ),
        )

    def _prod_project(self, p: DeployPipelineProps) -> codebuild.PipelineProject:
        """Exactly the version staging tested, re-checked as Approved, deployed and smoke-tested."""
        return self._project(
            p,
            p.prod,
            commands.prod_commands(
                env=p.env_name,
                prefix=p.prefix,
                group=p.group,
                stage=p.prod,
                staged_file=f"$CODEBUILD_SRC_DIR_{STAGED}/{p.staging.model_file}",
                smoke_role=p.smoke_role(p.prod),
                tracked=p.tracking_server_arn is not None,
            ),
            artifact_files=[],
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
        into = p.stage_accounts.get(stage.name)
        project = BuildProject(
            self,
            stage.name.capitalize(),
            props=BuildProjectProps(
                name=deploy_project_name(p.prefix, stage.name),
                commands=build,
                key=p.key,
                statements=[*_ship_statements(self, p, stage, into), *(extra or [])],
                role_name=None if into is None else into.deploy_role_name,
                artifact_files=artifact_files,
                exported_variables=[commands.VERSION_VARIABLE],
                # the server release.track_release marks runs on (an ARN resolved at deploy time)
                variables={commands.TRACKING_SERVER_VARIABLE: arn} if (arn := p.tracking_server_arn) else {},
                # CloudFormation waits for the endpoint: create or blue/green update with canary
                # wait, baking and termination wait (see the stage's rollout config)
                timeout_minutes=DEPLOY_TIMEOUT_MINUTES,
            ),
        )
        acknowledge_artifact_grants(project, p.delivery_bucket)
        acknowledge_deploy_project(project, group=p.group, bucket=p.artifact_bucket)
        if into is not None:
            acknowledge_release_tagging(project, bucket=p.artifact_bucket)
        if p.tracking_server_arn is not None:
            acknowledge_run_tagging(project, actions=role_policies.TAG_TRACKED_RUN_ACTIONS)
        if extra:
            acknowledge_endpoint_stacks(
                project, stacks=[endpoint_stack_name(p.prefix, s) for s in (p.staging.name, p.prod.name)]
            )
        return project.project


def _ship_statements(
    scope: Construct, p: DeployPipelineProps, stage: StageConfig, into: StageAccount | None
) -> list[iam.PolicyStatement]:
    """Deploy through the bootstrap roles, read the registry, smoke-test the stage's endpoint.

    A stage in another account (``into``): that account's bootstrap roles and its smoke role, no
    endpoint of the tooling account, and tagging the shipped version so that account may read it;
    samples and registry are read here either way.
    """
    stack = cdk.Stack.of(scope)
    if into is None:
        endpoint = endpoint_name(p.prefix, stage.name)
        smoke = role_policies.smoke_test(stack, endpoint=endpoint, bucket=p.artifact_bucket, key=p.key)
    else:
        smoke = [
            role_policies.smoke_test_through(into),
            *role_policies.read_smoke_samples(bucket=p.artifact_bucket, key=p.key),
            role_policies.tag_shipped_version(p.artifact_bucket),
        ]
    deploy = role_policies.cdk_deploy(stack, qualifier=p.qualifier, into=into)
    if p.tracking_server_arn is not None:
        smoke.append(role_policies.tag_tracked_runs(p.tracking_server_arn))
    return [deploy, *role_policies.read_registry(stack, p.group), *smoke]


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
