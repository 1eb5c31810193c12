"""The drift-check pipeline definition: a valid processing request, isolated and encrypted."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from contracts.layout import CHECKS_PREFIX
from emulator.definition import dependencies, flatten
from ml_code import contract
from stacks.monitoring.definition import (
    MANIFEST_FILE,
    DriftDefinitionProps,
    build_drift_definition,
    definition_json,
)
from stacks.pipeline.requests import JobSettings

_EXPRESSIONS = ("Get", "Std:Join")
PROPS = DriftDefinitionProps(
    job=JobSettings(
        role_arn="arn:aws:iam::111122223333:role/drift",
        kms_key_arn="arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
        security_group_ids=("sg-0123456789abcdef0",),
        max_runtime_seconds=3600,
    ),
    artifact_bucket="artifacts",
    code_uri="s3://cdk-assets/abc.tar.gz",
    function_arn="arn:aws:lambda:eu-west-1:111122223333:function:publish",
    select_function_arn="arn:aws:lambda:eu-west-1:111122223333:function:select",
    instance_type="ml.m5.large",
    threshold=0.2,
    missing_tolerance=0.05,
    feature_thresholds={"tenure_months": 0.3},
)


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    """Every step by name, those inside the condition's branches too."""
    return {e.name: dict(e.step) for e in flatten(build_drift_definition(PROPS)["Steps"])}


def _placeholder(value: Any, shape: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _EXPRESSIONS:
        return {"string": "s3://placeholder/key", "integer": 1}[shape.type_name]
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _placeholder(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_placeholder(v, shape.member) for v in value]
    return value


def test_drift_check_is_a_valid_create_processing_job_request(steps: dict[str, dict[str, Any]]) -> None:
    model = (
        botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateProcessingJob")
    )
    params = {
        **_placeholder(steps["DriftCheck"]["Arguments"], model.input_shape),
        "ProcessingJobName": "pipelines-x",
    }
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()


def test_drift_check_runs_isolated_encrypted_in_the_vpc(steps: dict[str, dict[str, Any]]) -> None:
    args = steps["DriftCheck"]["Arguments"]
    network = args["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert network["VpcConfig"]["Subnets"] == list(PROPS.job.subnet_ids)
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == PROPS.job.kms_key_arn
    assert args["ProcessingOutputConfig"]["KmsKeyId"] == PROPS.job.kms_key_arn
    assert "monitor.py" in " ".join(args["AppSpecification"]["ContainerEntrypoint"])
    arguments = args["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--feature-threshold") + 1] == "tenure_months=0.3"
    local = {i["InputName"]: i["S3Input"]["LocalPath"] for i in args["ProcessingInputs"]}
    assert local["baseline"] == contract.MONITOR_BASELINE_DIR
    assert local["capture"] == contract.MONITOR_CAPTURE_DIR


def test_publish_step_is_a_lambda_step_reading_the_checks_report(steps: dict[str, dict[str, Any]]) -> None:
    publish = steps["PublishDriftMetrics"]
    assert publish["Type"] == "Lambda"
    assert publish["DependsOn"] == ["DriftCheck"]
    assert publish["FunctionArn"] == PROPS.function_arn
    assert publish["OutputParameters"] == [{"OutputName": "violations", "OutputType": "Integer"}]
    report = publish["Arguments"]["report_uri"]["Std:Join"]["Values"]
    assert report[-1] == contract.DRIFT_METRICS_FILE
    output = steps["DriftCheck"]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert output["Std:Join"]["Values"] + [contract.DRIFT_METRICS_FILE] == report  # same folder


def test_definition_text_is_deterministic() -> None:
    assert definition_json(PROPS) == definition_json(PROPS)
    assert json.loads(definition_json(PROPS))["Version"] == "2020-12-01"


def test_select_capture_writes_the_window_manifest_under_the_executions_folder(
    steps: dict[str, dict[str, Any]],
) -> None:
    select = steps["SelectCapture"]
    assert select["Type"] == "Lambda"
    assert select["FunctionArn"] == PROPS.select_function_arn
    args = select["Arguments"]
    assert args["capture_uri"] == {"Get": "Parameters.CaptureUri"}
    assert args["lookback_hours"] == {"Get": "Parameters.LookbackHours"}
    execution = {"Get": "Execution.PipelineExecutionId"}
    folder = ["s3:/", "artifacts", CHECKS_PREFIX.rstrip("/"), execution]
    assert args["manifest_uri"] == {"Std:Join": {"On": "/", "Values": [*folder, MANIFEST_FILE]}}
    assert select["OutputParameters"] == [
        {"OutputName": "files", "OutputType": "Integer"},
        {"OutputName": "manifest_uri", "OutputType": "String"},
    ]


def test_the_check_runs_only_when_the_window_holds_capture() -> None:
    # GIVEN the definition's top level
    top = {s["Name"]: s for s in build_drift_definition(PROPS)["Steps"]}
    # THEN the check and its publishing sit in the condition's true branch, in the SDK's shape
    assert list(top) == ["SelectCapture", "HasCapture"]
    condition = top["HasCapture"]
    assert condition["Type"] == "Condition"
    assert condition["Arguments"]["Conditions"] == [
        {
            "Type": "GreaterThan",
            "LeftValue": {"Get": "Steps.SelectCapture.OutputParameters['files']"},
            "RightValue": 0,
        }
    ]
    assert [s["Name"] for s in condition["Arguments"]["IfSteps"]] == ["DriftCheck", "PublishDriftMetrics"]
    assert condition["Arguments"]["ElseSteps"] == []  # no capture: succeed, having checked nothing
    needs = dependencies(flatten(list(top.values())))
    assert needs["DriftCheck"] == {"HasCapture", "SelectCapture"}
    assert needs["PublishDriftMetrics"] == {"HasCapture", "DriftCheck"}


def test_the_check_downloads_only_the_manifests_files(steps: dict[str, dict[str, Any]]) -> None:
    inputs = {i["InputName"]: i["S3Input"] for i in steps["DriftCheck"]["Arguments"]["ProcessingInputs"]}
    assert inputs["capture"]["S3DataType"] == "ManifestFile"
    assert inputs["capture"]["S3Uri"] == {"Get": "Steps.SelectCapture.OutputParameters['manifest_uri']"}
    assert inputs["capture"]["S3InputMode"] == "File"
    # the code and the baseline stay prefixes
    assert {inputs[n]["S3DataType"] for n in ("code", "baseline")} == {"S3Prefix"}
