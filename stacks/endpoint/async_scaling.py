"""Autoscaling of an async endpoint on its queue, down to zero instances (AWS's documented pattern).

Target tracking keeps ``ApproximateBacklogSizePerInstance`` (queued requests per instance) near
``async.targetBacklogPerInstance`` between ``async.minCapacity`` (0: nothing runs, nothing bills,
while the queue is empty) and ``maxCapacity``. At zero instances that metric has nothing to divide
by, so a step policy leaves zero: ``HasBacklogWithoutCapacity`` (1 while requests wait and no
instance runs) adds one instance; target tracking takes over from there. Requests are never lost
at zero: SageMaker keeps them queued until an instance is up (minutes: the cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import AsyncConfig
from stacks.endpoint.autoscaling import variant_target

#: SageMaker's async metrics (namespace ``AWS/SageMaker``, dimension ``EndpointName``).
BACKLOG_PER_INSTANCE: Final = "ApproximateBacklogSizePerInstance"
BACKLOG_WITHOUT_CAPACITY: Final = "HasBacklogWithoutCapacity"


@dataclass(frozen=True, kw_only=True)
class AsyncScalingProps:
    """Which variant of which endpoint, and the async section's bounds and target."""

    endpoint: sagemaker.CfnEndpoint
    endpoint_name: str
    variant_name: str
    queued: AsyncConfig


class AsyncScaling(Construct):
    """``target`` with a backlog target-tracking policy, and ``wake`` (step policy) on ``waiting`` (alarm)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AsyncScalingProps) -> None:
        super().__init__(scope, construct_id)
        queued = props.queued
        self.target = variant_target(
            self, props.endpoint, f"endpoint/{props.endpoint_name}/variant/{props.variant_name}",
            capacity=(queued.min_capacity, queued.max_capacity),
        )  # fmt: skip
        self.target.scale_to_track_metric(
            "Backlog",
            target_value=queued.target_backlog_per_instance,
            custom_metric=_metric(BACKLOG_PER_INSTANCE, props.endpoint_name),
            # Scale in slowly (an instance costs minutes to come back), out quickly.
            scale_in_cooldown=cdk.Duration.minutes(10),
            scale_out_cooldown=cdk.Duration.minutes(5),
        )
        self.wake = appscaling.StepScalingAction(
            self,
            "LeaveZero",
            scaling_target=self.target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.AVERAGE,
            cooldown=cdk.Duration.minutes(5),
        )
        self.wake.add_adjustment(adjustment=1, lower_bound=0)
        self.waiting = cloudwatch.Alarm(
            self,
            "BacklogWithoutCapacity",
            alarm_description=f"Requests wait on {props.endpoint_name} with no instance: add one",
            metric=_metric(BACKLOG_WITHOUT_CAPACITY, props.endpoint_name),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.waiting.add_alarm_action(cw_actions.ApplicationScalingAction(self.wake))


def _metric(name: str, endpoint_name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/SageMaker",
        metric_name=name,
        dimensions_map={"EndpointName": endpoint_name},
        statistic="Average",
        period=cdk.Duration.minutes(1),
    )
