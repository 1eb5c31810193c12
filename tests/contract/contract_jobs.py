"""Run a job request's own command the way its container would, under a chosen Python.

The container side of a SageMaker job is its ``/opt/ml`` tree, its environment and its command
(``ContainerEntrypoint`` + ``ContainerArguments``). This module lays the tree out in a folder
from local files (what SageMaker downloads before the job starts), then runs the command through
the offline runner's own job harness, :class:`emulator.jobs.JobContext`: every ``/opt/ml`` in
the command and the environment is mapped into the folder, ``MLOPS_OPT_ML_ROOT`` names it (see
``ml_code.container``), and ``python3`` is a shim for the interpreter asked for:

- :data:`IMAGE` — ``.venv-contract``'s Python 3.10 with the SageMaker XGBoost image's toolkit
  and library pins, and the image's own ``ENV`` (:data:`IMAGE_ENV`), as in the real container;
- :data:`OFFLINE` — what the offline runner runs (this interpreter, no image ``ENV``).

The S3 transfers around a job are the offline runner's business and are not repeated here.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from emulator.jobs import JobContext, StepFailedError
from emulator.local_aws import LocalAws
from ml_code import contract

REPO: Final = Path(__file__).resolve().parents[2]
CONTRACT_PYTHON: Final = REPO / ".venv-contract" / "bin" / "python"
#: The image's ``ENV`` lines that a job's command inherits (docker/3.0-5/base/Dockerfile.cpu and
#: final/Dockerfile.cpu on the container repository's release-3.0.5 branch).
IMAGE_ENV: Final[Mapping[str, str]] = {
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "utf-8",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "SM_INPUT": "/opt/ml/input",
    "SM_INPUT_TRAINING_CONFIG_FILE": "/opt/ml/input/config/hyperparameters.json",
    "SM_INPUT_DATA_CONFIG_FILE": "/opt/ml/input/config/inputdataconfig.json",
    "SM_CHECKPOINT_CONFIG_FILE": "/opt/ml/input/config/checkpointconfig.json",
    "SM_MODEL_DIR": "/opt/ml/model",
    "SAGEMAKER_TRAINING_MODULE": "sagemaker_xgboost_container.training:main",
    "SAGEMAKER_SERVING_MODULE": "sagemaker_xgboost_container.serving:main",
}
#: Jobs that must not call AWS get an endpoint where nothing listens: a call fails at once.
NO_AWS: Final = LocalAws(endpoint_url="http://127.0.0.1:9")
#: What a test's own process may carry that must not leak into the image's interpreter.
_HOST_PYTHON_VARS: Final = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


@dataclass(frozen=True)
class Interpreter:
    """Which Python runs a job's ``python3``, and the image environment it gets."""

    name: str
    #: None: the offline runner's own (the interpreter running the tests)
    python: Path | None
    image_env: Mapping[str, str]


IMAGE: Final = Interpreter("image (Python 3.10, toolkit pins)", CONTRACT_PYTHON, IMAGE_ENV)
OFFLINE: Final = Interpreter("offline runner (Python 3.11)", None, {})
INTERPRETERS: Final = (IMAGE, OFFLINE)
#: Where the image-side jobs that call AWS find the boto3 endpoint shim (image_site/sitecustomize.py).
IMAGE_SITE: Final = Path(__file__).resolve().parent / "image_site"


@dataclass(frozen=True)
class JobRun:
    """A finished job: its stand-in for /opt/ml, its log, and how it ended."""

    root: Path
    log: str
    #: None when the command exited 0, else the offline runner's error (with the failure reason)
    error: str | None

    def file(self, container_path: str) -> Path:
        return self.root / container_path[len(contract.OPT_ML) :].lstrip("/")


def python3_shim(folder: Path, python: Path) -> Path:
    """A folder holding a ``python3`` that runs ``python`` (a script, so a venv keeps its packages)."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
    shim.chmod(0o755)
    return folder


def run_command(
    step_dir: Path,
    interpreter: Interpreter,
    command: list[str],
    *,
    environment: Mapping[str, str],
    failure_file: str,
    aws: LocalAws = NO_AWS,
    extra_path: Path | None = None,
) -> JobRun:
    """Run ``command`` (container words) in the job laid out under ``step_dir`` (see the layouts).

    ``environment`` is the request's own; the interpreter's image ``ENV`` goes under it.
    ``extra_path`` is prepended to the job's PYTHONPATH (the image side only).
    """
    job = JobContext(step_dir, aws, step_dir.name)
    env = job.environment({**interpreter.image_env, **environment})
    if interpreter.python is not None:
        for var in _HOST_PYTHON_VARS:
            env.pop(var, None)
        shim = python3_shim(step_dir / "image-bin", interpreter.python)
        env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
        if extra_path is not None:
            env["PYTHONPATH"] = str(extra_path)
    error = None
    try:
        job.run([job.map_text(word) for word in command], env, step_dir, failure_file, timeout=600)
    except StepFailedError as exc:
        error = str(exc)
    return JobRun(root=job.root, log=job.log_path.read_text(errors="replace"), error=error)


def _copy_in(source: Path, target_dir: Path) -> None:
    """An S3Prefix input: a folder's files below ``target_dir``, one object under its own name."""
    target_dir.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target_dir, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target_dir / source.name)


