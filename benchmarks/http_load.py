"""The serving benchmark's load generator: POST /invocations over keep-alive connections, timed.

One asyncio process, a pre-built request, and only the status line, headers and Content-Length
bytes read back, so the generator costs the same for every server it measures.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

#: Clients (keep-alive connections) of a load run unless told.
CONCURRENCY = 16


@dataclass(frozen=True)
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


async def _client(port: int, request: bytes, count: int, latencies: list[float], errors: list[int]) -> None:
    reader = writer = None
    for _ in range(count):
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert reader is not None
        start = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length, close = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - start)
        if not head.startswith(b"HTTP/1.1 200"):
            errors.append(1)
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def load(port: int, body: bytes, total: int, concurrency: int = CONCURRENCY) -> Result:
    """Send ``total`` POST /invocations over ``concurrency`` keep-alive connections; the figures.

    The generator is one asyncio process writing a pre-built request and reading only the status
    line, headers and Content-Length bytes: tens of microseconds a request, the same for every
    stack (a server that closes the connection makes the client reconnect: its own cost).
    """
    request = (
        b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
        b"Accept: text/csv\r\nContent-Length: %d\r\n\r\n" % len(body)
    ) + body
    latencies: list[float] = []
    errors: list[int] = []

    async def run() -> float:
        start = time.perf_counter()
        per_client = total // concurrency
        await asyncio.gather(
            *(_client(port, request, per_client, latencies, errors) for _ in range(concurrency))
        )
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    latencies.sort()
    return Result(
        requests_per_s=len(latencies) / elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1e3,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
        errors=len(errors),
    )
