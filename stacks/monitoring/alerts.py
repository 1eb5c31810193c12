"""The team's alert topic (KMS-encrypted, TLS-only, email subscriptions) and the events it gets.

Notified (EventBridge rules here): failed runs of the training and drift-check pipelines, failed
build and deploy CodePipeline runs (a failed test, smoke test or endpoint update — CloudFormation
rolling an endpoint back fails the deploy), and model versions waiting for approval. Drift and
rollback alarms notify through their alarm actions. The topic has its own key because CloudWatch
and EventBridge must be allowed to encrypt with it, which the data key's policy should not grant;
CloudWatch and CodePipeline may use it only for this topic (SNS's ``aws:sns:topicArn``
encryption context); EventBridge's grant is the one CDK's SNS rule target adds.
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

    topic_name: str
    emails: Sequence[str]
    #: SageMaker pipelines whose failed executions are reported.
    pipeline_arns: Sequence[str]
    #: CodePipeline pipelines (build, deploy) whose failed executions are reported.
    delivery_pipeline_names: Sequence[str]
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
        # Named, so the key policy can name the topic without a reference cycle (topic -> key).
        topic_arn = cdk.Stack.of(self).format_arn(
            service="sns", resource=props.topic_name, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
        )
        # (EventBridge's use of the key is granted by the SnsTopic rule targets below, as CDK does.)
        for service in ("cloudwatch.amazonaws.com", "codepipeline.amazonaws.com"):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"Publish{service.split('.')[0].capitalize()}",
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # a key policy's resource is the key itself
                    # SNS names the topic in the encryption context of every data key it asks for
                    # (a service principal's aws:SourceAccount is not documented for this path).
                    conditions={"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
                )
            )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=props.topic_name,
            master_key=self.key,
            enforce_ssl=True,
            display_name="ML platform alerts",
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
            description="A training or drift-check pipeline execution failed",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Building Pipeline Execution Status Change"],
                detail={
                    "pipelineArn": list(props.pipeline_arns),
                    "currentPipelineExecutionStatus": ["Failed"],
                },
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
        self.delivery_failed = events.Rule(
            self,
            "DeliveryFailed",
            description="A build or deploy pipeline run failed (tests, smoke test, endpoint update)",
            event_pattern=events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=["CodePipeline Pipeline Execution State Change"],
                detail={"pipeline": list(props.delivery_pipeline_names), "state": ["FAILED"]},
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
