"""Run a CreateTrainingJob request locally, the way a framework container's script mode does.

The XGBoost framework container reads `sagemaker_program` and `sagemaker_submit_directory`
from the hyperparameters, unpacks the code, sets the `SM_*` environment and runs
`python3 <program> --name value ...` for the other hyperparameters with cwd = the code
dir. This module does the same in a folder standing in for /opt/ml, then archives the
model dir as `model.tar.gz` under `{S3OutputPath}/{job name}/output/`.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ml_code import contract
from offline.jobs import JobContext, StepFailedError, max_runtime

_CODE_DIR = f"{contract.OPT_ML}/code"
_CONFIG_DIR = f"{contract.OPT_ML}/input/config"
_OUTPUT_DATA_DIR = f"{contract.OPT_ML}/output/data"


def decode_hyperparameters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Values as the container sees them: each string is JSON-decoded when it is JSON.

    SageMaker passes hyperparameters as strings; the SDK JSON-quotes some (`"\\"train.py\\""`),
    and the training toolkit `json.loads` every value, keeping the raw string when that fails.
    """
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            decoded[key] = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            decoded[key] = value
    return decoded


def command_line_arguments(hyperparameters: Mapping[str, Any]) -> list[str]:
    """`--name value` pairs in the training toolkit's order and spelling (sorted names;
    `str()` of each value, `k=v,...` for a mapping, `-x` for a one-letter name)."""
    args: list[str] = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        if isinstance(value, Mapping):
            text = ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        else:
            text = "" if value is None else str(value)
        args += [f"--{key}" if len(key) > 1 else f"-{key}", text]
    return args


