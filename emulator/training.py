"""Run a CreateTrainingJob request locally, the way SageMaker runs a training container.

SageMaker downloads each channel to `/opt/ml/input/data/<name>`, writes the request's
`HyperParameters` (the strings as sent) to `/opt/ml/input/config/hyperparameters.json`, sets
`TRAINING_JOB_NAME`, `TRAINING_JOB_ARN` and the request's `Environment`, and runs
`AlgorithmSpecification.ContainerEntrypoint` + `ContainerArguments`. This module does the same in
a folder standing in for /opt/ml, with the command runner processing jobs use
(:class:`emulator.jobs.JobContext`), then archives the model dir as `model.tar.gz` under
`{S3OutputPath}/{job name}/output/`.

A command that exits non-zero fails the job; its `FailureReason` (DescribeTrainingJob) is
:func:`failure_reason` of the failure file. A request without a `ContainerEntrypoint` (the
image's own `train`, e.g. a framework's script mode) is not run: the runner pulls no images.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from typing import Any, Final

from emulator.jobs import JobContext, JobExitError, StepFailedError, max_runtime
from ml_code import contract
from ml_code.container import HYPERPARAMETERS_FILE, MAX_FAILURE_CHARS

#: SageMaker puts this before the failure file's text in a training job's FailureReason.
ALGORITHM_ERROR: Final = "AlgorithmError: "
#: ... and this after it when the container wrote no failure file.
NO_FAILURE_FILE: Final = "See job logs for more information"


def failure_reason(failure_text: str | None) -> str:
    """DescribeTrainingJob's `FailureReason` for a container that exited non-zero.

    SageMaker reads the first 1024 characters of `/opt/ml/output/failure` (`failure_text`;
    None when there is none) and shows them after `AlgorithmError: `, the field holding at most
    1024 characters. So what train.py writes is what a user reads, and a toolkit's
    `ExecuteUserScriptError: Command ...` would be too (the reason we run no toolkit).
    """
    return f"{ALGORITHM_ERROR}{failure_text or NO_FAILURE_FILE}"[:MAX_FAILURE_CHARS]


def run_training(job: JobContext, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run the training job; returns the step's properties (DescribeTrainingJob-shaped).

    Raises:
        StepFailedError: no ContainerEntrypoint, an input the runner cannot fetch, or the command
            failed; then ``properties`` carries ``TrainingJobStatus`` Failed and the ``FailureReason``.
    """
    algorithm = args.get("AlgorithmSpecification", {})
    if algorithm.get("TrainingInputMode", "File") != "File":
        raise StepFailedError("only TrainingInputMode File runs locally")
    command = job.command(
        algorithm.get("ContainerEntrypoint", []),
        algorithm.get("ContainerArguments", []),
        where="AlgorithmSpecification.ContainerEntrypoint",
        image=algorithm.get("TrainingImage"),
    )
    _download_channels(job, args.get("InputDataConfig", []))
    model_dir = job.local(contract.TRAINING_MODEL_DIR)
    model_dir.mkdir(parents=True, exist_ok=True)
    job.local(f"{contract.OPT_ML}/output/data").mkdir(parents=True, exist_ok=True)
    hyperparameters = job.local(HYPERPARAMETERS_FILE)
    hyperparameters.parent.mkdir(parents=True, exist_ok=True)
    hyperparameters.write_text(json.dumps(dict(args.get("HyperParameters", {}))))
    checkpoint = _prepare_checkpoints(job, args)
    identity = {"TrainingJobName": job.job_name, "TrainingJobArn": job.arn("training-job")}
    env = {
        "TRAINING_JOB_NAME": identity["TrainingJobName"],
        "TRAINING_JOB_ARN": identity["TrainingJobArn"],
        **args.get("Environment", {}),
    }
    try:
        job.run(
            command,
            job.environment(env),
            job.step_dir,
            contract.FAILURE_FILE,
            max_runtime(args),
            reason=failure_reason,
        )
    except JobExitError as err:
        err.properties = {**identity, "TrainingJobStatus": "Failed", "FailureReason": err.reason}
        raise
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
        **identity,
        "TrainingJobStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": uri},
        "HyperParameters": dict(args.get("HyperParameters", {})),
        "OutputDataConfig": dict(args["OutputDataConfig"]),
    }


def _download_channels(job: JobContext, channels: list[Mapping[str, Any]]) -> None:
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
