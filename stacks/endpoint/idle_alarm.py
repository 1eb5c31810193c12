"""Idle-endpoint alarm of one stage: zero invocations for N days notify the alert topic.

A spend guardrail, not a health check: an instance-backed endpoint bills every hour whether or
not anyone calls it. SageMaker publishes ``AWS/SageMaker Invocations`` (dimensions EndpointName,
VariantName; serverless variants too) only for periods with requests, so an idle endpoint has
*no* datapoints: missing data is treated as breaching. One consequence: a newly created alarm on
an endpoint nobody has called yet goes to ALARM at its first evaluation, and back to OK once the
endpoint is invoked (the deploy's smoke test does that right after the first deploy).

It is deliberately NOT one of the endpoint's rollback alarms (``AutoRollbackConfiguration``
names only :class:`stacks.endpoint.alarms.RollbackAlarms`): an idle endpoint would otherwise roll
back every deployment it receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts.config import MAX_IDLE_ALARM_DAYS
from stacks.common.alarm_actions import notify

#: One datapoint per hour: the alarm fires within an hour of the N-th idle day.
PERIOD_SECONDS: Final = 3600
#: CloudWatch PutMetricAlarm: "An alarm's total current evaluation period can be no longer than
#: seven days, so Period multiplied by EvaluationPeriods can't be more than 604,800 seconds"
#: (and no longer than one day for periods under an hour, which is why the period is an hour).
MAX_EVALUATION_SECONDS: Final = 604_800
_DAY: Final = 24 * 3600


@dataclass(frozen=True, kw_only=True)
class IdleAlarmProps:
    """Which endpoint variant, after how many idle days, and where to notify."""

    endpoint_name: str
    variant_name: str
    days: int
    #: The team's alert topic; None in a stage account, whose alarms are forwarded
    #: (:mod:`stacks.common.alarm_actions`).
    topic: sns.ITopic | None


class IdleAlarm(Construct):
    """``alarm``: ``<endpoint>-idle``, in ALARM after ``days`` days without an invocation.

    Raises:
        ValueError: ``days`` outside 1..7 (CloudWatch's limit on an alarm's evaluation range).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: IdleAlarmProps) -> None:
        super().__init__(scope, construct_id)
        periods = evaluation_periods(props.days)
        invocations = cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name="Invocations",
            dimensions_map={"EndpointName": props.endpoint_name, "VariantName": props.variant_name},
            statistic="Sum",
            period=cdk.Duration.seconds(PERIOD_SECONDS),
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_name=f"{props.endpoint_name}-idle",
            alarm_description=f"{props.endpoint_name}: no invocations for {props.days} days; an "
            "instance-backed endpoint bills every hour it runs: delete the stage or lower its capacity",
            metric=invocations,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            # No traffic means no datapoints at all: that is exactly what this alarm is for.
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            actions_enabled=True,
        )
        notify(self.alarm, props.topic, ok=True)


def evaluation_periods(days: int) -> int:
    """Hourly periods in ``days`` days.

    Raises:
        ValueError: ``days`` outside 1..7 (config's ``MAX_IDLE_ALARM_DAYS``, CloudWatch's limit).
    """
    if not 1 <= days <= MAX_IDLE_ALARM_DAYS or days * _DAY > MAX_EVALUATION_SECONDS:
        raise ValueError(
            f"idle alarm after {days} days: CloudWatch evaluates at most {MAX_EVALUATION_SECONDS // _DAY} "
            f"days (period x evaluation periods <= {MAX_EVALUATION_SECONDS} s)"
        )
    return days * _DAY // PERIOD_SECONDS
