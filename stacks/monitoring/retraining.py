"""From drift to retraining: the metrics publisher, the retraining trigger and the rules that call it.

The drift check's last step calls :class:`DriftMetricsPublisher`, which turns the check's report
into CloudWatch metrics (the drift alarms watch them); in a stage account (:class:`DriftRelay`) it
also puts drift that persists on that account's bus, for the tooling account's trigger.
:class:`RetrainTrigger` starts the training pipeline when a drift alarm fires, unless one is
running or a drift-triggered run started within the minimum interval; :func:`retrain_rules` calls
it on the alarm's state change and after every finished check (an alarm that stays in ALARM sends
no further event). Both functions read only finished checks' reports
(``drift-checks/<execution id>/report/``), and the rules and the trigger's own asynchronous
invocations dead-letter into the monitoring stack's queue.

Each class is a :class:`~stacks.monitoring.functions.PythonFunction` with its statements and
acknowledgements, at the construct path the stack gives it; the rules are made in the stack's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contracts.layout import CHECKS_PREFIX, check_report_prefix
from ml_code import contract
from stacks.common.arns import pipeline_arn
from stacks.common.dead_letters import DeadLetters
from stacks.common.event_types import ALARM_EVENT, PIPELINE_EVENT
from stacks.common.nag import IAM5, account_arn, acknowledge, acknowledge_resource
from stacks.monitoring.drift_relay import DriftRelay, read_alarms
from stacks.monitoring.functions import FunctionProps, PythonFunction

_READS_REPORTS = "Reads finished drift checks' reports, written under drift-checks/<execution id>/report/."


@dataclass(frozen=True, kw_only=True)
class ReportReaderProps:
    """Where the reports are and the key they are encrypted with (also the function's logs and env)."""

    key: kms.IKey
    bucket: s3.IBucket


@dataclass(frozen=True, kw_only=True)
class RetrainTriggerProps(ReportReaderProps):
    """What it starts, which alarms it reads, how often it may start, where failures go."""

    training_pipeline_name: str
    alarm_names: Sequence[str]
    min_interval_hours: int
    dead_letters: DeadLetters


def _read_reports(props: ReportReaderProps) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            sid="ReadDriftReports",
            actions=["s3:GetObject"],
            resources=[props.bucket.arn_for_objects(f"{CHECKS_PREFIX}*")],
        ),
        iam.PolicyStatement(sid="DecryptReports", actions=["kms:Decrypt"], resources=[props.key.key_arn]),
    ]


