"""The schedule that starts the batch scoring pipeline (``batch.schedule``), in the monitoring stack.

It lives beside the alert topic and the stack's dead-letter queue: when Scheduler's retries run out
within the hour it sends the event, with the schedule's role, to ``<prefix>-monitoring-dlq``, whose
alarm notifies the team. The run uses the pipeline's defaults (``InputDataUri``: the configured
input). The role may only start that one pipeline (:mod:`stacks.common.pipeline_schedule`).
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from contracts.names import batch_pipeline_name
from stacks.batch.props import BatchScoring
from stacks.common.dead_letters import DeadLetters
from stacks.common.pipeline_schedule import PipelineSchedule, PipelineScheduleProps, ScheduleRole

#: The schedule's logical ID, pinned (a named schedule cannot be replaced in place).
SCHEDULE_LOGICAL_ID: Final = "BatchScoreSchedule"


class BatchSchedule(Construct):
    """The schedule (``schedule``) and its role (``role``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        expression: str,
        key: kms.IKey,
        dead_letters: DeadLetters,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = ScheduleRole(
            self, "Role", description=f"EventBridge Scheduler: may only start {pipeline_name}"
        )
        self.schedule = PipelineSchedule(
            self,
            "Schedule",
            props=PipelineScheduleProps(
                name=pipeline_name,
                description="Score the batch input with the newest Approved model version",
                expression=expression,
                pipeline_name=pipeline_name,
                role=self.role,
                key=key,
                dead_letters=dead_letters,
                logical_id=SCHEDULE_LOGICAL_ID,
                max_event_age=cdk.Duration.hours(1),
            ),
        )


def batch_schedule(
    scope: Construct, scoring: BatchScoring | None, *, prefix: str, key: kms.IKey, dead_letters: DeadLetters
) -> BatchSchedule | None:
    """``BatchSchedule`` in ``scope`` when batch scoring is on and has a ``schedule``, else None."""
    if scoring is None or scoring.config.schedule is None:
        return None
    return BatchSchedule(
        scope,
        "BatchSchedule",
        pipeline_name=batch_pipeline_name(prefix),
        expression=scoring.config.schedule,
        key=key,
        dead_letters=dead_letters,
    )
