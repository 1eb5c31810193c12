"""Production monitoring: drift-check pipeline, drift alarms → retraining, dashboards, alerts.

The loop: each monitored endpoint stage (instances with data capture on) has a schedule, in its
own endpoint stack (:meth:`MonitoringStack.add_drift_schedule`), that runs the drift-check
pipeline (:mod:`stacks.monitoring.drift_pipeline`) over its captured traffic against the deployed
version's baseline. The check's metrics feed the stage's drift alarm
(:mod:`stacks.monitoring.drift_alarms`); the alarm notifies the team and, through an EventBridge
rule, the retraining trigger (:mod:`stacks.monitoring.retraining`), which starts the training
pipeline unless one is running or a drift-triggered run started within
``retrainMinIntervalHours``. New versions then go through the same gates.

Nothing on that path is dropped: both rules' targets and the trigger's own asynchronous
invocations dead-letter into ``<prefix>-monitoring-dlq`` (:mod:`stacks.common.dead_letters`),
whose alarm notifies the alert topic (:mod:`stacks.monitoring.alerts`). The environment's spend
budget notifies it too (:mod:`stacks.monitoring.budget`).

A stage in another account (``endpoints.<stage>.account``) has none of the per-endpoint parts here
(dashboard, drift alarm, drift schedule): its endpoint's metrics and captured traffic are in that
account, where its drift check runs too (:mod:`stacks.stage.monitoring_stack`). Its alarms come
back here through the bus ``<prefix>-stage-events`` (:mod:`stacks.monitoring.stage_events`): to the
alert topic, and its drift alarm to the retraining trigger.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from contracts import names
from contracts.config import MonitoringConfig, StageConfig
from stacks.batch.props import BatchScoring
from stacks.batch.schedule import batch_schedule
from stacks.common.arns import pipeline_arn
from stacks.common.shared import SharedResources
from stacks.monitoring import retraining
from stacks.monitoring.alerts import Alerts, AlertsProps
from stacks.monitoring.budget import spend_budget
from stacks.monitoring.dashboards import StageDashboard, StageDashboardProps
from stacks.monitoring.drift_alarms import drift_alarm, drift_alarm_names, monitored
from stacks.monitoring.drift_pipeline import DriftPipeline
from stacks.monitoring.drift_props import DriftPipelineProps
from stacks.monitoring.drift_schedule import DriftSchedule, drift_schedule
from stacks.monitoring.stage_events import StageEvents, StageEventsProps
from stacks.pipeline.source_bundle import DEFAULT_BUILD_DIR, DEFAULT_SOURCE_DIR


class MonitoringStack(cdk.Stack):
    """Drift checks on captured traffic, the retraining trigger, dashboards and the alert topic.

    ``max_runtime_seconds``: the drift-check job's time limit (the training jobs' limit, config
    ``pipeline.maxRuntimeSeconds``); ``source_dir``/``build_dir`` as for the pipeline stack.
    ``batch``: the batch scoring pipeline's failed runs are alerted on, and its schedule is here.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MonitoringConfig,
        shared: SharedResources,
        max_runtime_seconds: int,
        env: cdk.Environment | None = None,
        description: str | None = None,
        synthesizer: cdk.IStackSynthesizer | None = None,
        source_dir: Path = DEFAULT_SOURCE_DIR,
        build_dir: Path = DEFAULT_BUILD_DIR,
        batch: BatchScoring | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        prefix, training = shared.prefix, names.training_pipeline_name(shared.prefix)
        self.drift_pipeline_name = names.drift_pipeline_name(prefix)
        self.drift_pipeline_arn = pipeline_arn(self, self.drift_pipeline_name)
        batch_arns = [] if batch is None else [pipeline_arn(self, names.batch_pipeline_name(prefix))]
        alerts = self._alerts(
            config, shared, [pipeline_arn(self, training), self.drift_pipeline_arn, *batch_arns]
        )
        self.topic, self.dead_letters = alerts.topic, alerts.dead_letters
        self.batch_schedule = batch_schedule(
            self, batch, prefix=prefix, key=shared.key, dead_letters=self.dead_letters
        )
        self._config, self._shared = config, shared.with_alert_topic(self.topic)
        if config.budget is not None:
            spend_budget(self, config.budget, name=names.budget_name(prefix), tags=shared.tags, alerts=alerts)
        reports = retraining.ReportReaderProps(key=shared.key, bucket=shared.artifact_bucket)
        self.publisher = retraining.DriftMetricsPublisher(self, "DriftMetrics", props=reports)
        self.drift = self._drift_check(max_runtime_seconds, source_dir, build_dir)
        alarm_names = drift_alarm_names(prefix, self._local_stages)
        trigger = retraining.RetrainTrigger(
            self,
            "RetrainTrigger",
            props=retraining.RetrainTriggerProps(
                key=reports.key,
                bucket=reports.bucket,
                training_pipeline_name=training,
                alarm_names=alarm_names,
                min_interval_hours=config.retrain_min_interval_hours,
                dead_letters=self.dead_letters,
            ),
        )
        self.stage_events = self._stage_events(trigger.function)
        self.drift_alarms = self._dashboards_and_alarms(training)
        if self.drift_alarms:
            retraining.retrain_rules(
                self,
                trigger=trigger.function,
                alarm_names=alarm_names,
                drift_pipeline_arn=self.drift_pipeline_arn,
                dead_letters=self.dead_letters,
            )

    def _alerts(self, config: MonitoringConfig, shared: SharedResources, pipeline_arns: list[str]) -> Alerts:
        """The alert topic (and its dead-letter queue) for the pipelines, delivery and the registry."""
        prefix = shared.prefix
        return Alerts(
            self,
            "Alerts",
            props=AlertsProps(
                topic_name=names.alert_topic_name(prefix),
                emails=config.notification_emails,
                pipeline_arns=pipeline_arns,
                delivery_pipeline_names=[
                    names.build_pipeline_name(prefix),
                    names.deploy_pipeline_name(prefix),
                ],
                model_package_group_name=shared.model_package_group_name,
                dead_letter_queue_name=names.dead_letter_queue_name(prefix, "monitoring"),
            ),
        )

    def _drift_check(self, max_runtime_seconds: int, source_dir: Path, build_dir: Path) -> DriftPipeline:
        props = DriftPipelineProps.of(
            self._shared,
            name=self.drift_pipeline_name,
            monitoring=self._config,
            max_runtime_seconds=max_runtime_seconds,
            publisher=self.publisher.function,
            source_dir=source_dir,
            build_dir=build_dir,
        )
        return DriftPipeline(self, "DriftCheck", props=props)

    def _stage_events(self, trigger: lambda_.IFunction) -> StageEvents | None:
        """The bus the stage accounts' alarms come to, and its rules (none in a single account)."""
        accounts = self._shared.accounts
        if not accounts.stage_accounts:
            return None
        return StageEvents(
            self,
            "StageEvents",
            props=StageEventsProps(
                prefix=self._shared.prefix,
                bus_name=names.stage_events_bus_name(self._shared.prefix),
                stage_accounts=accounts.stage_accounts,
                drift_checked=frozenset(
                    s.name for s in self._shared.stages if s.name in accounts.stage_accounts and monitored(s)
                ),
                organization_id=accounts.organization_id,
                topic=self.topic,
                trigger=trigger,
                dead_letters=self.dead_letters,
            ),
        )

    @property
    def _local_stages(self) -> list[StageConfig]:
        """The stages whose endpoint is in this (the tooling) account."""
        return [
            stage for stage in self._shared.stages if stage.name not in self._shared.accounts.stage_accounts
        ]

    def _dashboards_and_alarms(self, training: str) -> dict[str, cloudwatch.Alarm]:
        """A dashboard per stage and a drift alarm per monitored stage (returned by stage name)."""
        alarms: dict[str, cloudwatch.Alarm] = {}
        for stage in self._local_stages:
            name = names.endpoint_name(self._shared.prefix, stage.name)
            StageDashboard(
                self,
                f"Dashboard{stage.name.capitalize()}",
                props=StageDashboardProps(
                    dashboard_name=name, endpoint_name=name, training_pipeline_name=training
                ),
            )
            if monitored(stage):
                alarms[stage.name] = drift_alarm(self, stage=stage, endpoint=name, topic=self.topic)
        return alarms

    def add_drift_schedule(self, scope: Construct, *, stage: StageConfig) -> DriftSchedule | None:
        """Schedule the drift check of ``stage``'s endpoint in ``scope`` (the stage's endpoint stack).

        Returns None (no schedule) when the stage captures nothing, its version has no baseline,
        or it is in another account.
        """
        if not monitored(stage) or stage.name in self._shared.accounts.stage_accounts:
            return None
        return drift_schedule(
            scope,
            stage=stage,
            endpoint=names.endpoint_name(self._shared.prefix, stage.name),
            pipeline_name=self.drift_pipeline_name,
            config=self._config,
            shared=self._shared,
        )