class DriftMetricsPublisher(PythonFunction):
    """Publishes a finished check's report as metrics in the drift namespace (only there); with
    ``relay`` (a stage account), then puts persisting drift on that account's bus (only that event)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: ReportReaderProps,
        relay: DriftRelay | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            props=FunctionProps(
                handler="drift_metrics.handler",
                description="Publishes a drift check's report to CloudWatch",
                key=props.key,  # the data key: CloudWatch Logs may use it (the alert key's policy does not)
                environment={
                    "METRIC_NAMESPACE": contract.DRIFT_NAMESPACE,
                    **(relay.environment(scope) if relay else {}),
                },
                reserved_concurrency=2,
                statements=[
                    *_read_reports(props),
                    iam.PolicyStatement(
                        sid="PublishDriftMetrics",
                        actions=["cloudwatch:PutMetricData"],
                        resources=["*"],  # no resource level; pinned to the namespace below
                        conditions={"StringEquals": {"cloudwatch:namespace": contract.DRIFT_NAMESPACE}},
                    ),
                    *(relay.statements(scope) if relay else []),
                ],
            ),
        )
        acknowledge_resource(self.policy, props.bucket.arn_for_objects(f"{CHECKS_PREFIX}*"), _READS_REPORTS)
        acknowledge(
            self.policy,
            f"{IAM5}[Resource::*]",
            "cloudwatch:PutMetricData has no resource-level permissions; a condition pins the namespace.",
        )


class RetrainTrigger(PythonFunction):
    """Starts the training pipeline on drift, rate-capped and never beside a running run."""

    def __init__(self, scope: Construct, construct_id: str, *, props: RetrainTriggerProps) -> None:
        training = pipeline_arn(scope, props.training_pipeline_name)
        report = f"{check_report_prefix('{execution_id}')}{contract.DRIFT_METRICS_FILE}"
        super().__init__(
            scope,
            construct_id,
            props=FunctionProps(
                handler="retrain_trigger.handler",
                description="Starts retraining on a drift alarm (rate-capped, never beside a running run)",
                key=props.key,  # the data key: CloudWatch Logs may use it (the alert key's policy does not)
                # One at a time: two alarms at once must not both pass the "nothing running" check.
                reserved_concurrency=1,
                dead_letters=props.dead_letters,
                environment={
                    "PIPELINE_NAME": props.training_pipeline_name,
                    "MIN_INTERVAL_SECONDS": str(props.min_interval_hours * 3600),
                    "ALARM_NAMES": ",".join(props.alarm_names),
                    "REPORT_URI": f"s3://{props.bucket.bucket_name}/{report}",
                },
                statements=[
                    iam.PolicyStatement(
                        sid="InspectAndStartTraining",
                        actions=[
                            "sagemaker:ListPipelineExecutions",
                            "sagemaker:DescribePipelineExecution",
                            "sagemaker:StartPipelineExecution",
                        ],
                        resources=[training, f"{training}/execution/*"],
                    ),
                    *read_alarms(scope, props.alarm_names),
                    *_read_reports(props),
                ],
            ),
        )
        acknowledge_resource(self.policy, props.bucket.arn_for_objects(f"{CHECKS_PREFIX}*"), _READS_REPORTS)
        acknowledge(
            self.policy,
            f"{IAM5}[Resource::"
            + account_arn(self.policy, "sagemaker", f"pipeline/{props.training_pipeline_name}/execution/*")
            + "]",
            "Execution IDs are generated; describing is limited to this training pipeline's executions.",
        )


def trigger_target(
    trigger: lambda_.IFunction, dead_letters: DeadLetters, max_age: cdk.Duration
) -> targets.LambdaFunction:
    """The retraining trigger as a rule's target: 4 retries within ``max_age``, then ``dead_letters``."""
    return targets.LambdaFunction(
        trigger, retry_attempts=4, max_event_age=max_age, dead_letter_queue=dead_letters.queue
    )


def retrain_rules(
    scope: Construct,
    *,
    trigger: lambda_.IFunction,
    alarm_names: Sequence[str],
    drift_pipeline_arn: str,
    dead_letters: DeadLetters,
) -> list[events.Rule]:
    """``RetrainOnDrift`` (a drift alarm went into ALARM) and ``RecheckDriftAfterCheck`` (a check
    succeeded) in ``scope``, both invoking ``trigger`` with retries, then ``dead_letters``."""

    on_alarm = events.Rule(
        scope,
        "RetrainOnDrift",
        description="A drift alarm went into ALARM: consider retraining",
        event_pattern=events.EventPattern(
            source=["aws.cloudwatch"],
            detail_type=[ALARM_EVENT],
            detail={"alarmName": list(alarm_names), "state": {"value": ["ALARM"]}},
        ),
        targets=[trigger_target(trigger, dead_letters, cdk.Duration.hours(2))],
    )
    # An alarm that stays in ALARM sends no further event: after every drift check, the
    # trigger reads that check's report and the alarm, so persistent drift is retried
    # once the cap allows (and an event lost above is made up for within the hour).
    after_check = events.Rule(
        scope,
        "RecheckDriftAfterCheck",
        description="A drift check finished: retrain if it found drift the alarm already knew",
        event_pattern=events.EventPattern(
            source=["aws.sagemaker"],
            detail_type=[PIPELINE_EVENT],
            detail={"pipelineArn": [drift_pipeline_arn], "currentPipelineExecutionStatus": ["Succeeded"]},
        ),
        targets=[trigger_target(trigger, dead_letters, cdk.Duration.hours(1))],
    )
    return [on_alarm, after_check]
