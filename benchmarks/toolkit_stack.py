"""Start the SageMaker XGBoost image's serving stack on this machine, for the serving benchmark.

What the image runs for a model with our ``code/inference.py`` (sagemaker_containers 2.8.6.post2
``_server.start``): nginx, configured from the toolkit's own ``etc/nginx.conf.template``, in
front of gunicorn started with the toolkit's command line (``-k gevent``, ``-w <workers>``,
``--worker-connections 1000 * workers``, ``--timeout 60``, bound to a unix socket), serving the
toolkit's Flask worker around our handlers. The WSGI app is the contract tier's stand-in for the
image's ``serving:main`` (tests/contract/toolkit_serving.py: the toolkit's Transformer and Worker
composed by the image's rules). ``nginx=False`` is the same gunicorn bound to TCP, as the
toolkit runs it with SAGEMAKER_USE_NGINX=false (what tests/contract serves).

Differences, all paths only: ``/opt/ml`` is a temp dir (SAGEMAKER_BASE_DIR), nginx's pid file
and gunicorn's socket live there instead of ``/tmp`` (and, when not run as root, nginx's temp
folders too), and the model's code folder is put on
gunicorn's ``--pythonpath`` instead of being pip-installed into site-packages by
``_modules.import_module`` (the same modules get imported). The environment is the image's:
OMP_NUM_THREADS=1 (the XGBoost container's serving default) and the model's
SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT. nginx's access log goes to stdout, as in the image;
here stdout is /dev/null.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ml_code.contract import DEFAULT_ACCEPT, DEFAULT_ACCEPT_ENV, MODEL_CODE_DIR, SERVING_PROGRAM

HERE = Path(__file__).resolve().parent
#: the contract tier's WSGI stand-in for the image's serving module
GLUE_DIR = HERE.parent / "tests" / "contract"
GLUE_APP = "toolkit_serving:main"
TIMEOUT_SECONDS = 60


def contract_python() -> Path:
    """The Python with the image's pins: .venv-contract (make contract-env), or $CONTRACT_PYTHON."""
    path = Path(os.environ.get("CONTRACT_PYTHON") or HERE.parent / ".venv-contract" / "bin" / "python")
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make contract-env` or set CONTRACT_PYTHON")
    return path


def nginx_template(python: Path) -> str:
    """The toolkit's nginx.conf.template, read from the installed sagemaker_containers."""
    where = subprocess.run(
        [str(python), "-c", "import os, sagemaker_containers as s; print(os.path.dirname(s.__file__))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return (Path(where) / "etc" / "nginx.conf.template").read_text()


def nginx_config(template: str, port: int, root: Path) -> str:
    """The toolkit's substitutions (port, proxy read timeout), plus our pid and socket paths."""
    config = template.replace("%NGINX_HTTP_PORT%", str(port))
    config = config.replace("%NGINX_PROXY_READ_TIMEOUT%", str(TIMEOUT_SECONDS))
    for fixed, ours in (
        ("/tmp/nginx.pid", root / "nginx.pid"),
        ("/tmp/gunicorn.sock", root / "gunicorn.sock"),
    ):
        if fixed not in config:
            raise ValueError(f"the toolkit's nginx template no longer mentions {fixed}")
        config = config.replace(fixed, str(ours))
    return config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    """Until GET /ping answers 200 (the first one loads the model in that worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no 200 from /ping on port {port} within {timeout:g} s")


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def toolkit_stack(model_dir: Path, *, workers: int = 2, nginx: bool = True) -> Iterator[int]:
    """Serve ``model_dir`` (with its ``code/`` folder) on the image's stack; yields the port."""
    python = contract_python()
    with tempfile.TemporaryDirectory(prefix="toolkit-stack-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # nginx's workers (user nobody) connect to gunicorn's socket in here
        opt_ml = root / "opt" / "ml"
        shutil.copytree(model_dir, opt_ml / "model")
        code_dir = opt_ml / "model" / MODEL_CODE_DIR
        port = free_port()
        env = {
            **os.environ,
            "SAGEMAKER_BASE_DIR": str(opt_ml),
            "SAGEMAKER_PROGRAM": SERVING_PROGRAM,
            "SAGEMAKER_SUBMIT_DIRECTORY": str(code_dir),
            "SAGEMAKER_MODEL_SERVER_WORKERS": str(workers),
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_USE_NGINX": "true" if nginx else "false",
            DEFAULT_ACCEPT_ENV: DEFAULT_ACCEPT,
            "OMP_NUM_THREADS": "1",
        }
        env.pop("PYTHONPATH", None)
        log = (root / "server.log").open("wb")
        bind = f"unix:{root / 'gunicorn.sock'}" if nginx else f"127.0.0.1:{port}"
        gunicorn = subprocess.Popen(
            [str(python), "-m", "gunicorn", "--timeout", str(TIMEOUT_SECONDS), "-k", "gevent",
             "--pythonpath", f"{GLUE_DIR},{code_dir}", "-b", bind,
             "--worker-connections", str(1000 * workers), "-w", str(workers), "--log-level", "info",
             GLUE_APP],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        front: subprocess.Popen[bytes] | None = None
        try:
            if nginx:
                config = root / "nginx.conf"
                config.write_text(nginx_config(nginx_template(python), port, root))
                front = subprocess.Popen(["nginx", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=log)
            # /ping until both workers have answered at least once is not observable; the
            # benchmark's warm-up requests load the model in every worker.
            try:
                wait_for_http(port, 120, front or gunicorn)
            except (RuntimeError, TimeoutError):
                print((root / "server.log").read_text(errors="replace")[-3000:])
                raise
            yield port
        finally:
            if front is not None:
                _stop(front, signal.SIGQUIT)  # as the toolkit's SIGTERM handler does
            _stop(gunicorn, signal.SIGTERM)
            log.close()
