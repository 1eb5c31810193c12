"""A stack's dead-letter queue: where an asynchronous delivery that ran out of retries ends up.

Every asynchronous path of the platform ends in one of these instead of being dropped: an
EventBridge rule's target (EventBridge retries, then sends the event here), an EventBridge
Scheduler schedule's target (Scheduler retries, then sends here with the schedule's role), and an
asynchronously invoked Lambda function (its own retries, then the function's dead-letter queue,
sent with the function's role). One queue per stack that needs one, named
``<prefix>-<part>-dlq``, so that its policy only ever names senders of its own stack (a queue
naming another stack's rule would make the two stacks reference each other).

Encryption: SSE-SQS (keys owned by SQS), not SSE-KMS. The queues hold event envelopes (alarm
state changes, pipeline and model-package status events, the schedule's pipeline parameters),
never customer records. With SSE-KMS, EventBridge could only write here if a customer key's
policy granted ``events.amazonaws.com`` ``kms:GenerateDataKey``/``kms:Decrypt`` - one more
service grant on a key, the kind of grant the alert key is being narrowed to - and a key policy
mistake would silently turn "dead-lettered" into "lost". SSE-SQS needs no key grant and encrypts
at rest all the same; who may write is the queue policy (EventBridge only with ``aws:SourceArn``
= the rule, over TLS), who may read is IAM in this account. If an organisation requires a
customer key on every queue, the alert key can take that role with a statement conditioned on
``kms:EncryptionContext:aws:sqs:arn`` = this queue.

A message waiting here raises the queue's alarm (``ApproximateNumberOfMessagesVisible >= 1``) on
the alert topic; README "Replaying a dead-lettered event" says what to do with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct

from stacks.common.alarm_actions import notify
from stacks.common.nag import acknowledge

#: SQS keeps a message at most 14 days: the time there is to notice and replay it.
RETENTION: Final = cdk.Duration.days(14)
#: SQS queue names are at most 80 characters.
MAX_NAME_LENGTH: Final = 80


@dataclass(frozen=True, kw_only=True)
class DeadLettersProps:
    """The queue's name, what sends to it (for the alarm's text) and where its alarm goes."""

    #: ``<prefix>-<part>-dlq``.
    queue_name: str
    #: What dead-letters here, e.g. "the retrain trigger and the alert rules".
    senders: str
    #: Where the depth alarm goes; None in a stage account, whose alarms are forwarded
    #: (:mod:`stacks.common.alarm_actions`).
    topic: sns.ITopic | None


class DeadLetters(Construct):
    """The queue (``queue``, SSE-SQS, TLS-only, 14 days) and its depth alarm (``alarm``)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeadLettersProps) -> None:
        super().__init__(scope, construct_id)
        if len(props.queue_name) > MAX_NAME_LENGTH:
            raise ValueError(
                f"dead-letter queue name {props.queue_name!r} is longer than {MAX_NAME_LENGTH} characters"
            )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=props.queue_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
        )
        acknowledge(
            self.queue,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue (of EventBridge rule targets, a Scheduler schedule "
            "or an asynchronously invoked function); the rule only recognises queues named in another "
            "queue's RedrivePolicy or a function's DeadLetterConfig.",
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "NotEmpty",
            alarm_name=f"{props.queue_name}-not-empty",
            alarm_description=f"An event for {props.senders} ran out of retries and waits in "
            f"{props.queue_name} (kept 14 days): see README 'Replaying a dead-lettered event'",
            metric=self.queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            # SQS stops reporting an idle, empty queue: no data means nothing is waiting.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        notify(self.alarm, props.topic)

    @property
    def dead_letter_config(self) -> events.CfnRule.DeadLetterConfigProperty:
        """A rule target's ``DeadLetterConfig`` naming this queue."""
        return events.CfnRule.DeadLetterConfigProperty(arn=self.queue.queue_arn)

    def allow_rule(self, rule: IRuleRef) -> None:
        """Let EventBridge dead-letter here for ``rule`` only (``aws:SourceArn`` = the rule).

        CDK's own rule targets add this statement when given ``dead_letter_queue=``; targets of
        our own (the alert topic's) call this instead.
        """
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"DeadLetter{cdk.Names.node_unique_id(rule.node)}",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": events.CfnRule.arn_for_rule(rule)}},
            )
        )

    def send_statement(self, sid: str = "SendDeadLetters") -> iam.PolicyStatement:
        """``sqs:SendMessage`` on this queue only, for a role that dead-letters in its own name
        (a schedule's execution role, an asynchronously invoked function's role)."""
        return iam.PolicyStatement(sid=sid, actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
