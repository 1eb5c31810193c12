"""Processing and training steps run as local processes against a moto server.

Each test hand-writes a small definition in the SDK's serialized shape, puts its code and
data in the S3 stand-in, runs it, and checks what the job saw and what it left in S3.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.jobs import JobContext
from emulator.local_aws import LocalAws, moto_server
from emulator.runner import RunResult, run_pipeline
from stacks.pipeline.requests import TRAINING_CODE_DIR, step_command

BUCKET = "steps-bucket"

#: A processing job that records what it saw, writes an output, and can fail on request.
PROCESSING_SCRIPT = """
import json, os, sys, pathlib, boto3
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
root = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"])
if args.get("--fail"):
    (root / "output").mkdir(parents=True, exist_ok=True)
    (root / "output" / "message").write_text(args["--fail"])
    sys.exit(1)
data = root / "processing" / "input" / "data"
out = pathlib.Path(args["--out"])
out.mkdir(parents=True, exist_ok=True)
(out / "seen.json").write_text(json.dumps({
    "files": sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()),
    "out": str(out), "cwd": os.getcwd(), "root": str(root), "executable": sys.executable,
    "prefix": sys.prefix, "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
    "region": os.environ.get("AWS_DEFAULT_REGION"), "mode": os.environ.get("MODE"),
    "buckets": [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]],
}))
(out / "nested").mkdir(exist_ok=True)
(out / "nested" / "part.txt").write_text("part")
"""

#: A training program that records its argv, environment and inputs into the model dir.
TRAINING_SCRIPT = """
import json, os, sys, pathlib
root = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"])
model = root / "model"
if "--fail" in sys.argv:
    (root / "output").mkdir(parents=True, exist_ok=True)
    (root / "output" / "failure").write_text("label column missing")
    sys.exit(1)
if "--crash" in sys.argv:
    sys.exit(3)  # no failure file
checkpoints = root / "checkpoints"
resumed = (checkpoints / "ckpt.txt").read_text() if (checkpoints / "ckpt.txt").exists() else None
(checkpoints / "ckpt.txt").write_text("round-2")
(model / "sub").mkdir(parents=True, exist_ok=True)
(model / "sub" / "weights.txt").write_text("w")
(model / "seen.json").write_text(json.dumps({
    "argv": sys.argv[1:], "cwd": os.getcwd(), "resumed": resumed,
    "channels": sorted(p.name for p in (root / "input" / "data").iterdir()),
    "train_files": sorted(p.name for p in (root / "input" / "data" / "train").iterdir()),
    "sm": sorted(k for k in os.environ if k.startswith("SM_")),
    "job": os.environ["TRAINING_JOB_NAME"], "arn": os.environ["TRAINING_JOB_ARN"],
    "mode": os.environ.get("MODE"),
    "helper": __import__("helper").VALUE,
    "config": json.loads((root / "input/config/hyperparameters.json").read_text()),
}))
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        put(local, "code/job.py", PROCESSING_SCRIPT.encode())
        put(local, "data/raw/a.csv", b"x\n1\n")
        put(local, "data/raw/more/b.csv", b"x\n2\n")
        put(local, "data/rawish/not-mine.csv", b"x\n3\n")  # a sibling prefix, not below data/raw/
        put(
            local,
            "code/sourcedir.tar.gz",
            tarball({"train.py": TRAINING_SCRIPT, "helper.py": "VALUE = 42\n"}),
        )
        put(local, "splits/train/train.csv", b"y,x\n1,2\n")
        put(local, "splits/validation/validation.csv", b"y,x\n1,2\n")
        put(local, "ckpt/ckpt.txt", b"round-1")
        raw = f"s3://{BUCKET}/data/raw/"
        put(local, "manifests/raw", json.dumps([{"prefix": raw}, "more/b.csv", "a.csv"]).encode())
        put(local, "manifests/empty", json.dumps([{"prefix": raw}]).encode())
        put(local, "manifests/gone", json.dumps([{"prefix": raw}, "a.csv", "gone.csv"]).encode())
        put(local, "manifests/escape", json.dumps([{"prefix": raw}, "../../code/x"]).encode())
        yield local


def put(aws: LocalAws, key: str, body: bytes) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)


def tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def s3_input(name: str, uri: Any, local_path: str, **extra: Any) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            **extra,
        },
    }


