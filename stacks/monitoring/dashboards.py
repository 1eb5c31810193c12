"""One CloudWatch dashboard per endpoint stage, built with cdk-monitoring-constructs.

Traffic, errors and latency of the stage's endpoint; drift (violations, records checked, every
feature's distance through a SEARCH expression, so new features appear without a redeploy); and
the training pipeline's executions (``_metric_groups``). Endpoint names are fixed by config, so
the dashboards exist before the first model is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    DefaultDashboardFactory,
    MonitoringFacade,
)
from constructs import Construct

from ml_code import contract

_PERIOD = cdk.Duration.minutes(5)


@dataclass(frozen=True, kw_only=True)
class StageDashboardProps:
    """Which endpoint and training pipeline the dashboard shows."""

    dashboard_name: str
    endpoint_name: str
    #: None in a stage account: the training pipeline runs in the tooling account (its dashboards).
    training_pipeline_name: str | None
    #: Whether the endpoint's drift is checked (its metrics are where this dashboard is).
    drift: bool = True


def _metric(namespace: str, name: str, dims: dict[str, str], stat: str, label: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dims,
        statistic=stat,
        period=_PERIOD,
        label=label,
    )


class StageDashboard(Construct):
    """``MonitoringFacade`` with the stage's metric groups."""

    def __init__(self, scope: Construct, construct_id: str, *, props: StageDashboardProps) -> None:
        super().__init__(scope, construct_id)
        self.facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True, alarm_name_prefix=props.dashboard_name
            ),
            dashboard_factory=DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=props.dashboard_name,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        self.facade.monitor_custom(
            human_readable_name=f"Endpoint {props.endpoint_name}",
            alarm_friendly_name=props.endpoint_name,
            metric_groups=_metric_groups(props),
        )


def _metric_groups(props: StageDashboardProps) -> list[CustomMetricGroup]:
    """Traffic, errors, latency, drift, feature distances and training runs, in that order."""
    training = [] if props.training_pipeline_name is None else [_training_group(props.training_pipeline_name)]
    return [
        *_endpoint_groups(props.endpoint_name),
        *(_drift_groups(props.endpoint_name) if props.drift else []),
        *training,
    ]


def _endpoint_groups(endpoint_name: str) -> list[CustomMetricGroup]:
    """The endpoint's invocations, errors and latency (SageMaker's own metrics)."""
    endpoint = {"EndpointName": endpoint_name, "VariantName": "AllTraffic"}
    sm = "AWS/SageMaker"
    return [
        CustomMetricGroup(
            title="Invocations",
            metrics=[
                _metric(sm, "Invocations", endpoint, "Sum", "Invocations"),
                _metric(sm, "InvocationsPerInstance", endpoint, "Sum", "Per instance"),
            ],
        ),
        CustomMetricGroup(
            title="Errors",
            metrics=[
                _metric(sm, "Invocation4XXErrors", endpoint, "Sum", "4xx"),
                _metric(sm, "Invocation5XXErrors", endpoint, "Sum", "5xx"),
            ],
        ),
        CustomMetricGroup(
            title="Latency (microseconds)",
            metrics=[
                _metric(sm, "ModelLatency", endpoint, "p99", "Model p99"),
                _metric(sm, "ModelLatency", endpoint, "p50", "Model p50"),
                _metric(sm, "OverheadLatency", endpoint, "p99", "Overhead p99"),
            ],
        ),
    ]


def _drift_groups(endpoint_name: str) -> list[CustomMetricGroup]:
    """The drift check's violations and records, and every feature's distance (a SEARCH)."""
    drift = {"EndpointName": endpoint_name}
    distance = cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{{contract.DRIFT_NAMESPACE},EndpointName,Feature}} "
            f'MetricName="{contract.DRIFT_METRIC_DISTANCE}" EndpointName="{endpoint_name}"\', '
            "'Maximum', 3600)"
        ),
        label="",
        period=cdk.Duration.hours(1),
    )
    return [
        CustomMetricGroup(
            title="Drift",
            metrics=[
                _metric(
                    contract.DRIFT_NAMESPACE,
                    contract.DRIFT_METRIC_VIOLATIONS,
                    drift,
                    "Maximum",
                    "Violations",
                ),
                _metric(
                    contract.DRIFT_NAMESPACE,
                    contract.DRIFT_METRIC_RECORDS,
                    drift,
                    "Sum",
                    "Records checked",
                ),
            ],
        ),
        CustomMetricGroup(title="Feature distance from baseline", metrics=[distance]),
    ]


def _training_group(pipeline_name: str) -> CustomMetricGroup:
    """The training pipeline's started, succeeded and failed executions."""
    pipeline = {"PipelineName": pipeline_name}
    runs = "AWS/Sagemaker/ModelBuildingPipeline"
    return CustomMetricGroup(
        title="Training pipeline executions",
        metrics=[
            _metric(runs, "ExecutionStarted", pipeline, "Sum", "Started"),
            _metric(runs, "ExecutionSucceeded", pipeline, "Sum", "Succeeded"),
            _metric(runs, "ExecutionFailed", pipeline, "Sum", "Failed"),
        ],
    )
