"""Python Lambda functions from the ``functions/`` folder, with their own role and log group.

A function invoked asynchronously (by an EventBridge rule) gets a dead-letter queue: Lambda
retries a failed event twice, then sends it there with the function's role instead of dropping
it. The functions the drift pipeline calls as Lambda steps are invoked synchronously (a failure
fails the step and the pipeline's failure alert fires), so they have none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from stacks.common.dead_letters import DeadLetters
from stacks.common.nag import acknowledge
from stacks.monitoring.function_asset import EXCLUDE, stage_functions


@dataclass(frozen=True, kw_only=True)
class FunctionProps:
    """Handler, environment, what it may do, and how many may run at once."""

    handler: str
    description: str
    key: kms.IKey
    statements: Sequence[iam.PolicyStatement]
    environment: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int = 1
    timeout_seconds: int = 60
    #: Where failed asynchronous invocations go; None: only ever invoked synchronously.
    dead_letters: DeadLetters | None = None


class PythonFunction(Construct):
    """A python3.14 function (``functions/`` + contracts), KMS-encrypted env and logs, no managed policy."""

    def __init__(self, scope: Construct, construct_id: str, *, props: FunctionProps) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=props.key, retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )  # fmt: skip
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=props.description,
        )
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role])
        policy.add_statements(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            ),
            *props.statements,
            *([props.dead_letters.send_statement()] if props.dead_letters else []),
        )
        self.policy = policy
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler=props.handler,
            code=lambda_.Code.from_asset(str(stage_functions()), exclude=EXCLUDE),
            description=props.description,
            role=self.role,
            environment=dict(props.environment),
            environment_encryption=props.key,
            log_group=self.log_group,
            reserved_concurrent_executions=props.reserved_concurrency,
            timeout=cdk.Duration.seconds(props.timeout_seconds),
            memory_size=256,
        )
        # Depend on the policy only: CDK's extra DependsOn on the role (already a GetAtt) is W3005.
        cfn_function, cfn_policy = self.function.node.default_child, policy.node.default_child
        if isinstance(cfn_function, cdk.CfnResource) and isinstance(cfn_policy, cdk.CfnElement):
            cfn_function.add_override("DependsOn", [cdk.Stack.of(self).get_logical_id(cfn_policy)])
        self._dead_letters(props.dead_letters, cfn_function)
        acknowledge(
            self.function,
            "NIST.800.53.R5-LambdaInsideVPC",
            "It calls only AWS APIs (S3, CloudWatch, SageMaker) with an IAM-scoped role and reaches no VPC "
            "resource; the isolated VPC has no route to those APIs' public endpoints.",
        )

    def _dead_letters(self, dead_letters: DeadLetters | None, cfn_function: IConstruct | None) -> None:
        """Failed asynchronous invocations go to ``dead_letters``; without one, say why none is needed."""
        if dead_letters is None:
            acknowledge(
                self.function,
                "NIST.800.53.R5-LambdaDLQ",
                "Invoked only synchronously, as a SageMaker pipeline Lambda step: a failure fails the "
                "step and the execution (the pipeline-failed alert rule notifies); there is no "
                "asynchronous invocation to dead-letter.",
            )
            return
        # Set on the resource, not through Function(dead_letter_queue=...): CDK would grant
        # sqs:SendMessage in an inline policy; the statement is in the managed policy above.
        if isinstance(cfn_function, lambda_.CfnFunction):
            cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
                target_arn=dead_letters.queue.queue_arn
            )
        # Lambda's own defaults, pinned: two retries, then the queue; an event older than
        # six hours (throttled behind the one allowed concurrent run) goes there too.
        self.function.configure_async_invoke(retry_attempts=2, max_event_age=cdk.Duration.hours(6))
