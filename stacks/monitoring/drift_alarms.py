"""Drift alarms: one per monitored endpoint stage, on the metrics the drift check publishes.

A stage is monitored when it captures traffic (instance-backed, capture on). Its alarm notifies
the alert topic, and (through :mod:`stacks.monitoring.retraining`) starts retraining.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts.config import StageConfig
from contracts.names import drift_alarm_name, endpoint_name
from ml_code import contract
from stacks.common.alarm_actions import notify


def monitored(stage: StageConfig) -> bool:
    """A stage is drift-checked when it captures traffic (instance-backed, capture on)."""
    return stage.serverless is None and stage.data_capture_percent > 0


def drift_alarm_names(prefix: str, stages: Iterable[StageConfig]) -> list[str]:
    """The drift alarms' names, sorted (none when no stage is monitored)."""
    return sorted(drift_alarm_name(endpoint_name(prefix, stage.name)) for stage in stages if monitored(stage))


def drift_alarm(
    scope: Construct, *, stage: StageConfig, endpoint: str, topic: sns.ITopic | None
) -> cloudwatch.Alarm:
    """``Drift<Stage>`` in ``scope``: ALARM when a check of ``endpoint`` found a violation, to ``topic``."""
    alarm = cloudwatch.Alarm(
        scope,
        f"Drift{stage.name.capitalize()}",
        alarm_name=drift_alarm_name(endpoint),
        alarm_description=f"{endpoint}: captured traffic drifted from the deployed version's baseline "
        "(starts retraining, rate-capped)",
        metric=cloudwatch.Metric(
            namespace=contract.DRIFT_NAMESPACE,
            metric_name=contract.DRIFT_METRIC_VIOLATIONS,
            dimensions_map={"EndpointName": endpoint},
            statistic="Maximum",
            period=cdk.Duration.hours(1),
        ),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        actions_enabled=True,
    )
    notify(alarm, topic)
    return alarm
