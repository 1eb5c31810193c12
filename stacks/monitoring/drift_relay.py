"""A stage account's drift relay: its metrics step puts drift that persists on that account's bus.

The tooling account's retraining trigger retries persistent drift after every check by reading the
check's report and the alarm; in a stage account both are there, so the stage's metrics step
(:class:`stacks.monitoring.retraining.DriftMetricsPublisher` with a :class:`DriftRelay`) applies
the same rule and puts one ``Drift Persists`` event on its own account's bus, which the stage's
forwarding rule sends to the tooling account (:mod:`stacks.stage.alarm_forwarding`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.event_types import DRIFT_PERSISTS_EVENT, DRIFT_SOURCE


def read_alarms(scope: Construct, names: Sequence[str]) -> list[iam.PolicyStatement]:
    """DescribeAlarms on exactly the drift alarms (none when no stage is monitored)."""
    stack = cdk.Stack.of(scope)
    arns = [
        stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        for name in names
    ]
    if not arns:
        return []
    return [iam.PolicyStatement(sid="ReadDriftAlarms", actions=["cloudwatch:DescribeAlarms"], resources=arns)]


@dataclass(frozen=True, kw_only=True)
class DriftRelay:
    """A stage account's publisher: the drift alarm it reads and the bus it puts persisting drift on.

    The bus is the publisher's own account's (EventBridge takes ``PutEvents`` for a bus of the
    caller's account; the stage's forwarding rule sends the event on to the tooling account,
    :mod:`stacks.stage.alarm_forwarding`, with retries and its dead-letter queue).
    """

    alarm_name: str
    bus_name: str = "default"

    def bus_arn(self, scope: Construct) -> str:
        return cdk.Stack.of(scope).format_arn(
            service="events", resource="event-bus", resource_name=self.bus_name
        )

    def environment(self, scope: Construct) -> dict[str, str]:
        """The publisher's relay settings."""
        return {"DRIFT_ALARM_NAME": self.alarm_name, "DRIFT_EVENT_BUS": self.bus_arn(scope)}

    def statements(self, scope: Construct) -> list[iam.PolicyStatement]:
        """DescribeAlarms on the stage's drift alarm; PutEvents of ``Drift Persists`` on its own bus."""
        return [
            *read_alarms(scope, [self.alarm_name]),
            iam.PolicyStatement(
                sid="PutPersistingDrift",
                actions=["events:PutEvents"],
                resources=[self.bus_arn(scope)],
                conditions={
                    "StringEquals": {
                        "events:source": DRIFT_SOURCE,
                        "events:detail-type": DRIFT_PERSISTS_EVENT,
                    }
                },
            ),
        ]
