"""Local model server on the SageMaker hosting contract (``/ping``, ``/invocations``).

CLI: ``python -m ml_code.serving.serve --model DIR|model.tar.gz [--port 8080] [--host 127.0.0.1]
[--workers N] [--capture-dir DIR [--endpoint-name NAME] [--capture-percent P]]``.
Honours SAGEMAKER_BIND_TO_PORT, SAGEMAKER_MODEL_SERVER_WORKERS (default: one per CPU) and
SAGEMAKER_MODEL_SERVER_TIMEOUT (seconds, default 60); flags win.

Design: N worker processes (one per core: parsing, transforming and xgboost's call
overhead hold the GIL, so processes, not threads, scale on cores), each with its own
listening socket on the same port (SO_REUSEPORT: the kernel spreads connections over them;
ml_code.serving.listeners, which also says why they set TCP_NODELAY); each runs uvicorn's asyncio
loop with the raw ASGI app of ml_code.serving.app, writing each response in one send
(ml_code.serving.one_send). uvicorn's supervisor restarts a worker that dies.

Programmatic use (smoke tests, the offline demo): :func:`serve_in_thread` and
:func:`serve_subprocess` are context managers yielding the base URL.

Data capture (off unless a capture dir is given): each worker queues the sampled
request/response pairs to its own ml_code.serving.capture.CaptureWriter, which appends them in
SageMaker's format under ``<dir>/<endpoint>/AllTraffic/yyyy/mm/dd/hh/`` from its own thread.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import socket
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import uvicorn

from ml_code.contract import SERVING_PORT
from ml_code.serving import async_invocations, inference, model_cache
from ml_code.serving.app import InvocationsApp
from ml_code.serving.capture import CaptureWriter
from ml_code.serving.client import start_server_process, stop_server_process
from ml_code.serving.listeners import ReusePortSupervisor, bind_socket
from ml_code.serving.one_send import OneSendProtocol, _HeadWithBody
from ml_code.serving.uvicorn_app import running_in_thread, uvicorn_config

#: Names imported from here (tests, benchmarks, the demo, uvicorn's factory), moved ones included.
__all__ = [
    "OneSendProtocol",
    "ReusePortSupervisor",
    "_HeadWithBody",
    "app_from_env",
    "bind_socket",
    "main",
    "parse_args",
    "serve_in_thread",
    "serve_subprocess",
]

MODEL_DIR_ENV: Final = "MLOPS_SERVE_MODEL_DIR"  # parent -> worker processes only
PORT_ENV: Final = "SAGEMAKER_BIND_TO_PORT"
WORKERS_ENV: Final = "SAGEMAKER_MODEL_SERVER_WORKERS"
TIMEOUT_ENV: Final = "SAGEMAKER_MODEL_SERVER_TIMEOUT"
#: parent -> worker processes: where and how much to capture (unset: no capture).
CAPTURE_DIR_ENV: Final = "MLOPS_SERVE_CAPTURE_DIR"
CAPTURE_ENDPOINT_ENV: Final = "MLOPS_SERVE_CAPTURE_ENDPOINT"
CAPTURE_PERCENT_ENV: Final = "MLOPS_SERVE_CAPTURE_PERCENT"


@contextlib.contextmanager
def model_directory(path: str | Path) -> Iterator[Path]:
    """A model dir as given, or a model.tar.gz unpacked in the model cache (ml_code/serving/model_cache.py:
    once per archive content, reused by later runs, pruned; nothing left in /tmp by a killed run).

    Raises FileNotFoundError for a missing path, tarfile.TarError for a bad archive.
    """
    source = Path(path)
    if source.is_dir():
        yield source
        return
    if not source.is_file():
        raise FileNotFoundError(f"model path {source} does not exist")
    with model_cache.extracted(source) as entry:
        yield entry


def create_app(model_dir: str | Path, timeout_seconds: float | None = None) -> InvocationsApp:
    """Load the model with model_fn and wrap it in the ASGI app."""
    timeout = timeout_seconds if timeout_seconds is not None else float(os.environ.get(TIMEOUT_ENV, "60"))
    return InvocationsApp(inference.model_fn(str(model_dir)), timeout_seconds=timeout)


def app_from_env() -> InvocationsApp:
    """uvicorn factory for worker processes: the parent passes the model dir (and the capture
    settings, if any) in the environment."""
    app = async_invocations.from_env(create_app(os.environ[MODEL_DIR_ENV]))
    if os.environ.get(CAPTURE_DIR_ENV):
        app.capture = _writer(Path(os.environ[CAPTURE_DIR_ENV]), os.environ[CAPTURE_ENDPOINT_ENV],
                              float(os.environ[CAPTURE_PERCENT_ENV]))  # fmt: skip
    return app


def _writer(capture_dir: Path, endpoint_name: str, percent: float) -> CaptureWriter:
    """A writer flushed and stopped at interpreter exit (a worker ends without closing its app)."""
    writer = CaptureWriter(capture_dir, endpoint_name, sampling_percent=percent)
    atexit.register(writer.close)
    return writer


def run(
    model_dir: Path, sock: socket.socket, workers: int, access_log: bool = False,
    capture: tuple[Path, str, float] | None = None,
) -> None:  # fmt: skip
    """Serve until SIGINT/SIGTERM: one process in place, or a supervisor with N workers.

    ``capture``: (capture dir, endpoint name, sampling percent) to record traffic.
    """
    if capture is not None:
        os.environ.update({CAPTURE_DIR_ENV: str(capture[0]), CAPTURE_ENDPOINT_ENV: capture[1],
                           CAPTURE_PERCENT_ENV: str(capture[2])})  # fmt: skip
    if workers <= 1:
        app = async_invocations.from_env(create_app(model_dir))
        if capture is not None:
            app.capture = _writer(*capture)
        uvicorn.Server(uvicorn_config(app, access_log=access_log)).run(sockets=[sock])
        return
    os.environ[MODEL_DIR_ENV] = str(model_dir)
    config = uvicorn_config(f"{__name__}:app_from_env", workers=workers, access_log=access_log)
    ReusePortSupervisor(config, sock).run()


@contextlib.contextmanager
def serve_in_thread(
    model: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    capture_dir: Path | None = None,
    endpoint_name: str = "local",
    capture_percent: float = 100.0,
    async_inference: async_invocations.AsyncSettings | None = None,
) -> Iterator[str]:
    """Serve ``model`` (dir or tar.gz) from a thread of this process; yields the base URL.

    With ``capture_dir``, ``capture_percent`` of the answered requests are captured like an
    endpoint with data capture on, under ``capture_dir/<endpoint_name>/AllTraffic/yyyy/mm/dd/hh/``;
    they are on disk on exit, or earlier after ``ml_code.serving.capture.flush_all()``. Raises ValueError
    for a percent outside [0, 100].
    """
    with model_directory(model) as model_dir:
        app = async_invocations.with_route(create_app(model_dir), async_inference)
        if capture_dir is not None:
            app.capture = CaptureWriter(capture_dir, endpoint_name, sampling_percent=capture_percent)
        try:
            with running_in_thread(app, host, port) as url:
                yield url
        finally:
            app.close()


@contextlib.contextmanager
def serve_subprocess(
    model: str | Path, host: str = "127.0.0.1", port: int = 0, workers: int = 2, timeout: float = 60,
    *, capture_dir: Path | None = None, endpoint_name: str = "local", capture_percent: float = 100.0,
) -> Iterator[str]:  # fmt: skip
    """Run ``python -m ml_code.serving.serve`` as a child process; yields its base URL once /ping answers.

    Capture arguments as in :func:`serve_in_thread`; the workers' captures are on disk once the
    context exits (the server is stopped with SIGTERM, and each worker flushes on exit).
    """
    command = [sys.executable, "-m", __name__, "--model", str(model), "--host", host]
    if capture_dir is not None:
        command += ["--capture-dir", str(capture_dir), "--endpoint-name", endpoint_name,
                    "--capture-percent", str(capture_percent)]  # fmt: skip
    process, url = start_server_process([*command, "--port", str(port), "--workers", str(workers)], timeout)
    try:
        yield url
    finally:
        stop_server_process(process)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a model on the SageMaker hosting contract.")
    parser.add_argument("--model", required=True, help="model dir or model.tar.gz")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 inside a container")
    parser.add_argument("--port", type=int, default=int(os.environ.get(PORT_ENV) or SERVING_PORT))
    default_workers = int(os.environ.get(WORKERS_ENV) or 0) or len(os.sched_getaffinity(0))
    parser.add_argument("--workers", type=int, default=default_workers)
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--capture-dir", type=Path, help="record traffic in SageMaker's data-capture format")
    parser.add_argument("--endpoint-name", default="local", help="capture folder name (default: local)")
    parser.add_argument("--capture-percent", type=float, default=100.0, help="share of requests captured")
    args = parser.parse_args(argv)
    if not 0 <= args.capture_percent <= 100:
        parser.error(f"--capture-percent must be in [0, 100], got {args.capture_percent}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with model_directory(args.model) as model_dir:
            inference.model_fn(str(model_dir))  # fail here, with the reason, not in N workers
            sock = bind_socket(args.host, args.port, reuse_port=args.workers > 1)
            url = f"http://{args.host}:{sock.getsockname()[1]}"
            print(f"serving {args.model} on {url} with {args.workers} worker(s)", flush=True)
            capture = (
                (args.capture_dir, args.endpoint_name, args.capture_percent) if args.capture_dir else None
            )
            run(model_dir, sock, args.workers, args.access_log, capture)
    except (OSError, ValueError, tarfile.TarError) as exc:
        print(f"ml_code.serving.serve: cannot serve {args.model}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
