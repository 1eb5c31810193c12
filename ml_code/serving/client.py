"""Small stdlib client for a model server: start/stop it as a process, wait for /ping, invoke.

Used by ml_code.serving.serve's context managers, the offline demo and smoke tests; needs
nothing beyond the standard library.
"""

from __future__ import annotations

import http.client
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

_URL = re.compile(r"http://[^\s]+")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str


def wait_until_ready(url: str, timeout: float = 30.0) -> None:
    """Poll ``GET url/ping`` until it answers 200; raises TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as reply:  # noqa: S310 - our own http URL
                if reply.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"model server at {url} did not answer /ping within {timeout:g} s")
        time.sleep(0.1)


def invoke(
    url: str, body: bytes, content_type: str, accept: str | None = None, timeout: float = 60
) -> Response:
    """``POST url/invocations`` once; returns status, body and content type (4xx/5xx included)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    try:
        connection.request("POST", "/invocations", body=body, headers=headers)
        reply = connection.getresponse()
        return Response(reply.status, reply.read(), reply.getheader("content-type", ""))
    finally:
        connection.close()


def start_server_process(command: list[str], timeout: float = 60) -> tuple[subprocess.Popen[str], str]:
    """Start a server command that prints its URL on stdout; returns it once /ping answers.

    Raises RuntimeError with the server's exit code when it stops before serving,
    TimeoutError when it does not become ready in ``timeout`` s.
    """
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None  # stdout=PIPE above
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        line = ""
        while not (match := _URL.search(line)):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_server_process(process)
                raise RuntimeError(f"{command[:3]} exited ({process.returncode}) before printing its URL")
            if selector.select(timeout=0.2):
                line = process.stdout.readline()
    # Keep draining stdout so the server can never block on a full pipe.
    threading.Thread(target=_forward, args=(process.stdout,), daemon=True).start()
    try:
        wait_until_ready(match.group(0), max(deadline - time.monotonic(), 1.0))
    except TimeoutError:
        stop_server_process(process)
        raise
    return process, match.group(0)


def stop_server_process(process: subprocess.Popen[str], grace: float = 15.0) -> None:
    """SIGTERM (the server's graceful shutdown), then SIGKILL after ``grace`` s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _forward(stream: IO[str]) -> None:
    for line in stream:
        sys.stderr.write(line)
