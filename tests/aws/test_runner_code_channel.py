"""Training code delivered through a `code` channel, and typed parameter overrides, run offline.

The training toolkit takes `sagemaker_submit_directory` as an `s3://` tarball (covered in
test_runner_steps.py) or as a path inside the container: a tarball, a folder or a single
file, typically delivered by an input channel named `code` (`files.download_and_extract`).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from offline.local_aws import LocalAws, moto_server
from offline.runner import PipelineDefinitionError, RunResult, run_pipeline

BUCKET = "code-channel-bucket"
ECHO_URI = {
    "Std:Join": {"On": "/", "Values": [f"s3://{BUCKET}/echo", {"Get": "Execution.PipelineExecutionId"}]}
}

#: Records its argv and the SM_* environment in the model dir, and writes model weights.
TRAIN_PY = """
import json, os, sys, pathlib
model = pathlib.Path(os.environ["SM_MODEL_DIR"])
(model / "weights.txt").write_text("w")
(model / "seen.json").write_text(json.dumps({
    "argv": sys.argv[1:],
    "sm": {k: v for k, v in os.environ.items() if k.startswith("SM_")},
    "opt_ml_root": os.environ.get("MLOPS_OPT_ML_ROOT"),
    "cwd": os.getcwd(),
}))
"""

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
            "packed/sourcedir.tar.gz": tarball({"train.py": TRAIN_PY}),
            "unpacked/train.py": TRAIN_PY.encode(),
            "single/train.py": TRAIN_PY.encode(),
            "splits/train/train.csv": b"y,x\n1,2\n",
            "code/echo.py": ECHO_PY.encode(),
        }.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        yield local


def channel(name: str, prefix: str) -> dict[str, Any]:
    source = {"S3Uri": f"s3://{BUCKET}/{prefix}", "S3DataType": "S3Prefix"}
    return {"ChannelName": name, "DataSource": {"S3DataSource": source}}


def training_definition(code_prefix: str, submit_directory: str) -> dict[str, Any]:
    step = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": "xgboost:3.0-5", "TrainingInputMode": "File"},
            "HyperParameters": {
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": json.dumps(submit_directory),
                "max_depth": "3",
                "objective": '"reg:squarederror"',
            },
            "InputDataConfig": [channel("train", "splits/train/"), channel("code", code_prefix)],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
        },
    }
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [step]}


@pytest.mark.parametrize(
    ("code_prefix", "submit_directory"),
    [
        ("packed/", "/opt/ml/input/data/code/sourcedir.tar.gz"),
        # the toolkit copies a folder (or a single file) as it is; only tarballs are unpacked
        ("unpacked/", "/opt/ml/input/data/code"),
        ("single/", "/opt/ml/input/data/code/train.py"),
    ],
    ids=["tarball", "folder", "single file"],
)
def test_script_mode_code_from_a_code_channel(
    aws: LocalAws, tmp_path: Path, code_prefix: str, submit_directory: str
) -> None:
    # GIVEN a script-mode training step whose code arrives through its `code` channel
    definition = training_definition(code_prefix, submit_directory)
    # WHEN it runs
    result = run_pipeline(definition, aws, tmp_path, log=lambda _: None)
    # THEN the program ran with the toolkit's arguments and environment, channels included
    assert result.status == "Succeeded", result.failure
    job = f"pipelines-{result.execution_id}-train"
    uri = f"s3://{BUCKET}/models/{job}/output/model.tar.gz"
    assert result.properties["Train"]["ModelArtifacts"] == {"S3ModelArtifacts": uri}
    with tarfile.open(fileobj=io.BytesIO(aws.read_object(uri))) as tar:
        assert sorted(tar.getnames()) == ["seen.json", "weights.txt"]
        seen = json.loads(tar.extractfile("seen.json").read())  # type: ignore[union-attr]
    root = result.run_dir / "Train" / "opt_ml"
    assert seen["argv"] == ["--max_depth", "3", "--objective", "reg:squarederror"]
    assert seen["opt_ml_root"] == str(root)
    assert seen["cwd"] == str(root / "code")
    assert seen["sm"]["SM_MODEL_DIR"] == str(root / "model")
    assert seen["sm"]["SM_CHANNEL_TRAIN"] == str(root / "input/data/train")
    assert seen["sm"]["SM_CHANNEL_CODE"] == str(root / "input/data/code")
    assert json.loads(seen["sm"]["SM_CHANNELS"]) == ["code", "train"]
    assert json.loads(seen["sm"]["SM_HPS"]) == {"max_depth": 3, "objective": "reg:squarederror"}


def test_a_submit_directory_missing_from_the_job_is_named(aws: LocalAws, tmp_path: Path) -> None:
    definition = training_definition("packed/", "/opt/ml/input/data/code/nothing.tar.gz")
    result = run_pipeline(definition, aws, tmp_path, log=lambda _: None)
    assert result.status == "Failed"
    assert "sagemaker_submit_directory '/opt/ml/input/data/code/nothing.tar.gz'" in result.failure


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
