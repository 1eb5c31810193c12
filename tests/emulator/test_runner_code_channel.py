"""Training code delivered through a `code` channel, and typed parameter overrides, run offline.

The training job's entrypoint (the definition's `step_command`) unpacks the bundle where the
`code` channel lands: a bundle that is there runs, one that is not fails with tar's complaint
in the job log (what the job sees is in test_runner_steps.py).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.local_aws import LocalAws, moto_server
from emulator.runner import PipelineDefinitionError, RunResult, run_pipeline
from stacks.pipeline.requests import TRAINING_CODE_DIR, step_command

BUCKET = "code-channel-bucket"
ECHO_URI = {
    "Std:Join": {"On": "/", "Values": [f"s3://{BUCKET}/echo", {"Get": "Execution.PipelineExecutionId"}]}
}

#: Writes its argv to args.json in its output dir.
ECHO_PY = """
import json, os, sys, pathlib
out = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"]) / "processing" / "output" / "echo"
out.mkdir(parents=True, exist_ok=True)
(out / "args.json").write_text(json.dumps(sys.argv[1:]))
"""


def tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        s3 = local.client("s3")
        for key, body in {
            "packed/sourcedir.tar.gz": tarball({"train.py": "print('trained')\n"}),
            "splits/train/train.csv": b"y,x\n1,2\n",
            "code/echo.py": ECHO_PY.encode(),
        }.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        yield local


def channel(name: str, prefix: str) -> dict[str, Any]:
    source = {"S3Uri": f"s3://{BUCKET}/{prefix}", "S3DataType": "S3Prefix"}
    return {"ChannelName": name, "DataSource": {"S3DataSource": source}}


def training_definition(code_file: str) -> dict[str, Any]:
    step = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "xgboost:3.0-5",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": step_command("train.py", code_file, code_dir=TRAINING_CODE_DIR),
            },
            "HyperParameters": {"max_depth": "3"},
            "InputDataConfig": [channel("train", "splits/train/"), channel("code", "packed/")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
        },
    }
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [step]}


def test_the_bundle_from_the_code_channel_runs(aws: LocalAws, tmp_path: Path) -> None:
    result = run_pipeline(training_definition("sourcedir.tar.gz"), aws, tmp_path, log=lambda _: None)
    assert result.status == "Succeeded", result.failure
    assert "trained" in (result.run_dir / "Train" / "job.log").read_text()


def test_a_bundle_missing_from_the_code_channel_fails_with_tar_s_complaint(
    aws: LocalAws, tmp_path: Path
) -> None:
    # GIVEN an entrypoint naming a bundle the code channel does not hold
    definition = training_definition("nothing.tar.gz")
    # WHEN it runs
    result = run_pipeline(definition, aws, tmp_path, log=lambda _: None)
    # THEN the job fails as SageMaker would show it (no failure file), and the log says why
    assert result.status == "Failed"
    assert result.properties["Train"]["FailureReason"] == "AlgorithmError: See job logs for more information"
    assert "nothing.tar.gz" in result.failure.split("--- last lines of", 1)[1]


def echo_definition() -> dict[str, Any]:
    step = {
        "Name": "Echo",
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ImageUri": "image",
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/echo.py"],
                "ContainerArguments": [
                    *("--rate", {"Get": "Parameters.Rate"}),
                    *("--rounds", {"Get": "Parameters.Rounds"}),
                    *("--problem", {"Get": "Parameters.Problem"}),
                ],
            },
            "ProcessingInputs": [
                {
                    "InputName": "code",
                    "S3Input": {
                        "S3Uri": f"s3://{BUCKET}/code/echo.py",
                        "LocalPath": "/opt/ml/processing/input/code",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "echo",
                        "S3Output": {
                            "S3Uri": ECHO_URI,
                            "LocalPath": "/opt/ml/processing/output/echo",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        },
    }
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "Rate", "Type": "Float", "DefaultValue": 0.1},
            {"Name": "Rounds", "Type": "Integer", "DefaultValue": 10},
            {
                "Name": "Problem",
                "Type": "String",
                "DefaultValue": "binary",
                "EnumValues": ["binary", "regression"],
            },
        ],
        "Steps": [step],
    }


def echoed(aws: LocalAws, result: RunResult) -> list[str]:
    args: list[str] = json.loads(aws.read_object(f"s3://{BUCKET}/echo/{result.execution_id}/args.json"))
    return args


def test_overrides_given_as_text_reach_the_job_typed(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN overrides as a command line gives them: all text
    overrides = {"Rate": "0.25", "Rounds": "20", "Problem": "regression"}
    # WHEN the pipeline runs with them
    result = run_pipeline(echo_definition(), aws, tmp_path, overrides=overrides, log=lambda _: None)
    # THEN the run records typed values and the job got them rendered back as text
    assert result.status == "Succeeded", result.failure
    assert result.parameters == {"Rate": 0.25, "Rounds": 20, "Problem": "regression"}
    assert echoed(aws, result) == ["--rate", "0.25", "--rounds", "20", "--problem", "regression"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Rounds": "0.5"}, "pipeline parameter 'Rounds' is Integer, got '0.5'"),
        ({"Rate": "fast"}, "pipeline parameter 'Rate' is Float, got 'fast'"),
        ({"Problem": "ranking"}, "pipeline parameter 'Problem' must be one of binary, regression"),
        ({"Rows": "5"}, "unknown pipeline parameter(s) Rows; the definition has Problem, Rate, Rounds"),
    ],
)
def test_bad_overrides_stop_the_run_before_any_step(
    aws: LocalAws, tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(PipelineDefinitionError) as raised:
        run_pipeline(echo_definition(), aws, tmp_path, overrides=overrides, log=lambda _: None)
    assert message in str(raised.value)
    assert not list(tmp_path.iterdir())
