"""Endpoint stages as synthesized (session fixture): the approved package served with KMS,
capture, redundancy, autoscaling, a guarded rollout on enabled alarms, and an idle (spend) alarm."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from endpoint_builder import build
from platform_synth import APPROVED, SynthesizedPlatform, cdk_context, resources, synth_platform

from contracts.config import DEFAULT_IDLE_ALARM_DAYS, load_config
from stacks.endpoint.guarded_endpoint import MAX_EXECUTION_SECONDS
from stacks.endpoint.idle_alarm import MAX_EVALUATION_SECONDS, evaluation_periods


def _one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = list(resources(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, got {len(found)}"
    return dict(found[0]["Properties"])


def _data_stack_output(value: Any) -> str:
    """The data stack output a (weak) cross-stack reference reads."""
    output = value["Fn::GetStackOutput"]
    assert output["StackName"] == "mlops-demo-dev-data"
    return str(output["OutputName"])


def _statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The model execution role's policy statements, by Sid."""
    (policy,) = [
        p for k, p in resources(template, "AWS::IAM::ManagedPolicy").items() if k.startswith("HostedModel")
    ]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_model_comes_from_the_approved_package_isolated_in_the_vpc(synthesized: SynthesizedPlatform) -> None:
    model = _one(synthesized.raw["endpoint-prod"], "AWS::SageMaker::Model")
    assert model["Containers"] == [{"ModelPackageName": APPROVED.model_package_arn}]
    assert model["EnableNetworkIsolation"] is True
    assert len(model["VpcConfig"]["Subnets"]) >= 2  # SageMaker spreads instances over their AZs
    assert len(model["VpcConfig"]["SecurityGroupIds"]) == 1


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_a_new_version_replaces_model_and_config_and_updates_the_fixed_endpoint(
    synthesized: SynthesizedPlatform, stage: str
) -> None:
    template = synthesized.raw[f"endpoint-{stage}"]
    # <endpoint>-v<version>-<fingerprint of the create-only properties> (test_endpoint_names.py)
    versioned = re.compile(rf"^mlops-demo-dev-{stage}-v{APPROVED.version}-[0-9a-f]{{8}}$")
    model = _one(template, "AWS::SageMaker::Model")["ModelName"]
    config = _one(template, "AWS::SageMaker::EndpointConfig")
    assert versioned.match(model)
    assert versioned.match(config["EndpointConfigName"])
    (model_id,) = resources(template, "AWS::SageMaker::Model")
    # The config refers to the model's attribute, so CloudFormation creates the model first
    assert config["ProductionVariants"][0]["ModelName"] == {"Fn::GetAtt": [model_id, "ModelName"]}
    # The endpoint keeps its name and logical ID, so CloudFormation updates it (blue/green).
    (logical_id,) = resources(template, "AWS::SageMaker::Endpoint")
    assert logical_id == "Endpoint"
    assert template["Resources"]["Endpoint"]["Properties"]["EndpointName"] == f"mlops-demo-dev-{stage}"
    outputs = {k: v["Value"] for k, v in template["Outputs"].items() if not k.startswith("Export")}
    assert outputs["EndpointName"] == f"mlops-demo-dev-{stage}"
    assert outputs["ModelPackageArn"] == APPROVED.model_package_arn
    assert outputs["ModelVersion"] == str(APPROVED.version)


