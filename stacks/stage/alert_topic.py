"""The alert topic of an endpoint stage in another account (KMS-encrypted, TLS-only).

CloudWatch alarms of this account are its only publisher, and only one alarm uses it: the alarm
forwarding's dead-letter queue filling up. The stage's endpoint alarms reach the team's topic in the
tooling account through that forwarding (:mod:`stacks.stage.alarm_forwarding`) and notify nothing
here (:mod:`stacks.common.alarm_actions`), so each arrives once; the configured addresses are
subscribed here so that they hear when the forwarding itself fails. As the tooling account's topic
(:mod:`stacks.monitoring.alerts`), it has a key of its own, because CloudWatch must be allowed to
encrypt with it, which the stage's data key should not grant; CloudWatch may use it for this topic
only (SNS names the topic in the encryption context of every data key it asks for).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

_CLOUDWATCH = "cloudwatch.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class StageAlertTopicProps:
    """The topic's name and who is told."""

    topic_name: str
    emails: Sequence[str] = ()


class StageAlertTopic(Construct):
    """``topic`` and its ``key``; only this account's CloudWatch alarms may publish."""

    def __init__(self, scope: Construct, construct_id: str, *, props: StageAlertTopicProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the alert topic {props.topic_name}",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Named, so the key policy can name the topic without a reference cycle (topic -> key).
        topic_arn = stack.format_arn(
            service="sns", resource=props.topic_name, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PublishCloudwatch",
                principals=[iam.ServicePrincipal(_CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # a key policy's resource is the key itself
                conditions={"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=props.topic_name,
            master_key=self.key,
            enforce_ssl=True,
            display_name="ML platform stage alerts",
        )
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name="*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchPublish",
                principals=[iam.ServicePrincipal(_CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": alarms},
                },
            )
        )
        for email in props.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
