"""Alerts and retraining across accounts (issue 13 point 4, phase B): a stage account sends its
endpoint's alarm state changes to the tooling account's ``<prefix>-stage-events`` bus, where they
reach the team's topic, and the drift alarm (and drift that persists) the retraining trigger.

Pinned whole, so a widening fails: the bus policy (principals, action, resource, conditions), each
rule's pattern (account, source, alarms) and target, the stage side's rule, target and role.
Requests against these policies: tests/security/test_stage_events_attacks.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources, synth_platform
from test_multi_account import ORG, PROD, STAGING, TOOLING, _multi_account

from emulator.cfn import Assembly
from emulator.events import route

PREFIX = "mlops-demo-dev"
REGION = "eu-west-1"
BUS = f"arn:aws:events:{REGION}:{TOOLING}:event-bus/{PREFIX}-stage-events"
ALARM_EVENT = "CloudWatch Alarm State Change"
PIPELINE_EVENT = "SageMaker Model Building Pipeline Execution Status Change"
DRIFT_SOURCE, PERSISTS_EVENT = "mlops.drift", "Drift Persists"
DRIFT_PIPELINE = f"arn:aws:sagemaker:{REGION}:{PROD}:pipeline/{PREFIX}-prod-drift-check"


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    # synth_platform raises on any unacknowledged cdk-nag or own-rule finding
    return synth_platform(tmp_path_factory.mktemp("events"), edit=_multi_account(ORG), approved=True)


def _by_prefix(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of a type by logical ID without CDK's hash suffix (the last 8 characters)."""
    return {lid[:-8]: r["Properties"] for lid, r in resources(template, resource_type).items()}


