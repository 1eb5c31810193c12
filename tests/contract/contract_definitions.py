"""The job requests the contract tier runs, taken from the definitions the stacks build.

The training pipeline's definition comes from ``stacks.pipeline.definition.build_definition``
and the drift check's from ``stacks.monitoring.definition.build_drift_definition`` (what the
stacks put in their CfnPipelines), with literal deployment values instead of the stacks'
``${Name}`` placeholders. Each job step's request is resolved as the offline runner resolves it
(parameter defaults plus overrides, execution variables) and rendered as SageMaker renders it
(:func:`emulator.api_shapes.render_request`). References to earlier steps' properties only ever
name S3 locations, which the tier replaces with local files, so they become placeholders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from contract_jobs import NO_AWS

from emulator.api_shapes import render_request
from emulator.definition import coerce_parameters, flatten
from emulator.expressions import Scope
from stacks.monitoring.definition import DriftDefinitionProps, build_drift_definition
from stacks.pipeline.definition import build_definition
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.requests import JobSettings

ACCOUNT: Final = "111122223333"
REGION: Final = "eu-west-1"
MODEL_PACKAGE_GROUP: Final = "contract-models"
ENDPOINT_NAME: Final = "contract-endpoint"
_JOB: Final = JobSettings(
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
    kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    image_uri=f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:3.0-5",
    subnet_ids=("subnet-0123456789abcdef0",),
    security_group_ids=("sg-0123456789abcdef0",),
    max_runtime_seconds=3600,
)
_EXECUTION: Final = {
    "PipelineExecutionId": "contract",
    "PipelineExecutionArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/contract/execution/contract",
    "PipelineName": "contract",
    "PipelineArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/contract",
    "StartDateTime": "2026-01-01T00:00:00Z",
    "CurrentDateTime": "2026-01-01T00:00:00Z",
}


def code_uri(bundle: bytes) -> str:
    """Where the stack's asset puts the bundle: a content-hash key (the file name steps unpack)."""
    return f"s3://cdk-assets-{ACCOUNT}-{REGION}/{hashlib.sha256(bundle).hexdigest()}.tar.gz"


def _placeholders(value: Any) -> Any:
    """``value`` with every ``{"Get": "Steps...."}`` replaced by a placeholder URI."""
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    if isinstance(value, dict):
        get = value.get("Get")
        if len(value) == 1 and isinstance(get, str) and get.startswith("Steps."):
            return f"s3://contract-placeholder/{get}"
        return {k: _placeholders(v) for k, v in value.items()}
    return value


def job_requests(definition: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Step name -> its resolved, rendered API request, for every Processing and Training step."""
    scope = Scope(parameters=coerce_parameters(definition, overrides), execution=dict(_EXECUTION))
    client = NO_AWS.client("sagemaker")  # only its service model is read
    return {
        entry.name: render_request(client, entry.type, scope.resolve(_placeholders(entry.step["Arguments"])))
        for entry in flatten(list(definition["Steps"]))
        if entry.type in ("Processing", "Training")
    }


def training_pipeline_requests(bundle: bytes) -> dict[str, Any]:
    """The training pipeline's job requests (Preprocess, Train, Evaluate), default parameters."""
    props = DefinitionProps(
        job=_JOB,
        artifact_bucket="contract-artifacts",
        code_uri=code_uri(bundle),
        region=REGION,
        model_package_group_name=MODEL_PACKAGE_GROUP,
        processing_instance_type="ml.m5.large",
        training_instance_type="ml.m5.xlarge",
        endpoint_instance_type="ml.m5.large",
        quality_threshold=0.7,
        champion_margin=0.01,
        use_spot=True,
    )
    definition = json.loads(build_definition(props, name="contract-training"))
    return job_requests(definition, {"InputDataUri": "s3://contract-artifacts/data/raw/"})


def drift_check_request(bundle: bytes) -> dict[str, Any]:
    """The drift-check pipeline's DriftCheck request, for :data:`ENDPOINT_NAME`."""
    props = DriftDefinitionProps(
        job=_JOB,
        artifact_bucket="contract-artifacts",
        code_uri=code_uri(bundle),
        function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:publish",
        select_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:select",
        instance_type="ml.m5.large",
        threshold=0.2,
        missing_tolerance=0.05,
        feature_thresholds={"tenure_months": 0.3},
    )
    overrides = {
        "EndpointName": ENDPOINT_NAME,
        "CaptureUri": f"s3://contract-artifacts/data-capture/{ENDPOINT_NAME}/",
        "BaselineUri": "s3://contract-artifacts/baseline/",
    }
    requests = job_requests(build_drift_definition(props), overrides)
    return dict(requests["DriftCheck"])
