"""``<prefix>-deploy``: Source → Staging (resolve, deploy, smoke test) [→ Shadow] → Approve → Prod.

With ``endpoints.prod.shadow``, a Shadow build runs the staging-tested version as a shadow variant of
prod for the window and reports on it (:mod:`stacks.delivery.shadow_commands`); the approval shows
the report's figures, and Prod then ships the version as before (the shadow variant goes away).

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

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from contracts.config import StageConfig
from contracts.names import deploy_pipeline_name, deploy_project_name, endpoint_name, endpoint_stack_name
from stacks.delivery import commands, role_policies
from stacks.delivery.acknowledgements import (
    acknowledge_artifact_grants,
    acknowledge_deploy_project,
    acknowledge_endpoint_stacks,
    acknowledge_release_tagging,
    acknowledge_run_tagging,
    acknowledge_shadow_test,
    acknowledge_smoke_test,
)
from stacks.delivery.approval_gate import approval_gate
from stacks.delivery.build_project import BuildProject, BuildProjectProps
from stacks.delivery.codepipeline_v2 import v2_pipeline
from stacks.delivery.deploy_props import DeployPipelineProps
from stacks.delivery.shadow_commands import BUCKET_VARIABLE, EXPORTED, NAMESPACE, shadow_commands
from stacks.delivery.ship_statements import ship_statements

#: DeployPipelineProps lives in its own module; the stack imports it from here.
__all__ = ["DEPLOY_TIMEOUT_MINUTES", "STAGED", "DeployPipeline", "DeployPipelineProps"]
STAGED: Final = "Staging"  # artifact name and variables namespace of the staging build
DEPLOY_TIMEOUT_MINUTES: Final = 120


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
        shadow = self._shadow_action(p, source, staged) if p.prod.shadow is not None else None
        gate = approval_gate(
            p.prefix, p.group, p.staging.name, p.prod.name, p.approval_topic,
            version=staging_action.variable(commands.VERSION_VARIABLE),
            shadow_summary=None if shadow is None else shadow.variable(EXPORTED[0]),
        )  # fmt: skip
        tested = [] if shadow is None else [codepipeline.StageProps(stage_name=NAMESPACE, actions=[shadow])]
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
                *tested,
                codepipeline.StageProps(stage_name="Approve", actions=[gate]),
                codepipeline.StageProps(stage_name="Prod", actions=[prod_action]),
            ],
        )

    def _staging_project(self, p: DeployPipelineProps) -> codebuild.PipelineProject:
        """Resolve the newest Approved version, stop if live everywhere, deploy, smoke-test, hand on."""
        stages = [p.staging.name, p.prod.name]
        project = self._project(
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
        # on the BuildProject (the project's parent), which also holds the build's own policy
        acknowledge_endpoint_stacks(
            _owner(project), stacks=[endpoint_stack_name(p.prefix, s) for s in stages]
        )
        return project

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
        construct_id: str | None = None,
        exported: tuple[str, ...] = (),
        variables: dict[str, str] | None = None,
        timeout_minutes: int = DEPLOY_TIMEOUT_MINUTES,
        ship: bool = True,
    ) -> codebuild.PipelineProject:
        """A stage's build (``construct_id``: another build of that stage, e.g. ``Shadow``)."""
        into = p.stage_accounts.get(stage.name)
        name = stage.name if construct_id is None else f"{stage.name}-{construct_id.lower()}"
        tracking = {commands.TRACKING_SERVER_VARIABLE: arn} if (arn := p.tracking_server_arn) else {}
        project = BuildProject(
            self,
            construct_id or stage.name.capitalize(),
            props=BuildProjectProps(
                name=deploy_project_name(p.prefix, name),
                commands=build,
                key=p.key,
                statements=[*ship_statements(self, p, stage, into, smoke_test=ship), *(extra or [])],
                role_name=None if into is None else into.deploy_role_name,
                artifact_files=artifact_files,
                exported_variables=[commands.VERSION_VARIABLE, *exported],
                # the server release.track_release marks runs on (an ARN resolved at deploy time)
                variables={**tracking, **(variables or {})},
                # CloudFormation waits for the endpoint: create or blue/green update with canary
                # wait, baking and termination wait (see the stage's rollout config)
                timeout_minutes=timeout_minutes,
            ),
        )
        acknowledge_artifact_grants(project, p.delivery_bucket)
        acknowledge_deploy_project(project, group=p.group, bucket=p.artifact_bucket)
        if into is not None:
            acknowledge_release_tagging(project, bucket=p.artifact_bucket)
        elif ship:
            acknowledge_smoke_test(project, stage=stage, endpoint=endpoint_name(p.prefix, stage.name),
                                   bucket=p.artifact_bucket)  # fmt: skip
        if p.tracking_server_arn is not None:
            acknowledge_run_tagging(project, actions=role_policies.TAG_TRACKED_RUN_ACTIONS)
        return project.project

    def _shadow_action(
        self, p: DeployPipelineProps, source: codepipeline.Artifact, staged: codepipeline.Artifact
    ) -> actions.CodeBuildAction:
        """The staged version as prod's shadow for the window, then the report, its figures exported."""
        shadow, endpoint = p.prod.shadow, endpoint_name(p.prefix, p.prod.name)
        if shadow is None or p.smoke_role(p.prod) is not None:
            raise ValueError(
                "endpoints.prod.shadow: only a prod endpoint in the tooling account is shadow-tested"
            )
        build = shadow_commands(
            env=p.env_name, prefix=p.prefix, group=p.group, stage=p.prod,
            staged_file=f"$CODEBUILD_SRC_DIR_{STAGED}/{p.staging.model_file}",
        )  # fmt: skip
        extra = role_policies.shadow_test(
            cdk.Stack.of(self), endpoint=endpoint, bucket=p.artifact_bucket, key=p.key
        )
        project = self._project(
            p, p.prod, build, artifact_files=[], extra=extra, construct_id=NAMESPACE, exported=EXPORTED,
            variables={BUCKET_VARIABLE: p.artifact_bucket.bucket_name},
            timeout_minutes=DEPLOY_TIMEOUT_MINUTES + shadow.window_minutes, ship=False,
        )  # fmt: skip
        acknowledge_shadow_test(_owner(project), endpoint=endpoint, bucket=p.artifact_bucket)
        return actions.CodeBuildAction(
            action_name="ShadowDeployWaitReport", project=project, input=source, extra_inputs=[staged],
            variables_namespace=NAMESPACE,
        )  # fmt: skip


def _owner(project: codebuild.PipelineProject) -> IConstruct:
    """The :class:`BuildProject` a project belongs to (its policy's parent too)."""
    owner = project.node.scope
    assert owner is not None
    return owner
