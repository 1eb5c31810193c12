"""An async stage: AsyncInferenceConfig with encrypted output/failure prefixes and topics, the
model role's reach, scaling on the backlog down to zero, no idle alarm, prod redundancy, a request
botocore accepts and no cdk-nag finding."""

from __future__ import annotations

from typing import Any

import pytest
from mode_stacks import build, check_against_botocore, endpoint_config, stage, synth, version
from platform_synth import resources

from stacks.endpoint_stack import EndpointStack

STAGING = stage("staging", {"serverless": None, "async": {"maxConcurrentInvocationsPerInstance": 2}})
PROD = stage("prod", {"autoscaling": None, "async": {"maxCapacity": 4}})


@pytest.fixture(scope="module")
def synthesized() -> tuple[EndpointStack, dict[str, Any], set[str]]:
    app, stack = build(STAGING, version(4))
    tpl, findings = synth(app, stack)
    return stack, tpl, findings


def test_async_config_writes_to_the_endpoint_prefixes_with_the_key(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    _, tpl, _ = synthesized
    queued = endpoint_config(tpl)["AsyncInferenceConfig"]
    assert queued["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 2}
    output = queued["OutputConfig"]
    joined = str(output["S3OutputPath"]) + str(output["S3FailurePath"])
    assert "async-inference/mlops-demo-dev-staging/output/" in joined
    assert "async-inference/mlops-demo-dev-staging/failures/" in joined
    assert "KmsKeyId" in output
    topics = resources(tpl, "AWS::SNS::Topic")
    assert len(topics) == 2
    assert all("KmsMasterKeyId" in t["Properties"] for t in topics.values())
    notify = output["NotificationConfig"]
    assert {notify["SuccessTopic"]["Ref"], notify["ErrorTopic"]["Ref"]} == set(topics)


def test_only_the_model_role_publishes(synthesized: tuple[EndpointStack, dict[str, Any], set[str]]) -> None:
    stack, tpl, _ = synthesized
    role = stack.resolve(stack.get_logical_id(stack.hosted.execution.role.node.default_child))  # type: ignore[arg-type]
    for policy in resources(tpl, "AWS::SNS::TopicPolicy").values():
        deny = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s.get("Sid") == "OnlyTheModelPublishes"
        ]
        assert deny
        assert deny[0]["Effect"] == "Deny"
        assert deny[0]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == {"Fn::GetAtt": [role, "Arn"]}


def test_the_model_role_reads_input_and_writes_output_and_failures(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    _, tpl, _ = synthesized
    (policy,) = [
        p for k, p in resources(tpl, "AWS::IAM::ManagedPolicy").items() if k.startswith("HostedModel")
    ]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["ReadAsyncRequests"]["Action"] == "s3:GetObject"
    assert "/input/*" in str(statements["ReadAsyncRequests"]["Resource"])
    assert statements["WriteAsyncResults"]["Action"] == "s3:PutObject"
    writes = str(statements["WriteAsyncResults"]["Resource"])
    assert "/output/*" in writes
    assert "/failures/*" in writes
    assert statements["NotifyAsyncResults"]["Action"] == "sns:Publish"
    assert "kms:GenerateDataKey" in statements["UseDataKey"]["Action"]


def test_scales_to_zero_on_the_backlog_and_leaves_zero_on_waiting_requests(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    stack, tpl, _ = synthesized
    (target,) = resources(tpl, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (0, 2)
    policies = {
        p["Properties"]["PolicyType"]: p["Properties"]
        for p in resources(tpl, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    tracking = policies["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["CustomizedMetricSpecification"]["MetricName"] == "ApproximateBacklogSizePerInstance"
    assert tracking["TargetValue"] == 5
    step = policies["StepScaling"]["StepScalingPolicyConfiguration"]
    assert step["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    alarms = [
        a["Properties"]
        for a in resources(tpl, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "HasBacklogWithoutCapacity"
    ]
    assert len(alarms) == 1
    assert stack.idle is None  # nothing runs (or bills) while the queue is empty


def test_prod_async_starts_redundant_and_may_rest_at_zero() -> None:
    app, stack = build(PROD, version(4))
    tpl, findings = synth(app, stack)
    (variant,) = endpoint_config(tpl)["ProductionVariants"]
    assert variant["InitialInstanceCount"] >= 2  # SageMaker-EndpointRedundant holds
    (target,) = resources(tpl, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert target["Properties"]["MinCapacity"] == 0
    (endpoint,) = resources(tpl, "AWS::SageMaker::Endpoint").values()
    routing = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ]
    assert routing["Type"] == "CANARY"  # guardrails cover async endpoints
    assert findings == set()


def test_the_fingerprint_covers_async() -> None:
    _, base = build(STAGING, version(4))
    changed = stage("staging", {"serverless": None, "async": {"maxConcurrentInvocationsPerInstance": 3}})
    _, other = build(changed, version(4))
    assert other.serving.name != base.serving.name


def test_the_config_validates_against_botocore(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    _, tpl, _ = synthesized
    dropped = check_against_botocore(endpoint_config(tpl))
    assert not [d for d in dropped if "Async" in d]


def test_no_nag_findings(synthesized: tuple[EndpointStack, dict[str, Any], set[str]]) -> None:
    _, _, findings = synthesized
    assert findings == set()