def _alarms(account: str, stage: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{account}:alarm:{PREFIX}-{stage}-"


# ---------------------------------------------------------------------- the tooling account


def test_only_the_stage_accounts_may_send_alarm_events_to_the_bus(staged: SynthesizedPlatform) -> None:
    monitoring = staged.raw["monitoring"]
    (bus_id, bus) = next(iter(resources(monitoring, "AWS::Events::EventBus").items()))
    assert bus["Properties"]["Name"] == f"{PREFIX}-stage-events"
    (policy,) = resources(monitoring, "AWS::Events::EventBusPolicy").values()
    assert policy["Properties"] == {
        "EventBusName": {"Ref": bus_id},
        "StatementId": "StageAccountsPutAlarmEvents",
        "Statement": {
            "Sid": "StageAccountsPutAlarmEvents",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{STAGING}:root", f"arn:aws:iam::{PROD}:root"]},
            "Action": "events:PutEvents",
            "Resource": {"Fn::GetAtt": [bus_id, "Arn"]},
            "Condition": {
                "StringEquals": {
                    "events:source": ["aws.cloudwatch", "aws.sagemaker", DRIFT_SOURCE],
                    "events:detail-type": [ALARM_EVENT, PIPELINE_EVENT, PERSISTS_EVENT],
                    "aws:PrincipalOrgID": ORG,
                }
            },
        },
    }


def test_each_stages_alarms_reach_the_team_topic_from_its_account_only(staged: SynthesizedPlatform) -> None:
    monitoring = staged.raw["monitoring"]
    (bus_id,) = resources(monitoring, "AWS::Events::EventBus")
    rules = _by_prefix(monitoring, "AWS::Events::Rule")
    for stage, account in (("staging", STAGING), ("prod", PROD)):
        rule = rules[f"StageEventsStageAlarms{stage.capitalize()}"]
        assert rule["EventBusName"] == {"Ref": bus_id}
        assert rule["EventPattern"] == {
            "account": [account],
            "detail-type": [ALARM_EVENT],
            "resources": [{"prefix": _alarms(account, stage)}],
            "source": ["aws.cloudwatch"],
        }
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Ref": next(iter(resources(monitoring, "AWS::SNS::Topic")))}
        assert target["InputTransformer"]["InputTemplate"] == (
            '"<detail-alarmName> (account <account>) is <detail-state-value>: <detail-state-reason>"'
        )
        assert "DeadLetterConfig" in target
    # every other rule stays on the default bus, where no other account may send
    others = [lid for lid, rule in rules.items() if not lid.startswith("StageEvents")]
    assert others
    assert all("EventBusName" not in rules[lid] for lid in others)


def test_only_the_drift_alarm_in_alarm_starts_retraining(staged: SynthesizedPlatform) -> None:
    monitoring = staged.raw["monitoring"]
    rules = _by_prefix(monitoring, "AWS::Events::Rule")
    # staging captures nothing: no drift alarm, no retraining rule
    assert [lid for lid in rules if lid.startswith("StageEventsRetrainOnDrift")] == [
        "StageEventsRetrainOnDriftProd"
    ]
    rule = rules["StageEventsRetrainOnDriftProd"]
    assert rule["EventPattern"] == {
        "account": [PROD],
        "detail": {"state": {"value": ["ALARM"]}},
        "detail-type": [ALARM_EVENT],
        "resources": [f"{_alarms(PROD, 'prod')}drift"],
        "source": ["aws.cloudwatch"],
    }
    (target,) = rule["Targets"]
    (trigger,) = [
        lid for lid in resources(monitoring, "AWS::Lambda::Function") if lid.startswith("RetrainTrigger")
    ]
    assert target["Arn"] == {"Fn::GetAtt": [trigger, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 4}


def test_persisting_drift_in_a_stage_account_retries_retraining(staged: SynthesizedPlatform) -> None:
    monitoring = staged.raw["monitoring"]
    rules = _by_prefix(monitoring, "AWS::Events::Rule")
    # staging captures nothing: no drift check, nothing to persist
    assert [lid for lid in rules if lid.startswith("StageEventsPersistentDrift")] == [
        "StageEventsPersistentDriftProd"
    ]
    rule = rules["StageEventsPersistentDriftProd"]
    (bus_id,) = resources(monitoring, "AWS::Events::EventBus")
    assert rule["EventBusName"] == {"Ref": bus_id}
    # its account AND its alarm: another stage account cannot name prod's alarm
    assert rule["EventPattern"] == {
        "account": [PROD],
        "detail": {"alarmName": [f"{PREFIX}-prod-drift"]},
        "detail-type": [PERSISTS_EVENT],
        "source": [DRIFT_SOURCE],
    }
    # the same target as the alarm's: the trigger, retried, then the dead letters
    assert rule["Targets"] == rules["StageEventsRetrainOnDriftProd"]["Targets"]
    (target,) = rule["Targets"]
    (trigger,) = [
        lid for lid in resources(monitoring, "AWS::Lambda::Function") if lid.startswith("RetrainTrigger")
    ]
    assert target["Arn"] == {"Fn::GetAtt": [trigger, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 4}
    (queue,) = [
        lid for lid in resources(monitoring, "AWS::SQS::Queue") if lid.startswith("AlertsDeadLetters")
    ]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}


def test_a_failed_stage_drift_check_reaches_the_team_topic(staged: SynthesizedPlatform) -> None:
    monitoring = staged.raw["monitoring"]
    rules = _by_prefix(monitoring, "AWS::Events::Rule")
    assert [lid for lid in rules if lid.startswith("StageEventsDriftCheckFailed")] == [
        "StageEventsDriftCheckFailedProd"
    ]
    rule = rules["StageEventsDriftCheckFailedProd"]
    assert rule["EventPattern"] == {
        "account": [PROD],
        "detail": {"currentPipelineExecutionStatus": ["Failed"], "pipelineArn": [DRIFT_PIPELINE]},
        "detail-type": [PIPELINE_EVENT],
        "source": ["aws.sagemaker"],
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": next(iter(resources(monitoring, "AWS::SNS::Topic")))}
    assert target["InputTransformer"]["InputTemplate"] == (
        '"<detail-pipelineExecutionArn> (account <account>) is <detail-currentPipelineExecutionStatus>"'
    )


# ---------------------------------------------------------------------- the stage accounts


@pytest.mark.parametrize(("stage", "account"), [("staging", STAGING), ("prod", PROD)])
def test_a_stage_sends_its_alarms_to_the_tooling_bus_and_nowhere_else(
    staged: SynthesizedPlatform, stage: str, account: str
) -> None:
    base = staged.raw[f"{stage}-base"]
    rules = _by_prefix(base, "AWS::Events::Rule")
    # prod's drift check runs there: its failed runs and its persisting drift are sent too
    assert sorted(rules) == (
        ["AlarmForwardingRule"]
        if stage == "staging"
        else ["AlarmForwardingFailedChecks", "AlarmForwardingPersistingDrift", "AlarmForwardingRule"]
    )
    rule = rules["AlarmForwardingRule"]
    assert rule["EventPattern"] == {
        "detail-type": [ALARM_EVENT],
        "resources": [{"prefix": _alarms(account, stage)}],
        "source": ["aws.cloudwatch"],
    }
    (role_id,) = [lid for lid in resources(base, "AWS::IAM::Role") if lid.startswith("AlarmForwarding")]
    assert rule["Targets"] == [
        {
            "Arn": BUS,
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}},
            "Id": "Target0",
            "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
        }
    ]
    role = base["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
        }
    ]
    (policy,) = [
        p
        for p in resources(base, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "events:PutEvents", "Effect": "Allow", "Resource": BUS, "Sid": "PutToolingBus"}
    ]
    if stage == "prod":
        failed = rules["AlarmForwardingFailedChecks"]
        assert failed["EventPattern"] == {
            "detail": {"currentPipelineExecutionStatus": ["Failed"], "pipelineArn": [DRIFT_PIPELINE]},
            "detail-type": [PIPELINE_EVENT],
            "source": ["aws.sagemaker"],
        }
        assert failed["Targets"] == rule["Targets"]
        # the publisher's Drift Persists events (put on this account's default bus), for its alarm only
        persisting = rules["AlarmForwardingPersistingDrift"]
        assert persisting["EventPattern"] == {
            "detail": {"alarmName": [f"{PREFIX}-prod-drift"]},
            "detail-type": [PERSISTS_EVENT],
            "source": [DRIFT_SOURCE],
        }
        assert "EventBusName" not in persisting  # the default bus, where the publisher puts it
        assert persisting["Targets"] == rule["Targets"]
    queue = base["Resources"]["DeadLetterQueue"]  # pinned: a named queue cannot be replaced
    assert queue["Properties"]["QueueName"] == f"{PREFIX}-{stage}-base-dlq"
    # when forwarding fails, the stage's own topic says so: the one alarm there with an action
    actions = {
        a["Properties"]["AlarmName"]: a["Properties"].get("AlarmActions")
        for a in resources(base, "AWS::CloudWatch::Alarm").values()
    }
    assert actions == {f"{PREFIX}-{stage}-base-dlq-not-empty": [{"Ref": "AlertTopic"}]}


