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
- **Scheduled retraining** (optional, ``delivery.retrainSchedule``): an EventBridge Scheduler
  schedule starts the training pipeline through a role allowed only that.
- **Dead letters**: an approval event or a scheduled start that runs out of retries waits in
  ``<prefix>-delivery-dlq`` (:mod:`stacks.common.dead_letters`), alarmed on the alert topic.

The exact commands the builds run are in :mod:`stacks.delivery.commands`.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts.config import AppConfig
from contracts.names import dead_letter_queue_name, retrain_schedule_name
from stacks.common.dead_letters import DeadLetters, DeadLettersProps
from stacks.delivery.approval_rule import ApprovalRule, ApprovalRuleProps
from stacks.delivery.build_pipeline import BuildPipeline, BuildPipelineProps
from stacks.delivery.deploy_pipeline import DeployPipeline, DeployPipelineProps
from stacks.delivery.retrain_schedule import RetrainSchedule, RetrainScheduleProps
from stacks.delivery.source import PipelineSource, SourceProps


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
        config: AppConfig,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        delivery_bucket: s3.IBucket,
        training_pipeline_name: str,
        model_package_group_name: str,
        model_package_group_arn: str,
        notification_topic: sns.ITopic,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        prefix, env, delivery = config.prefix, config.env.name, config.env.delivery
        self.source = PipelineSource(
            SourceProps(config=delivery.source, bucket=delivery_bucket, prefix=prefix)
        )
        self.build = BuildPipeline(
            self,
            "Build",
            props=BuildPipelineProps(
                prefix=prefix,
                env_name=env,
                training_pipeline_name=training_pipeline_name,
                source=self.source,
                key=key,
                delivery_bucket=delivery_bucket,
            ),
        )
        self.deploy = DeployPipeline(
            self,
            "Deploy",
            props=DeployPipelineProps(
                prefix=prefix,
                env_name=env,
                group=model_package_group_name,
                staging=config.env.stage("staging"),
                prod=config.env.stage("prod"),
                source=self.source,
                key=key,
                artifact_bucket=artifact_bucket,
                delivery_bucket=delivery_bucket,
                approval_topic=notification_topic,
            ),
        )
        self.dead_letters = DeadLetters(
            self,
            "DeadLetters",
            props=DeadLettersProps(
                queue_name=dead_letter_queue_name(prefix, "delivery"),
                senders="the approval rule or the retraining schedule",
                topic=notification_topic,
            ),
        )
        self.approval_rule = ApprovalRule(
            self,
            "OnModelApproved",
            props=ApprovalRuleProps(
                group=model_package_group_name,
                deploy_pipeline=self.deploy.pipeline,
                dead_letters=self.dead_letters,
            ),
        )
        self.retrain_schedule = (
            None
            if delivery.retrain_schedule is None
            else RetrainSchedule(
                self,
                "Retrain",
                props=RetrainScheduleProps(
                    name=retrain_schedule_name(prefix),
                    expression=delivery.retrain_schedule,
                    training_pipeline_name=training_pipeline_name,
                    key=key,
                    dead_letters=self.dead_letters,
                ),
            )
        )
        if not self.source.connected:
            cdk.CfnOutput(
                self,
                "SourceObject",
                description="Upload `git archive --format=zip HEAD` here to run the build pipeline",
                value=f"s3://{delivery_bucket.bucket_name}/{self.source.object_key}",
            )
