"""What a user sees when a run's data is not where the definition says: the error names the
step, the property file or input, and the S3 location, not just the S3 API's own words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.local_aws import LocalAws, moto_server
from emulator.runner import PipelineDefinitionError, run_pipeline

BUCKET = "errors-bucket"

#: Writes --body into the evaluation output as --name (nothing when --name is "none").
WRITER = """
import os, sys, pathlib
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
out = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"]) / "processing" / "output" / "evaluation"
out.mkdir(parents=True, exist_ok=True)
if args["--name"] != "none":
    (out / args["--name"]).write_text(args["--body"])
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        s3 = local.client("s3")
        s3.put_object(Bucket=BUCKET, Key="code/writer.py", Body=WRITER.encode())
        # a "folder" made in the S3 console is a zero-byte object whose key ends in "/"
        s3.put_object(Bucket=BUCKET, Key="console/raw/", Body=b"")
        s3.put_object(Bucket=BUCKET, Key="console/raw/data.csv", Body=b"x\n1\n")
        yield local


def s3_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {"S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File"},
    }


def definition(file_name: str, body: str, data_uri: str | None = None) -> dict[str, Any]:
    inputs = [s3_input("code", f"s3://{BUCKET}/code/writer.py", "/opt/ml/processing/input/code")]
    if data_uri:
        inputs.append(s3_input("data", data_uri, "/opt/ml/processing/input/data"))
    evaluate = {
        "Name": "Evaluate",
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ImageUri": "image",
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/writer.py"],
                "ContainerArguments": ["--name", file_name, "--body", body],
            },
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "evaluation",
                        "S3Output": {
                            "S3Uri": f"s3://{BUCKET}/out/evaluation",
                            "LocalPath": "/opt/ml/processing/output/evaluation",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        },
        "PropertyFiles": [
            {"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "evaluation.json"}
        ],
    }
    score = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "score"}}
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "GreaterThan", "LeftValue": score, "RightValue": 0.5}],
            "IfSteps": [],
            "ElseSteps": [],
        },
    }
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [evaluate, gate]}


@pytest.mark.parametrize(
    ("file_name", "body", "message"),
    [
        ("none", "", "no such object"),
        ("evaluation.json", "{not json", "is not JSON"),
    ],
    ids=["missing", "not JSON"],
)
def test_an_unreadable_property_file_is_named_with_its_location(
    aws: LocalAws, tmp_path: Path, file_name: str, body: str, message: str
) -> None:
    # GIVEN an evaluate step that declares a property file it did not write (or wrote broken)
    result = run_pipeline(definition(file_name, body), aws, tmp_path, log=lambda _: None)
    # THEN the condition reading it fails, naming the property file, its S3 location and why
    assert result.status == "Failed"
    assert result.failure.startswith("step 'Gate' (Condition) failed: ")
    assert "property file 'Report' of step 'Evaluate'" in result.failure
    assert f"s3://{BUCKET}/out/evaluation/evaluation.json" in result.failure
    assert message in result.failure


def test_a_readable_property_file_drives_the_condition(aws: LocalAws, tmp_path: Path) -> None:
    result = run_pipeline(definition("evaluation.json", '{"score": 0.75}'), aws, tmp_path, log=lambda _: None)
    assert result.status == "Succeeded", result.failure
    assert result.step("Gate").outputs == {"Outcome": "true"}


def test_an_input_prefix_with_a_console_folder_marker_downloads_its_files(
    aws: LocalAws, tmp_path: Path
) -> None:
    # GIVEN an input prefix holding a zero-byte "console/raw/" folder object next to its data
    # WHEN a job reads it
    files = aws.download_prefix(f"s3://{BUCKET}/console/raw/", tmp_path / "data")
    # THEN the data arrives and the marker is a folder, as SageMaker treats it
    assert (tmp_path / "data" / "data.csv").read_text() == "x\n1\n"
    assert files == [tmp_path / "data" / "data.csv"]


def test_a_dependency_cycle_is_refused_before_any_step_runs(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN a runnable first step, then two steps waiting on each other
    first = definition("evaluation.json", '{"score": 0.75}')["Steps"][0]
    cycle = [
        {"Name": "B", "Type": "Fail", "DependsOn": ["Evaluate", "C"]},
        {"Name": "C", "Type": "Fail", "DependsOn": ["B"]},
    ]
    cyclic = {"Version": "2020-12-01", "Parameters": [], "Steps": [first, *cycle]}
    # WHEN it is run, THEN it is refused as a definition error, as SageMaker refuses it at
    # CreatePipeline, before the first step spends its minutes
    with pytest.raises(PipelineDefinitionError, match="B, C"):
        run_pipeline(cyclic, aws, tmp_path, log=lambda _: None)
    assert not list(tmp_path.iterdir())
