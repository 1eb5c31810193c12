"""Guardrails: the whole app passes every pack, a bad construct fails synth, our SageMaker rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from platform_synth import SynthesizedPlatform

from stacks.constructs.nag import acknowledge
from stacks.guardrails import add_guardrails
from stacks.guardrails.endpoint_rules import STAGE_TAG
from stacks.guardrails.sagemaker_pack import SageMakerChecks

PACKS = {"AwsSolutions", "NIST.800.53.R5", "SageMakerChecks"}


def _findings(app: cdk.App) -> set[str]:
    """Synthesize ``app``; return the rule IDs of every finding (empty when synth succeeds)."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
        return {
            violation["ruleName"]
            for plugin in report["pluginReports"]
            if plugin["pluginName"] in PACKS  # not CDK's built-in CloudFormation checks
            for violation in plugin["violations"]
        }
    return set()


def _tiny_app(tmp_path: Path, *, production: bool = False) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(SageMakerChecks(production=production))
    return app, cdk.Stack(app, "Tiny")


def test_whole_app_has_zero_findings(synthesized: SynthesizedPlatform) -> None:
    # The fixture's synth ran AwsSolutions, NIST 800-53 r5 and SageMakerChecks (the test below
    # shows a finding raises); CDK writes an empty report when every plugin passes.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert [p for p in report["pluginReports"] if p["violations"]] == []


def test_a_non_compliant_bucket_fails_synth(tmp_path: Path) -> None:
    # GIVEN an app with the real guardrails and a bucket without TLS enforcement or logging
    app = cdk.App(outdir=str(tmp_path))
    s3.Bucket(cdk.Stack(app, "Bad"), "Plain")
    add_guardrails(app, production=False)
    # WHEN it is synthesized THEN AwsSolutions and NIST findings fail it
    findings = _findings(app)
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= findings
    assert any(f.startswith("NIST.800.53.R5-") for f in findings)


def _domain(stack: cdk.Stack, **overrides: Any) -> sagemaker.CfnDomain:
    props: dict[str, Any] = {
        "auth_mode": "IAM",
        "domain_name": "d",
        "app_network_access_type": "VpcOnly",
        "kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/abc",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-0123456789abcdef0"],
        "default_user_settings": sagemaker.CfnDomain.UserSettingsProperty(
            execution_role="arn:aws:iam::111122223333:role/r"
        ),
    }
    props.update(overrides)
    return sagemaker.CfnDomain(stack, "Domain", **props)


def test_compliant_domain_passes(tmp_path: Path) -> None:
    app, stack = _tiny_app(tmp_path)
    _domain(stack)
    assert _findings(app) == set()


def test_public_domain_without_key_fails(tmp_path: Path) -> None:
    app, stack = _tiny_app(tmp_path)
    _domain(stack, app_network_access_type="PublicInternetOnly", kms_key_id=None)
    assert _findings(app) == {
        "SageMaker-DomainVpcOnly[AppNetworkAccessType]",
        "SageMaker-DomainKms[KmsKeyId]",
    }


def test_escape_hatch_override_is_checked(tmp_path: Path) -> None:
    # Rules read the synthesized template, so an override cannot slip past them.
    app, stack = _tiny_app(tmp_path)
    _domain(stack).add_property_override("AppNetworkAccessType", "PublicInternetOnly")
    assert _findings(app) == {"SageMaker-DomainVpcOnly[AppNetworkAccessType]"}


def test_unresolvable_value_is_a_finding(tmp_path: Path) -> None:
    app, stack = _tiny_app(tmp_path)
    mode = cdk.CfnParameter(stack, "Mode", default="VpcOnly")
    _domain(stack, app_network_access_type=mode.value_as_string)
    assert _findings(app) == {"SageMaker-DomainVpcOnly[AppNetworkAccessType]"}


def test_acknowledged_finding_passes(tmp_path: Path) -> None:
    app, stack = _tiny_app(tmp_path)
    domain = _domain(stack, app_network_access_type="PublicInternetOnly")
    acknowledge(domain, "SageMaker-DomainVpcOnly[AppNetworkAccessType]", "sandbox domain for a workshop")
    assert _findings(app) == set()


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
    app, stack = _tiny_app(tmp_path, production=production)
    _endpoint_config(stack, "Config", key=True, count=count, stage=stage)
    assert _findings(app) == expected


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
    app, stack = _tiny_app(tmp_path)
    _endpoint_config(stack, "Config", key=True, count=2, capture=_capture(key=key, enabled=enabled))
    assert _findings(app) == expected


def test_override_of_a_renamed_resource_is_checked(tmp_path: Path) -> None:
    # GIVEN a domain whose logical ID is pinned (as stateful resources are) and overridden
    app, stack = _tiny_app(tmp_path)
    domain = _domain(stack)
    domain.override_logical_id("PinnedDomain")
    domain.add_property_override("AppNetworkAccessType", "PublicInternetOnly")
    # THEN the rule reads the synthesized resource under its pinned ID, not the construct
    assert _findings(app) == {"SageMaker-DomainVpcOnly[AppNetworkAccessType]"}


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
    app, stack = _tiny_app(tmp_path)
    _endpoint(stack, [_alarm(stack, "Errors", enabled=True), "Latency"])
    _alarm(stack, "Latency", enabled=None)  # CloudFormation's default is ActionsEnabled true
    assert _findings(app) == set()


