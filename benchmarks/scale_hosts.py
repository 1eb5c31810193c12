"""One job's hosts as local processes, measured: each host's wall time and peak RSS.

Each host is a child process (``subprocess.Popen``) with its own /opt/ml stand-in
(``MLOPS_OPT_ML_ROOT``) and, with more than one host, the loopback address map and a free
collective port (ml_code/cluster.py); all of a job's hosts run at once. Each is timed from its
start to its reaping (``os.wait4``) and runs under :mod:`benchmarks.rss_launcher`, which writes
the host process's own peak resident set (``ru_maxrss``): reaped directly, a child of this
process reports at least this process's peak (~160 MB). A host that fails stops the others (the
ones started here, by their launchers) and fails the job with its message file's text, as
SageMaker would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from emulator.hosts import cores_per_host
from ml_code import contract

ROOT: Final = Path(__file__).resolve().parents[1]
#: How often the parent looks for finished hosts (their wall time is known to this much).
POLL_SECONDS: Final = 0.05
LOOPBACK: Final = "127.0.0.1"
#: Starts each host's process and writes its peak RSS (see its docstring for why).
LAUNCHER: Final = Path(__file__).with_name("rss_launcher.py")


class HostFailedError(RuntimeError):
    """A host exited non-zero; the message names the step, the host and its reason."""


@dataclass(frozen=True)
class Host:
    """One instance of a job: its name, its /opt/ml stand-in and the job's host names."""

    name: str
    opt_ml: Path
    hosts: tuple[str, ...]

    def local(self, container_path: str) -> Path:
        """``container_path`` (under /opt/ml) inside this host's folder."""
        return self.opt_ml.joinpath(*Path(container_path).relative_to(contract.OPT_ML).parts)

    def write_resource_config(self, container_path: str, **extra: str) -> None:
        """The ``resourceconfig.json`` SageMaker writes into each container of a job."""
        path = self.local(container_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"current_host": self.name, "hosts": list(self.hosts), **extra}))


def job_hosts(job_dir: Path, count: int) -> list[Host]:
    """Hosts ``algo-1`` .. ``algo-<count>``, each with ``<job_dir>/<host>/opt_ml``."""
    names = tuple(f"algo-{i}" for i in range(1, count + 1))
    return [Host(name, job_dir / name / "opt_ml", names) for name in names]


@dataclass(frozen=True)
class HostRun:
    """What one host's process cost."""

    step: str
    host: str
    wall_s: float
    peak_rss_mb: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _environment(host: Host, collective: Mapping[str, str], code: Path) -> dict[str, str]:
    env = {**os.environ, contract.OPT_ML_ROOT_ENV: str(host.opt_ml), **collective}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    return env


def _rss_file(host: Host, step: str) -> Path:
    return host.opt_ml.parent / f"{step}.maxrss"


def _peak_rss_mb(host: Host, step: str) -> float:
    """The host process's own peak RSS, as its launcher wrote it (kB on Linux)."""
    return int(_rss_file(host, step).read_text(encoding="utf-8")) / 1024


def _reason(host: Host, failure_file: str, log: Path) -> str:
    message = host.local(failure_file)
    if message.is_file() and message.read_text(encoding="utf-8").strip():
        return message.read_text(encoding="utf-8").strip()[:1024]
    return log.read_text(encoding="utf-8", errors="replace")[-2000:]


def run_job(
    step: str,
    hosts: Sequence[Host],
    module: str,
    arguments: Sequence[str],
    *,
    failure_file: str,
    code: Path = ROOT,
    python: str = sys.executable,
) -> list[HostRun]:
    """Run ``<python> -m <module> <arguments>`` on every host at once, from ``code`` (the folder
    holding ``ml_code``); each host's cost, in host order.

    Raises:
        HostFailedError: a host exited non-zero (the others are stopped first).
    """
    collective: dict[str, str] = {}
    if len(hosts) > 1:
        collective = {
            contract.HOST_ADDRESSES_ENV: json.dumps({h.name: LOOPBACK for h in hosts}),
            contract.COLLECTIVE_PORT_ENV: str(_free_port()),
            # As the offline runner does (emulator/hosts.py): each host its share of the cores, or
            # XGBoost's OpenMP threads spin while the collective waits (~1 s a round on 2 cores).
            "OMP_NUM_THREADS": str(cores_per_host(len(hosts))),
        }
    started: dict[int, tuple[Host, Path, float, subprocess.Popen[bytes]]] = {}
    for host in hosts:
        log = host.opt_ml.parent / f"{step}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            launcher = [python, "-I", "-S", str(LAUNCHER), str(_rss_file(host, step))]
            proc = subprocess.Popen(
                [*launcher, python, "-m", module, *arguments],
                cwd=code, env=_environment(host, collective, code), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        started[proc.pid] = (host, log, time.monotonic(), proc)
    runs: dict[str, HostRun] = {}
    while len(runs) < len(hosts):
        for pid, (host, log, start, proc) in started.items():
            if host.name in runs:
                continue
            done, status, _ = os.wait4(pid, os.WNOHANG)
            if done == 0:
                continue
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            runs[host.name] = HostRun(step, host.name, time.monotonic() - start, _peak_rss_mb(host, step))
            if proc.returncode != 0:
                _stop_others(started, runs)
                raise HostFailedError(
                    f"{step} failed on {host.name} (exit {proc.returncode}): "
                    f"{_reason(host, failure_file, log)}"
                )
        time.sleep(POLL_SECONDS)
    return [runs[h.name] for h in hosts]


def _stop_others(
    started: Mapping[int, tuple[Host, Path, float, subprocess.Popen[bytes]]], runs: Mapping[str, HostRun]
) -> None:
    for pid, (host, _, _, proc) in started.items():
        if host.name not in runs:
            os.kill(pid, signal.SIGTERM)  # the launcher kills the host's process, then ends
            _, status = os.waitpid(pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
