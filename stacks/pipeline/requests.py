"""SageMaker API requests for the pipeline's job steps, with every security setting explicit.

Values may be pipeline expressions (``{"Get": ...}``, ``{"Std:Join": ...}``: a parameter's
``expr``, a step's ``output_uri()``, ``expressions.join``), which SageMaker evaluates when the job
starts. Requests omit the job name: SageMaker Pipelines names each job itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ml_code import contract

#: Where the training toolkit finds a channel's files (/opt/ml/input/data/<channel>).
TRAINING_CHANNEL_ROOT: Final = contract.TRAINING_CHANNEL_ROOT
#: Channel that carries the source bundle into a network-isolated training container.
CODE_CHANNEL: Final = "code"
#: Where that channel lands, and where the training entrypoint unpacks the bundle.
TRAINING_CODE_DIR: Final = f"{TRAINING_CHANNEL_ROOT}/{CODE_CHANNEL}"
CHECKPOINT_LOCAL_PATH: Final = contract.CHECKPOINT_DIR
VOLUME_SIZE_GB: Final = 30
#: The training channels that carry CSV (the code and transformer channels do not).
_CSV_CHANNELS: Final = frozenset({contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL})


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """What every job of the pipeline shares: identity, encryption, network, time limit."""

    role_arn: str
    kms_key_arn: str
    image_uri: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    max_runtime_seconds: int

    def vpc_config(self) -> dict[str, Any]:
        return {"SecurityGroupIds": list(self.security_group_ids), "Subnets": list(self.subnet_ids)}


def step_command(script: str, code_file: str, *, code_dir: str = contract.CODE_DIR) -> list[str]:
    """A job's entrypoint: unpack the source bundle in ``code_dir``, then run ``script`` with the job args.

    Neither a processing input nor a training channel unpacks a tarball, so the container does
    it where the bundle landed (processing: its ``code`` input in ``contract.CODE_DIR``;
    training: its ``code`` channel). ``sh -c '...' sh ARGS`` hands the job's
    ``ContainerArguments`` to the script as ``"$@"``.
    """
    return [
        "/bin/sh",
        "-c",
        f'cd {code_dir} && tar -xzf {code_file} && exec python3 {script} "$@"',
        "sh",
    ]


#: How an input's objects reach a job's instances: every instance gets all of them, or
#: SageMaker deals the objects out (each instance gets about 1/N of them, never part of one).
FULLY_REPLICATED: Final = "FullyReplicated"
SHARDED_BY_S3_KEY: Final = "ShardedByS3Key"


def distribution(sharded: bool) -> str:
    """``ShardedByS3Key`` for an input split over the instances, else ``FullyReplicated``."""
    return SHARDED_BY_S3_KEY if sharded else FULLY_REPLICATED


def s3_input(
    name: str, uri: Any, local_path: str, *, data_type: str = "S3Prefix", sharded: bool = False
) -> dict[str, Any]:
    """A processing input copying an S3 prefix (or one object) into ``local_path`` before start.

    With ``data_type="ManifestFile"``, ``uri`` names a manifest listing the objects to copy; with
    ``sharded``, each instance gets its share of the objects (:func:`distribution`).
    """
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": data_type,
            "S3InputMode": "File",
            "S3DataDistributionType": distribution(sharded),
        },
    }


def s3_output(name: str, uri: Any, local_path: str) -> dict[str, Any]:
    """A processing output uploading ``local_path`` to ``uri`` when the job ends."""
    return {
        "OutputName": name,
        "AppManaged": False,
        "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": "EndOfJob"},
    }


def processing_request(
    *,
    job: JobSettings,
    instance_type: Any,
    entrypoint: Sequence[str],
    arguments: Sequence[Any],
    inputs: Sequence[Mapping[str, Any]],
    outputs: Sequence[Mapping[str, Any]],
    network_isolation: bool,
    environment: Mapping[str, Any] | None = None,
    instance_count: int = 1,
) -> dict[str, Any]:
    """Return a ``CreateProcessingJob`` request (without ``ProcessingJobName``)."""
    request: dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": instance_count,
                "InstanceType": instance_type,
                "VolumeSizeInGB": VOLUME_SIZE_GB,
                "VolumeKmsKeyId": job.kms_key_arn,
            }
        },
        "AppSpecification": {
            "ImageUri": job.image_uri,
            "ContainerEntrypoint": list(entrypoint),
            "ContainerArguments": list(arguments),
        },
        "ProcessingInputs": list(inputs),
        "ProcessingOutputConfig": {"Outputs": list(outputs), "KmsKeyId": job.kms_key_arn},
        "NetworkConfig": {
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": network_isolation,
            "VpcConfig": job.vpc_config(),
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": job.max_runtime_seconds},
        "RoleArn": job.role_arn,
    }
    if environment:
        request["Environment"] = dict(environment)
    return request


def training_request(
    *,
    job: JobSettings,
    instance_type: Any,
    entrypoint: Sequence[str],
    hyperparameters: Mapping[str, Any],
    channels: Mapping[str, Any],
    output_uri: Any,
    use_spot: bool,
    checkpoint_uri: Any,
    arguments: Sequence[Any] = (),
    instance_count: int = 1,
    sharded: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Return a ``CreateTrainingJob`` request (without ``TrainingJobName``).

    ``entrypoint`` is the container's command (``AlgorithmSpecification.ContainerEntrypoint``):
    the job runs it instead of the image's own ``train`` (the framework toolkit, which replaces
    a failing script's failure file with its own ``ExecuteUserScriptError``). SageMaker writes
    ``hyperparameters`` to ``/opt/ml/input/config/hyperparameters.json`` for the command to read.
    ``channels`` maps channel name -> S3 URI; the channels named in ``sharded`` are dealt out over the
    ``instance_count`` instances by S3 key, the others reach every instance. Managed spot (when
    ``use_spot``) waits up to twice the run time for capacity and checkpoints to ``checkpoint_uri``
    so an interrupted job resumes.
    """
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": job.max_runtime_seconds}
    request: dict[str, Any] = {
        "AlgorithmSpecification": {
            "TrainingImage": job.image_uri,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": list(entrypoint),
            **({"ContainerArguments": list(arguments)} if arguments else {}),
        },
        "HyperParameters": dict(hyperparameters),
        "InputDataConfig": [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": distribution(name in sharded),
                    }
                },
                **({"ContentType": contract.CONTENT_TYPE_CSV} if name in _CSV_CHANNELS else {}),
            }
            for name, uri in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": output_uri, "KmsKeyId": job.kms_key_arn},
        "ResourceConfig": {
            "InstanceCount": instance_count,
            "InstanceType": instance_type,
            "VolumeSizeInGB": VOLUME_SIZE_GB,
            "VolumeKmsKeyId": job.kms_key_arn,
        },
        "StoppingCondition": stopping,
        "RoleArn": job.role_arn,
        "VpcConfig": job.vpc_config(),
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": use_spot,
    }
    if use_spot:
        stopping["MaxWaitTimeInSeconds"] = 2 * job.max_runtime_seconds
        request["CheckpointConfig"] = {"S3Uri": checkpoint_uri, "LocalPath": CHECKPOINT_LOCAL_PATH}
    return request
