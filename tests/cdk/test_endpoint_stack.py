"""Endpoint stages: the approved package served with KMS, capture, redundancy and guarded rollout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from platform_synth import APPROVED, SynthesizedPlatform, resources, synth_platform


def _one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = list(resources(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, got {len(found)}"
    return found[0]["Properties"]


def test_model_comes_from_the_approved_package_isolated_in_the_vpc(synthesized: SynthesizedPlatform) -> None:
    model = _one(synthesized.raw["endpoint-prod"], "AWS::SageMaker::Model")
    assert model["Containers"] == [{"ModelPackageName": APPROVED.model_package_arn}]
    assert model["EnableNetworkIsolation"] is True
    assert len(model["VpcConfig"]["Subnets"]) >= 2
    assert model["ModelName"].endswith(f"-v{APPROVED.version}")  # a new version replaces the model


def test_prod_runs_two_instances_with_kms_and_captures_to_the_artifact_bucket(
    synthesized: SynthesizedPlatform,
) -> None:
    config = _one(synthesized.raw["endpoint-prod"], "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["InitialInstanceCount"] >= 2
    assert "KmsKeyId" in config
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == synthesized.config.env.stage("prod").data_capture_percent
    assert "KmsKeyId" in capture
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    assert "data-capture" in str(capture["DestinationS3Uri"])
    assert {"Key": "EndpointStage", "Value": "prod"} in config["Tags"]


def test_staging_is_serverless_without_capture(synthesized: SynthesizedPlatform) -> None:
    config = _one(synthesized.raw["endpoint-staging"], "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"]["MemorySizeInMB"] == 2048
    assert "InstanceType" not in variant
    assert "DataCaptureConfig" not in config


def test_rollout_is_canary_with_rollback_on_enabled_alarms(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["endpoint-prod"]
    endpoint = _one(template, "AWS::SageMaker::Endpoint")
    policy = endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    routing = policy["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY"
    assert routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 10}
    assert routing["WaitIntervalInSeconds"] == 600
    rollback = endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    by_logical_id = {logical_id: props["Properties"] for logical_id, props in alarms.items()}
    referenced = [a["AlarmName"]["Ref"] for a in rollback]
    assert len(referenced) == 2
    for logical_id in referenced:
        alarm = by_logical_id[logical_id]
        assert alarm["ActionsEnabled"] is True  # AWS samples ship these disabled
        assert alarm["AlarmActions"], "a rollback alarm should also notify"
    metrics = {by_logical_id[i]["MetricName"] for i in referenced}
    assert metrics == {"Invocation5XXErrors", "ModelLatency"}
    latency = next(by_logical_id[i] for i in referenced if by_logical_id[i]["MetricName"] == "ModelLatency")
    assert latency["Threshold"] == synthesized.config.env.stage("prod").alarms.max_model_latency_ms * 1000


def test_prod_autoscales_on_invocations_per_instance(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["endpoint-prod"]
    scaling = synthesized.config.env.stage("prod").autoscaling
    assert scaling is not None
    target = _one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["MinCapacity"] == scaling.min_capacity
    assert target["MaxCapacity"] == scaling.max_capacity
    assert target["ResourceId"] == "endpoint/mlops-demo-dev-prod/variant/AllTraffic"
    policy = _one(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == scaling.target_invocations_per_instance
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )
    assert not resources(synthesized.raw["endpoint-staging"], "AWS::ApplicationAutoScaling::ScalableTarget")


def test_model_role_reads_only_its_own_model_version(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["endpoint-prod"]
    (policy,) = [
        p for k, p in resources(template, "AWS::IAM::ManagedPolicy").items() if k.startswith("HostedModel")
    ]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    read = statements["ReadThisModelVersion"]
    assert read["Action"] == "s3:GetObject"
    assert "/pipeline-runs/exec-1/train/output/model.tar.gz" in json.dumps(read["Resource"])
    assert "*" not in json.dumps(read["Resource"])
    assert not resources(template, "AWS::IAM::Policy")
    for role in resources(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"] or all(
            "arn:aws:iam::aws:policy" not in str(arn) for arn in role["Properties"]["ManagedPolicyArns"]
        )


def test_no_endpoint_stack_until_a_model_is_approved(tmp_path: Path) -> None:
    fresh = synth_platform(tmp_path, approved=False)
    assert fresh.platform.endpoints == {}
    assert not any(part.startswith("endpoint-") for part in fresh.raw)
