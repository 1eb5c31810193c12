"""How ``make serve`` runs uvicorn: the server's settings, and an app run in a thread (the demo, tests).

Local only, like :mod:`ml_code.serving.serve` (the image serves through its own toolkit, and has
no uvicorn).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import uvicorn

from ml_code.serving.app import InvocationsApp
from ml_code.serving.client import wait_until_ready
from ml_code.serving.listeners import bind_socket
from ml_code.serving.one_send import OneSendProtocol


def uvicorn_config(
    app: InvocationsApp | str, workers: int = 1, access_log: bool = False, log_level: str = "info"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=workers,
        lifespan="off",
        http=OneSendProtocol,
        loop="uvloop",  # libuv's loop: fewer Python frames per read and write than asyncio's
        access_log=access_log,
        log_level=log_level,
        server_header=False,
        # The SageMaker front end reuses connections; keep idle ones open past its 60 s timeout.
        timeout_keep_alive=75,
        # Spawning a worker imports xgboost and loads the model: seconds on a busy host.
        timeout_worker_healthcheck=30,
    )


@contextlib.contextmanager
def running_in_thread(app: InvocationsApp, host: str, port: int) -> Iterator[str]:
    """Run ``app`` on uvicorn in a daemon thread; yields its URL once it answers, then stops it."""
    sock = bind_socket(host, port)
    # In-process callers (tests, the demo) print their own story; uvicorn says only problems.
    server = uvicorn.Server(uvicorn_config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://{host}:{sock.getsockname()[1]}"
    try:
        wait_until_ready(url, timeout=30)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
