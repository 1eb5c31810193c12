"""The schedule that runs one endpoint's drift check, in that endpoint's stack.

It lives with the endpoint because it carries the deployed version's baseline location: a new
approved version redeploys the endpoint stack and so re-points the check at the new baseline.
The role may only start the drift-check pipeline (and dead-letter: when Scheduler's retries run
out, it sends the schedule's event, with this role, to ``<endpoint>-drift-dlq`` in the same stack,
whose alarm notifies the alert topic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts import layout
from contracts.config import MonitoringConfig, StageConfig
from contracts.names import drift_dead_letter_queue_name, drift_schedule_name
from stacks.common.dead_letters import DeadLetters, DeadLettersProps
from stacks.common.pipeline_schedule import PipelineSchedule, PipelineScheduleProps, ScheduleRole
from stacks.common.shared import SharedResources

#: The logical ID the schedule was first deployed with (kept: a named schedule cannot be replaced).
SCHEDULE_LOGICAL_ID: Final = "DriftSchedule96E1CA05"


@dataclass(frozen=True, kw_only=True)
class DriftScheduleProps:
    """What to check, against what, how often."""

    pipeline_name: str
    endpoint_name: str
    bucket_name: str
    baseline_uri: str
    lookback_hours: int
    expression: str
    #: Encrypts the schedule's target input (its parameters) at rest.
    key: kms.IKey
    #: Where the dead-letter queue's alarm goes (None: forwarded, :mod:`stacks.common.alarm_actions`).
    topic: sns.ITopic | None


class DriftSchedule(Construct):
    """Scheduler → ``StartPipelineExecution`` of the drift check (``schedule``, its ``parameters``)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DriftScheduleProps) -> None:
        super().__init__(scope, construct_id)
        role = ScheduleRole(self, "Role", description=f"Starts the drift check of {props.endpoint_name}")
        self.dead_letters = DeadLetters(
            self,
            "DeadLetters",
            props=DeadLettersProps(
                queue_name=drift_dead_letter_queue_name(props.endpoint_name),
                senders=f"the drift-check schedule of {props.endpoint_name}",
                topic=props.topic,
            ),
        )
        self.parameters = {
            "EndpointName": props.endpoint_name,
            "CaptureUri": f"s3://{props.bucket_name}/{layout.CAPTURE_PREFIX}{props.endpoint_name}/",
            "BaselineUri": props.baseline_uri,
            "LookbackHours": str(props.lookback_hours),
        }
        self.schedule = PipelineSchedule(
            self,
            "Schedule",
            props=PipelineScheduleProps(
                name=drift_schedule_name(props.endpoint_name),
                description=f"Drift check of {props.endpoint_name} against its model version's baseline",
                expression=props.expression,
                pipeline_name=props.pipeline_name,
                role=role,
                key=props.key,
                dead_letters=self.dead_letters,
                logical_id=SCHEDULE_LOGICAL_ID,
                parameters=self.parameters,
            ),
        )


def drift_schedule(
    scope: Construct,
    *,
    stage: StageConfig,
    endpoint: str,
    pipeline_name: str,
    config: MonitoringConfig,
    shared: SharedResources,
) -> DriftSchedule | None:
    """``DriftSchedule`` in ``scope`` for ``stage``'s ``endpoint``, against its version's baseline.

    Returns None when the stage's version has no baseline (or no approved version) to check against.
    """
    approved = stage.approved_model
    if approved is None or approved.baseline_statistics_uri is None:
        return None
    return DriftSchedule(
        scope,
        "DriftSchedule",
        props=DriftScheduleProps(
            pipeline_name=pipeline_name,
            endpoint_name=endpoint,
            bucket_name=shared.artifact_bucket.bucket_name,
            baseline_uri=approved.baseline_statistics_uri.rsplit("/", 1)[0] + "/",
            lookback_hours=config.lookback_hours,
            expression=config.drift_schedule,
            key=shared.key,
            topic=shared.alarm_topic,
        ),
    )
