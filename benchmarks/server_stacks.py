"""The serving stacks the serving benchmark starts, by name, each yielding the port it serves on.

``deployed`` and ``toolkit``: the SageMaker image's stack (:mod:`benchmarks.toolkit_stack`), with
and without nginx; ``make serve``: ``ml_code.serving.serve`` (this checkout's, or another
version's with ``code``); ``reference``: the old Flask + gunicorn sync server
(:mod:`benchmarks.reference_server`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks.toolkit_stack import toolkit_stack
from ml_code.serving.serve import serve_subprocess


@contextlib.contextmanager
def reference_stack(model_dir: Path, workers: int) -> Iterator[int]:
    from ml_code.serving.client import start_server_process, stop_server_process  # noqa: PLC0415

    port = _free_port()
    command = [
        sys.executable, "-c",
        "import sys, os; os.environ['REFERENCE_MODEL_DIR'] = sys.argv[1]; "
        "print('reference on http://127.0.0.1:' + sys.argv[2], flush=True); "
        "from gunicorn.app.wsgiapp import run; "
        "sys.argv = ['gunicorn', '-k', 'sync', '-w', sys.argv[3], '-b', '127.0.0.1:' + sys.argv[2], "
        "'--log-level', 'warning', 'benchmarks.reference_server.app:app']; run()",
        str(model_dir), str(port), str(workers),
    ]  # fmt: skip
    process, _ = start_server_process(command, timeout=120)
    try:
        yield port
    finally:
        stop_server_process(process)


def _free_port() -> int:
    from benchmarks.toolkit_stack import free_port  # noqa: PLC0415

    return free_port()


@contextlib.contextmanager
def started(name: str, model_dir: Path, workers: int, code: Path | None = None) -> Iterator[int]:
    if name == "make serve" and code is not None:  # that version's ml_code.serving.serve, same CLI
        from ml_code.serving.client import start_server_process, stop_server_process  # noqa: PLC0415

        command = [
            sys.executable, "-c",
            f"import sys; sys.path.insert(0, {str(code)!r}); "
            "import ml_code.serving.serve as s; sys.exit(s.main())",
            "--model", str(model_dir), "--port", "0", "--workers", str(workers),
        ]  # fmt: skip
        process, url = start_server_process(command, timeout=120)
        try:
            yield int(url.rsplit(":", 1)[1])
        finally:
            stop_server_process(process)
    elif name == "make serve":
        with serve_subprocess(model_dir, workers=workers) as url:
            yield int(url.rsplit(":", 1)[1])
    elif name == "reference":
        with reference_stack(model_dir, workers) as port:
            yield port
    else:
        with toolkit_stack(model_dir, workers=workers, nginx=name == "deployed") as port:
            yield port
