"""The drift check of an endpoint stage in another account, in that account: ``<prefix>-<stage>-monitoring``.

The captured traffic is in the stage account (its capture bucket, :mod:`stacks.stage_base_stack`),
so the check runs there too, built from the tooling side's constructs: the drift-check pipeline
``<prefix>-<stage>-drift-check`` (:class:`stacks.monitoring.drift_pipeline.DriftPipeline`) in the
stage's network, with the stage's key and capture bucket, the metrics publisher
(:class:`stacks.monitoring.retraining.DriftMetricsPublisher`) and the stage's drift alarm, whose
state changes reach the team's topic and retraining through the tooling account's bus
(:mod:`stacks.stage.alarm_forwarding`). An alarm that stays in ALARM sends no further state
change, so the publisher here also relays drift that persists
(:class:`~stacks.monitoring.drift_relay.DriftRelay`: a check with violations while the alarm is
already in ALARM) as one ``Drift Persists`` event on this account's bus, which the forwarding
sends on to the tooling account's retraining trigger (whose own checks it reads itself).
The endpoint stack gets the schedule that runs it
(:meth:`StageMonitoringStack.add_drift_schedule`): the schedule carries the deployed version's
baseline location, in the tooling account's bucket.

The check's role has a fixed name, ``<prefix>-<stage>-drift`` (:func:`contracts.names.stage_drift_role_name`),
which the tooling account's bucket and key policies admit for baselines only
(:mod:`stacks.data.stage_access`). Only for a stage that is drift-checked (instance-backed, capture
on); like the base and network stacks it does not depend on the approved version, so it is deployed
once, by hand, before the first ship (and again when the platform changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from contracts.config import MonitoringConfig, StageConfig
from contracts.names import drift_alarm_name, endpoint_name, stage_drift_pipeline_name, stage_drift_role_name
from stacks.common.logical_ids import pin_logical_id
from stacks.common.shared import SharedResources
from stacks.monitoring.drift_alarms import drift_alarm
from stacks.monitoring.drift_pipeline import DriftPipeline
from stacks.monitoring.drift_props import DriftPipelineProps, ToolingBaselines
from stacks.monitoring.drift_relay import DriftRelay
from stacks.monitoring.drift_schedule import DriftSchedule, drift_schedule
from stacks.monitoring.retraining import DriftMetricsPublisher, ReportReaderProps
from stacks.pipeline.source_bundle import DEFAULT_BUILD_DIR, DEFAULT_SOURCE_DIR

#: Logical IDs of the named resources (renaming one would fail: a named resource cannot be replaced).
LOGICAL_IDS = {"role": "DriftCheckRole", "pipeline": "DriftCheckPipeline", "alarm": "DriftAlarm"}


@dataclass(frozen=True, kw_only=True)
class StageMonitoringProps:
    """The stage, its monitoring settings, the tooling account its baselines are in."""

    stage: StageConfig
    config: MonitoringConfig
    tooling_account: str
    #: The drift-check job's time limit (``pipeline.maxRuntimeSeconds``, as on the tooling side).
    max_runtime_seconds: int
    source_dir: Path = DEFAULT_SOURCE_DIR
    build_dir: Path = DEFAULT_BUILD_DIR


class StageMonitoringStack(cdk.Stack):
    """The stage's drift-check pipeline, its metrics publisher and its drift alarm.

    ``shared`` is the stage's (:attr:`stacks.stage_account.StageAccount.shared`: its key, capture
    bucket as the artifact bucket, network and topic).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: StageMonitoringProps,
        shared: SharedResources,
        env: cdk.Environment,
        synthesizer: cdk.IStackSynthesizer | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        prefix, stage = shared.prefix, props.stage
        self.endpoint_name = endpoint_name(prefix, stage.name)
        self.drift_pipeline_name = stage_drift_pipeline_name(prefix, stage.name)
        self._props, self._shared = props, shared
        reports = ReportReaderProps(key=shared.key, bucket=shared.artifact_bucket)
        self.publisher = DriftMetricsPublisher(
            self,
            "DriftMetrics",
            props=reports,
            relay=DriftRelay(alarm_name=drift_alarm_name(self.endpoint_name)),
        )
        drift = DriftPipelineProps.of(
            shared,
            name=self.drift_pipeline_name,
            monitoring=props.config,
            max_runtime_seconds=props.max_runtime_seconds,
            publisher=self.publisher.function,
            source_dir=props.source_dir,
            build_dir=props.build_dir,
            baselines=ToolingBaselines(
                role_name=stage_drift_role_name(prefix, stage.name), tooling_account=props.tooling_account
            ),
        )
        self.drift = DriftPipeline(self, "DriftCheck", props=drift)
        pin_logical_id(self.drift.role, LOGICAL_IDS["role"])
        pin_logical_id(self.drift.pipeline, LOGICAL_IDS["pipeline"])
        self.drift_alarm = drift_alarm(
            self, stage=stage, endpoint=self.endpoint_name, topic=shared.alarm_topic
        )
        pin_logical_id(self.drift_alarm, LOGICAL_IDS["alarm"])

    def add_drift_schedule(self, scope: Construct, *, stage: StageConfig) -> DriftSchedule | None:
        """Schedule this stage's drift check in ``scope`` (its endpoint stack, in this account).

        Returns None when ``stage`` is not this stack's stage or its version has no baseline.
        """
        if stage.name != self._props.stage.name:
            return None
        return drift_schedule(
            scope,
            stage=stage,
            endpoint=self.endpoint_name,
            pipeline_name=self.drift_pipeline_name,
            config=self._props.config,
            shared=self._shared,
        )
