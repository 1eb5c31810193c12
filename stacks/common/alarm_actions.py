"""Where an alarm's state changes go: the team's alert topic, or nowhere directly.

In the tooling account (and in a single account) an alarm notifies the team's alert topic. In a
stage account (issue 13) every alarm of the stage's endpoint already reaches that same topic through
the tooling account's stage-events bus (:mod:`stacks.stage.alarm_forwarding` forwards each state
change; :mod:`stacks.monitoring.stage_events` tells the topic), so an SNS action of its own would
email the team a second time. There the alarm gets no action (``topic`` None) and the NIST
"alarm has an action" rule is acknowledged with that reason; only the forwarding's own dead-letter
alarm notifies the stage's topic directly, for when the forwarding itself fails.
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns

from stacks.common.nag import acknowledge

FORWARDED = (
    "A stage account's alarm: EventBridge forwards every state change of this stage's alarms to the "
    "tooling account's stage-events bus, whose rule tells the team's alert topic "
    "(stacks/stage/alarm_forwarding.py, stacks/monitoring/stage_events.py); an SNS action here would "
    "email the same people twice. The forwarding's dead-letter alarm notifies this account's topic."
)


def notify(alarm: cloudwatch.Alarm, topic: sns.ITopic | None, *, ok: bool = False) -> None:
    """Send ``alarm`` going into ALARM (and back to OK, when ``ok``) to ``topic``; with None, leave it
    without actions: its state changes are forwarded (see the module docstring)."""
    if topic is None:
        acknowledge(alarm, "NIST.800.53.R5-CloudWatchAlarmAction", FORWARDED)
        return
    alarm.add_alarm_action(actions.SnsAction(topic))
    if ok:
        alarm.add_ok_action(actions.SnsAction(topic))