def lay_out_processing(step_dir: Path, request: Mapping[str, Any], sources: Mapping[str, Path]) -> Path:
    """Put each ProcessingInput's ``sources[InputName]`` at its LocalPath; create the output dirs.

    Returns the stand-in for /opt/ml. Raises KeyError for an input without a source.
    """
    root = step_dir / "opt_ml"
    for item in request.get("ProcessingInputs", []):
        local = item["S3Input"]["LocalPath"]
        _copy_in(sources[item["InputName"]], root / local[len(contract.OPT_ML) :].lstrip("/"))
    for output in request["ProcessingOutputConfig"]["Outputs"]:
        (root / output["S3Output"]["LocalPath"][len(contract.OPT_ML) :].lstrip("/")).mkdir(
            parents=True, exist_ok=True
        )
    return root


def processing_command(request: Mapping[str, Any]) -> list[str]:
    app = request["AppSpecification"]
    return [*app["ContainerEntrypoint"], *app.get("ContainerArguments", [])]


def lay_out_training(
    step_dir: Path, request: Mapping[str, Any], sources: Mapping[str, Path], *, host: str = "algo-1"
) -> Path:
    """The training container's tree as SageMaker writes it before the job starts.

    ``/opt/ml/input/data/<channel>`` from ``sources[channel]``; ``input/config`` with
    ``hyperparameters.json`` (the request's strings as they are), ``inputdataconfig.json`` and
    ``resourceconfig.json`` (one host, ``host``); empty ``model``, ``output/data`` and, with a
    CheckpointConfig, its LocalPath. Returns the stand-in for /opt/ml.
    """
    root = step_dir / "opt_ml"
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    channels: dict[str, Any] = {}
    for channel in request["InputDataConfig"]:
        name = channel["ChannelName"]
        _copy_in(sources[name], root / "input" / "data" / name)
        channels[name] = {
            "TrainingInputMode": request["AlgorithmSpecification"].get("TrainingInputMode", "File"),
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
            **({"ContentType": channel["ContentType"]} if "ContentType" in channel else {}),
        }
    (config / "hyperparameters.json").write_text(json.dumps(request.get("HyperParameters", {})))
    (config / "inputdataconfig.json").write_text(json.dumps(channels))
    resources = {"current_host": host, "hosts": [host], "network_interface_name": "eth0"}
    (config / "resourceconfig.json").write_text(json.dumps(resources))
    for folder in ("model", "output/data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    checkpoint = request.get("CheckpointConfig")
    if checkpoint:
        (root / checkpoint["LocalPath"][len(contract.OPT_ML) :].lstrip("/")).mkdir(
            parents=True, exist_ok=True
        )
    return root


def training_command(request: Mapping[str, Any]) -> list[str]:
    """The training job's command; KeyError when the request leaves it to the image."""
    spec = request["AlgorithmSpecification"]
    return [*spec["ContainerEntrypoint"], *spec.get("ContainerArguments", [])]


def tar_model(model_dir: Path, archive: Path) -> Path:
    """``model.tar.gz`` as a training job packs ``/opt/ml/model``: its files at the archive root."""
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    return archive


def files_below(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def run_processing(
    step_dir: Path,
    interpreter: Interpreter,
    request: dict[str, Any],
    sources: dict[str, Path],
    aws: LocalAws | None = None,
) -> JobRun:
    """The request's own command on a laid-out processing container; ``aws``: the stand-in it may call."""
    lay_out_processing(step_dir, request, sources)
    return run_command(
        step_dir,
        interpreter,
        processing_command(request),
        environment=request.get("Environment", {}),
        failure_file=contract.PROCESSING_MESSAGE_FILE,
        aws=aws or NO_AWS,
        extra_path=IMAGE_SITE if aws else None,
    )


def run_training(
    step_dir: Path, interpreter: Interpreter, request: dict[str, Any], sources: dict[str, Path]
) -> JobRun:
    """The Train request's own command on a laid-out training container."""
    lay_out_training(step_dir, request, sources)
    identity = {  # SageMaker sets these in every training container; so does the offline runner
        "TRAINING_JOB_NAME": step_dir.name,
        "TRAINING_JOB_ARN": f"arn:aws:sagemaker:eu-west-1:111122223333:training-job/{step_dir.name}",
    }
    return run_command(
        step_dir,
        interpreter,
        training_command(request),
        environment={**identity, **request.get("Environment", {})},
        failure_file=contract.FAILURE_FILE,
    )
