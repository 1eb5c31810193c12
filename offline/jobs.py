"""Run SageMaker processing and training jobs as local processes.

Each job gets a folder that stands in for the container's `/opt/ml`. Inputs are
downloaded from the S3 stand-in into it, the job's own command runs with every
`/opt/ml` path mapped into the folder (and `MLOPS_OPT_ML_ROOT` naming it), and outputs
are uploaded back. Training emulates the XGBoost framework container's script mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ml_code import contract
from offline.local_aws import LocalAws


class StepFailedError(RuntimeError):
    """A job exited non-zero; the message carries the job's own failure reason."""


class JobContext:
    """One job's stand-in for /opt/ml, its log file and its environment."""

    def __init__(self, step_dir: Path, aws: LocalAws) -> None:
        self.step_dir = step_dir
        self.root = step_dir / "opt_ml"
        self.log_path = step_dir / "job.log"
        self.aws = aws
        self.root.mkdir(parents=True, exist_ok=True)
        self._shim = step_dir / "bin"
        self._shim.mkdir(exist_ok=True)
        # A script, not a symlink: a symlinked venv interpreter outside its venv loses the venv.
        python3 = self._shim / "python3"
        python3.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python3.chmod(0o755)

    def local(self, container_path: str) -> Path:
        """Map a container path under /opt/ml into this job's folder."""
        if container_path != contract.OPT_ML and not container_path.startswith(contract.OPT_ML + "/"):
            raise ValueError(f"{container_path!r} is not under {contract.OPT_ML}")
        return self.root / container_path[len(contract.OPT_ML) :].lstrip("/")

    def map_text(self, text: str) -> str:
        return text.replace(contract.OPT_ML, str(self.root))

    def environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "AWS_"))}
        env.update(self.aws.step_environment())
        env.update({k: self.map_text(str(v)) for k, v in extra.items()})
        env[contract.OPT_ML_ROOT_ENV] = str(self.root)
        env["PATH"] = f"{self._shim}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env["MPLBACKEND"] = "Agg"
        return env

    def run(self, command: list[str], env: dict[str, str], cwd: Path, failure_file: str) -> None:
        """Run the job's command; a non-zero exit raises with the job's failure reason."""
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, check=False
            )
        if result.returncode != 0:
            reason_file = self.local(failure_file)
            reason = reason_file.read_text().strip() if reason_file.exists() else ""
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-15:])
            raise StepFailedError(
                f"exited with code {result.returncode}: {reason or 'no failure file written'}"
                f"\n--- last lines of {self.log_path} ---\n{tail}"
            )


def run_processing(job: JobContext, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run a CreateProcessingJob request; returns the step's properties."""
    for item in args.get("ProcessingInputs", []):
        s3_input = item.get("S3Input")
        if s3_input is None:
            raise StepFailedError(f"processing input {item.get('InputName')!r} is not an S3 input")
        job.aws.download_prefix(s3_input["S3Uri"], job.local(s3_input["LocalPath"]))
    outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for output in outputs:
        job.local(output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
    app = args["AppSpecification"]
    command = [
        job.map_text(str(x))
        for x in [*app.get("ContainerEntrypoint", []), *app.get("ContainerArguments", [])]
    ]
    if not command:
        raise StepFailedError("the processing job has no ContainerEntrypoint to run locally")
    job.run(
        command, job.environment(args.get("Environment", {})), job.step_dir, contract.PROCESSING_MESSAGE_FILE
    )
    properties: dict[str, Any] = {
        "ProcessingJobStatus": "Completed",
        "ProcessingOutputConfig": {"Outputs": {}},
    }
    for output in outputs:
        s3 = output["S3Output"]
        job.aws.upload_dir(job.local(s3["LocalPath"]), s3["S3Uri"])
        properties["ProcessingOutputConfig"]["Outputs"][output["OutputName"]] = {
            "OutputName": output["OutputName"],
            "S3Output": dict(s3),
        }
    return properties


def run_training(job: JobContext, args: Mapping[str, Any], job_name: str) -> dict[str, Any]:
    """Run a CreateTrainingJob request in script mode; returns the step's properties."""
    channels = []
    for channel in args.get("InputDataConfig", []):
        name = channel["ChannelName"]
        job.aws.download_prefix(
            channel["DataSource"]["S3DataSource"]["S3Uri"], job.local(f"{contract.OPT_ML}/input/data/{name}")
        )
        channels.append(name)
    hyperparameters = {k: _decode(v) for k, v in args.get("HyperParameters", {}).items()}
    program = hyperparameters.get("sagemaker_program")
    submit = hyperparameters.get("sagemaker_submit_directory")
    if not program or not submit:
        raise StepFailedError(
            "only script mode (sagemaker_program + sagemaker_submit_directory) runs locally"
        )
    code_dir = job.local(f"{contract.OPT_ML}/code")
    _unpack_code(job, submit, code_dir)
    model_dir = job.local(f"{contract.OPT_ML}/model")
    output_data = job.local(f"{contract.OPT_ML}/output/data")
    for folder in (model_dir, output_data, job.local(f"{contract.OPT_ML}/input/config")):
        folder.mkdir(parents=True, exist_ok=True)
    user_hps = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    (job.local(f"{contract.OPT_ML}/input/config") / "hyperparameters.json").write_text(
        json.dumps(args.get("HyperParameters", {}), indent=2)
    )
    env = {
        "SM_MODEL_DIR": f"{contract.OPT_ML}/model",
        "SM_OUTPUT_DATA_DIR": f"{contract.OPT_ML}/output/data",
        "SM_INPUT_DIR": f"{contract.OPT_ML}/input",
        "SM_CHANNELS": json.dumps(channels),
        "SM_HPS": json.dumps(user_hps),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_HOSTS": '["algo-1"]',
        "SM_CURRENT_HOST": "algo-1",
        "SM_USER_ENTRY_POINT": program,
        "TRAINING_JOB_NAME": job_name,
        **{f"SM_CHANNEL_{c.upper()}": f"{contract.OPT_ML}/input/data/{c}" for c in channels},
        **args.get("Environment", {}),
    }
    command = ["python3", program]
    for key, value in user_hps.items():
        command += [f"--{key}", value]
    job.run(command, job.environment(env), code_dir, contract.FAILURE_FILE)
    archive = job.step_dir / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    uri = f"{args['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output/model.tar.gz"
    job.aws.upload_file(archive, uri)
    return {
        "TrainingJobName": job_name,
        "TrainingJobStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": uri},
        "HyperParameters": args.get("HyperParameters", {}),
    }


def _decode(value: Any) -> str:
    """Hyperparameters arrive as strings, JSON-quoted by some SDKs; the container unquotes them."""
    text = str(value)
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    return decoded if isinstance(decoded, str) else text


def _unpack_code(job: JobContext, submit: str, code_dir: Path) -> None:
    if submit.startswith("s3://"):
        tarball = job.step_dir / "sourcedir.tar.gz"
        tarball.write_bytes(job.aws.read_object(submit))
    else:
        tarball = job.local(submit)
    if not tarball.is_file():
        raise StepFailedError(f"sagemaker_submit_directory {submit!r} is not a file in the job")
    code_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(code_dir, filter="data")