def processing_step(name: str, *arguments: Any, inputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out_uri = {
        "Std:Join": {
            "On": "/",
            "Values": [f"s3://{BUCKET}/runs", {"Get": "Execution.PipelineExecutionId"}, name],
        }
    }
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/image:1",
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/job.py"],
                "ContainerArguments": list(arguments),
            },
            "Environment": {"MODE": {"Get": "Parameters.Mode"}},
            "ProcessingInputs": inputs
            if inputs is not None
            else [
                s3_input("code", f"s3://{BUCKET}/code/job.py", "/opt/ml/processing/input/code"),
                s3_input("data", f"s3://{BUCKET}/data/raw/", "/opt/ml/processing/input/data"),
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "report",
                        "S3Output": {
                            "S3Uri": out_uri,
                            "LocalPath": "/opt/ml/processing/output/report",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
        },
    }


def definition(*steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Mode", "Type": "String", "DefaultValue": "default-mode"}],
        "Steps": list(steps),
    }


def run(aws: LocalAws, tmp_path: Path, *steps: dict[str, Any], **overrides: Any) -> RunResult:
    return run_pipeline(definition(*steps), aws, tmp_path, overrides=overrides, log=lambda _: None)


def test_processing_step_runs_its_entrypoint_in_a_local_opt_ml(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN a processing step whose arguments name a container path and a parameter
    step = processing_step(
        "Prep", "--out", "/opt/ml/processing/output/report", "--mode", {"Get": "Parameters.Mode"}
    )
    # WHEN it runs
    result = run(aws, tmp_path, step, Mode="fast")
    # THEN the job ran with /opt/ml mapped into the run folder, this venv's python3, and the
    # AWS stand-in as its endpoint; its inputs came with prefix semantics
    assert result.status == "Succeeded", result.failure
    out_uri = f"s3://{BUCKET}/runs/{result.execution_id}/Prep"
    assert result.step("Prep").outputs == {"report": out_uri}
    seen = json.loads(aws.read_object(f"{out_uri}/seen.json"))
    root = result.run_dir / "Prep" / "opt_ml"
    assert seen["root"] == str(root)
    assert seen["out"] == str(root / "processing/output/report")
    assert seen["files"] == ["a.csv", "more/b.csv"]
    assert seen["prefix"] == sys.prefix
    assert Path(seen["cwd"]).is_relative_to(result.run_dir)
    assert (seen["endpoint"], seen["region"], seen["mode"]) == (aws.endpoint_url, "us-east-1", "fast")
    assert BUCKET in seen["buckets"]
    # ... and every file of the output dir was uploaded under the output URI, nested ones too
    assert aws.read_object(f"{out_uri}/nested/part.txt") == b"part"
    props = result.properties["Prep"]
    assert props["ProcessingOutputConfig"]["Outputs"]["report"]["S3Output"]["S3Uri"] == out_uri
    assert props["ProcessingJobName"] == f"pipelines-{result.execution_id}-prep"


def test_failing_processing_job_reports_its_message_file(aws: LocalAws, tmp_path: Path) -> None:
    failing = processing_step("Prep", "--fail", "target column 'churn' not found")
    after = processing_step("After", "--out", "/opt/ml/processing/output/report")
    after["DependsOn"] = ["Prep"]
    result = run(aws, tmp_path, failing, after)
    assert result.status == "Failed"
    assert result.failure.startswith(
        "step 'Prep' (Processing) failed: exited with code 1: target column 'churn' not found"
    )
    assert result.step("After").status == "NotStarted"
    log_path = result.step("Prep").log_path
    assert log_path is not None
    assert log_path.is_file()


@pytest.mark.parametrize(
    ("bad_input", "message"),
    [
        (
            s3_input("data", f"s3://{BUCKET}/nothing/here/", "/opt/ml/processing/input/data"),
            f"processing input 'data': no objects under s3://{BUCKET}/nothing/here/",
        ),
        (
            s3_input("data", f"s3://{BUCKET}/data/raw/", "/opt/ml/processing/input/data", S3InputMode="Pipe"),
            "processing input 'data': S3InputMode 'Pipe' cannot run locally",
        ),
        (
            s3_input(
                "data",
                f"s3://{BUCKET}/m.json",
                "/opt/ml/processing/input/data",
                S3DataType="AugmentedManifestFile",
            ),
            "processing input 'data': S3DataType 'AugmentedManifestFile' cannot run locally",
        ),
        (
            s3_input(
                "data",
                f"s3://{BUCKET}/nothing.manifest",
                "/opt/ml/processing/input/data",
                S3DataType="ManifestFile",
            ),
            f"processing input 'data': cannot read the manifest s3://{BUCKET}/nothing.manifest",
        ),
        (
            s3_input(
                "data",
                f"s3://{BUCKET}/manifests/empty",
                "/opt/ml/processing/input/data",
                S3DataType="ManifestFile",
            ),
            f"processing input 'data': the manifest s3://{BUCKET}/manifests/empty lists no objects",
        ),
        (
            s3_input(
                "data",
                f"s3://{BUCKET}/manifests/gone",
                "/opt/ml/processing/input/data",
                S3DataType="ManifestFile",
            ),
            f"processing input 'data': manifest s3://{BUCKET}/manifests/gone lists s3://{BUCKET}/data/raw/gone.csv",
        ),
        (
            s3_input(
                "data",
                f"s3://{BUCKET}/manifests/escape",
                "/opt/ml/processing/input/data",
                S3DataType="ManifestFile",
            ),
            "processing input 'data': manifest entry '../../code/x' leaves the input folder",
        ),
        ({"InputName": "athena", "DatasetDefinition": {}}, "processing input 'athena' is not an S3 input"),
        (
            s3_input("data", f"s3://{BUCKET}/data/raw/", "/tmp/data"),
            "container path '/tmp/data' is not under /opt/ml",
        ),
    ],
)
def test_inputs_the_runner_cannot_fetch_fail_named(
    aws: LocalAws, tmp_path: Path, bad_input: dict[str, Any], message: str
) -> None:
    step = processing_step("Prep", "--out", "/opt/ml/processing/output/report", inputs=[bad_input])
    result = run(aws, tmp_path, step)
    assert result.status == "Failed"
    assert message in result.failure


def test_a_manifest_input_downloads_the_listed_objects_at_their_relative_paths(
    aws: LocalAws, tmp_path: Path
) -> None:
    # GIVEN a manifest listing two of the three objects under data/raw/ (more/b.csv one level down)
    inputs = [
        s3_input("code", f"s3://{BUCKET}/code/job.py", "/opt/ml/processing/input/code"),
        s3_input(
            "data", f"s3://{BUCKET}/manifests/raw", "/opt/ml/processing/input/data", S3DataType="ManifestFile"
        ),
    ]
    put(aws, "data/raw/not-listed.csv", b"x\n9\n")
    step = processing_step("Prep", "--out", "/opt/ml/processing/output/report", inputs=inputs)
    try:
        # WHEN the job runs
        result = run(aws, tmp_path, step)
    finally:
        aws.client("s3").delete_object(Bucket=BUCKET, Key="data/raw/not-listed.csv")
    # THEN the job saw exactly the listed objects, each at its path relative to the manifest's prefix
    assert result.status == "Succeeded", result.failure
    seen = json.loads(aws.read_object(f"s3://{BUCKET}/runs/{result.execution_id}/Prep/seen.json"))
    assert seen["files"] == ["a.csv", "more/b.csv"]


#: The definition's training command, with the bundle the test puts in the code channel.
ENTRYPOINT = step_command("train.py", "sourcedir.tar.gz", code_dir=TRAINING_CODE_DIR)


def training_step(hyperparameters: dict[str, str], *arguments: str, **extra: Any) -> dict[str, Any]:
    """A training step as the pipeline definition writes one: its own entrypoint, the code channel."""

    def channel(name: str, uri: str) -> dict[str, Any]:
        return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3Uri": uri, "S3DataType": "S3Prefix"}}}

    return {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "xgboost:3.0-5",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": step_command(
                    "train.py", "sourcedir.tar.gz", code_dir=TRAINING_CODE_DIR
                ),
                "ContainerArguments": list(arguments),
            },
            "HyperParameters": hyperparameters,
            "InputDataConfig": [
                channel("train", f"s3://{BUCKET}/splits/train"),
                channel("validation", f"s3://{BUCKET}/splits/validation"),
                channel("code", f"s3://{BUCKET}/code/sourcedir.tar.gz"),
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models/"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
            "Environment": {"MODE": {"Get": "Parameters.Mode"}},
            **extra,
        },
    }


