"""Our SageMaker rules for models, endpoint configs and endpoints: network isolation, KMS on storage
and captured data, redundancy of prod stages, and rollback on alarms that act."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from nag_findings import findings, tiny_app

from stacks.guardrails.endpoint_rules import STAGE_TAG


def _model(stack: cdk.Stack, isolation: bool) -> None:
    sagemaker.CfnModel(
        stack,
        f"Model{isolation}",
        execution_role_arn="arn:aws:iam::111122223333:role/r",
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
            image="111122223333.dkr.ecr.us-east-1.amazonaws.com/i:1"
        ),
        enable_network_isolation=isolation,
    )


def _endpoint_config(
    stack: cdk.Stack,
    name: str,
    *,
    key: bool,
    count: int,
    stage: str | None = None,
    capture: sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None = None,
) -> None:
    sagemaker.CfnEndpointConfig(
        stack,
        name,
        kms_key_id="alias/k" if key else None,
        production_variants=[
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="AllTraffic",
                model_name="m",
                initial_instance_count=count,
                instance_type="ml.m5.large",
            )
        ],
        data_capture_config=capture,
        tags=[cdk.CfnTag(key=STAGE_TAG, value=stage)] if stage else None,
    )


@pytest.mark.parametrize(("production", "stage", "count", "expected"), [
    # untagged configs: held to redundancy when the whole environment is production
    (False, None, 1, set()),
    (True, None, 2, set()),
    (True, None, 1, {"SageMaker-EndpointRedundant[AllTraffic.InitialInstanceCount]"}),
    # tagged configs: held to it when their stage is prod, in any environment
    (False, "prod", 1, {"SageMaker-EndpointRedundant[AllTraffic.InitialInstanceCount]"}),
    (False, "prod", 2, set()),
    (True, "staging", 1, set()),
])  # fmt: skip
def test_endpoint_redundancy_for_prod_stages_and_production_environments(
    tmp_path: Path, production: bool, stage: str | None, count: int, expected: set[str]
) -> None:
    app, stack = tiny_app(tmp_path, production=production)
    _endpoint_config(stack, "Config", key=True, count=count, stage=stage)
    assert findings(app) == expected


def _capture(*, key: bool, enabled: bool = True) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=enabled,
        initial_sampling_percentage=100,
        destination_s3_uri="s3://b/data-capture",
        kms_key_id="alias/k" if key else None,
        capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input")],
    )


@pytest.mark.parametrize(("key", "enabled", "expected"), [
    (True, True, set()),
    (False, True, {"SageMaker-EndpointConfigKms[DataCaptureConfig.KmsKeyId]"}),
    (False, False, set()),  # nothing is captured, nothing rests unencrypted
])  # fmt: skip
def test_captured_data_is_encrypted(tmp_path: Path, key: bool, enabled: bool, expected: set[str]) -> None:
    app, stack = tiny_app(tmp_path)
    _endpoint_config(stack, "Config", key=True, count=2, capture=_capture(key=key, enabled=enabled))
    assert findings(app) == expected


def _alarm(stack: cdk.Stack, construct_id: str, *, enabled: bool | None, notifies: bool = True) -> str:
    """An alarm named ``construct_id``; returns its ``Ref`` (the alarm name at deploy time)."""
    alarm = cloudwatch.CfnAlarm(
        stack, construct_id, alarm_name=construct_id, comparison_operator="GreaterThanThreshold",
        evaluation_periods=1, metric_name="ModelLatency", namespace="AWS/SageMaker", period=60,
        statistic="Average", threshold=1, actions_enabled=enabled,
        alarm_actions=["arn:aws:sns:us-east-1:111122223333:alerts"] if notifies else None,
    )  # fmt: skip
    return alarm.ref


def _endpoint(stack: cdk.Stack, alarm_names: list[str] | None) -> None:
    rollback = sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
        alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in alarm_names or []]
    )
    sagemaker.CfnEndpoint(
        stack, "Endpoint", endpoint_config_name="c",
        deployment_config=None if alarm_names is None
        else sagemaker.CfnEndpoint.DeploymentConfigProperty(auto_rollback_configuration=rollback),
    )  # fmt: skip


_ROLLBACK = "SageMaker-EndpointRollbackAlarms"


def test_endpoint_rolls_back_on_enabled_alarms_of_its_stack(tmp_path: Path) -> None:
    # GIVEN alarms referenced by Ref and by literal name, enabled explicitly and by default
    app, stack = tiny_app(tmp_path)
    _endpoint(stack, [_alarm(stack, "Errors", enabled=True), "Latency"])
    _alarm(stack, "Latency", enabled=None)  # CloudFormation's default is ActionsEnabled true
    assert findings(app) == set()


@pytest.mark.parametrize(("enabled", "notifies", "expected"), [
    (False, True, {f"{_ROLLBACK}[Quiet.ActionsEnabled]"}),  # what AWS samples ship
    (True, False, {f"{_ROLLBACK}[Quiet.AlarmActions]"}),
])  # fmt: skip
def test_rollback_alarm_that_cannot_act_is_a_finding(
    tmp_path: Path, enabled: bool, notifies: bool, expected: set[str]
) -> None:
    app, stack = tiny_app(tmp_path)
    _endpoint(stack, [_alarm(stack, "Quiet", enabled=enabled, notifies=notifies)])
    assert findings(app) == expected


def test_endpoint_without_rollback_or_with_unknown_alarms_is_a_finding(tmp_path: Path) -> None:
    # GIVEN one endpoint without deployment config, one naming an alarm of another stack
    app, stack = tiny_app(tmp_path)
    _endpoint(stack, None)
    other = cdk.Stack(app, "Other")
    _endpoint(other, ["someone-elses-alarm"])
    # THEN neither can be verified to roll back on an alarm that acts
    found = findings(app)
    assert f"{_ROLLBACK}[DeploymentConfig.AutoRollbackConfiguration]" in found
    (unknown,) = found - {f"{_ROLLBACK}[DeploymentConfig.AutoRollbackConfiguration]"}
    assert unknown.startswith(f"{_ROLLBACK}[someone-elses-alarm(")


def test_models_and_endpoint_configs(tmp_path: Path) -> None:
    # GIVEN one compliant and one non-compliant model and endpoint config
    app, stack = tiny_app(tmp_path)
    _model(stack, isolation=True)
    _model(stack, isolation=False)
    _endpoint_config(stack, "Good", key=True, count=2)
    _endpoint_config(stack, "Bad", key=False, count=2)
    # THEN only the non-compliant ones are reported
    assert findings(app) == {
        "SageMaker-ModelNetworkIsolation[EnableNetworkIsolation]",
        "SageMaker-EndpointConfigKms[KmsKeyId]",
    }
