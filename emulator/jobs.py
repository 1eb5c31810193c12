"""What every SageMaker job run as a local process shares: its folder, command and errors.

Each job (each host of a job, :mod:`emulator.hosts`) gets a folder that stands in for the
container's `/opt/ml`. Inputs are downloaded from the S3 stand-in into it (:mod:`emulator.inputs`),
the job's own command runs with every `/opt/ml` path mapped into the folder (and
`MLOPS_OPT_ML_ROOT` naming it), and outputs are uploaded back. Both job kinds run the command
their request names (``ContainerEntrypoint`` plus ``ContainerArguments``) and, when it exits
non-zero, report the job's failure file as the API would (:meth:`JobContext.exit_error`).
Processing jobs live in :mod:`emulator.processing`, training in :mod:`emulator.training`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.local_aws import LocalAws
from emulator.processes import Launch, run_all
from emulator.standins import REGION
from ml_code import contract
from ml_code.container import MAX_FAILURE_CHARS

#: `/opt/ml` as a path (not the start of `/opt/mlflow`), anywhere in a string.
_OPT_ML_PATH = re.compile(re.escape(contract.OPT_ML) + r"(?![\w.-])")
#: Set per job by :mod:`emulator.hosts` (the cluster, for more than one host; the tracking server, for
#: a job with the network), never inherited from the runner's own environment.
_CLUSTER_ENV = (contract.HOST_ADDRESSES_ENV, contract.COLLECTIVE_PORT_ENV, contract.MLFLOW_URL_ENV)
#: Log lines of a failed job quoted in its error.
_TAIL_LINES = 15


class StepFailedError(RuntimeError):
    """A job could not run or exited non-zero; the message carries the reason.

    ``properties``: what the job's Describe call would return for it (a failed training job's
    ``TrainingJobStatus`` and ``FailureReason``), when the job got as far as running.
    """

    def __init__(self, message: str, *, properties: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.properties = dict(properties) if properties is not None else None


class JobExitError(StepFailedError):
    """The job's command exited non-zero; ``reason`` is what the API shows for it."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def exit_message(failure_text: str | None) -> str:
    """A processing job's reason: its message file (``ExitMessage``), stripped."""
    return (failure_text or "").strip() or "no failure file written"


class JobContext:
    """One job's stand-in for /opt/ml, its log file and its environment."""

    def __init__(self, step_dir: Path, aws: LocalAws, job_name: str, *, host: str | None = None) -> None:
        self.step_dir = step_dir
        self.job_name = job_name
        #: The host's own folder (``<step dir>/<host>``) in a job of more than one instance, else the step's.
        self.home = step_dir / host if host else step_dir
        self.root = self.home / "opt_ml"
        self.log_path = self.home / "job.log"
        self.aws = aws
        #: Things the local run does differently from SageMaker, reported with the step.
        self.notes: list[str] = []
        #: Wall time of the job's own command (the rest of a step is the runner's overhead).
        self.process_seconds = 0.0
        self.root.mkdir(parents=True, exist_ok=True)
        self._shim = step_dir / "bin"
        self._shim.mkdir(exist_ok=True)
        # `python3` in a job means the container's interpreter, here this venv's. A script, not
        # a symlink: a symlinked venv interpreter outside its venv loses the venv's packages.
        python3 = self._shim / "python3"
        python3.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python3.chmod(0o755)

    def arn(self, kind: str) -> str:
        return f"arn:aws:sagemaker:{REGION}:{self.aws.account}:{kind}/{self.job_name}"

    def local(self, container_path: str) -> Path:
        """Map a container path under /opt/ml into this job's folder."""
        if container_path != contract.OPT_ML and not container_path.startswith(contract.OPT_ML + "/"):
            raise StepFailedError(f"container path {container_path!r} is not under {contract.OPT_ML}")
        return self.root / container_path[len(contract.OPT_ML) :].lstrip("/")

    def map_text(self, text: str) -> str:
        """Every `/opt/ml` path in `text` (a command-line word, an env value) mapped to the job's folder."""
        return _OPT_ML_PATH.sub(lambda _: str(self.root), text)

    def environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        """The job's environment: ours minus SM_/AWS_ and cluster settings, plus the stand-in and `extra`.

        A job of more than one host gets its cluster's addresses from :mod:`emulator.hosts`.
        """
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SM_", "AWS_")) and k not in _CLUSTER_ENV
        }
        env.update(self.aws.step_environment())
        env.update({k: self.map_text(str(v)) for k, v in extra.items()})
        env[contract.OPT_ML_ROOT_ENV] = str(self.root)
        env["PATH"] = f"{self._shim}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env["MPLBACKEND"] = "Agg"
        return env

    def command(
        self, entrypoint: Sequence[Any], arguments: Sequence[Any], *, where: str, image: Any
    ) -> list[str]:
        """The container command ``entrypoint + arguments``, with /opt/ml paths mapped into the job.

        Raises:
            StepFailedError: no entrypoint (``where`` names the request field): the runner does
                not pull images, so it cannot run an image's default command.
        """
        if not entrypoint:
            raise StepFailedError(
                f"the job has no {where}; only jobs that name their command run locally "
                f"(the image {image!r} is not pulled)"
            )
        return [self.map_text(str(x)) for x in [*entrypoint, *arguments]]

    def failure_text(self, failure_file: str) -> str | None:
        """The first 1024 characters of the job's failure file (what SageMaker reads), if it wrote one."""
        path = self.local(failure_file)
        if not path.is_file():
            return None
        with path.open(encoding="utf-8", errors="replace") as text:
            return text.read(MAX_FAILURE_CHARS)

    def run(
        self,
        command: list[str],
        env: dict[str, str],
        cwd: Path,
        failure_file: str,
        timeout: float | None,
        *,
        reason: Callable[[str | None], str] = exit_message,
    ) -> None:
        """Run the job's command; a non-zero exit raises with the job's own failure reason.

        ``reason`` turns the failure file's text (None without one) into what the API shows.

        Raises:
            JobExitError: the command exited non-zero.
            StepFailedError: the command could not start or ran past ``timeout``.
        """
        try:
            outcome = run_all([self.launch(command, env, cwd)], timeout)
        except OSError as err:
            raise StepFailedError(f"cannot start {command[0]!r}: {err}") from None
        self.process_seconds += outcome.seconds[0]
        if outcome.timed_out:
            raise timeout_error(timeout or 0.0, self.log_path)
        if outcome.failed is not None:
            raise self.exit_error(outcome.returncode, failure_file, reason)

    def launch(self, command: list[str], env: dict[str, str], cwd: Path) -> Launch:
        """The job's command as a process to start, its output going to the job's log."""
        return Launch(command, env, cwd, self.log_path)

    def exit_error(
        self, returncode: int, failure_file: str, reason: Callable[[str | None], str], who: str = ""
    ) -> JobExitError:
        """The error of the job's command exiting with ``returncode`` (``who``: the host, if named)."""
        shown = reason(self.failure_text(failure_file))
        tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-_TAIL_LINES:])
        return JobExitError(
            f"{who + ' ' if who else ''}exited with code {returncode}: {shown}"
            f"\n--- last lines of {self.log_path} ---\n{tail}",
            reason=shown,
        )


def timeout_error(timeout: float, log: str | Path) -> StepFailedError:
    """The error of a job stopped at its StoppingCondition (`log`: where its output went)."""
    return StepFailedError(f"stopped after MaxRuntimeInSeconds={timeout:g} (StoppingCondition); log: {log}")


def max_runtime(args: Mapping[str, Any]) -> float | None:
    value = args.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    return float(value) if value is not None else None
