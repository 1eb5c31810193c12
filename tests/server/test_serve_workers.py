"""make serve's worker processes: keep-alive connections are spread over every worker (each has
its own SO_REUSEPORT socket), and a worker that dies is replaced and gets connections again.

Which worker holds a connection is read from outside, in /proc (tests/server/sockets.py)."""

from __future__ import annotations

import http.client
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from serving_models import build_model, raw_rows
from sockets import holders, listening, socket_inodes

from ml_code import contract
from ml_code.serving.serve import serve_subprocess

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="reads /proc; SO_REUSEPORT spreading is Linux's"
)
WORKERS = 2
CSV = contract.CONTENT_TYPE_CSV
#: with the kernel hashing each connection to one of 2 sockets, all 16 on one worker has odds 2**-15
CONNECTIONS = 16


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model_dir = build_model(tmp_path_factory.mktemp("binary"), "binary")
    with serve_subprocess(model_dir, workers=WORKERS) as base_url:
        yield base_url


def open_connections(url: str, count: int) -> list[http.client.HTTPConnection]:
    """``count`` keep-alive connections, each answered once (so its worker has accepted it)."""
    parts = urlsplit(url)
    body = raw_rows("binary", 1).to_csv(index=False, header=False).encode()
    connections = [
        http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30) for _ in range(count)
    ]
    for connection in connections:
        connection.connect()  # all connect first, as a load generator's clients do
    for connection in connections:
        connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": contract.CONTENT_TYPE_CSV}
        )
        reply = connection.getresponse()
        reply.read()
        assert reply.status == 200
        assert not reply.will_close  # still open: a keep-alive connection
    return connections


def workers_of(url: str, connections: list[http.client.HTTPConnection]) -> Counter[int]:
    """How many of ``connections`` each server process holds."""
    ports = [c.sock.getsockname()[1] for c in connections]
    owners = holders(urlsplit(url).port or 0, ports)
    assert sorted(owners) == sorted(ports), "every connection's server side was found"
    return Counter(owners.values())


def close(connections: list[http.client.HTTPConnection]) -> None:
    for connection in connections:
        connection.close()


def test_keep_alive_connections_reach_every_worker(url: str) -> None:
    # GIVEN 2 workers, WHEN a client opens 16 persistent connections at once
    connections = open_connections(url, CONNECTIONS)
    try:
        per_worker = workers_of(url, connections)
    finally:
        close(connections)
    # THEN both workers hold some (with one shared socket, one worker usually took them all)
    assert len(per_worker) == WORKERS, per_worker
    assert min(per_worker.values()) >= 1


def test_a_killed_worker_is_replaced_and_gets_connections_again(url: str) -> None:
    # GIVEN the two workers, found through the connections they hold
    connections = open_connections(url, CONNECTIONS)
    workers = set(workers_of(url, connections))
    close(connections)
    assert len(workers) == WORKERS
    victim = min(workers)
    port = urlsplit(url).port or 0
    its_listener = socket_inodes(victim) & listening(port)
    assert len(its_listener) == 1
    # WHEN it is killed outright
    os.kill(victim, signal.SIGKILL)
    # THEN its listening socket closes with it (no other process holds a copy that would keep
    # taking connections nobody accepts; connections queued on it as it dies are reset) ...
    deadline = time.monotonic() + 10
    while its_listener & listening(port):
        assert time.monotonic() < deadline, "the killed worker's socket still listens"
        time.sleep(0.05)
    # ... every new connection is answered, and soon a new worker holds some of them
    deadline = time.monotonic() + 60
    while True:
        connections = open_connections(url, CONNECTIONS)  # asserts each one is answered 200
        now = set(workers_of(url, connections))
        close(connections)
        assert victim not in now
        if len(now) == WORKERS:
            break
        assert time.monotonic() < deadline, f"no replacement worker after 60 s: {now}"
        time.sleep(0.5)
    assert now - workers, "a new process replaced the killed one"
