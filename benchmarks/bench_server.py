"""ml_code.serve against a Flask + gunicorn + pandas reference server, side by side.

Measures requests/s and p50/p99 latency for 1-row and 1,000-row text/csv payloads with
CONCURRENCY clients on 127.0.0.1, for both servers in the same run (interleaved rounds,
the median round reported), serving the same model with the same worker count.

Fairness on a 2-core host: the load generator is one lean asyncio process speaking raw
HTTP/1.1 over persistent connections (no requests/urllib per call), so it costs tens of
microseconds per request and the same for both servers; when a server closes the
connection after a response (gunicorn's sync workers always do) the client reconnects,
which is that server's own cost. Request counts are bounded; the run stops by itself.

Run: ``.venv/bin/python -m benchmarks.bench_server [--rounds 3] [--workers 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ml_code import contract, sample_data
from ml_code.preprocess import preprocess, write_outputs
from ml_code.serve import bind_socket, serve_subprocess
from ml_code.serving_client import start_server_process, stop_server_process
from ml_code.train import Hyperparameters, train

CONCURRENCY = 16
#: (payload name, rows per request, requests per round)
CASES = (("1 row", 1, 4000), ("1,000 rows", 1000, 200))


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
    """Send ``total`` POST /invocations over ``concurrency`` connections; returns the figures."""
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


def build_model(root: Path) -> tuple[Path, bytes]:
    """The churn model the demo trains (5,000 rows, default hyperparameters) and raw CSV rows."""
    dirs = {name: root / name for name in contract.PREPROCESS_OUTPUTS}
    frame = sample_data.generate(5000, seed=42)
    write_outputs(preprocess(frame, sample_data.TARGET, "binary"), dirs)
    train(dirs["train"], dirs["validation"], root / "model", Hyperparameters())
    raw = sample_data.generate(1000, seed=7).drop(columns=[sample_data.TARGET])
    return root / "model", raw.to_csv(index=False, header=False).encode()


def start_reference(model_dir: Path, workers: int) -> tuple[object, int]:
    sock = bind_socket("127.0.0.1", 0)  # pick a free port, then hand it to gunicorn
    port = sock.getsockname()[1]
    sock.close()
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
    return process, port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, csv_rows = build_model(Path(tmp))
        lines = csv_rows.splitlines(keepends=True)
        reference, ref_port = start_reference(model_dir, args.workers)
        try:
            with serve_subprocess(model_dir, workers=args.workers) as url:
                ports = {"ml_code.serve": int(url.rsplit(":", 1)[1]), "reference": ref_port}
                results = {}
                for case, rows, total in CASES:
                    body = b"".join(lines[:rows])
                    for port in ports.values():  # warm up: model loads, connections, caches
                        load(port, body, total // 10)
                    rounds: dict[str, list[Result]] = {name: [] for name in ports}
                    for _ in range(args.rounds):
                        for name, port in ports.items():
                            rounds[name].append(load(port, body, total))
                    for name, found in rounds.items():
                        median = statistics.median_low([r.requests_per_s for r in found])
                        results[(case, name)] = next(r for r in found if r.requests_per_s == median)
        finally:
            stop_server_process(reference)  # type: ignore[arg-type]
    print(f"{os.cpu_count()} cores, {CONCURRENCY} clients, {args.workers} workers per server")
    print("| payload | server | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|")
    for (case, name), r in results.items():
        print(f"| {case} | {name} | {r.requests_per_s:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
