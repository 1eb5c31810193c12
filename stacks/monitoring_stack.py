"""Production monitoring: drift-check pipeline, drift alarms → retraining, dashboards, alerts.

The loop: each monitored endpoint stage (instances with data capture on) has a schedule, in its
own endpoint stack (:meth:`MonitoringStack.add_drift_schedule`), that runs the drift-check
pipeline over its captured traffic against the deployed version's baseline. The check's metrics
feed the stage's drift alarm; the alarm notifies the team and, through an EventBridge rule, the
retraining trigger, which starts the training pipeline unless one is running or a drift-triggered
run started within ``retrainMinIntervalHours``. New versions then go through the same gates.

Nothing on that path is dropped: both rules' targets and the trigger's own asynchronous
invocations dead-letter into ``<prefix>-monitoring-dlq`` (:mod:`stacks.common.dead_letters`),
whose alarm notifies the alert topic. The environment's spend budget notifies it too
(:mod:`stacks.monitoring.budget`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contracts.config import AppConfig, StageConfig
from contracts.layout import CHECKS_PREFIX, check_report_prefix
from contracts.names import (
    alert_topic_name,
    budget_name,
    build_pipeline_name,
    dead_letter_queue_name,
    deploy_pipeline_name,
    drift_alarm_name,
    drift_pipeline_name,
    endpoint_name,
)
from ml_code import contract
from stacks.common.nag import acknowledge, acknowledge_resource
from stacks.monitoring.alerts import Alerts, AlertsProps
from stacks.monitoring.budget import COST_TAG_KEYS, SpendBudget, SpendBudgetProps
from stacks.monitoring.dashboards import StageDashboard, StageDashboardProps
from stacks.monitoring.drift_pipeline import DriftPipeline, DriftPipelineProps
from stacks.monitoring.drift_schedule import DriftSchedule, DriftScheduleProps
from stacks.monitoring.functions import FunctionProps, PythonFunction
from stacks.pipeline_stack import DEFAULT_BUILD_DIR, DEFAULT_SOURCE_DIR


def monitored(stage: StageConfig) -> bool:
    """A stage is drift-checked when it captures traffic (instance-backed, capture on)."""
    return stage.serverless is None and stage.data_capture_percent > 0


class MonitoringStack(cdk.Stack):
    """Drift checks on captured traffic, the retraining trigger, dashboards and the alert topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        key: kms.IKey,
        artifact_bucket: s3.IBucket,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection | Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        training_pipeline_name: str,
        model_package_group_name: str,
        source_dir: Path = DEFAULT_SOURCE_DIR,
        build_dir: Path = DEFAULT_BUILD_DIR,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        prefix, monitoring = config.prefix, config.env.monitoring
        self._config = config
        self._bucket_name = artifact_bucket.bucket_name
        self._key = key
        self.drift_pipeline_name = drift_pipeline_name(prefix)
        self.drift_pipeline_arn = self.format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.drift_pipeline_name.lower()
        )
        training_arn = self.format_arn(
            service="sagemaker", resource="pipeline", resource_name=training_pipeline_name.lower()
        )
        alerts = Alerts(
            self,
            "Alerts",
            props=AlertsProps(
                topic_name=alert_topic_name(prefix),
                emails=monitoring.notification_emails,
                pipeline_arns=[training_arn, self.drift_pipeline_arn],
                delivery_pipeline_names=[build_pipeline_name(prefix), deploy_pipeline_name(prefix)],
                model_package_group_name=model_package_group_name,
                dead_letter_queue_name=dead_letter_queue_name(prefix, "monitoring"),
            ),
        )
        self.topic = alerts.topic
        self.dead_letters = dead_letters = alerts.dead_letters
        if monitoring.budget is not None:
            SpendBudget(
                self,
                "SpendBudget",
                props=SpendBudgetProps(
                    name=budget_name(prefix),
                    config=monitoring.budget,
                    cost_tags={key: config.all_tags[key] for key in COST_TAG_KEYS},
                    topic=self.topic,
                    publish_permission=alerts.publish_permission,
                ),
            )
        # Both functions read finished checks' reports (drift-checks/<execution id>/report/).
        read_reports = [
            iam.PolicyStatement(
                sid="ReadDriftReports",
                actions=["s3:GetObject"],
                resources=[artifact_bucket.arn_for_objects(f"{CHECKS_PREFIX}*")],
            ),
            iam.PolicyStatement(sid="DecryptReports", actions=["kms:Decrypt"], resources=[key.key_arn]),
        ]
        self.publisher = PythonFunction(
            self,
            "DriftMetrics",
            props=FunctionProps(
                handler="drift_metrics.handler",
                description="Publishes a drift check's report to CloudWatch",
                key=key,  # the data key: its policy lets CloudWatch Logs use it (the alert key's does not)
                environment={"METRIC_NAMESPACE": contract.DRIFT_NAMESPACE},
                reserved_concurrency=2,
                statements=[
                    *read_reports,
                    iam.PolicyStatement(
                        sid="PublishDriftMetrics",
                        actions=["cloudwatch:PutMetricData"],
                        resources=["*"],  # no resource level; pinned to the namespace below
                        conditions={"StringEquals": {"cloudwatch:namespace": contract.DRIFT_NAMESPACE}},
                    ),
                ],
            ),
        )
        subnet_ids = (
            vpc.select_subnets(**subnets._values).subnet_ids
            if isinstance(subnets, ec2.SubnetSelection)
            else [s.subnet_id for s in subnets]
        )
        self.drift = DriftPipeline(
            self,
            "DriftCheck",
            props=DriftPipelineProps(
                name=self.drift_pipeline_name,
                monitoring=monitoring,
                instance_type=config.env.instances.processing,
                allowed_instance_types=config.env.instances.allowed,
                max_runtime_seconds=config.env.pipeline.max_runtime_seconds,
                key=key,
                artifact_bucket=artifact_bucket,
                vpc=vpc,
                subnet_ids=subnet_ids,
                security_group=security_group,
                publisher=self.publisher.function,
                model_package_group_name=model_package_group_name,
                source_dir=source_dir,
                build_dir=build_dir,
            ),
        )
        drift_alarm_names = sorted(
            drift_alarm_name(endpoint_name(prefix, stage.name))
            for stage in config.env.endpoints
            if monitored(stage)
        )
        trigger = PythonFunction(
            self,
            "RetrainTrigger",
            props=FunctionProps(
                handler="retrain_trigger.handler",
                description="Starts retraining on a drift alarm (rate-capped, never beside a running run)",
                key=key,  # the data key: its policy lets CloudWatch Logs use it (the alert key's does not)
                # One at a time: two alarms at once must not both pass the "nothing running" check.
                reserved_concurrency=1,
                dead_letters=dead_letters,
                environment={
                    "PIPELINE_NAME": training_pipeline_name,
                    "MIN_INTERVAL_SECONDS": str(monitoring.retrain_min_interval_hours * 3600),
                    "ALARM_NAMES": ",".join(drift_alarm_names),
                    "REPORT_URI": f"s3://{artifact_bucket.bucket_name}/{check_report_prefix('{execution_id}')}"
                    f"{contract.DRIFT_METRICS_FILE}",
                },
                statements=[
                    iam.PolicyStatement(
                        sid="InspectAndStartTraining",
                        actions=[
                            "sagemaker:ListPipelineExecutions",
                            "sagemaker:DescribePipelineExecution",
                            "sagemaker:StartPipelineExecution",
                        ],
                        resources=[training_arn, f"{training_arn}/execution/*"],
                    ),
                    *self._read_alarms(drift_alarm_names),
                    *read_reports,
                ],
            ),
        )
        for reader in (self.publisher, trigger):
            acknowledge_resource(
                reader.policy,
                artifact_bucket.arn_for_objects(f"{CHECKS_PREFIX}*"),
                "Reads finished drift checks' reports, written under drift-checks/<execution id>/report/.",
            )
        acknowledge(
            self.publisher.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData has no resource-level permissions; a condition pins the namespace.",
        )
        acknowledge(
            trigger.policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
            f"pipeline/{training_pipeline_name}/execution/*]",
            "Execution IDs are generated; describing is limited to this training pipeline's executions.",
        )
        self.drift_alarms: dict[str, cloudwatch.Alarm] = {}
        for stage in config.env.endpoints:
            name = endpoint_name(prefix, stage.name)
            StageDashboard(
                self,
                f"Dashboard{stage.name.capitalize()}",
                props=StageDashboardProps(
                    dashboard_name=name, endpoint_name=name, training_pipeline_name=training_pipeline_name
                ),
            )
            if monitored(stage):
                self.drift_alarms[stage.name] = self._drift_alarm(stage, name)
        if self.drift_alarms:
            events.Rule(
                self,
                "RetrainOnDrift",
                description="A drift alarm went into ALARM: consider retraining",
                event_pattern=events.EventPattern(
                    source=["aws.cloudwatch"],
                    detail_type=["CloudWatch Alarm State Change"],
                    detail={
                        "alarmName": drift_alarm_names,
                        "state": {"value": ["ALARM"]},
                    },
                ),
                targets=[
                    targets.LambdaFunction(
                        trigger.function,
                        retry_attempts=4,
                        max_event_age=cdk.Duration.hours(2),
                        dead_letter_queue=dead_letters.queue,
                    )
                ],
            )
            # An alarm that stays in ALARM sends no further event: after every drift check, the
            # trigger reads that check's report and the alarm, so persistent drift is retried
            # once the cap allows (and an event lost above is made up for within the hour).
            events.Rule(
                self,
                "RecheckDriftAfterCheck",
                description="A drift check finished: retrain if it found drift the alarm already knew",
                event_pattern=events.EventPattern(
                    source=["aws.sagemaker"],
                    detail_type=["SageMaker Model Building Pipeline Execution Status Change"],
                    detail={
                        "pipelineArn": [self.drift_pipeline_arn],
                        "currentPipelineExecutionStatus": ["Succeeded"],
                    },
                ),
                targets=[
                    targets.LambdaFunction(
                        trigger.function,
                        retry_attempts=4,
                        max_event_age=cdk.Duration.hours(1),
                        dead_letter_queue=dead_letters.queue,
                    )
                ],
            )

    def _read_alarms(self, names: Sequence[str]) -> list[iam.PolicyStatement]:
        """DescribeAlarms on exactly the drift alarms (none when no stage is monitored)."""
        arns = [
            self.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in names
        ]
        return (
            [
                iam.PolicyStatement(
                    sid="ReadDriftAlarms", actions=["cloudwatch:DescribeAlarms"], resources=arns
                )
            ]
            if arns
            else []
        )

    def _drift_alarm(self, stage: StageConfig, name: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            f"Drift{stage.name.capitalize()}",
            alarm_name=drift_alarm_name(name),
            alarm_description=f"{name}: captured traffic drifted from the deployed version's baseline "
            "(starts retraining, rate-capped)",
            metric=cloudwatch.Metric(
                namespace=contract.DRIFT_NAMESPACE,
                metric_name=contract.DRIFT_METRIC_VIOLATIONS,
                dimensions_map={"EndpointName": name},
                statistic="Maximum",
                period=cdk.Duration.hours(1),
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            actions_enabled=True,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        return alarm

    def add_drift_schedule(
        self, scope: Construct, *, stage: StageConfig, endpoint_name: str
    ) -> DriftSchedule | None:
        """Schedule the drift check of ``endpoint_name`` in ``scope`` (the stage's endpoint stack).

        Returns None (no schedule) when the stage captures nothing or its version has no baseline.
        """
        approved = stage.approved_model
        if not monitored(stage) or approved is None or approved.baseline_statistics_uri is None:
            return None
        return DriftSchedule(
            scope,
            "DriftSchedule",
            props=DriftScheduleProps(
                pipeline_name=self.drift_pipeline_name,
                endpoint_name=endpoint_name,
                bucket_name=self._bucket_name,
                baseline_uri=approved.baseline_statistics_uri.rsplit("/", 1)[0] + "/",
                lookback_hours=self._config.env.monitoring.lookback_hours,
                expression=self._config.env.monitoring.drift_schedule,
                key=self._key,
                topic=self.topic,
            ),
        )