@pytest.mark.parametrize(("enabled", "notifies", "expected"), [
    (False, True, {f"{_ROLLBACK}[Quiet.ActionsEnabled]"}),  # what AWS samples ship
    (True, False, {f"{_ROLLBACK}[Quiet.AlarmActions]"}),
])  # fmt: skip
def test_rollback_alarm_that_cannot_act_is_a_finding(
    tmp_path: Path, enabled: bool, notifies: bool, expected: set[str]
) -> None:
    app, stack = _tiny_app(tmp_path)
    _endpoint(stack, [_alarm(stack, "Quiet", enabled=enabled, notifies=notifies)])
    assert _findings(app) == expected


def test_endpoint_without_rollback_or_with_unknown_alarms_is_a_finding(tmp_path: Path) -> None:
    # GIVEN one endpoint without deployment config, one naming an alarm of another stack
    app, stack = _tiny_app(tmp_path)
    _endpoint(stack, None)
    other = cdk.Stack(app, "Other")
    _endpoint(other, ["someone-elses-alarm"])
    # THEN neither can be verified to roll back on an alarm that acts
    findings = _findings(app)
    assert f"{_ROLLBACK}[DeploymentConfig.AutoRollbackConfiguration]" in findings
    (unknown,) = findings - {f"{_ROLLBACK}[DeploymentConfig.AutoRollbackConfiguration]"}
    assert unknown.startswith(f"{_ROLLBACK}[someone-elses-alarm(")


def test_models_and_endpoint_configs(tmp_path: Path) -> None:
    # GIVEN one compliant and one non-compliant model and endpoint config
    app, stack = _tiny_app(tmp_path)
    _model(stack, isolation=True)
    _model(stack, isolation=False)
    _endpoint_config(stack, "Good", key=True, count=2)
    _endpoint_config(stack, "Bad", key=False, count=2)
    # THEN only the non-compliant ones are reported
    assert _findings(app) == {
        "SageMaker-ModelNetworkIsolation[EnableNetworkIsolation]",
        "SageMaker-EndpointConfigKms[KmsKeyId]",
    }


def test_notebook_instances(tmp_path: Path) -> None:
    app, stack = _tiny_app(tmp_path)
    common: dict[str, Any] = {"instance_type": "ml.t3.medium", "role_arn": "arn:aws:iam::111122223333:role/r"}
    sagemaker.CfnNotebookInstance(
        stack, "Good", root_access="Disabled", direct_internet_access="Disabled",
        subnet_id="subnet-0123456789abcdef0", security_group_ids=["sg-0123456789abcdef0"], **common,
    )  # fmt: skip
    sagemaker.CfnNotebookInstance(stack, "Bad", **common)
    assert _findings(app) == {
        "SageMaker-NotebookNoRoot[RootAccess]",
        "SageMaker-NotebookNoDirectInternet[DirectInternetAccess]",
        "SageMaker-NotebookNoDirectInternet[SubnetId]",
    }


def _pipeline_body(*, encrypted: bool) -> dict[str, Any]:
    key = {"Get": "Parameters.KmsKey"} if encrypted else None
    processing = {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "VolumeKmsKeyId": key}},
        "ProcessingOutputConfig": {"Outputs": [], "KmsKeyId": key},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": encrypted},
    }
    training = {
        "ResourceConfig": {"VolumeKmsKeyId": key},
        "OutputDataConfig": {"KmsKeyId": key, "S3OutputPath": "s3://b/p"},
        "EnableInterContainerTrafficEncryption": encrypted,
    }
    return {
        "Version": "2020-12-01",
        "Steps": [
            {"Name": "Prep", "Type": "Processing", "Arguments": processing},
            {"Name": "Gate", "Type": "Condition", "Arguments": {"IfSteps": [
                {"Name": "Train", "Type": "Training", "Arguments": training}], "ElseSteps": []}},
        ],
    }  # fmt: skip


@pytest.mark.parametrize("encrypted", [True, False])
def test_pipeline_steps_are_encrypted(tmp_path: Path, encrypted: bool) -> None:
    # GIVEN a pipeline whose definition carries an intrinsic (as CDK asset URIs do)
    app, stack = _tiny_app(tmp_path)
    body = json.dumps(_pipeline_body(encrypted=encrypted)).replace("s3://b/p", f"s3://{stack.account}/p")
    sagemaker.CfnPipeline(
        stack, "Pipeline", pipeline_name="p", role_arn="arn:aws:iam::111122223333:role/r",
        pipeline_definition={"PipelineDefinitionBody": body},
    )  # fmt: skip
    # THEN encrypted steps pass and every gap is named by step and property
    expected = set() if encrypted else {
        f"SageMaker-PipelineJobsEncrypted[{finding}]" for finding in (
            "Prep.ProcessingResources.ClusterConfig.VolumeKmsKeyId",
            "Prep.ProcessingOutputConfig.KmsKeyId",
            "Prep.NetworkConfig.EnableInterContainerTrafficEncryption",
            "Train.ResourceConfig.VolumeKmsKeyId",
            "Train.OutputDataConfig.KmsKeyId",
            "Train.EnableInterContainerTrafficEncryption",
        )
    }  # fmt: skip
    assert _findings(app) == expected
