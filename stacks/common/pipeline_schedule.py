"""An EventBridge Scheduler schedule that starts one SageMaker pipeline, on the stable L2.

``aws_scheduler.Schedule`` with the ``aws_scheduler_targets.SageMakerStartPipelineExecution``
target: the schedule fires at exact times (flexible window off), its target input (the pipeline
parameters) is encrypted with the data key, and when Scheduler's retries run out it sends the
event, with the schedule's role, to a dead-letter queue. The target grants the role what it uses:
``sagemaker:StartPipelineExecution`` on that one pipeline, ``sqs:SendMessage`` on that one queue,
and (the L2 schedule, for the key) ``kms:Decrypt`` on the data key.

The role is a :class:`ScheduleRole`: the trust the L2 target would write itself (Scheduler, only
for this account's ``default`` schedule group: ``aws:SourceAccount`` and ``aws:SourceArn``, the
confused-deputy guard), made here so the role keeps its place in the construct tree and its
description, and so the target's grants land in a customer-managed policy rather than the inline
one CDK would add (the project keeps no inline policies). There is no stable L2 for a SageMaker
pipeline, so :class:`PipelineByName` stands for one (its ARN and the one grant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk.interfaces.aws_sagemaker import PipelineReference
from constructs import Construct

from stacks.common.arns import pipeline_arn
from stacks.common.dead_letters import DeadLetters
from stacks.common.logical_ids import pin_logical_id

#: Schedules without a ``GroupName`` are in the ``default`` schedule group.
DEFAULT_GROUP = "default"


class ScheduleRole(iam.Role):
    """A role Scheduler may assume for schedules of ``group`` in this account only.

    ``aws:SourceArn`` is the schedule *group's* ARN: Scheduler sets that, not the schedule's, and
    AWS's confused-deputy guidance says not to scope it to a schedule name. What the role may do
    (what the schedule's target grants it) is what limits it to one target. Grants land in one
    customer-managed policy, ``Policy`` beside the role (made by the first grant), as every role of
    the project keeps its permissions; never in an inline policy.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, description: str, group: str = DEFAULT_GROUP
    ) -> None:
        stack = cdk.Stack.of(scope)
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": stack.format_arn(
                            service="scheduler", resource="schedule-group", resource_name=group
                        ),
                    }
                },
            ),
            description=description,
        )
        self._scope = scope
        self.policy: iam.ManagedPolicy | None = None

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        """Add a granted ``statement`` to the role's customer-managed policy (not CDK's inline one)."""
        if self.policy is None:
            self.policy = iam.ManagedPolicy(self._scope, "Policy", roles=[self])
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)


@jsii.implements(sagemaker.IPipeline)
class PipelineByName(cdk.Resource):
    """A SageMaker pipeline of this account and region, known by name (it adds nothing to the template)."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str) -> None:
        super().__init__(scope, construct_id)
        self._name = name
        self._arn = pipeline_arn(self, name)

    @property
    def pipeline_arn(self) -> str:
        return self._arn

    @property
    def pipeline_name(self) -> str:
        return self._name

    @property
    def pipeline_ref(self) -> PipelineReference:
        return PipelineReference(pipeline_name=self._name)

    def grant_start_pipeline_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:StartPipelineExecution"], resource_arns=[self._arn]
        )


@dataclass(frozen=True, kw_only=True)
class PipelineScheduleProps:
    """Which pipeline, when, with what parameters, as which role, and where failures go."""

    name: str
    description: str
    expression: str
    pipeline_name: str
    role: ScheduleRole
    #: Encrypts the schedule's target input at rest (the role may decrypt with it).
    key: kms.IKey
    dead_letters: DeadLetters
    #: The schedule's CloudFormation logical ID, pinned: a named schedule cannot be replaced in place.
    logical_id: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    retry_attempts: int = 3
    #: How long Scheduler keeps retrying an event (its default: a day).
    max_event_age: cdk.Duration | None = None


class PipelineSchedule(scheduler.Schedule):
    """The schedule; ``props.role`` gets the target's grants in its customer-managed policy."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PipelineScheduleProps) -> None:
        target = scheduler_targets.SageMakerStartPipelineExecution(
            PipelineByName(scope, f"{construct_id}Pipeline", name=props.pipeline_name),
            role=props.role,
            dead_letter_queue=props.dead_letters.queue,
            retry_attempts=props.retry_attempts,
            max_event_age=props.max_event_age,
            pipeline_parameter_list=[
                scheduler_targets.SageMakerPipelineParameter(name=name, value=value)
                for name, value in props.parameters.items()
            ]
            or None,
        )
        super().__init__(
            scope,
            construct_id,
            schedule_name=props.name,
            description=props.description,
            schedule=scheduler.ScheduleExpression.expression(props.expression),
            target=target,
            key=props.key,
        )
        pin_logical_id(self, props.logical_id)
        if props.role.policy is not None:  # Scheduler checks the role when it fires: grants first
            self.node.add_dependency(props.role.policy)
