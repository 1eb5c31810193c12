"""The schedule that runs one endpoint's drift check, in that endpoint's stack.

It lives with the endpoint because it carries the deployed version's baseline location: a new
approved version redeploys the endpoint stack and so re-points the check at the new baseline.
The role may only start the drift-check pipeline (and dead-letter: when Scheduler's retries run
out, it sends the schedule's event, with this role, to ``<endpoint>-drift-dlq`` in the same stack,
whose alarm notifies the alert topic).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from contracts import layout
from contracts.config import MonitoringConfig, StageConfig
from contracts.names import drift_dead_letter_queue_name, drift_schedule_name
from stacks.common.dead_letters import DeadLetters, DeadLettersProps
from stacks.common.schedule_role import schedule_role
from stacks.common.shared import SharedResources


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
    #: Where the dead-letter queue's alarm goes.
    topic: sns.ITopic


class DriftSchedule(Construct):
    """EventBridge Scheduler → ``StartPipelineExecution`` of the drift check."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DriftScheduleProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        pipeline_arn = stack.format_arn(
            service="sagemaker", resource="pipeline", resource_name=props.pipeline_name.lower()
        )
        name = drift_schedule_name(props.endpoint_name)
        role = schedule_role(self, "Role", description=f"Starts the drift check of {props.endpoint_name}")
        self.dead_letters = DeadLetters(
            self,
            "DeadLetters",
            props=DeadLettersProps(
                queue_name=drift_dead_letter_queue_name(props.endpoint_name),
                senders=f"the drift-check schedule of {props.endpoint_name}",
                topic=props.topic,
            ),
        )
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="StartDriftCheck",
                    actions=["sagemaker:StartPipelineExecution"],
                    resources=[pipeline_arn],
                ),
                iam.PolicyStatement(
                    sid="DecryptScheduleTarget", actions=["kms:Decrypt"], resources=[props.key.key_arn]
                ),
                self.dead_letters.send_statement(),
            ],
        )
        parameters = {
            "EndpointName": props.endpoint_name,
            "CaptureUri": f"s3://{props.bucket_name}/{layout.CAPTURE_PREFIX}{props.endpoint_name}/",
            "BaselineUri": props.baseline_uri,
            "LookbackHours": str(props.lookback_hours),
        }
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            name=name,
            kms_key_arn=props.key.key_arn,
            description=f"Drift check of {props.endpoint_name} against its model version's baseline",
            schedule_expression=props.expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=pipeline_arn,
                role_arn=role.role_arn,
                sage_maker_pipeline_parameters=scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
                    pipeline_parameter_list=[
                        scheduler.CfnSchedule.SageMakerPipelineParameterProperty(name=k, value=v)
                        for k, v in parameters.items()
                    ]
                ),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_retry_attempts=3),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                    arn=self.dead_letters.queue.queue_arn
                ),
            ),
        )
        self.schedule.node.add_dependency(policy)
        self.parameters = parameters


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
            topic=shared.alert_topic,
        ),
    )
