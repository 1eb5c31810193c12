"""A real local MLflow tracking server for tests (the same kind ``make demo`` starts).

``.venv``'s ``mlflow server`` with a sqlite store and served artifacts under one folder, on loopback
and a free port; :func:`mlflow_server` yields it once ``/health`` answers and stops it afterwards.
Read runs back with :meth:`MlflowServer.client` (the real ``mlflow`` client)::

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        with mlflow_server(tmp_path_factory.mktemp("mlflow")) as running:
            yield running
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

#: The mlflow CLI beside the test interpreter (.venv/bin/mlflow).
MLFLOW = Path(sys.executable).parent / "mlflow"
#: How long a server may take to answer /health (a cold start imports a lot).
START_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class MlflowServer:
    """A running server: its base URL and where it keeps its store."""

    url: str
    #: the sqlite file and the artifacts folder
    database: Path
    artifacts: Path
    log: Path

    def client(self) -> Any:
        """``mlflow.tracking.MlflowClient`` on this server."""
        return MlflowClient(tracking_uri=self.url)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(
        f"mlflow server at {url} not healthy after {START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}"
    )


@contextmanager
def mlflow_server(root: Path) -> Iterator[MlflowServer]:
    """Start ``mlflow server`` with its store under ``root``; yield it healthy; stop it after."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = MlflowServer(
        f"http://127.0.0.1:{port}", root / "mlflow.db", root / "artifacts", root / "server.log"
    )
    command = [
        str(MLFLOW), "server", "--backend-store-uri", f"sqlite:///{server.database}",
        "--artifacts-destination", str(server.artifacts), "--serve-artifacts",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with server.log.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ},
                                   start_new_session=True)  # fmt: skip
    try:
        _wait_healthy(server.url, process, server.log)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and the workers it started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
