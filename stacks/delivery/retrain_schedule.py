"""Scheduled retraining: an EventBridge Scheduler schedule that starts the training pipeline.

The run uses the pipeline's defaults, so ``InputDataUri`` is the data prefix the pipeline reads
by default: whatever landed there since the last run is "the latest data". The schedule fires at
exact times (flexible window off), its target input is encrypted with the project key, and its
role may start only that one pipeline (and decrypt with that key, which Scheduler requires of
the execution role when the schedule uses a customer-managed key). When Scheduler's retries run
out it sends the event, with that role, to the delivery stack's dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from stacks.common.arns import pipeline_arn
from stacks.common.dead_letters import DeadLetters
from stacks.common.schedule_role import schedule_role


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
        stack = cdk.Stack.of(self)
        target = pipeline_arn(stack, props.training_pipeline_name)
        self.role = schedule_role(
            self,
            "Role",
            description="EventBridge Scheduler: may only start the training pipeline",
        )
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="StartTrainingPipeline",
                    actions=["sagemaker:StartPipelineExecution"],
                    resources=[target],
                ),
                iam.PolicyStatement(
                    sid="DecryptScheduleTarget", actions=["kms:Decrypt"], resources=[props.key.key_arn]
                ),
                props.dead_letters.send_statement(),
            ],
        )
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            name=props.name,
            description="Retrain on the latest data (the training pipeline's default InputDataUri)",
            schedule_expression=props.expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            kms_key_arn=props.key.key_arn,
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=target,
                role_arn=self.role.role_arn,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                    arn=props.dead_letters.queue.queue_arn
                ),
            ),
        )
        self.schedule.node.add_dependency(policy)
