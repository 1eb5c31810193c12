"""A Boolean pipeline parameter reaches a job as SageMaker renders it: `true`/`false` text in
string fields (container arguments, environment, hyperparameters), a bool in boolean fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulator.api_shapes import render_request
from emulator.local_aws import LocalAws, moto_server
from emulator.runner import run_pipeline

BUCKET = "rendering"
#: Writes its arguments and FLAG environment variable into its output folder.
ECHO = (
    "import os, sys, pathlib; out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True); "
    "(out / 'seen.txt').write_text(' '.join(sys.argv[2:]) + ' env=' + os.environ['FLAG'])"
)


@pytest.fixture(scope="module")
def sagemaker() -> Any:
    return boto3.client("sagemaker", region_name="us-east-1")


def test_processing_strings_get_lowercase_booleans_and_boolean_fields_stay_bool(sagemaker: Any) -> None:
    request = {
        "AppSpecification": {
            "ImageUri": "i",
            "ContainerArguments": ["--flag", True, "--rounds", 3, "--r", 0.5],
        },
        "Environment": {"FLAG": False},
        "NetworkConfig": {"EnableNetworkIsolation": True},
    }
    rendered = render_request(sagemaker, "Processing", request)
    assert rendered["AppSpecification"]["ContainerArguments"] == [
        "--flag",
        "true",
        "--rounds",
        "3",
        "--r",
        "0.5",
    ]
    assert rendered["Environment"] == {"FLAG": "false"}
    assert rendered["NetworkConfig"]["EnableNetworkIsolation"] is True


def test_training_hyperparameters_are_text_and_spot_stays_a_boolean(sagemaker: Any) -> None:
    request = {"HyperParameters": {"early": True, "rounds": 300}, "EnableManagedSpotTraining": False}
    rendered = render_request(sagemaker, "Training", request)
    assert rendered == {
        "HyperParameters": {"early": "true", "rounds": "300"},
        "EnableManagedSpotTraining": False,
    }


def test_lambda_arguments_and_unknown_fields_are_left_alone(sagemaker: Any) -> None:
    assert render_request(sagemaker, "Lambda", {"flag": True}) == {"flag": True}
    assert render_request(sagemaker, "Processing", {"NotAField": True}) == {"NotAField": True}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        yield local


@pytest.mark.parametrize(("flag", "text"), [(True, "true"), (False, "false")])
def test_a_job_sees_the_same_text_in_its_arguments_its_environment_and_a_join(
    aws: LocalAws, tmp_path: Path, flag: bool, text: str
) -> None:
    # GIVEN a processing step that passes a Boolean parameter raw, inside Std:Join and in its environment
    parameter = {"Get": "Parameters.Flag"}
    step = {
        "Name": "Echo",
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/image:1",
                "ContainerEntrypoint": ["python3", "-c", ECHO, "/opt/ml/processing/output/out"],
                "ContainerArguments": [parameter, {"Std:Join": {"On": "=", "Values": ["joined", parameter]}}],
            },
            "Environment": {"FLAG": parameter},
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "out",
                        "S3Output": {"S3Uri": f"s3://{BUCKET}/{text}", "S3UploadMode": "EndOfJob",
                                     "LocalPath": "/opt/ml/processing/output/out"},
                    }
                ]
            },
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}},
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
    }  # fmt: skip
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Flag", "Type": "Boolean"}],
        "Steps": [step],
    }
    # WHEN it runs
    result = run_pipeline(definition, aws, tmp_path, overrides={"Flag": flag}, log=lambda _: None)
    # THEN the job saw SageMaker's spelling everywhere
    assert result.status == "Succeeded", result.failure
    seen = aws.read_object(f"s3://{BUCKET}/{text}/seen.txt").decode()
    assert seen == f"{text} joined={text} env={text}"
    assert json.dumps(result.parameters) == json.dumps({"Flag": flag})
