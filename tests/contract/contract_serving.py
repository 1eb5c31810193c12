"""Serve a model.tar.gz through the SageMaker XGBoost image's serving stack, on loopback.

The hosting container's side: ``/opt/ml/model`` holds the extracted archive (its ``code/``
folder too), and the model's environment names the user module (``SAGEMAKER_PROGRAM``,
``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``) and the default Accept. ``toolkit_serve.py``
then does what the image's ``serve`` does under ``.venv-contract``'s Python 3.10: the toolkit
installs the user module and starts gunicorn (gevent workers, the toolkit's command line) on
the toolkit's Flask worker, through our stand-in for the image's WSGI entry point
(``toolkit_serving.py``).

Re-rooting: the toolkit derives every path from ``SAGEMAKER_BASE_DIR`` (its ``_env.base_dir``,
``/opt/ml`` when unset), ml_code from ``MLOPS_OPT_ML_ROOT``; both name the same folder, and the
submit directory is given re-rooted. The toolkit's ``pip install`` of the code folder goes to a
prefix inside that folder (``PIP_PREFIX``, on ``PYTHONPATH``, where the image's site-packages
would be) so .venv-contract is never changed, and runs with no index (``PIP_NO_INDEX``): as in
the image it needs none.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from contract_jobs import CONTRACT_PYTHON

from ml_code import contract

HERE: Final = Path(__file__).resolve().parent
WORKERS: Final = 2
_START_SECONDS: Final = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/ping")
        reply = connection.getresponse()
        reply.read()
        return reply.status == 200
    except OSError:
        return False
    finally:
        connection.close()


def stack_environment(root: Path, port: int) -> dict[str, str]:
    """The hosting container's environment for a model under ``root/model``."""
    site = root / "pip-prefix" / "lib" / "python3.10" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SM_", "SAGEMAKER_", "PYTHON", "AWS_", "PIP_"))
    }
    env.pop("VIRTUAL_ENV", None)
    env.update(
        {
            # the model's Environment, as the pipeline registers it
            "SAGEMAKER_PROGRAM": contract.SERVING_PROGRAM,
            "SAGEMAKER_SUBMIT_DIRECTORY": str(root / "model" / contract.MODEL_CODE_DIR),
            contract.DEFAULT_ACCEPT_ENV: contract.DEFAULT_ACCEPT,
            # the image's ENV (its serving module stood in for) and the toolkit's settings
            "SAGEMAKER_SERVING_MODULE": "toolkit_serving:main",
            "SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS),
            "SAGEMAKER_USE_NGINX": "false",
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            # /opt/ml re-rooted for the toolkit and for ml_code
            "SAGEMAKER_BASE_DIR": str(root),
            contract.OPT_ML_ROOT_ENV: str(root),
            # the toolkit's `pip install .` of the code folder, kept out of .venv-contract
            "PIP_PREFIX": str(root / "pip-prefix"),
            "PYTHONPATH": str(site),
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PATH": f"{CONTRACT_PYTHON.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


@contextlib.contextmanager
def toolkit_stack(model_tar: Path, workdir: Path) -> Iterator[tuple[str, Path]]:
    """Serve ``model_tar``; yields (base URL, server log path) once /ping answers 200.

    Raises:
        RuntimeError: the stack exited or did not answer within 90 s (the log's tail attached).
    """
    root = workdir / "opt_ml"
    (root / "model").mkdir(parents=True)
    with tarfile.open(model_tar) as archive:
        archive.extractall(root / "model", filter="data")
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CONTRACT_PYTHON), str(HERE / "toolkit_serve.py")],
            env=stack_environment(root, port),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # gunicorn's master and workers: one group to stop
        )
    try:
        deadline = time.monotonic() + _START_SECONDS
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
                raise RuntimeError(
                    f"the toolkit serving stack did not start (exit {process.poll()}):\n{tail}"
                )
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # gunicorn's graceful stop
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
