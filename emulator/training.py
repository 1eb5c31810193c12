"""Run a CreateTrainingJob request locally, the way SageMaker runs a training container.

On each of the job's instances, SageMaker downloads each channel to `/opt/ml/input/data/<name>`
(all of it, or the instance's share when `ShardedByS3Key`), writes the request's `HyperParameters`
(the strings as sent) to `/opt/ml/input/config/hyperparameters.json` and the cluster to
`/opt/ml/input/config/resourceconfig.json`, sets `TRAINING_JOB_NAME`, `TRAINING_JOB_ARN` and the
request's `Environment`, and runs `AlgorithmSpecification.ContainerEntrypoint` + `ContainerArguments`.
This module does the same with one local process per host, each in a folder standing in for its
/opt/ml (:class:`emulator.hosts.Hosts`), then archives the model dir of `algo-1` as `model.tar.gz`
under `{S3OutputPath}/{job name}/output/`. Checkpoints are synced on every host (uploaded host
by host: the last host's file of a name wins).

A host whose command exits non-zero fails the job (the others are stopped); its `FailureReason`
(DescribeTrainingJob) is :func:`failure_reason` of that host's failure file. A request without
a `ContainerEntrypoint` (the image's own `train`, e.g. a framework's script mode) is not run: the
runner pulls no images.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from typing import Any, Final

from emulator.hosts import Hosts
from emulator.jobs import JobContext, JobExitError, StepFailedError, max_runtime
from ml_code import contract
from ml_code.container import HYPERPARAMETERS_FILE, MAX_FAILURE_CHARS

#: SageMaker puts this before the failure file's text in a training job's FailureReason.
ALGORITHM_ERROR: Final = "AlgorithmError: "
#: ... and this after it when the container wrote no failure file.
NO_FAILURE_FILE: Final = "See job logs for more information"
#: A training container's resourceconfig.json names its network interface (SageMaker's is eth0).
NETWORK_INTERFACE: Final = "eth0"


def failure_reason(failure_text: str | None) -> str:
    """DescribeTrainingJob's `FailureReason` for a container that exited non-zero.

    SageMaker reads the first 1024 characters of `/opt/ml/output/failure` (`failure_text`;
    None when there is none) and shows them after `AlgorithmError: `, the field holding at most
    1024 characters. So what train.py writes is what a user reads, and a toolkit's
    `ExecuteUserScriptError: Command ...` would be too (the reason we run no toolkit).
    """
    return f"{ALGORITHM_ERROR}{failure_text or NO_FAILURE_FILE}"[:MAX_FAILURE_CHARS]


def run_training(hosts: Hosts, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run the training job on its hosts; returns the step's properties (DescribeTrainingJob-shaped).

    Raises:
        StepFailedError: no ContainerEntrypoint, an input the runner cannot fetch, or the command
            failed on a host; then ``properties`` carries ``TrainingJobStatus`` Failed and that
            host's ``FailureReason``.
    """
    algorithm = args.get("AlgorithmSpecification", {})
    if algorithm.get("TrainingInputMode", "File") != "File":
        raise StepFailedError("only TrainingInputMode File runs locally")
    commands = hosts.commands(
        algorithm.get("ContainerEntrypoint", []),
        algorithm.get("ContainerArguments", []),
        where="AlgorithmSpecification.ContainerEntrypoint",
        image=algorithm.get("TrainingImage"),
    )
    _download_channels(hosts, args.get("InputDataConfig", []))
    hosts.make_dirs(contract.TRAINING_MODEL_DIR)
    hosts.make_dirs(f"{contract.OPT_ML}/output/data")
    for job in hosts.jobs:
        hyperparameters = job.local(HYPERPARAMETERS_FILE)
        hyperparameters.parent.mkdir(parents=True, exist_ok=True)
        hyperparameters.write_text(json.dumps(dict(args.get("HyperParameters", {}))))
    hosts.write_resource_config(contract.TRAINING_RESOURCE_CONFIG, network_interface_name=NETWORK_INTERFACE)
    checkpoint = _prepare_checkpoints(hosts, args)
    leader = hosts.leader
    identity = {"TrainingJobName": leader.job_name, "TrainingJobArn": leader.arn("training-job")}
    env = {
        "TRAINING_JOB_NAME": identity["TrainingJobName"],
        "TRAINING_JOB_ARN": identity["TrainingJobArn"],
        **args.get("Environment", {}),
    }
    try:
        hosts.run(commands, env, contract.FAILURE_FILE, max_runtime(args), reason=failure_reason)
    except JobExitError as err:
        err.properties = {**identity, "TrainingJobStatus": "Failed", "FailureReason": err.reason}
        raise
    if checkpoint:
        hosts.upload(checkpoint["LocalPath"], checkpoint["S3Uri"])
    return {
        **identity,
        "TrainingJobStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": _upload_model(leader, args["OutputDataConfig"])},
        "HyperParameters": dict(args.get("HyperParameters", {})),
        "OutputDataConfig": dict(args["OutputDataConfig"]),
    }


def _upload_model(leader: JobContext, output: Mapping[str, Any]) -> str:
    """Archive the leader's model dir as model.tar.gz under the job's output path; returns its URI."""
    model_dir = leader.local(contract.TRAINING_MODEL_DIR)
    archive = leader.step_dir / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    uri = f"{output['S3OutputPath'].rstrip('/')}/{leader.job_name}/output/model.tar.gz"
    leader.aws.upload_file(archive, uri)
    return uri


def _download_channels(hosts: Hosts, channels: list[Mapping[str, Any]]) -> None:
    for channel in channels:
        name = channel["ChannelName"]
        what = f"training channel {name!r}"
        source = channel.get("DataSource", {}).get("S3DataSource")
        if source is None:
            raise StepFailedError(f"{what} is not an S3 data source (file systems cannot be mounted locally)")
        if channel.get("InputMode", "File") != "File":
            raise StepFailedError(f"{what}: InputMode {channel['InputMode']!r} cannot run locally")
        hosts.download(
            source["S3Uri"],
            source.get("S3DataType", "S3Prefix"),
            source.get("S3DataDistributionType"),
            f"{contract.TRAINING_CHANNEL_ROOT}/{name}",
            what,
        )


def _prepare_checkpoints(hosts: Hosts, args: Mapping[str, Any]) -> dict[str, str] | None:
    """SageMaker syncs CheckpointConfig.LocalPath with its S3 URI on every host; so does the local
    run, at the start and the end (there are no spot interruptions to resume from here)."""
    if args.get("EnableManagedSpotTraining"):
        hosts.notes.append("managed spot training: not applicable locally (the job runs once, on demand)")
    config = args.get("CheckpointConfig")
    if not config:
        return None
    checkpoint = {"LocalPath": config.get("LocalPath", contract.CHECKPOINT_DIR), "S3Uri": config["S3Uri"]}
    restored = 0
    for job in hosts.jobs:
        local = job.local(checkpoint["LocalPath"])
        local.mkdir(parents=True, exist_ok=True)
        try:
            restored = len(job.aws.download_prefix(checkpoint["S3Uri"], local))
        except ValueError as err:
            raise StepFailedError(f"checkpoints: {err}") from None
    each = " on each host" if len(hosts.jobs) > 1 else ""
    hosts.notes.append(
        f"checkpoints: synced with {checkpoint['S3Uri']}{each} at start ({restored} files) and end only"
    )
    return checkpoint
