"""The team's alert topic (KMS-encrypted, TLS-only, email subscriptions) and the events it gets.

Notified (EventBridge rules here): failed runs of the training and drift-check pipelines, failed
build and deploy CodePipeline runs (a failed test, smoke test or endpoint update - CloudFormation
rolling an endpoint back fails the deploy), and model versions waiting for approval. Drift,
rollback and dead-letter alarms notify through their alarm actions, the spend budget through its
notifications. An alert rule that cannot deliver dead-letters into this stack's queue
(:mod:`stacks.common.dead_letters`), whose alarm comes here too.

Who may publish, each in its own statement and only for its own resources in this account
(confused deputy: ``aws:SourceAccount`` *and* ``aws:SourceArn``): EventBridge for rules,
CloudWatch for alarms, AWS Budgets for budgets. The topic has its own key because those
services must be allowed to encrypt with it, which the data key's policy should not grant; each
may use it only for this topic (SNS names the topic in the encryption context of every data key,
``kms:EncryptionContext:aws:sns:topicArn``), Budgets additionally only for this account's
budgets as AWS Budgets documents. The rules use :class:`TopicTarget`, not CDK's ``SnsTopic``,
because that one adds an unconditioned ``events.amazonaws.com`` statement to both the topic
policy and the key policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct, IConstruct

from stacks.common.dead_letters import DeadLetters, DeadLettersProps
from stacks.common.event_types import PIPELINE_EVENT


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
    #: This stack's dead-letter queue (``<prefix>-monitoring-dlq``).
    dead_letter_queue_name: str


def _budgets_arn() -> str:
    """Any budget of this account (Budgets names the budget in ``aws:SourceArn``)."""
    return f"arn:{cdk.Aws.PARTITION}:budgets::{cdk.Aws.ACCOUNT_ID}:*"


@jsii.implements(events.IRuleTarget)
class TopicTarget:
    """A rule target publishing to ``topic``, dead-lettering to ``dead_letters``.

    It grants nothing itself: :class:`Alerts` lets EventBridge publish (and use the key) only for
    rules of this account, and the queue accepts dead letters of the bound rule only.
    """

    def __init__(
        self, topic: sns.ITopic, dead_letters: DeadLetters, message: events.RuleTargetInput | None = None
    ) -> None:
        self._topic = topic
        self._dead_letters = dead_letters
        self._message = message  # None: the event itself

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        self._dead_letters.allow_rule(rule)
        return events.RuleTargetConfig(
            arn=self._topic.topic_arn,
            dead_letter_config=self._dead_letters.dead_letter_config,
            target_resource=self._topic,
            input=self._message,
        )


class Alerts(Construct):
    """Topic + key + notification rules + this stack's dead-letter queue (``dead_letters``)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AlertsProps) -> None:
        super().__init__(scope, construct_id)
        self.key = self._key(props.topic_name)
        self.topic = self._topic(props.topic_name)
        for email in props.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.dead_letters = DeadLetters(
            self,
            "DeadLetters",
            props=DeadLettersProps(
                queue_name=props.dead_letter_queue_name,
                senders="the retrain trigger or an alert rule",
                topic=self.topic,
            ),
        )
        self._rules(props)

    def _key(self, topic_name: str) -> kms.Key:
        """The topic's key: CloudWatch, CodePipeline, EventBridge and Budgets use it for this topic only."""
        stack = cdk.Stack.of(self)
        key = kms.Key(
            self,
            "Key",
            description="Encrypts the ML platform's alert topic",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Named, so the key policy can name the topic without a reference cycle (topic -> key).
        topic_arn = stack.format_arn(
            service="sns", resource=topic_name, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
        )
        this_topic = {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}
        for service in ("cloudwatch.amazonaws.com", "codepipeline.amazonaws.com", "events.amazonaws.com"):
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"Publish{service.split('.')[0].capitalize()}",
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # a key policy's resource is the key itself
                    # SNS names the topic in the encryption context of every data key it asks for
                    # (a service principal's aws:SourceAccount is not documented for this path).
                    conditions={"StringEquals": this_topic},
                )
            )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PublishBudgets",
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringEquals": {**this_topic, "aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": _budgets_arn()},
                },
            )
        )
        return key

    def _topic(self, topic_name: str) -> sns.Topic:
        """The topic; each service may publish for its own resources in this account only."""
        stack = cdk.Stack.of(self)
        topic = sns.Topic(
            self,
            "Topic",
            topic_name=topic_name,
            master_key=self.key,
            enforce_ssl=True,
            display_name="ML platform alerts",
        )
        publishers = {
            "EventBridgePublish": (
                "events.amazonaws.com",
                stack.format_arn(service="events", resource="rule", resource_name="*"),
            ),
            "CloudWatchPublish": (
                "cloudwatch.amazonaws.com",
                stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                ),
            ),
            "BudgetsPublish": ("budgets.amazonaws.com", _budgets_arn()),
        }
        for sid, (service, source_arn) in publishers.items():
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                        "ArnLike": {"aws:SourceArn": source_arn},
                    },
                )
            )
        return topic

    def _rules(self, props: AlertsProps) -> None:
        """Failed pipeline runs, failed delivery runs and versions awaiting approval, to the topic."""
        target = TopicTarget(self.topic, self.dead_letters)
        self.pipeline_failed = events.Rule(
            self,
            "TrainingFailed",
            description="A training or drift-check pipeline execution failed",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[PIPELINE_EVENT],
                detail={
                    "pipelineArn": list(props.pipeline_arns),
                    "currentPipelineExecutionStatus": ["Failed"],
                },
            ),
            targets=[target],
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
            targets=[target],
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
            targets=[target],
        )

    @property
    def publish_permission(self) -> IConstruct:
        """The topic policy: what a budget must wait for (Budgets checks it may publish)."""
        policy = self.topic.node.try_find_child("Policy")
        if policy is None:  # pragma: no cover - the publisher statements above always create it
            raise RuntimeError("the alert topic has no policy")
        return policy
