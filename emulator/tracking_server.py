"""The offline MLflow tracking server: ``mlflow server`` from .venv, on loopback, for the Track steps.

SageMaker's managed tracking server stands behind ``https://<region>.experiments.sagemaker.aws``;
offline, the runner points the Track steps at this one instead (``MLOPS_MLFLOW_URL``). Its store
is a folder (``.demo/mlflow`` for ``make demo``): runs in ``mlflow.db`` (sqlite), artifacts under
``artifacts/``, served by the server itself (``--serve-artifacts``), so a run's artifact URI is
``mlflow-artifacts:/...`` and the Track step uploads through the server. On AWS the step writes
them to the artifact bucket's ``mlflow/`` prefix itself.

:class:`LocalTrackingServer` starts the server without waiting (a cold start imports MLflow twice,
the CLI then its uvicorn worker: the demo overlaps that with ``cdk synth``), :meth:`~LocalTrackingServer.wait`
returns once ``/health`` answers, :meth:`~LocalTrackingServer.stop` ends it and its worker.
``python -m emulator.tracking_server [--store DIR] [--port N]`` (``make mlflow``) serves the same
store in the foreground.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Final

from emulator.processes import stop_group

#: The mlflow CLI of the interpreter running this (.venv/bin/mlflow).
MLFLOW: Final = Path(sys.executable).parent / "mlflow"
LOOPBACK: Final = "127.0.0.1"
#: How long a cold start may take to answer /health (it imports a lot; a busy machine is slow).
START_TIMEOUT_S: Final = 180.0
_STOP_GRACE_S: Final = 10.0
#: MLflow 3's server starts a job runner and seven huey consumers by default (server-side GenAI
#: jobs: scorers, evaluations), each a process importing MLflow (~230 MB and ~3 CPU s apiece):
#: tracking needs none of them, and on 2 cores they slowed `make demo` by ~25 s.
SERVER_ENV: Final = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def server_command(store: Path, port: int) -> list[str]:
    """``mlflow server`` on ``store`` (``mlflow.db`` and ``artifacts/``), loopback ``port``, one worker."""
    return [
        str(MLFLOW), "server",
        "--backend-store-uri", f"sqlite:///{store.resolve() / 'mlflow.db'}",
        "--serve-artifacts", "--artifacts-destination", str(store.resolve() / "artifacts"),
        "--host", LOOPBACK, "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class LocalTrackingServer:
    """One ``mlflow server`` process (and its worker, in the same process group) on ``store``."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = store / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalTrackingServer:
        """Start the server (without waiting for it); returns self."""
        self.store.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # Its own session: stop() ends the uvicorn worker the CLI starts with it.
            self._process = subprocess.Popen(
                server_command(self.store, self.port),
                env={**os.environ, **SERVER_ENV},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def wait(self, timeout: float = START_TIMEOUT_S) -> str:
        """Block until ``/health`` answers; returns the URL.

        Raises:
            RuntimeError: the server exited, was never started, or did not answer within ``timeout``
                (the message carries the end of its log).
        """
        if self._process is None:
            raise RuntimeError("the tracking server was not started")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with {self._process.returncode}:\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(
            f"mlflow server at {self.url} did not answer /health in {timeout:g}s:\n{self._log_tail()}"
        )

    def stop(self) -> None:
        """Stop the server and its worker (SIGTERM to its group, SIGKILL after a grace period)."""
        process, self._process = self._process, None
        if process is not None:
            stop_group(process, _STOP_GRACE_S)

    def _log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""
        return "\n".join(text.splitlines()[-20:])

    def __enter__(self) -> LocalTrackingServer:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``make mlflow``: serve a store (default ``.demo/mlflow``) in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m emulator.tracking_server", description=main.__doc__)
    parser.add_argument("--store", type=Path, default=Path(".demo") / "mlflow", help="default .demo/mlflow")
    parser.add_argument("--port", type=int, default=5000, help="loopback port (default 5000)")
    args = parser.parse_args(argv)
    if not (args.store / "mlflow.db").is_file():
        print(f"{args.store / 'mlflow.db'} does not exist yet: run make demo first (serving an empty store)")
    args.store.mkdir(parents=True, exist_ok=True)
    print(f"MLflow UI on http://{LOOPBACK}:{args.port} (store {args.store}); Ctrl-C stops it", flush=True)
    command = server_command(args.store, args.port)
    # The server in this process's place: Ctrl-C reaches it alone, and make waits for it.
    os.environ.update(SERVER_ENV)
    os.execv(command[0], command)  # noqa: S606 (our own .venv/bin/mlflow, no shell)


if __name__ == "__main__":
    raise SystemExit(main())
