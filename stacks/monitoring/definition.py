"""The drift-check pipeline definition: SelectCapture (Lambda) → HasCapture (condition) →
DriftCheck (processing) → PublishDriftMetrics (Lambda).

SelectCapture lists only the capture files of the lookback window's hours into a manifest, which
DriftCheck reads as a ``ManifestFile`` input: the download follows the window, not the whole
capture history, and an hour with no traffic skips the check (the execution succeeds having
checked nothing) instead of failing on an empty input.

Written with the same pieces as the training pipeline (``stacks.pipeline.steps`` and
``expressions``: no SageMaker SDK import; tests/unit/test_definition_sdk.py holds both to what
the SDK compiles). ``${Name}`` placeholders are filled by the stack's ``Fn::Sub`` like the
training pipeline's. The check runs ``ml_code/drift/monitor.py`` from the same
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
from stacks.pipeline.expressions import Json, execution_id, greater_than, join, string_parameter
from stacks.pipeline.steps import PROCESSING, ConditionStep, JobStep, LambdaStep, pipeline_definition

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


#: The run's parameters (the drift schedule passes all four; a run started by hand may omit the lookback).
_ENDPOINT: Final = string_parameter("EndpointName")
_CAPTURE: Final = string_parameter("CaptureUri")
_BASELINE: Final = string_parameter("BaselineUri")
_LOOKBACK: Final = string_parameter("LookbackHours", "24")


def _check_uri(bucket: str, *parts: str) -> Json:
    return join(["s3:/", bucket, CHECKS_PREFIX.rstrip("/"), execution_id(), *parts], on="/")


def build_drift_definition(props: DriftDefinitionProps) -> Json:
    """The pipeline definition as a dict (:func:`definition_json` gives the CfnPipeline body)."""
    select = LambdaStep(
        name="SelectCapture",
        description="List the capture files of the lookback window's hours into a manifest",
        function_arn=props.select_function_arn,
        arguments={
            "capture_uri": _CAPTURE.expr,
            "lookback_hours": _LOOKBACK.expr,
            "manifest_uri": _check_uri(props.artifact_bucket, MANIFEST_FILE),
        },
        outputs={"files": "Integer", "manifest_uri": "String"},
    )
    check = _check_step(props, manifest_uri=select.output("manifest_uri"))
    has_capture = ConditionStep(
        name="HasCapture",
        description="Check only a window with captured traffic (else succeed, checking nothing)",
        conditions=[greater_than(select.output("files"), 0)],
        if_steps=[check, _publish_step(props, after=check)],
        else_steps=[],
    )
    return pipeline_definition([_ENDPOINT, _CAPTURE, _BASELINE, _LOOKBACK], [select, has_capture])


def _check_step(props: DriftDefinitionProps, *, manifest_uri: Json) -> JobStep:
    code_file = props.code_uri.rsplit("/", 1)[-1]
    arguments: list[Any] = [
        "--endpoint-name", _ENDPOINT.expr,
        "--lookback-hours", _LOOKBACK.expr,
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
            rq.s3_input("baseline", _BASELINE.expr, contract.MONITOR_BASELINE_DIR),
            rq.s3_input("capture", manifest_uri, contract.MONITOR_CAPTURE_DIR, data_type="ManifestFile"),
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
    return JobStep(
        name="DriftCheck",
        type=PROCESSING,
        description="Compare captured traffic with the deployed version's baseline",
        arguments=check,
    )


def _publish_step(props: DriftDefinitionProps, *, after: JobStep) -> LambdaStep:
    return LambdaStep(
        name="PublishDriftMetrics",
        description="Publish the drift report's numbers to CloudWatch (the check is isolated)",
        depends_on=(after.name,),
        function_arn=props.function_arn,
        arguments={
            "report_uri": _check_uri(props.artifact_bucket, CHECK_REPORT_FOLDER, contract.DRIFT_METRICS_FILE),
            "endpoint_name": _ENDPOINT.expr,
        },
        outputs={"violations": "Integer"},
    )


def definition_json(props: DriftDefinitionProps) -> str:
    """The definition as deterministic JSON text."""
    return json.dumps(
        {k: v for k, v in build_drift_definition(props).items() if v is not None}, sort_keys=True
    )
