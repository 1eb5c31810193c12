"""Delivery: push → build pipeline → training pipeline; approval → deploy pipeline → staging → prod.

- **Build** (``<prefix>-build``, CodePipeline V2): source is the team's Git repository through a
  CodeConnections connection, triggered only by pushes to the configured branch that touch the
  configured paths (``ml_code/**``). Without a connection the source is an object in the artifact
  bucket (``source/<prefix>.zip``), polled for new versions: upload with ``git archive`` +
  ``aws s3 cp`` (S3 *event* triggers need a CloudTrail data-event trail, which this stack does not
  assume). The build runs the test suite, deploys the pipeline stack (so the SageMaker pipeline
  takes the pushed definition) and starts one execution without waiting for it.
- **Deploy** (``<prefix>-deploy``): started only by an EventBridge rule matching ``Approved``
  state changes of *this* project's model package group. Staging resolves the newest approved
  version at deploy time, deploys its endpoint stack and smoke-tests it; a person approves; prod
  deploys the very file staging resolved, with the endpoint's canary rollout and alarm rollback.
- **Scheduled retraining** (optional): an EventBridge Scheduler schedule starts the training
  pipeline (its default InputDataUri, i.e. the latest data) through a role allowed only that.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.config import AppConfig
from stacks.delivery import commands
from stacks.delivery.acknowledgements import acknowledge_artifact_grants, acknowledge_deploy_project
from stacks.delivery.build_project import BuildProject, BuildProjectProps
from stacks.delivery.events import approval_pattern

SOURCE_PREFIX = "source"


class DeliveryStack(cdk.Stack):
    """CodePipelines for push-to-train and approve-to-deploy, plus scheduled retraining."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        training_pipeline_name: str,
        model_package_group_name: str,
        model_package_group_arn: str,
        notification_topic: sns.ITopic,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        prefix, env = config.prefix, config.env.name
        self.training_pipeline_arn = self.format_arn(
            service="sagemaker", resource="pipeline", resource_name=training_pipeline_name.lower()
        )
        self._source = config.env.delivery.source
        self._bucket = artifact_bucket
        self.source_key = f"{SOURCE_PREFIX}/{prefix}.zip"

        # ---- push → build → training pipeline
        build = BuildProject(
            self,
            "Build",
            props=BuildProjectProps(
                name=f"{prefix}-build",
                commands=commands.build_commands(env=env, prefix=prefix),
                key=key,
                statements=[
                    iam.PolicyStatement(
                        sid="StartTrainingPipeline",
                        actions=["sagemaker:StartPipelineExecution", "sagemaker:DescribePipeline"],
                        resources=[self.training_pipeline_arn],
                    )
                ],
            ),
        )
        source_out = codepipeline.Artifact("Source")
        source_action = self._source_action(source_out, trigger=True)
        self.build_pipeline = codepipeline.Pipeline(
            self,
            "BuildPipeline",
            pipeline_name=f"{prefix}-build",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=artifact_bucket,
            restart_execution_on_update=False,
            stages=[
                codepipeline.StageProps(stage_name="Source", actions=[source_action]),
                codepipeline.StageProps(
                    stage_name="TestAndTrain",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="TestDeployStart", project=build.project, input=source_out
                        )
                    ],
                ),
            ],
            triggers=self._push_triggers(source_action),
        )

        # ---- approval → deploy pipeline → staging → manual gate → prod
        staging, prod = config.env.stage("staging"), config.env.stage("prod")
        deploy_statements = self._deploy_statements(prefix, model_package_group_name, key)
        stage_projects = {}
        for stage, resolve_from in ((staging, None), (prod, staging.model_file)):
            stage_projects[stage.name] = BuildProject(
                self,
                f"Deploy{stage.name.capitalize()}",
                props=BuildProjectProps(
                    name=f"{prefix}-deploy-{stage.name}",
                    commands=commands.stage_commands(
                        env=env,
                        prefix=prefix,
                        stage=stage.name,
                        model_file=stage.model_file,
                        samples=stage.smoke_test.samples,
                        max_latency_ms=stage.smoke_test.max_latency_ms,
                        resolve_from=None
                        if resolve_from is None
                        else f"$CODEBUILD_SRC_DIR_Staging/{resolve_from}",
                    ),
                    key=key,
                    statements=deploy_statements,
                    artifact_files=[stage.model_file] if resolve_from is None else [],
                ),
            )
        deploy_source = codepipeline.Artifact("Source")
        staged = codepipeline.Artifact("Staging")
        self.deploy_pipeline = codepipeline.Pipeline(
            self,
            "DeployPipeline",
            pipeline_name=f"{prefix}-deploy",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=artifact_bucket,
            restart_execution_on_update=False,
            stages=[
                codepipeline.StageProps(
                    stage_name="Source", actions=[self._source_action(deploy_source, trigger=False)]
                ),
                codepipeline.StageProps(
                    stage_name="Staging",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="ResolveDeploySmokeTest",
                            project=stage_projects["staging"].project,
                            input=deploy_source,
                            outputs=[staged],
                        )
                    ],
                ),
                codepipeline.StageProps(
                    stage_name="Approve",
                    actions=[
                        actions.ManualApprovalAction(
                            action_name="ApproveProd",
                            notification_topic=notification_topic,
                            additional_information=f"{prefix}-staging passed its smoke test; approve to roll "
                            "the same version out to prod (canary, auto-rollback).",
                        )
                    ],
                ),
                codepipeline.StageProps(
                    stage_name="Prod",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="DeploySmokeTest",
                            project=stage_projects["prod"].project,
                            input=deploy_source,
                            extra_inputs=[staged],
                        )
                    ],
                ),
            ],
        )
        self.approval_rule = events.Rule(
            self,
            "OnModelApproved",
            description=f"Deploy when a version of {model_package_group_name} is approved",
            event_pattern=_event_pattern(approval_pattern(model_package_group_name)),
            targets=[targets.CodePipeline(self.deploy_pipeline)],
        )
        for pipeline in (self.build_pipeline, self.deploy_pipeline):
            _drop_redundant_role_dependency(pipeline)
        for holder in (self.build_pipeline, self.deploy_pipeline, build, *stage_projects.values()):
            acknowledge_artifact_grants(holder, artifact_bucket)
        for project in stage_projects.values():
            acknowledge_deploy_project(project, group=model_package_group_name, bucket=artifact_bucket)
        if config.env.delivery.retrain_schedule:
            self._retrain_schedule(config.env.delivery.retrain_schedule)
        cdk.CfnOutput(self, "SourceObject", value=f"s3://{artifact_bucket.bucket_name}/{self.source_key}")

    def _source_action(self, output: codepipeline.Artifact, *, trigger: bool) -> codepipeline.IAction:
        src = self._source
        if src.connection_arn is not None and src.repository is not None:
            owner, _, repo = src.repository.partition("/")
            return actions.CodeStarConnectionsSourceAction(
                action_name="Source",
                connection_arn=src.connection_arn,
                owner=owner,
                repo=repo,
                branch=src.branch,
                output=output,
                trigger_on_push=trigger,
            )
        return actions.S3SourceAction(
            action_name="Source",
            bucket=self._bucket,
            bucket_key=self.source_key,
            output=output,
            trigger=actions.S3Trigger.POLL if trigger else actions.S3Trigger.NONE,
        )

    def _push_triggers(self, source_action: codepipeline.IAction) -> list[codepipeline.TriggerProps] | None:
        if self._source.connection_arn is None:
            return None
        return [
            codepipeline.TriggerProps(
                provider_type=codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
                git_configuration=codepipeline.GitConfiguration(
                    source_action=source_action,
                    push_filter=[
                        codepipeline.GitPushFilter(
                            branches_includes=[self._source.branch],
                            file_paths_includes=list(self._source.file_paths),
                        )
                    ],
                ),
            )
        ]

    def _deploy_statements(self, prefix: str, group: str, key: kms.IKey) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="ReadApprovedVersions",
                actions=["sagemaker:ListModelPackages"],
                resources=["*"],  # ListModelPackages has no resource-level permissions
            ),
            iam.PolicyStatement(
                sid="DescribeVersionsOfThisGroup",
                actions=["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
                resources=[
                    self.format_arn(
                        service="sagemaker", resource="model-package", resource_name=f"{group}/*"
                    ),
                    self.format_arn(service="sagemaker", resource="model-package-group", resource_name=group),
                ],
            ),
            iam.PolicyStatement(
                sid="SmokeTestTheStageEndpoints",
                actions=["sagemaker:InvokeEndpoint"],
                resources=[
                    self.format_arn(
                        service="sagemaker", resource="endpoint", resource_name=f"{prefix}-{stage}"
                    )
                    for stage in ("staging", "prod")
                ],
            ),
            iam.PolicyStatement(
                sid="ReadSmokeSamples",
                actions=["s3:GetObject"],
                resources=[self._bucket.arn_for_objects("pipeline-runs/*")],
            ),
            iam.PolicyStatement(sid="DecryptArtifacts", actions=["kms:Decrypt"], resources=[key.key_arn]),
        ]

    def _retrain_schedule(self, expression: str) -> None:
        role = iam.Role(
            self,
            "RetrainScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description="EventBridge Scheduler: may only start the training pipeline",
        )
        policy = iam.ManagedPolicy(
            self,
            "RetrainSchedulePolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["sagemaker:StartPipelineExecution"], resources=[self.training_pipeline_arn]
                )
            ],
        )
        schedule = scheduler.CfnSchedule(
            self,
            "RetrainSchedule",
            description="Scheduled retraining on the latest data (the pipeline's default InputDataUri)",
            schedule_expression=expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.training_pipeline_arn,
                role_arn=role.role_arn,
                sage_maker_pipeline_parameters=scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
                    pipeline_parameter_list=[]
                ),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_retry_attempts=3),
            ),
        )
        schedule.node.add_dependency(policy)


def _event_pattern(pattern: dict[str, Any]) -> events.EventPattern:
    return events.EventPattern(
        source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
    )


def _drop_redundant_role_dependency(pipeline: codepipeline.Pipeline) -> None:
    """CDK makes the pipeline DependsOn its role as well as GetAtt its ARN; cfn-lint flags the
    duplicate (W3005). Keep only the dependency on the role's policy."""
    cfn = pipeline.node.default_child
    policy = pipeline.role.node.try_find_child("DefaultPolicy")
    if isinstance(cfn, cdk.CfnResource) and policy is not None:
        cfn_policy = policy.node.default_child
        if isinstance(cfn_policy, cdk.CfnElement):
            cfn.add_override("DependsOn", [cdk.Stack.of(pipeline).get_logical_id(cfn_policy)])
