"""The drift-check pipeline definition: SelectCapture (Lambda) → HasCapture (condition) →
DriftCheck (processing) → PublishDriftMetrics (Lambda).

SelectCapture lists only the capture files of the lookback window's hours into a manifest, which
DriftCheck reads as a ``ManifestFile`` input: the download follows the window, not the whole
capture history, and an hour with no traffic skips the check (the execution succeeds having
checked nothing) instead of failing on an empty input.

Hand-written JSON (no SageMaker SDK import; the one condition is copied from the shape the SDK
compiles for the training pipeline). ``${Name}`` placeholders are filled by the stack's
``Fn::Sub`` like the training pipeline's. The check runs ``ml_code/monitor.py`` from the same
source bundle and image as training, network-isolated with encrypted inter-container traffic,
KMS volumes and outputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from contracts.layout import CHECK_REPORT_FOLDER, CHECKS_PREFIX
from ml_code import contract
from stacks.pipeline import requests as rq

PARAMETERS: Final = ("EndpointName", "CaptureUri", "BaselineUri", "LookbackHours")
#: Where SelectCapture writes the window's manifest, under the execution's CHECKS_PREFIX folder.
MANIFEST_FILE: Final = "capture.manifest"


@dataclass(frozen=True, kw_only=True)
class DriftDefinitionProps:
    """Deployment inputs (strings may be ``${Name}`` placeholders) and the check's settings."""

    job: rq.JobSettings
    artifact_bucket: str
    code_uri: str
    function_arn: str
    select_function_arn: str
    instance_type: str
    threshold: float
    missing_tolerance: float
    feature_thresholds: Mapping[str, float] = field(default_factory=dict)


def _param(name: str) -> dict[str, str]:
    return {"Get": f"Parameters.{name}"}


def _output(step: str, name: str) -> dict[str, str]:
    return {"Get": f"Steps.{step}.OutputParameters['{name}']"}


def _check_uri(bucket: str, *parts: str) -> dict[str, Any]:
    values: list[Any] = ["s3:/", bucket, CHECKS_PREFIX.rstrip("/"), {"Get": "Execution.PipelineExecutionId"}]
    return {"Std:Join": {"On": "/", "Values": [*values, *parts]}}


def build_drift_definition(props: DriftDefinitionProps) -> dict[str, Any]:
    """The pipeline definition as a dict (``json.dumps`` it for the CfnPipeline body)."""
    code_file = props.code_uri.rsplit("/", 1)[-1]
    arguments: list[Any] = [
        "--endpoint-name", _param("EndpointName"),
        "--lookback-hours", _param("LookbackHours"),
        "--threshold", str(props.threshold),
        "--missing-tolerance", str(props.missing_tolerance),
    ]  # fmt: skip
    for name, value in sorted(props.feature_thresholds.items()):
        arguments += ["--feature-threshold", f"{name}={value}"]
    check = rq.processing_request(
        job=props.job,
        instance_type=props.instance_type,
        entrypoint=rq.step_command("monitor.py", code_file),
        arguments=arguments,
        inputs=[
            rq.s3_input("code", props.code_uri, contract.CODE_DIR),
            rq.s3_input("baseline", _param("BaselineUri"), contract.MONITOR_BASELINE_DIR),
            rq.s3_input(
                "capture",
                _output("SelectCapture", "manifest_uri"),
                contract.MONITOR_CAPTURE_DIR,
                data_type="ManifestFile",
            ),
        ],
        outputs=[
            rq.s3_output(
                contract.MONITOR_REPORT_OUTPUT,
                _check_uri(props.artifact_bucket, CHECK_REPORT_FOLDER),
                contract.MONITOR_REPORT_DIR,
            )
        ],
        network_isolation=True,
    )
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "EndpointName", "Type": "String"},
            {"Name": "CaptureUri", "Type": "String"},
            {"Name": "BaselineUri", "Type": "String"},
            {"Name": "LookbackHours", "Type": "String", "DefaultValue": "24"},
        ],
        "PipelineExperimentConfig": None,
        "Steps": [
            {
                "Name": "SelectCapture",
                "Type": "Lambda",
                "Description": "List the capture files of the lookback window's hours into a manifest",
                "FunctionArn": props.select_function_arn,
                "Arguments": {
                    "capture_uri": _param("CaptureUri"),
                    "lookback_hours": _param("LookbackHours"),
                    "manifest_uri": _check_uri(props.artifact_bucket, MANIFEST_FILE),
                },
                "OutputParameters": [
                    {"OutputName": "files", "OutputType": "Integer"},
                    {"OutputName": "manifest_uri", "OutputType": "String"},
                ],
            },
            {
                "Name": "HasCapture",
                "Type": "Condition",
                "Description": "Check only a window with captured traffic (else succeed, checking nothing)",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "GreaterThan",
                            "LeftValue": _output("SelectCapture", "files"),
                            "RightValue": 0,
                        }
                    ],
                    "IfSteps": [_check_step(check), _publish_step(props)],
                    "ElseSteps": [],
                },
            },
        ],
    }


def _check_step(check: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": "DriftCheck",
        "Type": "Processing",
        "Description": "Compare captured traffic with the deployed version's baseline",
        "Arguments": check,
    }


def _publish_step(props: DriftDefinitionProps) -> dict[str, Any]:
    return {
        "Name": "PublishDriftMetrics",
        "Type": "Lambda",
        "Description": "Publish the drift report's numbers to CloudWatch (the check is isolated)",
        "DependsOn": ["DriftCheck"],
        "FunctionArn": props.function_arn,
        "Arguments": {
            "report_uri": _check_uri(props.artifact_bucket, CHECK_REPORT_FOLDER, contract.DRIFT_METRICS_FILE),
            "endpoint_name": _param("EndpointName"),
        },
        "OutputParameters": [{"OutputName": "violations", "OutputType": "Integer"}],
    }


def definition_json(props: DriftDefinitionProps) -> str:
    """The definition as deterministic JSON text."""
    return json.dumps(
        {k: v for k, v in build_drift_definition(props).items() if v is not None}, sort_keys=True
    )