HYPERPARAMETERS = {"eta": "0.1", "max_depth": "5", "objective": '"binary:logistic"'}


def test_training_step_runs_its_entrypoint_as_sagemaker_does(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN a training step with spot training and a checkpoint already in S3
    step = training_step(
        HYPERPARAMETERS,
        "--extra",
        "/opt/ml/model",
        EnableManagedSpotTraining=True,
        CheckpointConfig={"S3Uri": f"s3://{BUCKET}/ckpt", "LocalPath": "/opt/ml/checkpoints"},
    )
    # WHEN it runs, followed by a Model step that uses its artefact
    model_step = {
        "Name": "CreateModel",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/r",
            "PrimaryContainer": {
                "Image": "xgboost:3.0-5",
                "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
            },
        },
    }
    result = run(aws, tmp_path, step, model_step, Mode="fast")
    # THEN the entrypoint unpacked the bundle in the code channel and ran train.py there with the
    # container arguments (/opt/ml mapped), and the model dir went to S3 as model.tar.gz
    assert result.status == "Succeeded", result.failure
    job = f"pipelines-{result.execution_id}-train"
    uri = f"s3://{BUCKET}/models/{job}/output/model.tar.gz"
    assert result.step("Train").outputs["model"] == uri
    with tarfile.open(fileobj=io.BytesIO(aws.read_object(uri))) as tar:
        assert sorted(tar.getnames()) == ["seen.json", "sub", "sub/weights.txt"]
        seen = json.loads(tar.extractfile("seen.json").read())  # type: ignore[union-attr]
    root = result.run_dir / "Train" / "opt_ml"
    assert seen["argv"] == ["--extra", str(root / "model")]
    assert seen["cwd"] == str(root / "input" / "data" / "code")
    assert seen["helper"] == 42
    assert seen["channels"] == ["code", "train", "validation"]
    assert seen["train_files"] == ["train.csv"]
    # ... with what SageMaker itself gives a container: no toolkit, so no SM_* variables
    assert seen["sm"] == []
    assert (seen["job"], seen["mode"]) == (job, "fast")
    assert seen["arn"] == result.properties["Train"]["TrainingJobArn"]
    assert seen["config"] == HYPERPARAMETERS  # hyperparameters.json holds the raw strings, as in SageMaker
    # ... it resumed from the checkpoint in S3, and its new checkpoint went back there
    assert seen["resumed"] == "round-1"
    assert aws.read_object(f"s3://{BUCKET}/ckpt/ckpt.txt") == b"round-2"
    assert any("spot" in note for note in result.step("Train").notes)
    # ... and the Model step created a model in the stand-in from that artefact
    model_name = result.step("CreateModel").outputs["ModelName"]
    described = aws.client("sagemaker").describe_model(ModelName=model_name)
    assert described["PrimaryContainer"]["ModelDataUrl"] == uri


