"""Rollback alarms of one endpoint: 5xx errors and model latency, with actions ENABLED.

These alarms do two jobs: SageMaker's blue/green deployment watches them and rolls back when one
fires during the baking period, and they notify the team's SNS topic at any time. Their names are
fixed (``<endpoint>-5xx``, ``<endpoint>-model-latency``) because ``AutoRollbackConfiguration``
refers to alarms by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts.config import AlarmConfig
from stacks.common.alarm_actions import notify


@dataclass(frozen=True, kw_only=True)
class RollbackAlarmsProps:
    """Which endpoint, thresholds, and where alarms notify."""

    endpoint_name: str
    variant_name: str
    alarms: AlarmConfig
    #: The team's alert topic; None in a stage account, whose alarms are forwarded
    #: (:mod:`stacks.common.alarm_actions`).
    topic: sns.ITopic | None


class RollbackAlarms(Construct):
    """The endpoint's 5xx and latency alarms."""

    def __init__(self, scope: Construct, construct_id: str, *, props: RollbackAlarmsProps) -> None:
        super().__init__(scope, construct_id)
        dims = {"EndpointName": props.endpoint_name, "VariantName": props.variant_name}
        period = cdk.Duration.minutes(1)
        errors = cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions_map=dims,
            statistic="Sum",
            period=period,
        )
        latency = cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name="ModelLatency",  # microseconds
            dimensions_map=dims,
            statistic="p99",
            period=period,
        )
        minutes = props.alarms.evaluation_minutes
        name, limits = props.endpoint_name, props.alarms
        rolls_back = f"for {minutes} minutes (rolls back a deployment in progress)"
        self.errors = cloudwatch.Alarm(
            self,
            "Errors",
            alarm_name=f"{props.endpoint_name}-5xx",
            alarm_description=f"{name}: more than {limits.max_5xx_errors} 5xx errors a minute {rolls_back}",
            metric=errors,
            threshold=props.alarms.max_5xx_errors,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            actions_enabled=True,
        )
        self.latency = cloudwatch.Alarm(
            self,
            "Latency",
            alarm_name=f"{props.endpoint_name}-model-latency",
            alarm_description=f"{name}: p99 model latency over {limits.max_model_latency_ms} ms {rolls_back}",
            metric=latency,
            threshold=props.alarms.max_model_latency_ms * 1000,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            actions_enabled=True,
        )
        for alarm in (self.errors, self.latency):
            notify(alarm, props.topic, ok=True)

    @property
    def names(self) -> list[str]:
        """Alarm names, for ``AutoRollbackConfiguration``."""
        return [self.errors.alarm_name, self.latency.alarm_name]
