"""The Scheduler L2 the schedules are built on, and the stand-in pipeline it starts."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets

from stacks.common.pipeline_schedule import PipelineByName


def _template(app: cdk.App, stack: cdk.Stack) -> dict[str, Any]:
    return dict(app.synth().get_stack_by_name(stack.stack_name).template)


def test_the_l2_targets_own_role_keeps_the_confused_deputy_condition() -> None:
    # GIVEN an L2 schedule whose target makes its own role (why the schedules use the L2)
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    scheduler.Schedule(
        stack,
        "Schedule",
        schedule=scheduler.ScheduleExpression.expression("rate(1 day)"),
        target=scheduler_targets.SageMakerStartPipelineExecution(
            PipelineByName(stack, "P", name="Demo-Training")
        ),
    )
    # WHEN it is synthesized
    template = _template(app, stack)
    # THEN Scheduler may assume that role only for this account's default schedule group
    (role,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    condition = trust["Condition"]["StringEquals"]
    assert condition["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert json.dumps(condition["aws:SourceArn"]).endswith(':schedule-group/default"]]}')
    # ... and it may start only the named pipeline (lower-cased in the ARN, as SageMaker writes it)
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    (start,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert start["Action"] == "sagemaker:StartPipelineExecution"
    assert json.dumps(start["Resource"]).endswith(':pipeline/demo-training"]]}')


def test_a_pipeline_by_name_adds_nothing_to_the_template() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    cdk.CfnOutput(stack, "Arn", value=PipelineByName(stack, "P", name="p").pipeline_arn)
    resources = _template(app, stack).get("Resources", {}).values()
    assert [r["Type"] for r in resources if r["Type"] != "AWS::CDK::Metadata"] == []
