"""Offline EventBridge (emulator.events): an event routed through synthesized rules, across accounts.

A stage account's rule forwards its alarms to the tooling account's bus; that bus's policy admits
the stage account for alarm events only; the bus's rules hand a drift alarm to a function and every
alarm to a topic. Routing must follow exactly that: the policy refuses what it does not name.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from emulator.cfn import Assembly, StackTarget
from emulator.events import RefusedError, route

TOOLING, STAGE, OTHER = "111111111111", "333333333333", "444444444444"
BUS = "p-stage-events"
BUS_ARN = f"arn:aws:events:us-east-1:{TOOLING}:event-bus/{BUS}"
ALARM = f"arn:aws:cloudwatch:us-east-1:{STAGE}:alarm:p-prod-drift"


def _event(account: str = STAGE, state: str = "ALARM", source: str = "aws.cloudwatch") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1",
        "source": source,
        "detail-type": "CloudWatch Alarm State Change",
        "account": account,
        "time": "2026-12-06T00:00:00Z",
        "region": "us-east-1",
        "resources": [ALARM.replace(STAGE, account)],
        "detail": {"alarmName": "p-prod-drift", "state": {"value": state, "reason": "8 violations"}},
    }


def _templates(conditions: dict[str, Any] | None = None, principal: str = STAGE) -> dict[str, Any]:
    forward = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventPattern": {"source": ["aws.cloudwatch"], "resources": [{"prefix": ALARM[:-5]}]},
            "Targets": [{"Arn": BUS_ARN, "Id": "Target0"}],
        },
    }
    conditions = (
        conditions
        if conditions is not None
        else {
            "events:source": ["aws.cloudwatch", "aws.sagemaker"],
            "events:detail-type": ["CloudWatch Alarm State Change"],
        }
    )
    on_bus = {"EventBusName": {"Ref": "Bus"}}
    tooling = {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": BUS}},
        "Policy": {
            "Type": "AWS::Events::EventBusPolicy",
            "Properties": {
                **on_bus,
                "StatementId": "StageAccounts",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{principal}:root"]},
                    "Action": "events:PutEvents",
                    "Resource": {"Fn::GetAtt": ["Bus", "Arn"]},
                    "Condition": {"StringEquals": conditions},
                },
            },
        },
        "Trigger": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "trigger"}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Retrain": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                **on_bus,
                "EventPattern": {
                    "account": [STAGE],
                    "resources": [ALARM],
                    "detail": {"state": {"value": ["ALARM"]}},
                },
                "Targets": [{"Arn": {"Fn::GetAtt": ["Trigger", "Arn"]}, "Id": "Target0"}],
            },
        },
        "Tell": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                **on_bus,
                "EventPattern": {"account": [STAGE], "source": ["aws.cloudwatch"]},
                "Targets": [
                    {
                        "Arn": {"Ref": "Topic"},
                        "Id": "Target0",
                        "InputTransformer": {
                            "InputPathsMap": {"name": "$.detail.alarmName", "account": "$.account"},
                            "InputTemplate": '"<name> (account <account>)"',
                        },
                    }
                ],
            },
        },
        # A rule on the tooling account's default bus: a stage's event never reaches it.
        "Default": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": {"source": ["aws.cloudwatch"]},
                "Targets": [{"Arn": {"Ref": "Topic"}, "Id": "Target0"}],
            },
        },
    }
    return {"stage": {"Resources": {"Forward": forward}}, "tooling": {"Resources": tooling}}


def _assembly(templates: dict[str, Any]) -> Assembly:
    return Assembly(
        templates=templates,
        targets={"stage": StackTarget(account=STAGE), "tooling": StackTarget(account=TOOLING)},
    )


def test_a_stage_alarm_crosses_to_the_tooling_bus_and_reaches_its_rules_targets() -> None:
    deliveries = route(_assembly(_templates()), _event(), account=STAGE)
    assert sorted((d.rule, d.kind, d.account) for d in deliveries) == [
        ("tooling/Retrain", "function", TOOLING),
        ("tooling/Tell", "topic", TOOLING),
    ]
    assert all(d.path == (BUS_ARN,) for d in deliveries)
    [told] = [d for d in deliveries if d.kind == "topic"]
    # The event keeps the sending account (EventBridge does; moto's bus target drops it)
    assert told.text == f"p-prod-drift (account {STAGE})"
    [trigger] = [d for d in deliveries if d.kind == "function"]
    assert trigger.target == f"arn:aws:lambda:us-east-1:{TOOLING}:function:trigger"
    assert trigger.event["account"] == STAGE


def test_a_state_the_pattern_does_not_name_reaches_only_the_rules_that_match_it() -> None:
    deliveries = route(_assembly(_templates()), _event(state="OK"), account=STAGE)
    assert [d.rule for d in deliveries] == ["tooling/Tell"]


def test_a_bus_whose_policy_names_another_account_refuses_the_event() -> None:
    with pytest.raises(RefusedError, match=f"principal {STAGE} is not named"):
        route(_assembly(_templates(principal=OTHER)), _event(), account=STAGE)


def test_a_bus_policy_condition_on_the_source_is_applied() -> None:
    templates = _templates(conditions={"events:source": ["aws.sagemaker"]})
    with pytest.raises(RefusedError, match=r"events:source 'aws\.cloudwatch' is not one of"):
        route(_assembly(templates), _event(), account=STAGE)


def test_a_bus_without_a_policy_refuses_other_accounts() -> None:
    templates = copy.deepcopy(_templates())
    del templates["tooling"]["Resources"]["Policy"]
    with pytest.raises(RefusedError, match="has no policy"):
        route(_assembly(templates), _event(), account=STAGE)


def test_a_condition_not_evaluated_offline_is_named_on_the_delivery() -> None:
    templates = _templates(conditions={"aws:PrincipalOrgID": "o-abc"})
    deliveries = route(_assembly(templates), _event(), account=STAGE)
    assert {d.unchecked for d in deliveries} == {(f"{BUS_ARN}: aws:PrincipalOrgID",)}


def test_an_unknown_condition_key_fails_loudly_rather_than_admitting() -> None:
    templates = _templates(conditions={"aws:SourceArn": "x"})
    with pytest.raises(RefusedError, match="aws:SourceArn is not evaluated offline"):
        route(_assembly(templates), _event(), account=STAGE)


def test_an_event_put_in_the_tooling_account_reaches_only_its_default_bus_rules() -> None:
    deliveries = route(_assembly(_templates()), _event(account=TOOLING), account=TOOLING)
    assert [d.rule for d in deliveries] == ["tooling/Default"]
    assert deliveries[0].path == ()