@pytest.mark.parametrize(
    ("arguments", "code", "reason"),
    [
        (["--fail"], 1, "AlgorithmError: label column missing"),
        (["--crash"], 3, "AlgorithmError: See job logs for more information"),
    ],
    ids=["failure file", "no failure file"],
)
def test_a_failing_training_job_has_the_failure_reason_sagemaker_shows(
    aws: LocalAws, tmp_path: Path, arguments: list[str], code: int, reason: str
) -> None:
    result = run(aws, tmp_path, training_step(HYPERPARAMETERS, *arguments))
    assert result.status == "Failed"
    assert result.properties["Train"]["TrainingJobStatus"] == "Failed"
    assert result.properties["Train"]["FailureReason"] == reason
    assert result.failure.startswith(f"step 'Train' (Training) failed: exited with code {code}: {reason}\n")
    assert "last lines of" in result.step("Train").message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"ContainerEntrypoint": []},
            "the job has no AlgorithmSpecification.ContainerEntrypoint; only jobs that name their command "
            "run locally (the image 'xgboost:3.0-5' is not pulled)",
        ),
        ({"TrainingInputMode": "Pipe"}, "only TrainingInputMode File runs locally"),
    ],
)
def test_training_the_runner_cannot_emulate_fails_named(
    aws: LocalAws, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    step = training_step(HYPERPARAMETERS)
    step["Arguments"]["AlgorithmSpecification"].update(change)
    result = run(aws, tmp_path, step)
    assert result.status == "Failed"
    assert message in result.failure
    assert "Train" not in result.properties  # it never ran: no job to describe


def test_only_opt_ml_paths_are_mapped_into_the_job_folder(aws: LocalAws, tmp_path: Path) -> None:
    job = JobContext(tmp_path / "Step", aws, "job")
    mapped = job.map_text('cd /opt/ml/processing && run "/opt/ml" /opt/mlflow/x')
    assert mapped == f'cd {job.root}/processing && run "{job.root}" /opt/mlflow/x'
