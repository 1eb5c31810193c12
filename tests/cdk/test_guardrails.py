"""Guardrails: the whole app passes every pack, a bad construct fails synth, our SageMaker rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from platform_synth import SynthesizedPlatform

from stacks.constructs.nag import acknowledge
from stacks.guardrails import add_guardrails
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


def _endpoint_config(stack: cdk.Stack, name: str, *, key: bool, count: int) -> None:
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
    )


@pytest.mark.parametrize(("production", "count", "expected"), [
    (False, 1, set()),
    (True, 2, set()),
    (True, 1, {"SageMaker-EndpointRedundant[AllTraffic.InitialInstanceCount]"}),
])  # fmt: skip
def test_endpoint_redundancy_only_in_production(
    tmp_path: Path, production: bool, count: int, expected: set[str]
) -> None:
    app, stack = _tiny_app(tmp_path, production=production)
    _endpoint_config(stack, "Config", key=True, count=count)
    assert _findings(app) == expected


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
    common = {"instance_type": "ml.t3.medium", "role_arn": "arn:aws:iam::111122223333:role/r"}
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
