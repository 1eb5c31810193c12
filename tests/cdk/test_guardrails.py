"""Guardrails: the whole app passes every pack, a bad construct fails synth, our Studio, notebook and
pipeline rules (model and endpoint rules: test_guardrails_endpoints.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from nag_findings import findings, tiny_app
from platform_synth import SynthesizedPlatform, synth_platform

from stacks.common.nag import acknowledge
from stacks.guardrails import add_guardrails


def test_whole_app_has_zerofindings(synthesized: SynthesizedPlatform) -> None:
    # The fixture's synth ran AwsSolutions, NIST 800-53 r5 and SageMakerChecks (the test below
    # shows a finding raises); CDK writes an empty report when every plugin passes.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert [p for p in report["pluginReports"] if p["violations"]] == []


@pytest.mark.slow
def test_whole_app_with_a_pinned_account_and_region_has_zero_findings(tmp_path: Path) -> None:
    # GIVEN an environment that names its account and region (as a multi-account setup must): CDK
    # then writes format_arn's ARNs with the literal values, and every acknowledgement of such an ARN
    # has to follow (before, 19 findings failed this synth: they spelled <AWS::Region> by hand)
    def pin(context: dict[str, Any]) -> None:
        env = context["environments"][context["env"]]
        env.update({"account": "111111111111", "region": "eu-west-1"})

    # WHEN the whole app is synthesized (synth raises on any unacknowledged finding)
    synthesized = synth_platform(tmp_path, edit=pin)
    # THEN every plugin passes, and the ARNs really are literal (so the test is not vacuous)
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert [p for p in report["pluginReports"] if p["violations"]] == []
    assert "arn:aws:sagemaker:eu-west-1:111111111111:" in json.dumps(synthesized.raw)


def test_a_non_compliant_bucket_fails_synth(tmp_path: Path) -> None:
    # GIVEN an app with the real guardrails and a bucket without TLS enforcement or logging
    app = cdk.App(outdir=str(tmp_path))
    s3.Bucket(cdk.Stack(app, "Bad"), "Plain")
    add_guardrails(app, production=False)
    # WHEN it is synthesized THEN AwsSolutions and NIST findings fail it
    found = findings(app)
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= found
    assert any(f.startswith("NIST.800.53.R5-") for f in found)


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
    app, stack = tiny_app(tmp_path)
    _domain(stack)
    assert findings(app) == set()


def test_public_domain_without_key_fails(tmp_path: Path) -> None:
    app, stack = tiny_app(tmp_path)
    _domain(stack, app_network_access_type="PublicInternetOnly", kms_key_id=None)
    assert findings(app) == {
        "SageMaker-DomainVpcOnly[AppNetworkAccessType]",
        "SageMaker-DomainKms[KmsKeyId]",
    }


def test_escape_hatch_override_is_checked(tmp_path: Path) -> None:
    # Rules read the synthesized template, so an override cannot slip past them.
    app, stack = tiny_app(tmp_path)
    _domain(stack).add_property_override("AppNetworkAccessType", "PublicInternetOnly")
    assert findings(app) == {"SageMaker-DomainVpcOnly[AppNetworkAccessType]"}


def test_override_of_a_renamed_resource_is_checked(tmp_path: Path) -> None:
    # GIVEN a domain whose logical ID is pinned (as stateful resources are) and overridden
    app, stack = tiny_app(tmp_path)
    domain = _domain(stack)
    domain.override_logical_id("PinnedDomain")
    domain.add_property_override("AppNetworkAccessType", "PublicInternetOnly")
    # THEN the rule reads the synthesized resource under its pinned ID, not the construct
    assert findings(app) == {"SageMaker-DomainVpcOnly[AppNetworkAccessType]"}


def test_unresolvable_value_is_a_finding(tmp_path: Path) -> None:
    app, stack = tiny_app(tmp_path)
    mode = cdk.CfnParameter(stack, "Mode", default="VpcOnly")
    _domain(stack, app_network_access_type=mode.value_as_string)
    assert findings(app) == {"SageMaker-DomainVpcOnly[AppNetworkAccessType]"}


def test_acknowledged_finding_passes(tmp_path: Path) -> None:
    app, stack = tiny_app(tmp_path)
    domain = _domain(stack, app_network_access_type="PublicInternetOnly")
    acknowledge(domain, "SageMaker-DomainVpcOnly[AppNetworkAccessType]", "sandbox domain for a workshop")
    assert findings(app) == set()


def test_notebook_instances(tmp_path: Path) -> None:
    app, stack = tiny_app(tmp_path)
    common: dict[str, Any] = {"instance_type": "ml.t3.medium", "role_arn": "arn:aws:iam::111122223333:role/r"}
    sagemaker.CfnNotebookInstance(
        stack, "Good", root_access="Disabled", direct_internet_access="Disabled",
        subnet_id="subnet-0123456789abcdef0", security_group_ids=["sg-0123456789abcdef0"], **common,
    )  # fmt: skip
    sagemaker.CfnNotebookInstance(stack, "Bad", **common)
    assert findings(app) == {
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
    app, stack = tiny_app(tmp_path)
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
    assert findings(app) == expected
