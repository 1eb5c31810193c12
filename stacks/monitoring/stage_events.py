"""The tooling account's side of alerts and retraining across accounts (issue 13 point 4).

Each stage account sends its endpoint's alarm state changes (:mod:`stacks.stage.alarm_forwarding`)
to a bus of their own here, ``<prefix>-stage-events``, not to the default bus: no other rule of
this account listens there, so a stage account (whose administrator may name an alarm anything)
reaches nothing but the rules below. The bus policy lets exactly the stage accounts put events
(with ``aws:PrincipalOrgID`` when an organization is configured), and only CloudWatch alarm state
changes, SageMaker pipeline status changes and the platform's ``Drift Persists``
(``events:source``, ``events:detail-type``). Rules, per stage, each matching the stage's account
and its alarms' (or pipeline's) ARNs or alarm name in that account:

- ``StageAlarms<Stage>``: every alarm of the stage's endpoint, to the team's alert topic as one
  readable line (alarm, account, state, reason);
- ``RetrainOnDrift<Stage>`` (a drift-checked stage): its drift alarm going into ALARM, to the
  retraining trigger, which applies the rate cap and de-duplication as for a tooling stage (it
  needs the event alone: alarm name, state, reason);
- ``DriftCheckFailed<Stage>`` (a drift-checked stage): its drift-check runs that failed, to the
  topic (the tooling account's own failed runs are reported by :mod:`stacks.monitoring.alerts`);
- ``PersistentDrift<Stage>`` (a drift-checked stage): its ``Drift Persists`` events, to the
  retraining trigger (same retries and dead letters as ``RetrainOnDrift``). The trigger's own
  second path (after each successful check it reads the check's report and describes the alarm)
  works only for the tooling account's checks: a stage's report and alarm are in its account, so
  its metrics step applies that rule there (:class:`stacks.monitoring.drift_relay.DriftRelay`) and
  sends the alarm name and reason. The pattern names the account *and* the stage's alarm, so a
  stage account cannot retrain on another stage's name (an event source names no resource ARN).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts.names import drift_alarm_name, endpoint_name, stage_drift_pipeline_name
from stacks.common.dead_letters import DeadLetters
from stacks.common.event_types import ALARM_EVENT, DRIFT_PERSISTS_EVENT, DRIFT_SOURCE, PIPELINE_EVENT
from stacks.monitoring.alerts import TopicTarget
from stacks.monitoring.retraining import trigger_target
from stacks.stage.alarm_forwarding import alarm_arn, stage_alarms_prefix


@dataclass(frozen=True, kw_only=True)
class StageEventsProps:
    """The stages in other accounts, which of them are drift-checked, and where events go."""

    prefix: str
    bus_name: str
    #: Stage name -> its account.
    stage_accounts: Mapping[str, str]
    drift_checked: frozenset[str]
    organization_id: str | None
    topic: sns.ITopic
    trigger: lambda_.IFunction
    dead_letters: DeadLetters


def _message() -> events.RuleTargetInput:
    field = events.EventField.from_path
    return events.RuleTargetInput.from_text(
        f"{field('$.detail.alarmName')} (account {events.EventField.account}) is "
        f"{field('$.detail.state.value')}: {field('$.detail.state.reason')}"
    )


class StageEvents(Construct):
    """``bus``, its policy, and the rules for each stage in another account."""

    def __init__(self, scope: Construct, construct_id: str, *, props: StageEventsProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.bus = events.EventBus(self, "Bus", event_bus_name=props.bus_name)
        accounts = sorted(set(props.stage_accounts.values()))
        conditions: dict[str, str | list[str]] = {
            "events:source": ["aws.cloudwatch", "aws.sagemaker", DRIFT_SOURCE],
            "events:detail-type": [ALARM_EVENT, PIPELINE_EVENT, DRIFT_PERSISTS_EVENT],
        }
        if props.organization_id:
            conditions["aws:PrincipalOrgID"] = props.organization_id
        self.policy = events.CfnEventBusPolicy(
            self,
            "Policy",
            event_bus_name=self.bus.event_bus_name,
            statement_id="StageAccountsPutAlarmEvents",
            statement={
                "Sid": "StageAccountsPutAlarmEvents",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{stack.partition}:iam::{account}:root" for account in accounts]},
                "Action": "events:PutEvents",
                "Resource": self.bus.event_bus_arn,
                "Condition": {"StringEquals": conditions},
            },
        )
        self.rules: dict[str, events.Rule] = {}
        for stage, account in sorted(props.stage_accounts.items()):
            self._stage_rules(props, stage, account)

    def _stage_rules(self, props: StageEventsProps, stage: str, account: str) -> None:
        stack, endpoint, name = cdk.Stack.of(self), endpoint_name(props.prefix, stage), stage.capitalize()
        alarms = stage_alarms_prefix(stack, endpoint, account)
        self._rule(
            f"StageAlarms{name}",
            f"An alarm of {endpoint} (account {account}) changed state: tell the team",
            TopicTarget(props.topic, props.dead_letters, _message()),
            events.EventPattern(
                account=[account],
                source=["aws.cloudwatch"],
                detail_type=[ALARM_EVENT],
                resources=events.Match.prefix(alarms),
            ),
        )
        if stage not in props.drift_checked:
            return
        self._failed_checks_rule(props, stage, account)
        self._rule(
            f"RetrainOnDrift{name}",
            f"{endpoint}'s drift alarm (account {account}) went into ALARM: consider retraining",
            trigger_target(props.trigger, props.dead_letters, cdk.Duration.hours(2)),
            events.EventPattern(
                account=[account],
                source=["aws.cloudwatch"],
                detail_type=[ALARM_EVENT],
                resources=[alarm_arn(stack, drift_alarm_name(endpoint), account)],
                detail={"state": {"value": ["ALARM"]}},
            ),
        )
        self._rule(
            f"PersistentDrift{name}",
            f"{endpoint}'s drift (account {account}) persists: consider retraining",
            trigger_target(props.trigger, props.dead_letters, cdk.Duration.hours(2)),
            events.EventPattern(
                account=[account],
                source=[DRIFT_SOURCE],
                detail_type=[DRIFT_PERSISTS_EVENT],
                detail={"alarmName": [drift_alarm_name(endpoint)]},
            ),
        )

    def _rule(
        self, rule_id: str, description: str, target: events.IRuleTarget, pattern: events.EventPattern
    ) -> None:
        """``rule_id`` on the bus: events matching ``pattern`` go to ``target``."""
        self.rules[rule_id] = events.Rule(
            self,
            rule_id,
            event_bus=self.bus,
            description=description,
            event_pattern=pattern,
            targets=[target],
        )

    def _failed_checks_rule(self, props: StageEventsProps, stage: str, account: str) -> None:
        """``DriftCheckFailed<Stage>``: the stage's drift-check runs that failed, to the topic."""
        stack, name = cdk.Stack.of(self), stage.capitalize()
        pipeline = stack.format_arn(
            service="sagemaker",
            account=account,
            resource="pipeline",
            resource_name=stage_drift_pipeline_name(props.prefix, stage),
        )
        field = events.EventField.from_path
        self._rule(
            f"DriftCheckFailed{name}",
            f"A drift-check run of the {stage} stage (account {account}) failed: tell the team",
            TopicTarget(
                props.topic,
                props.dead_letters,
                events.RuleTargetInput.from_text(
                    f"{field('$.detail.pipelineExecutionArn')} (account {events.EventField.account}) "
                    f"is {field('$.detail.currentPipelineExecutionStatus')}"
                ),
            ),
            events.EventPattern(
                account=[account],
                source=["aws.sagemaker"],
                detail_type=[PIPELINE_EVENT],
                detail={"pipelineArn": [pipeline], "currentPipelineExecutionStatus": ["Failed"]},
            ),
        )