def test_a_single_account_environment_has_no_stage_events(synthesized: SynthesizedPlatform) -> None:
    assert not resources(synthesized.raw["monitoring"], "AWS::Events::EventBus")
    assert not resources(synthesized.raw["monitoring"], "AWS::Events::EventBusPolicy")


# ---------------------------------------------------------------------- the whole path, routed


def _persists(account: str, alarm: str = f"{PREFIX}-prod-drift") -> dict[str, Any]:
    """The publisher's Drift Persists event as EventBridge makes it from its PutEvents entry."""
    return {
        "version": "0",
        "id": "1",
        "source": DRIFT_SOURCE,
        "detail-type": PERSISTS_EVENT,
        "account": account,
        "time": "2026-12-06T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {"alarmName": alarm, "reason": "drift persists: drift check c1 found 3 violation(s)"},
    }


@pytest.mark.parametrize(
    ("account", "alarm", "reaches"),
    [
        (PROD, f"{PREFIX}-prod-drift", True),
        (PROD, f"{PREFIX}-prod-rollback", False),  # not the drift alarm: the stage rule does not send it
        (STAGING, f"{PREFIX}-prod-drift", False),  # staging has no drift check and no such rule
    ],
)
def test_persisting_drift_put_in_the_stage_account_reaches_the_tooling_trigger(
    staged: SynthesizedPlatform, account: str, alarm: str, reaches: bool
) -> None:
    # GIVEN the synthesized rules and bus policy (routed by emulator.events, moto's pattern matcher)
    assembly = Assembly.load(staged.outdir)
    # WHEN the stage's publisher puts Drift Persists on its own account's default bus
    deliveries = route(assembly, _persists(account, alarm), account=account)
    # THEN prod's crosses to the tooling bus and reaches the retraining trigger, and only that
    if not reaches:
        assert deliveries == []
        return
    (delivery,) = deliveries
    assert delivery.rule.startswith(f"{PREFIX}-monitoring/StageEventsPersistentDriftProd")
    assert (delivery.account, delivery.kind) == (TOOLING, "function")
    assert "retraintrigger" in delivery.target
    assert delivery.path == (BUS,)
    assert delivery.event["account"] == PROD  # the rule in the tooling account matches it
