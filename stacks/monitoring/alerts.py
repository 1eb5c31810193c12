"""The team's alert topic (KMS-encrypted, TLS-only, email subscriptions) and the events it gets.

Notified: failed training pipeline runs and model versions waiting for approval (EventBridge rules
here), drift and rollback alarms (their alarm actions point at this topic). The topic has its own
key because CloudWatch and EventBridge must be allowed to encrypt with it, which the data key's
policy should not grant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class AlertsProps:
    """Who is told, and about which pipeline and model group."""

    emails: Sequence[str]
    training_pipeline_arn: str
    model_package_group_name: str


class Alerts(Construct):
    """Topic + key + notification rules."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AlertsProps) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the ML platform's alert topic",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com", "codepipeline.amazonaws.com"):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"Publish{service.split('.')[0].capitalize()}",
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # a key policy's resource is the key itself
                    conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
                )
            )
        self.topic = sns.Topic(
            self, "Topic", master_key=self.key, enforce_ssl=True, display_name="ML platform alerts"
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAndEventBridgePublish",
                principals=[
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                    iam.ServicePrincipal("events.amazonaws.com"),
                ],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        for email in props.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.pipeline_failed = events.Rule(
            self,
            "TrainingFailed",
            description="A training pipeline execution failed",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Building Pipeline Execution Status Change"],
                detail={
                    "pipelineArn": [props.training_pipeline_arn],
                    "currentPipelineExecutionStatus": ["Failed"],
                },
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
        self.awaiting_approval = events.Rule(
            self,
            "AwaitingApproval",
            description="A new model version waits for a human approval",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={
                    "ModelPackageGroupName": [props.model_package_group_name],
                    "ModelApprovalStatus": ["PendingManualApproval"],
                },
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