def run_training(job: JobContext, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run the training job; returns the step's properties (DescribeTrainingJob-shaped).

    Raises:
        StepFailedError: not script mode, an input the runner cannot fetch, or the script failed.
    """
    if args.get("AlgorithmSpecification", {}).get("TrainingInputMode", "File") != "File":
        raise StepFailedError("only TrainingInputMode File runs locally")
    channels = _download_channels(job, args.get("InputDataConfig", []))
    hyperparameters = decode_hyperparameters(args.get("HyperParameters", {}))
    program, submit = (
        hyperparameters.get("sagemaker_program"),
        hyperparameters.get("sagemaker_submit_directory"),
    )
    if not program or not submit:
        raise StepFailedError(
            "only script mode (hyperparameters sagemaker_program + sagemaker_submit_directory) runs locally; "
            f"the image {args.get('AlgorithmSpecification', {}).get('TrainingImage')!r} is not run"
        )
    code_dir = job.local(_CODE_DIR)
    _unpack_code(job, str(submit), code_dir)
    model_dir = job.local(contract.TRAINING_MODEL_DIR)
    for folder in (model_dir, job.local(_OUTPUT_DATA_DIR), job.local(_CONFIG_DIR)):
        folder.mkdir(parents=True, exist_ok=True)
    (job.local(_CONFIG_DIR) / "hyperparameters.json").write_text(
        json.dumps(args.get("HyperParameters", {}), indent=2)
    )
    checkpoint = _prepare_checkpoints(job, args)
    user_hps = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    env = {
        "SM_MODEL_DIR": contract.TRAINING_MODEL_DIR,
        "SM_OUTPUT_DATA_DIR": _OUTPUT_DATA_DIR,
        "SM_OUTPUT_DIR": f"{contract.OPT_ML}/output",
        "SM_INPUT_DIR": f"{contract.OPT_ML}/input",
        "SM_INPUT_CONFIG_DIR": _CONFIG_DIR,
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(user_hps),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_HOSTS": '["algo-1"]',
        "SM_CURRENT_HOST": "algo-1",
        "SM_USER_ENTRY_POINT": str(program),
        "SM_MODULE_DIR": str(submit),
        "SM_LOG_LEVEL": str(hyperparameters.get("sagemaker_container_log_level", 20)),
        "TRAINING_JOB_NAME": job.job_name,
        **{f"SM_CHANNEL_{name.upper()}": f"{contract.TRAINING_CHANNEL_ROOT}/{name}" for name in channels},
        **{f"SM_HP_{k.upper()}": v if isinstance(v, str) else json.dumps(v) for k, v in user_hps.items()},
        **args.get("Environment", {}),
    }
    command = ["python3", str(program), *command_line_arguments(user_hps)]
    job.run(command, job.environment(env), code_dir, contract.FAILURE_FILE, max_runtime(args))
    if checkpoint:
        job.aws.upload_dir(job.local(checkpoint["LocalPath"]), checkpoint["S3Uri"])
    archive = job.step_dir / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    output_path = args["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    uri = f"{output_path}/{job.job_name}/output/model.tar.gz"
    job.aws.upload_file(archive, uri)
    return {
        "TrainingJobName": job.job_name,
        "TrainingJobArn": job.arn("training-job"),
        "TrainingJobStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": uri},
        "HyperParameters": dict(args.get("HyperParameters", {})),
        "OutputDataConfig": dict(args["OutputDataConfig"]),
    }


def _download_channels(job: JobContext, channels: list[Mapping[str, Any]]) -> list[str]:
    names = []
    for channel in channels:
        name = channel["ChannelName"]
        what = f"training channel {name!r}"
        source = channel.get("DataSource", {}).get("S3DataSource")
        if source is None:
            raise StepFailedError(f"{what} is not an S3 data source (file systems cannot be mounted locally)")
        if channel.get("InputMode", "File") != "File":
            raise StepFailedError(f"{what}: InputMode {channel['InputMode']!r} cannot run locally")
        job.download(
            source["S3Uri"],
            source.get("S3DataType", "S3Prefix"),
            f"{contract.TRAINING_CHANNEL_ROOT}/{name}",
            what,
        )
        names.append(name)
    return names


def _prepare_checkpoints(job: JobContext, args: Mapping[str, Any]) -> dict[str, str] | None:
    """SageMaker syncs CheckpointConfig.LocalPath with its S3 URI; so does the local run,
    at the start and the end (there are no spot interruptions to resume from here)."""
    if args.get("EnableManagedSpotTraining"):
        job.notes.append("managed spot training: not applicable locally (the job runs once, on demand)")
    config = args.get("CheckpointConfig")
    if not config:
        return None
    checkpoint = {"LocalPath": config.get("LocalPath", contract.CHECKPOINT_DIR), "S3Uri": config["S3Uri"]}
    local = job.local(checkpoint["LocalPath"])
    local.mkdir(parents=True, exist_ok=True)
    restored = job.aws.download_prefix(checkpoint["S3Uri"], local)
    job.notes.append(
        f"checkpoints: synced with {checkpoint['S3Uri']} at start ({len(restored)} files) and end only"
    )
    return checkpoint


def _unpack_code(job: JobContext, submit: str, code_dir: Path) -> None:
    """Put the program's code in the code dir the way the training toolkit does
    (`files.download_and_extract`): an `s3://` tarball is downloaded and unpacked; a path in
    the job (usually under a `code` channel) is unpacked if it is a tarball, copied if it is
    a folder, and copied into the code dir if it is a single file."""
    code_dir.mkdir(parents=True, exist_ok=True)
    if submit.startswith("s3://"):
        source = job.step_dir / "sourcedir.tar.gz"
        source.write_bytes(job.aws.read_object(submit))
    else:
        source = job.local(submit)
    if source.is_dir():
        shutil.copytree(source, code_dir, dirs_exist_ok=True)
    elif source.is_file() and tarfile.is_tarfile(source):
        with tarfile.open(source) as tar:
            tar.extractall(code_dir, filter="data")
    elif source.is_file() and not submit.startswith("s3://"):
        shutil.copy2(source, code_dir)
    else:
        what = "is not a tarball" if source.is_file() else "is not a file or folder in the job"
        raise StepFailedError(f"sagemaker_submit_directory {submit!r} {what}")