def test_prod_runs_two_instances_with_kms_and_captures_to_the_artifact_bucket(
    synthesized: SynthesizedPlatform,
) -> None:
    config = _one(synthesized.raw["endpoint-prod"], "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["InitialInstanceCount"] >= 2
    assert variant["InstanceType"] == synthesized.config.env.stage("prod").instance_type
    assert "DataKeyArn" in _data_stack_output(config["KmsKeyId"])
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == synthesized.config.env.stage("prod").data_capture_percent
    assert "DataKeyArn" in _data_stack_output(capture["KmsKeyId"])
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    assert capture["CaptureContentTypeHeader"]["CsvContentTypes"] == ["text/csv"]
    assert "application/json" in capture["CaptureContentTypeHeader"]["JsonContentTypes"]
    scheme, bucket, prefix = capture["DestinationS3Uri"]["Fn::Join"][1]
    assert (scheme, prefix) == ("s3://", "/data-capture")
    assert "ArtifactBucket" in _data_stack_output(bucket)
    assert {"Key": "EndpointStage", "Value": "prod"} in config["Tags"]


def test_staging_is_serverless_without_capture(synthesized: SynthesizedPlatform) -> None:
    config = _one(synthesized.raw["endpoint-staging"], "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MaxConcurrency": 5, "MemorySizeInMB": 2048}
    assert "InstanceType" not in variant
    assert "DataCaptureConfig" not in config
    assert "KmsKeyId" not in config  # SageMaker rejects it on serverless configs (acknowledged)
    assert {"Key": "EndpointStage", "Value": "staging"} in config["Tags"]
    assert not resources(synthesized.raw["endpoint-staging"], "AWS::ApplicationAutoScaling::ScalableTarget")


def test_serverless_staging_model_has_no_vpc_and_its_role_no_ec2(synthesized: SynthesizedPlatform) -> None:
    # Serverless Inference rejects VpcConfig and network isolation (AWS's feature exclusions), so
    # a serverless stage's model carries neither (the isolation finding is acknowledged) ...
    template = synthesized.raw["endpoint-staging"]
    model = _one(template, "AWS::SageMaker::Model")
    assert model["Containers"] == [{"ModelPackageName": APPROVED.model_package_arn}]
    assert "VpcConfig" not in model
    assert model["EnableNetworkIsolation"] is False
    # ... and its role has no EC2 permission at all (the prod role places ENIs in the VPC)
    staging = _statements(template)
    assert not [a for s in staging.values() for a in _actions(s) if a.startswith("ec2:")]
    assert {"CreateModelEnis", "ManageModelEnisInProjectVpc"} <= set(
        _statements(synthesized.raw["endpoint-prod"])
    )


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _rollback_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alarms the endpoint's AutoRollbackConfiguration names, by metric."""
    endpoint = _one(template, "AWS::SageMaker::Endpoint")
    referenced = [
        a["AlarmName"]["Ref"] for a in endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    ]
    alarms = {k: v["Properties"] for k, v in resources(template, "AWS::CloudWatch::Alarm").items()}
    return {alarms[k]["MetricName"]: alarms[k] for k in referenced}


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_rollback_alarms_are_enabled_notify_and_watch_this_variant(
    synthesized: SynthesizedPlatform, stage: str
) -> None:
    alarms = _rollback_alarms(synthesized.raw[f"endpoint-{stage}"])
    limits = synthesized.config.env.stage(stage).alarms
    assert set(alarms) == {"Invocation5XXErrors", "ModelLatency"}
    for alarm in alarms.values():
        assert alarm["ActionsEnabled"] is True  # AWS samples ship these disabled
        (action,) = alarm["AlarmActions"]
        assert action["Fn::GetStackOutput"]["StackName"] == "mlops-demo-dev-monitoring"  # the alert topic
        assert alarm["TreatMissingData"] == "notBreaching"  # an idle endpoint is not failing
        assert alarm["Namespace"] == "AWS/SageMaker"
        assert alarm["Dimensions"] == [
            {"Name": "EndpointName", "Value": f"mlops-demo-dev-{stage}"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ]
        assert alarm["EvaluationPeriods"] * alarm["Period"] == limits.evaluation_minutes * 60
    errors, latency = alarms["Invocation5XXErrors"], alarms["ModelLatency"]
    assert errors["AlarmName"] == f"mlops-demo-dev-{stage}-5xx"
    assert (errors["Statistic"], errors["Threshold"]) == ("Sum", limits.max_5xx_errors)
    assert latency["AlarmName"] == f"mlops-demo-dev-{stage}-model-latency"
    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Threshold"] == limits.max_model_latency_ms * 1000  # ModelLatency is in microseconds


def _idle_alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    return [a["Properties"] for a in alarms if a["Properties"]["MetricName"] == "Invocations"]


def test_prod_alarms_after_a_week_without_invocations_and_never_rolls_back_on_it(
    synthesized: SynthesizedPlatform,
) -> None:
    template = synthesized.raw["endpoint-prod"]
    assert synthesized.config.env.stage("prod").idle_alarm_days == DEFAULT_IDLE_ALARM_DAYS == 7
    (idle,) = _idle_alarms(template)
    assert idle["AlarmName"] == "mlops-demo-dev-prod-idle"
    assert (idle["Namespace"], idle["Statistic"]) == ("AWS/SageMaker", "Sum")
    assert idle["Dimensions"] == [
        {"Name": "EndpointName", "Value": "mlops-demo-dev-prod"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    # An idle endpoint publishes no datapoints at all: missing data must count as idle
    assert idle["TreatMissingData"] == "breaching"
    assert (idle["ComparisonOperator"], idle["Threshold"]) == ("LessThanOrEqualToThreshold", 0)
    assert idle["Period"] * idle["EvaluationPeriods"] == 7 * 24 * 3600 <= MAX_EVALUATION_SECONDS
    assert idle["Period"] >= 3600  # under an hour, CloudWatch allows only one day of periods
    assert idle["DatapointsToAlarm"] == idle["EvaluationPeriods"]
    (action,) = idle["AlarmActions"]
    assert action["Fn::GetStackOutput"]["StackName"] == "mlops-demo-dev-monitoring"  # the alert topic
    assert idle["ActionsEnabled"] is True
    # It is not a rollback alarm: an idle endpoint would roll back every deployment
    endpoint = _one(template, "AWS::SageMaker::Endpoint")
    rollback = endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    (idle_id,) = [
        k for k, v in resources(template, "AWS::CloudWatch::Alarm").items() if v["Properties"] is idle
    ]
    assert {"AlarmName": {"Ref": idle_id}} not in rollback
    assert "Invocations" not in _rollback_alarms(template)


def test_serverless_staging_has_no_idle_alarm_by_default(synthesized: SynthesizedPlatform) -> None:
    # Serverless bills per request: idle costs nothing, so the spend alarm is off unless configured
    assert synthesized.config.env.stage("staging").idle_alarm_days == 0
    assert _idle_alarms(synthesized.raw["endpoint-staging"]) == []


def test_a_configured_serverless_stage_alarms_on_the_same_metric() -> None:
    # GIVEN serverless staging with idleAlarmDays 3 (serverless variants publish Invocations too)
    staging = dataclasses.replace(load_config(cdk_context()).env.stage("staging"), idle_alarm_days=3)
    # WHEN its stack is built
    stack = build(staging)
    template = cdk.App.of(stack).synth().get_stack_by_name(stack.stack_name).template  # type: ignore[union-attr]
    # THEN one idle alarm over 3 days of hourly sums, and still only the two rollback alarms
    (idle,) = _idle_alarms(template)
    assert idle["AlarmName"] == "mlops-demo-dev-staging-idle"
    assert (idle["Period"], idle["EvaluationPeriods"]) == (3600, 72)
    assert idle["TreatMissingData"] == "breaching"
    assert set(_rollback_alarms(template)) == {"Invocation5XXErrors", "ModelLatency"}


@pytest.mark.parametrize("days", [0, 8])
def test_an_idle_alarm_cloudwatch_cannot_evaluate_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="CloudWatch evaluates at most 7 days"):
        evaluation_periods(days)


def test_prod_rolls_out_canary_within_sagemakers_timeout(synthesized: SynthesizedPlatform) -> None:
    endpoint = _one(synthesized.raw["endpoint-prod"], "AWS::SageMaker::Endpoint")
    rollout = synthesized.config.env.stage("prod").rollout
    policy = endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    routing = policy["TrafficRoutingConfiguration"]
    assert routing == {
        "Type": "CANARY",
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": rollout.step_percent},
        "WaitIntervalInSeconds": rollout.wait_minutes * 60,
    }
    assert policy["TerminationWaitInSeconds"] == rollout.termination_wait_minutes * 60
    # SageMaker wants the timeout above every wait: two bakes (canary, rest) and the termination wait.
    waits = 2 * routing["WaitIntervalInSeconds"] + policy["TerminationWaitInSeconds"]
    assert waits < policy["MaximumExecutionTimeoutInSeconds"] <= MAX_EXECUTION_SECONDS


def test_serverless_staging_updates_all_at_once_with_rollback(synthesized: SynthesizedPlatform) -> None:
    endpoint = _one(synthesized.raw["endpoint-staging"], "AWS::SageMaker::Endpoint")
    routing = endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "ALL_AT_ONCE"
    assert "CanarySize" not in routing
    assert "LinearStepSize" not in routing
    assert len(endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]) == 2


def test_prod_autoscales_on_invocations_per_instance(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["endpoint-prod"]
    scaling = synthesized.config.env.stage("prod").autoscaling
    assert scaling is not None
    target = _one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (scaling.min_capacity, scaling.max_capacity)
    assert target["MinCapacity"] >= 2
    assert target["ResourceId"] == "endpoint/mlops-demo-dev-prod/variant/AllTraffic"
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in json.dumps(target["RoleARN"])
    (target_id,) = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert "Endpoint" in template["Resources"][target_id]["DependsOn"]  # the variant must exist first
    policy = _one(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == scaling.target_invocations_per_instance
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )


def test_prod_model_role_is_scoped_to_its_version_endpoint_and_capture(
    synthesized: SynthesizedPlatform,
) -> None:
    template = synthesized.raw["endpoint-prod"]
    statements = _statements(template)
    read = statements["ReadThisModelVersion"]
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"]["Fn::Join"][1][1] == "/pipeline-runs/exec-1/train/output/model.tar.gz"
    assert statements["DescribeThePackage"]["Resource"] == APPROVED.model_package_arn
    ecr = json.dumps(statements["PullServingImage"]["Resource"])
    assert ":ecr:eu-west-1:141502667606:repository/sagemaker-xgboost" in ecr
    logs = json.dumps(statements["WriteEndpointLogs"]["Resource"])
    assert "/aws/sagemaker/Endpoints/mlops-demo-dev-prod:log-stream:*" in logs
    assert "Endpoints/*" not in logs
    capture = statements["WriteCapturedData"]
    assert capture["Action"] == "s3:PutObject"
    assert capture["Resource"]["Fn::Join"][1][1] == "/data-capture/mlops-demo-dev-prod/*"
    assert "kms:GenerateDataKey" in statements["UseDataKey"]["Action"]
    assert statements["ManageModelEnisInProjectVpc"]["Condition"]["ArnEquals"]["ec2:Vpc"]
    # Every "*" resource is an action without resource-level permissions.
    for statement in statements.values():
        if statement["Resource"] == "*":
            assert statement["Sid"] in {"NoResourceLevel", "PublishEndpointMetrics"}


def test_staging_model_role_cannot_write_capture(synthesized: SynthesizedPlatform) -> None:
    statements = _statements(synthesized.raw["endpoint-staging"])
    assert "WriteCapturedData" not in statements
    assert statements["UseDataKey"]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_no_inline_or_aws_managed_policies(synthesized: SynthesizedPlatform, stage: str) -> None:
    template = synthesized.raw[f"endpoint-{stage}"]
    assert not resources(template, "AWS::IAM::Policy")
    for role in resources(template, "AWS::IAM::Role").values():
        assert "Policies" not in role["Properties"]
        assert all(
            "arn:aws:iam::aws:policy" not in json.dumps(arn)
            for arn in role["Properties"].get("ManagedPolicyArns", [])
        )


def test_no_endpoint_stack_until_a_model_is_approved(tmp_path: Path) -> None:
    fresh = synth_platform(tmp_path, approved=False)
    assert fresh.platform.endpoints == {}
    assert not any(part.startswith("endpoint-") for part in fresh.raw)
