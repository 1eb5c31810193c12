"""Nothing lost on the event path: every asynchronous delivery of every synthesized template ends in
an encrypted, TLS-only dead-letter queue of its own stack whose depth alarms the alert topic.

Checked over every template the session synth wrote (the pipeline stack's included), so a rule,
schedule or asynchronously invoked function added later without a dead-letter queue fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources

PREFIX = "mlops-demo-dev"
#: One queue per stack with an asynchronous path (the prod endpoint stack has the drift schedule).
QUEUES = {
    "monitoring": f"{PREFIX}-monitoring-dlq",
    "delivery": f"{PREFIX}-delivery-dlq",
    "endpoint-prod": f"{PREFIX}-prod-drift-dlq",
}


@pytest.fixture(scope="module")
def templates(synthesized: SynthesizedPlatform) -> dict[str, dict[str, Any]]:
    """Every stack template of the session synth, by the part of its name after the prefix."""
    found = {
        path.name.removesuffix(".template.json").removeprefix(f"{PREFIX}-"): json.loads(path.read_text())
        for path in synthesized.outdir.glob("*.template.json")
    }
    assert {"pipeline", "monitoring"} <= set(found)
    return found


def _queue_of(template: dict[str, Any], arn: Any) -> str:
    """The logical ID of the queue of *this* template that ``arn`` (a ``GetAtt … Arn``) names."""
    assert isinstance(arn, dict), f"not a queue of this stack: {arn}"
    assert list(arn) == ["Fn::GetAtt"], f"not a queue of this stack: {arn}"
    queue_id, attribute = arn["Fn::GetAtt"]
    assert attribute == "Arn"
    assert template["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"
    return str(queue_id)


def _queue_statements(template: dict[str, Any], queue_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    return list(policy)


def _role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        s
        for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        for p in resources(template, kind).values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_each_stack_with_an_asynchronous_path_has_its_own_named_queue(
    templates: dict[str, dict[str, Any]],
) -> None:
    names = {
        part: [q["Properties"]["QueueName"] for q in resources(t, "AWS::SQS::Queue").values()]
        for part, t in templates.items()
    }
    assert {part: found for part, found in names.items() if found} == {
        part: [name] for part, name in QUEUES.items()
    }


def test_every_rule_target_dead_letters_where_only_its_rule_may_write(
    templates: dict[str, dict[str, Any]],
) -> None:
    checked = 0
    for template in templates.values():
        for rule_id, rule in resources(template, "AWS::Events::Rule").items():
            for target in rule["Properties"]["Targets"]:
                # GIVEN a rule's target THEN undeliverable events go to a queue of the rule's stack
                queue_id = _queue_of(template, target["DeadLetterConfig"]["Arn"])
                # ... whose policy lets EventBridge send for exactly this rule
                sends = [
                    s
                    for s in _queue_statements(template, queue_id)
                    if s["Effect"] == "Allow" and s["Principal"] == {"Service": "events.amazonaws.com"}
                    and s["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}
                ]  # fmt: skip
                assert [s["Action"] for s in sends] == ["sqs:SendMessage"], rule_id
                checked += 1
    # alert rules (3), retrain + recheck (2), approval (1)
    assert checked == 6
    # ... and no queue lets anyone else write: every allow names one rule (the only writers by
    # policy; Scheduler and Lambda send with their own roles)
    allows = [
        s
        for template in templates.values()
        for policy in resources(template, "AWS::SQS::QueuePolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert len(allows) == checked
    assert all(list(s["Condition"]) == ["ArnEquals"] for s in allows)


def test_every_schedule_dead_letters_with_its_own_role(templates: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for template in templates.values():
        for schedule in resources(template, "AWS::Scheduler::Schedule").values():
            target = schedule["Properties"]["Target"]
            # GIVEN a schedule THEN its target dead-letters to a queue of its stack ...
            queue_id = _queue_of(template, target["DeadLetterConfig"]["Arn"])
            # ... and Scheduler, which sends with the execution role, may send there (and only there)
            role_id = target["RoleArn"]["Fn::GetAtt"][0]
            sends = [s for s in _role_statements(template, role_id) if "sqs:SendMessage" in s["Action"]]
            assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
            checked += 1
    assert checked == 1  # the prod drift check (the dev config has no retraining schedule)


def test_asynchronously_invoked_functions_dead_letter_and_the_rest_are_pipeline_steps(
    templates: dict[str, dict[str, Any]], synthesized: SynthesizedPlatform
) -> None:
    template = templates["monitoring"]
    targets = {
        t["Arn"]["Fn::GetAtt"][0]
        for rule in resources(template, "AWS::Events::Rule").values()
        for t in rule["Properties"]["Targets"]
        if "Fn::GetAtt" in t["Arn"]
    }
    functions = resources(template, "AWS::Lambda::Function")
    assert len(targets) == 1  # the retrain trigger
    assert targets <= set(functions)
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
    }
    (pipeline,) = [p["Properties"] for p in resources(template, "AWS::SageMaker::Pipeline").values()]
    steps = json.dumps(pipeline["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"][1])
    for function_id, function in functions.items():
        props = function["Properties"]
        if function_id in targets:
            # GIVEN a function EventBridge invokes asynchronously THEN Lambda retries twice, then
            # dead-letters (with the function's role) to the stack's queue instead of dropping it
            queue_id = _queue_of(template, props["DeadLetterConfig"]["TargetArn"])
            assert configs[function_id]["MaximumRetryAttempts"] == 2
            role_id = props["Role"]["Fn::GetAtt"][0]
            sends = [s for s in _role_statements(template, role_id) if "sqs:SendMessage" in s["Action"]]
            assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
        else:
            # ... any other function is a Lambda step of the drift pipeline (invoked synchronously)
            assert "DeadLetterConfig" not in props
            assert function_id not in configs
            assert json.dumps({"Fn::GetAtt": [function_id, "Arn"]}) in steps, function_id


def test_every_queue_is_encrypted_tls_only_and_alarms_the_alert_topic(
    templates: dict[str, dict[str, Any]],
) -> None:
    for part, name in QUEUES.items():
        template = templates[part]
        ((queue_id, queue),) = resources(template, "AWS::SQS::Queue").items()
        props = queue["Properties"]
        # GIVEN a dead-letter queue THEN it is encrypted at rest (SSE-SQS) and kept 14 days ...
        assert props["SqsManagedSseEnabled"] is True
        assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
        # ... refuses every request without TLS (cdk-nag AwsSolutions-SQS4) ...
        denies = [s for s in _queue_statements(template, queue_id) if s["Effect"] == "Deny"]
        assert [(s["Action"], s["Condition"]) for s in denies] == [
            ("sqs:*", {"Bool": {"aws:SecureTransport": "false"}})
        ]
        # ... and one waiting message raises an alarm on the alert topic
        (alarm,) = [
            a["Properties"]
            for a in resources(template, "AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("Namespace") == "AWS/SQS"
        ]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Dimensions"] == [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
        ]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert alarm["AlarmName"] == f"{name}-not-empty"
        (action,) = alarm["AlarmActions"]
        assert "AlertsTopic" in json.dumps(action), part  # a Ref here, an import of it elsewhere
