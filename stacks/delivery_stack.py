"""Delivery: push → build pipeline → training pipeline; approval → deploy pipeline → staging → prod.

- **Build** (``<prefix>-build``, CodePipeline V2; :mod:`stacks.delivery.build_pipeline`): the
  source is the team's Git repository through a CodeConnections connection, triggered only by
  pushes to the configured branch that touch the configured paths (``ml_code/**``), or, without a
  connection, a zip in the delivery bucket (:mod:`stacks.delivery.source` says how to upload it).
  The build runs the test suite, deploys the pipeline stack (so the SageMaker pipeline takes the
  pushed definition) and starts one execution without waiting for it.
- **Deploy** (``<prefix>-deploy``; :mod:`stacks.delivery.deploy_pipeline`): started only by an
  EventBridge rule matching ``Approved`` state changes of *this* project's model package group.
  Staging resolves the newest approved version at deploy time, deploys its endpoint stack and
  smoke-tests it; a person approves; prod deploys that same version (canary, alarm rollback).
  A stage in another account is deployed through that account's CDK bootstrap roles and
  smoke-tested through its smoke role (:mod:`stacks.delivery.stage_accounts`).
- **Whose bootstrap**: both builds may assume only the tooling account's CDK bootstrap roles of their
  use case's qualifier (``shared.accounts.tooling_qualifier``; an additional use case's own,
  :mod:`contracts.config.bootstrap`), the one its stacks are synthesized for.
- **Scheduled retraining** (optional, ``delivery.retrainSchedule``): an EventBridge Scheduler
  schedule starts the training pipeline through a role allowed only that.
- **Dead letters**: an approval event or a scheduled start that runs out of retries waits in
  ``<prefix>-delivery-dlq`` (:mod:`stacks.common.dead_letters`), alarmed on the alert topic.

The exact commands the builds run are in :mod:`stacks.delivery.commands`.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from contracts.config import DeliveryConfig
from contracts.names import dead_letter_queue_name, retrain_schedule_name, training_pipeline_name
from stacks.common.dead_letters import DeadLetters, DeadLettersProps
from stacks.common.shared import SharedResources
from stacks.delivery.approval_rule import ApprovalRule, ApprovalRuleProps
from stacks.delivery.build_pipeline import BuildPipeline, BuildPipelineProps
from stacks.delivery.deploy_pipeline import DeployPipeline, DeployPipelineProps
from stacks.delivery.retrain_schedule import RetrainSchedule, RetrainScheduleProps
from stacks.delivery.source import PipelineSource, SourceProps
from stacks.delivery.stage_accounts import stage_accounts
from stacks.tracking.access import tracking_server_arn


class DeliveryStack(cdk.Stack):
    """CodePipelines for push-to-train and approve-to-deploy, plus scheduled retraining.

    Public handles: ``build`` and ``deploy`` (the pipeline constructs), ``approval_rule``,
    ``retrain_schedule`` (None unless configured), ``source`` (``source.object_key`` is the S3
    fallback's object).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeliveryConfig,
        shared: SharedResources,
        env: cdk.Environment | None = None,
        description: str | None = None,
        synthesizer: cdk.IStackSynthesizer | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        prefix = shared.prefix
        self.source = PipelineSource(
            SourceProps(config=config.source, bucket=shared.delivery_bucket, prefix=prefix)
        )
        self.build = BuildPipeline(
            self,
            "Build",
            props=BuildPipelineProps(
                prefix=prefix,
                env_name=shared.environment,
                training_pipeline_name=training_pipeline_name(prefix),
                source=self.source,
                key=shared.key,
                delivery_bucket=shared.delivery_bucket,
                qualifier=shared.accounts.tooling_qualifier,
                tracked=shared.tracking_server_name is not None,
            ),
        )
        self.deploy = self._deploy_pipeline(shared)
        self.dead_letters = DeadLetters(
            self,
            "DeadLetters",
            props=DeadLettersProps(
                queue_name=dead_letter_queue_name(prefix, "delivery"),
                senders="the approval rule or the retraining schedule",
                topic=shared.alert_topic,
            ),
        )
        self.approval_rule = ApprovalRule(
            self,
            "OnModelApproved",
            props=ApprovalRuleProps(
                group=shared.model_package_group_name,
                deploy_pipeline=self.deploy.pipeline,
                dead_letters=self.dead_letters,
            ),
        )
        self.retrain_schedule = self._retraining(config, shared)
        if not self.source.connected:
            cdk.CfnOutput(
                self,
                "SourceObject",
                description="Upload `git archive --format=zip HEAD` here to run the build pipeline",
                value=f"s3://{shared.delivery_bucket.bucket_name}/{self.source.object_key}",
            )

    def _deploy_pipeline(self, shared: SharedResources) -> DeployPipeline:
        """Approval → staging → a person → prod, announcing the wait on the alert topic."""
        return DeployPipeline(
            self,
            "Deploy",
            props=DeployPipelineProps(
                prefix=shared.prefix,
                env_name=shared.environment,
                group=shared.model_package_group_name,
                staging=shared.stages.staging,
                prod=shared.stages.prod,
                source=self.source,
                key=shared.key,
                artifact_bucket=shared.artifact_bucket,
                delivery_bucket=shared.delivery_bucket,
                approval_topic=shared.alert_topic,
                qualifier=shared.accounts.tooling_qualifier,
                stage_accounts=stage_accounts(
                    self,
                    prefix=shared.prefix,
                    accounts=shared.accounts.stage_accounts,
                    qualifier=shared.accounts.bootstrap_qualifier,
                ),
                tracking_server_arn=(
                    None
                    if shared.tracking_server_name is None
                    else tracking_server_arn(self, shared.tracking_server_name)
                ),
            ),
        )

    def _retraining(self, config: DeliveryConfig, shared: SharedResources) -> RetrainSchedule | None:
        """The retraining schedule, when ``retrainSchedule`` is configured."""
        if config.retrain_schedule is None:
            return None
        return RetrainSchedule(
            self,
            "Retrain",
            props=RetrainScheduleProps(
                name=retrain_schedule_name(shared.prefix),
                expression=config.retrain_schedule,
                training_pipeline_name=training_pipeline_name(shared.prefix),
                key=shared.key,
                dead_letters=self.dead_letters,
            ),
        )
