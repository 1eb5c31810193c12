"""Scheduled retraining: an EventBridge Scheduler schedule that starts the training pipeline.

The run uses the pipeline's defaults, so ``InputDataUri`` is the data prefix the pipeline reads
by default: whatever landed there since the last run is "the latest data". The schedule
(:mod:`stacks.common.pipeline_schedule`) fires at exact times, its target input is encrypted with
the project key, and its role may start only that one pipeline (and decrypt with that key, which
Scheduler requires of the execution role when the schedule uses a customer-managed key). When
Scheduler's retries run out within the hour it sends the event, with that role, to the delivery
stack's dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.common.dead_letters import DeadLetters
from stacks.common.pipeline_schedule import PipelineSchedule, PipelineScheduleProps, ScheduleRole

#: The logical ID the schedule was first deployed with (kept: a named schedule cannot be replaced).
SCHEDULE_LOGICAL_ID: Final = "RetrainSchedule2A04243B"


@dataclass(frozen=True, kw_only=True)
class RetrainScheduleProps:
    """What to start, when, and the key the schedule is encrypted with."""

    name: str
    expression: str
    training_pipeline_name: str
    key: kms.IKey
    dead_letters: DeadLetters


class RetrainSchedule(Construct):
    """The schedule (``schedule``) and its role (``role``)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: RetrainScheduleProps) -> None:
        super().__init__(scope, construct_id)
        self.role = ScheduleRole(
            self, "Role", description="EventBridge Scheduler: may only start the training pipeline"
        )
        self.schedule = PipelineSchedule(
            self,
            "Schedule",
            props=PipelineScheduleProps(
                name=props.name,
                description="Retrain on the latest data (the training pipeline's default InputDataUri)",
                expression=props.expression,
                pipeline_name=props.training_pipeline_name,
                role=self.role,
                key=props.key,
                dead_letters=props.dead_letters,
                logical_id=SCHEDULE_LOGICAL_ID,
                max_event_age=cdk.Duration.hours(1),
            ),
        )
