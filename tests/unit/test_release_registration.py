"""The pipeline registers each version with what the release tools read back from the registry.

``release.resolve`` reads the smoke samples' URI, and ``release.smoke`` the problem type, from
the version's ``CustomerMetadataProperties``; these tests pin the register step's side of that.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.approved_model import SMOKE_SAMPLES_FILE, SMOKE_SAMPLES_METADATA_KEY
from ml_code import contract
from release.registry import PROBLEM_TYPE_METADATA_KEY
from stacks.pipeline.definition import build_definition
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.requests import JobSettings

ACCOUNT = "111122223333"


def _steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for step in steps:
        found.append(step)
        for branch in ("IfSteps", "ElseSteps"):
            found += _steps(step["Arguments"].get(branch, []))
    return found


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    props = DefinitionProps(
        job=JobSettings(
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
            kms_key_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
            subnet_ids=("subnet-0123456789abcdef0",),
            security_group_ids=("sg-0123456789abcdef0",),
            max_runtime_seconds=3600,
        ),
        artifact_bucket="artifacts-bucket",
        code_uri="s3://cdk-assets/0123abcd.gz",
        region="eu-west-1",
        model_package_group_name="demo-dev-models",
        processing_instance_type="ml.m5.large",
        training_instance_type="ml.m5.xlarge",
        endpoint_instance_type="ml.m5.large",
        quality_threshold=0.7,
        champion_margin=0.01,
        use_spot=False,
    )
    definition = json.loads(build_definition(props, name="demo-dev-training"))
    return {step["Name"]: step for step in _steps(definition["Steps"])}


def test_the_version_records_its_smoke_samples_in_the_preprocess_test_output(
    steps: dict[str, dict[str, Any]],
) -> None:
    # GIVEN the register step and the preprocess step's output that preprocess.py writes the file to
    (register,) = (s for s in steps.values() if s["Type"] == "RegisterModel")
    outputs = steps["Preprocess"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert "test" in {o["OutputName"] for o in outputs}
    # THEN the version's SmokeSamplesUri is that output's S3 URI + the samples file
    metadata = register["Arguments"]["CustomerMetadataProperties"]
    output_uri = {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"}
    assert metadata[SMOKE_SAMPLES_METADATA_KEY] == {
        "Std:Join": {"On": "/", "Values": [output_uri, SMOKE_SAMPLES_FILE]}
    }
    assert SMOKE_SAMPLES_FILE == contract.SMOKE_SAMPLES_FILE  # the name preprocess.py writes


def test_the_version_records_the_runs_problem_type(steps: dict[str, dict[str, Any]]) -> None:
    (register,) = (s for s in steps.values() if s["Type"] == "RegisterModel")
    metadata = register["Arguments"]["CustomerMetadataProperties"]
    assert metadata[PROBLEM_TYPE_METADATA_KEY] == {"Get": "Parameters.ProblemType"}
