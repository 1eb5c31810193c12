"""A job's instances as local processes: one stand-in for /opt/ml per host, run at once.

A job with ``InstanceCount`` N has hosts ``algo-1`` .. ``algo-N``, as in SageMaker. With one host,
the job's folder is the step's (``<step dir>/opt_ml``, log ``<step dir>/job.log``); with more, each
host has its own (``<step dir>/algo-i/opt_ml``, log ``<step dir>/algo-i/job.log``). Every host gets
the ``resourceconfig.json`` SageMaker writes (where the job kind has it: training
``/opt/ml/input/config/``, processing ``/opt/ml/config/``), one host too. With more than one host,
the processes also get ``MLOPS_HOST_ADDRESSES`` (every host at 127.0.0.1) and
``MLOPS_COLLECTIVE_PORT`` (a free port), since ``algo-i`` do not resolve on this machine and N
local jobs cannot share SageMaker's fixed port (see ml_code/cluster.py). There are no ``SM_HOSTS``
or ``SM_CURRENT_HOST``: SageMaker's script-mode toolkit sets those, and our entrypoint is not it.

The hosts' commands run at once (:mod:`emulator.processes`); the first host to fail fails the job
with its own reason, and the others are stopped. Outputs: every host's folder is uploaded to the
output's S3 URI, host by host in order, so where two hosts write a file of the same name, the
last host's copy is the one left in S3 (SageMaker does not promise any order; jobs write
host-named files, as preprocess does).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from emulator.inputs import FULLY_REPLICATED, download_input
from emulator.jobs import JobContext, StepFailedError, exit_message, timeout_error
from emulator.local_aws import LocalAws
from emulator.processes import run_all
from ml_code import contract

HOST_PREFIX: Final = "algo-"
LOOPBACK: Final = "127.0.0.1"


def cores_per_host(hosts: int) -> int:
    """Each of ``hosts`` local hosts' share of this machine's cores (at least one)."""
    return max(1, (os.cpu_count() or 1) // hosts)


def instance_count(request: Mapping[str, Any]) -> int:
    """The job's ``InstanceCount`` (processing ``ProcessingResources.ClusterConfig``, training
    ``ResourceConfig``); 1 when the request names none.

    Raises:
        StepFailedError: the count is not a whole number of at least 1.
    """
    resources = request.get("ProcessingResources", {}).get("ClusterConfig") or request.get("ResourceConfig")
    count = (resources or {}).get("InstanceCount", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise StepFailedError(f"InstanceCount {count!r} is not a whole number of at least 1")
    return count


class Hosts:
    """The hosts of one job, each a :class:`JobContext`; ``notes`` are the step's."""

    def __init__(
        self,
        step_dir: Path,
        aws: LocalAws,
        job_name: str,
        count: int,
        notes: list[str] | None = None,
        *,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.names = tuple(f"{HOST_PREFIX}{i}" for i in range(1, count + 1))
        self.jobs = [
            JobContext(step_dir, aws, job_name, host=name if count > 1 else None) for name in self.names
        ]
        self.notes = notes if notes is not None else []
        #: The runner's environment for every host (below the job's own ``Environment``).
        self.runner_environment = dict(environment or {})
        for job in self.jobs:
            job.notes = self.notes
        #: Wall time of the slowest host's command.
        self.process_seconds = 0.0
        #: The host whose failure failed the job, once one has.
        self.failed: JobContext | None = None
        self._port = _free_port() if count > 1 else None
        if count > 1:
            self.notes.append(f"{count} instances: {', '.join(self.names)} ({count} local processes)")

    @property
    def leader(self) -> JobContext:
        """``algo-1``: its model dir is the training job's model."""
        return self.jobs[0]

    @property
    def logs(self) -> dict[str, Path]:
        return {name: job.log_path for name, job in zip(self.names, self.jobs, strict=True)}

    def download(
        self, uri: str, data_type: str, distribution: str | None, container_path: str, what: str
    ) -> None:
        """Fetch an S3 input into every host (:func:`emulator.inputs.download_input`)."""
        self.notes += download_input(
            self.jobs,
            uri=uri,
            data_type=data_type,
            distribution=distribution or FULLY_REPLICATED,
            container_path=container_path,
            what=what,
        )

    def make_dirs(self, container_path: str) -> None:
        for job in self.jobs:
            job.local(container_path).mkdir(parents=True, exist_ok=True)

    def write_resource_config(self, container_path: str, **extra: str) -> None:
        """Each host's ``resourceconfig.json``: its name, every host's, and ``extra``."""
        for name, job in zip(self.names, self.jobs, strict=True):
            path = job.local(container_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"current_host": name, "hosts": list(self.names), **extra}))

    def commands(
        self, entrypoint: Sequence[Any], arguments: Sequence[Any], *, where: str, image: Any
    ) -> list[list[str]]:
        """Each host's command (:meth:`JobContext.command`: /opt/ml mapped into its own folder)."""
        return [job.command(entrypoint, arguments, where=where, image=image) for job in self.jobs]

    def environment(self, job: JobContext, extra: Mapping[str, str]) -> dict[str, str]:
        """A host's environment: the job's, plus where the other hosts are when there are others."""
        env = job.environment({**self.runner_environment, **extra})
        if self._port is not None:
            env[contract.HOST_ADDRESSES_ENV] = json.dumps(dict.fromkeys(self.names, LOOPBACK))
            env[contract.COLLECTIVE_PORT_ENV] = str(self._port)
            # Each SageMaker host has its instance's cores; here N hosts share this machine's. Left to
            # OpenMP, each host's threads spin on every core while the collective waits for the
            # others, and a round takes ~100x longer: each host gets its share of the cores instead.
            if "OMP_NUM_THREADS" not in extra:
                env["OMP_NUM_THREADS"] = str(cores_per_host(len(self.names)))
        return env

    def run(
        self,
        commands: list[list[str]],
        extra_env: Mapping[str, str],
        failure_file: str,
        timeout: float | None,
        *,
        reason: Callable[[str | None], str] = exit_message,
    ) -> None:
        """Run every host's command at once, each in its own folder.

        Raises:
            JobExitError: a host exited non-zero (the first seen; the others were stopped), with its reason.
            StepFailedError: a command could not start, or the job ran past ``timeout``.
        """
        launches = [
            job.launch(command, self.environment(job, extra_env), job.home)
            for job, command in zip(self.jobs, commands, strict=True)
        ]
        try:
            outcome = run_all(launches, timeout)
        except OSError as err:
            raise StepFailedError(f"cannot start {commands[0][0]!r}: {err}") from None
        for job, seconds in zip(self.jobs, outcome.seconds, strict=True):
            job.process_seconds += seconds
        self.process_seconds = max(job.process_seconds for job in self.jobs)
        if outcome.timed_out:
            raise timeout_error(timeout or 0.0, ", ".join(str(p) for p in self.logs.values()))
        if outcome.failed is not None:
            self.failed = self.jobs[outcome.failed]
            who = self.names[outcome.failed] if len(self.jobs) > 1 else ""
            raise self.failed.exit_error(outcome.returncode, failure_file, reason, who)

    def upload(self, container_path: str, uri: str) -> None:
        """Every host's ``container_path`` folder to ``uri``, in host order (the last host's file wins)."""
        for job in self.jobs:
            job.aws.upload_dir(job.local(container_path), uri)


def _free_port() -> int:
    """A loopback port nothing listens on now, for the job's collective tracker."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port
