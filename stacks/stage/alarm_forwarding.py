"""A stage account's alarms, sent to the tooling account's stage-events bus (issue 13 point 4).

Every alarm of the stage's endpoint (its name starts with ``<endpoint>-``: rollback, idle, drift,
dead-letter alarms) changing state is sent by an EventBridge rule of this account to the tooling
account's bus :func:`contracts.names.stage_events_bus_name`, whose policy admits this account
(:mod:`stacks.monitoring.stage_events`); rules there notify the team's topic and start retraining on
drift. A drift-checked stage's failed drift-check runs are sent too (so the team hears of a check
that stopped working, as of the tooling account's own pipelines), and the ``Drift Persists``
events its metrics step puts on this account's bus (:class:`stacks.monitoring.drift_relay.DriftRelay`;
EventBridge's documented way across accounts is a rule whose target is the other account's bus,
and it brings this rule's retries and dead-letter queue). The target's role may only
``events:PutEvents`` on that one bus; EventBridge alone may assume it, for rules of this account.
An event that cannot be delivered dead-letters into ``<prefix>-<stage>-base-dlq``, whose alarm
notifies the stage's own topic.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct

from contracts.names import drift_alarm_name
from stacks.common.dead_letters import DeadLetters, DeadLettersProps
from stacks.common.event_types import ALARM_EVENT, DRIFT_PERSISTS_EVENT, DRIFT_SOURCE, PIPELINE_EVENT


@dataclass(frozen=True, kw_only=True)
class AlarmForwardingProps:
    """Whose alarms, to which bus, where failures go."""

    endpoint_name: str
    tooling_account: str
    bus_name: str
    dead_letter_queue_name: str
    topic: sns.ITopic
    #: The stage's drift-check pipeline (a drift-checked stage): its failed runs are sent too.
    drift_pipeline_arn: str | None = None


def alarm_arn(stack: cdk.Stack, name: str, account: str | None = None) -> str:
    """``arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`` (this stack's account by default)."""
    return stack.format_arn(
        service="cloudwatch",
        account=account,
        resource="alarm",
        resource_name=name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def stage_alarms_prefix(stack: cdk.Stack, endpoint_name: str, account: str | None = None) -> str:
    """The ARN prefix of the stage's alarms, ``...:alarm:<endpoint>-``."""
    return alarm_arn(stack, f"{endpoint_name}-", account)


@jsii.implements(events.IRuleTarget)
class BusTarget:
    """A rule target sending to the event bus ``bus_arn`` as ``role``, dead-lettering to ``dead_letters``."""

    def __init__(self, bus_arn: str, role: iam.IRole, dead_letters: DeadLetters) -> None:
        self._bus_arn, self._role, self._dead_letters = bus_arn, role, dead_letters

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        self._dead_letters.allow_rule(rule)
        return events.RuleTargetConfig(
            arn=self._bus_arn,
            role=self._role,
            dead_letter_config=self._dead_letters.dead_letter_config,
        )


class AlarmForwarding(Construct):
    """``rule`` (the stage's alarm state changes) → the tooling bus, as ``role``."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AlarmForwardingProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        bus_arn = stack.format_arn(
            service="events",
            account=props.tooling_account,
            resource="event-bus",
            resource_name=props.bus_name,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Sends {props.endpoint_name}'s alarm state changes to the tooling account's bus",
        )
        iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(sid="PutToolingBus", actions=["events:PutEvents"], resources=[bus_arn])
            ],
        )
        self.dead_letters = DeadLetters(
            self,
            "DeadLetters",
            props=DeadLettersProps(
                queue_name=props.dead_letter_queue_name,
                senders=f"the rule sending {props.endpoint_name}'s alarms to the tooling account",
                topic=props.topic,
            ),
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"{props.endpoint_name}'s alarms changed state: tell the tooling account",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=[ALARM_EVENT],
                resources=events.Match.prefix(stage_alarms_prefix(stack, props.endpoint_name)),
            ),
            targets=[BusTarget(bus_arn, self.role, self.dead_letters)],
        )
        self.failed_checks = (
            self._failed_checks(props.endpoint_name, props.drift_pipeline_arn, bus_arn)
            if props.drift_pipeline_arn
            else None
        )
        self.persisting_drift = (
            self._persisting_drift(props.endpoint_name, bus_arn) if props.drift_pipeline_arn else None
        )

    def _persisting_drift(self, endpoint: str, bus_arn: str) -> events.Rule:
        """The stage's drift check found drift its alarm already knew → the tooling bus."""
        return events.Rule(
            self,
            "PersistingDrift",
            description=f"{endpoint}'s drift persists: tell the tooling account",
            event_pattern=events.EventPattern(
                source=[DRIFT_SOURCE],
                detail_type=[DRIFT_PERSISTS_EVENT],
                detail={"alarmName": [drift_alarm_name(endpoint)]},
            ),
            targets=[BusTarget(bus_arn, self.role, self.dead_letters)],
        )

    def _failed_checks(self, endpoint: str, pipeline_arn: str, bus_arn: str) -> events.Rule:
        """The stage's failed drift-check runs → the tooling bus."""
        return events.Rule(
            self,
            "FailedChecks",
            description=f"{endpoint}'s drift check failed: tell the tooling account",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[PIPELINE_EVENT],
                detail={"pipelineArn": [pipeline_arn], "currentPipelineExecutionStatus": ["Failed"]},
            ),
            targets=[BusTarget(bus_arn, self.role, self.dead_letters)],
        )
