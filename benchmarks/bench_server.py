"""Serving speed where it matters: the SageMaker image's stack around our handlers, and make serve.

Stacks, all serving the demo's model (trained here as ``make demo`` trains its first version:
4,000 sample rows, seed 7, default hyperparameters) with 2 workers on this machine:

- ``deployed``: nginx (the toolkit's nginx.conf.template) -> gunicorn (the toolkit's command line:
  ``-k gevent -w 2``, unix socket) -> the toolkit's Flask Worker -> our ``transform_fn``, under the
  contract tier's Python 3.10 and the image's pins (benchmarks/toolkit_stack.py);
- ``toolkit``: the same without nginx (gunicorn on TCP, SAGEMAKER_USE_NGINX=false): "the same
  handlers under Flask + gunicorn", what make serve is compared with;
- ``make serve``: ``python -m ml_code.serving.serve --workers 2`` (uvicorn, raw ASGI app, .venv's Python);
- ``reference`` (only with ``--stacks ... reference``): the old Flask + gunicorn sync + pandas sample.

For 1-row and 1,000-row CSV bodies (Accept text/csv): requests/s and p50/p99 with 16 clients on
keep-alive connections, and p50 with one client; rounds interleave the stacks and the median
round is reported. Then the handlers' own time (``inference.respond`` and its steps, timed
in-process by benchmarks/handler_time.py under each stack's Python) and its share of the deployed
stack's one-client p50. The load generator is benchmarks/http_load.py; benchmarks/server_stacks.py
starts each stack.

Run: ``.venv/bin/python -m benchmarks.bench_server [--rounds 5] [--stacks deployed toolkit "make serve"]
[--code DIR]`` (about 5 minutes; needs nginx and .venv-contract, which ``make bench`` installs).
``--code DIR`` serves the ml_code under DIR instead (e.g. ``git archive <commit> ml_code | tar -x -C
DIR``), for before/after figures measured the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.http_load import CONCURRENCY, Result, load
from benchmarks.server_stacks import started
from benchmarks.toolkit_stack import contract_python
from ml_code import contract, sample_data
from ml_code.steps.preprocess import preprocess, write_outputs
from ml_code.steps.train import Hyperparameters, train
from ml_code.steps.training_data import TrainingData

REPO = Path(__file__).resolve().parent.parent
#: (payload name, rows per request, requests per 16-client round, requests per 1-client round)
CASES = (("1 row", 1, 4000, 1000), ("1,000 rows", 1000, 400, 150))
STACKS = ("deployed", "toolkit", "make serve")
#: the demo's first training run (offline/demo.py: SAMPLE_ROWS rows of sample_data, seed 7)
DEMO_ROWS, DEMO_SEED = 4000, 7


def build_model(root: Path, code: Path | None = None) -> tuple[Path, Path]:
    """The demo's first model (with its code/ folder, as the training job packs it: this
    checkout's ml_code, or ``code``'s) and a file of 1,000 raw rows (not ones it was trained on)."""
    dirs = {name: root / name for name in contract.PREPROCESS_OUTPUTS}
    write_outputs(
        preprocess(sample_data.generate(DEMO_ROWS, seed=DEMO_SEED), sample_data.TARGET, "binary"), dirs
    )
    splits = TrainingData(
        train_dir=dirs["train"], validation_dir=dirs["validation"], transformer_dir=dirs["transformer"]
    )
    train(splits, root / "model", Hyperparameters())
    if code is not None:
        packed = root / "model" / contract.MODEL_CODE_DIR / "ml_code"
        shutil.rmtree(packed)
        shutil.copytree(code / "ml_code", packed, ignore=shutil.ignore_patterns("__pycache__"))
    rows = root / "rows.csv"
    raw = sample_data.generate(1000, seed=11).drop(columns=[sample_data.TARGET])
    rows.write_text(raw.to_csv(index=False, header=False))
    return root / "model", rows


def handler_times(
    python: Path, model_dir: Path, rows: Path, seconds: float, code: Path | None = None
) -> dict[str, dict[str, float]]:
    """benchmarks/handler_time.py's medians (µs) under ``python``, for 1 and 1,000 rows."""
    out = subprocess.run(
        [str(python), "-m", "benchmarks.handler_time", "--model", str(model_dir), "--rows", str(rows),
         "--seconds", str(seconds), *(["--code", str(code)] if code else [])],
        check=True, capture_output=True, text=True, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"},
    ).stdout  # fmt: skip
    timed: dict[str, dict[str, float]] = json.loads(out)
    return timed


@dataclass
class Rounds:
    """Every round's figures for one stack and payload."""

    many: list[Result]  # 16 clients
    one: list[float]  # p50 ms at one client


def measure(
    stacks: list[str],
    pythons: dict[str, Path],
    model_dir: Path,
    rows: Path,
    rounds: int,
    workers: int,
    code: Path | None = None,
) -> tuple[dict[tuple[str, str], Rounds], dict[str, list[dict[str, dict[str, float]]]]]:
    """Interleaved rounds: each round loads every stack with each payload (16 clients, then one),
    then times the handlers in-process under each Python, so all see the machine's same moments."""
    lines = rows.read_bytes().splitlines(keepends=True)
    bodies = {case: b"".join(lines[:size]) for case, size, *_ in CASES}
    figures = {(name, case): Rounds([], []) for name in stacks for case, *_ in CASES}
    handlers: dict[str, list[dict[str, dict[str, float]]]] = {label: [] for label in pythons}
    with contextlib.ExitStack() as stack:
        ports = {name: stack.enter_context(started(name, model_dir, workers, code)) for name in stacks}
        for case, _, total, single in CASES:  # warm up: every worker loads the model, caches fill
            for port in ports.values():
                load(port, bodies[case], total // 4)
                load(port, bodies[case], single // 4, concurrency=1)
        for _ in range(rounds):
            for case, _, total, single in CASES:
                for name, port in ports.items():
                    figures[name, case].many.append(load(port, bodies[case], total))
                    figures[name, case].one.append(load(port, bodies[case], single, concurrency=1).p50_ms)
            for label, python in pythons.items():
                handlers[label].append(handler_times(python, model_dir, rows, seconds=0.3, code=code))
    return figures, handlers


def report(
    figures: dict[tuple[str, str], Rounds], handlers: dict[str, list[dict[str, dict[str, float]]]]
) -> tuple[str, dict[str, object]]:
    """Markdown tables (medians over the rounds) and the same figures as data."""
    summary: dict[str, object] = {}
    out = [
        "| payload | stack | req/s (16 clients) | p50 ms | p99 ms | p50 ms, 1 client | req/s by round |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for (name, case), r in sorted(figures.items(), key=lambda item: [c for c, *_ in CASES].index(item[0][1])):
        median = statistics.median_low([m.requests_per_s for m in r.many])
        best = next(m for m in r.many if m.requests_per_s == median)
        one = statistics.median(r.one)
        by_round = [round(m.requests_per_s) for m in r.many]
        summary[f"{name} / {case}"] = {**asdict(best), "p50_one_client_ms": one, "rounds_req_per_s": by_round}
        out.append(
            f"| {case} | {name} | {best.requests_per_s:,.0f} | {best.p50_ms:.2f} | {best.p99_ms:.2f} "
            f"| {one:.3f} | {', '.join(f'{v:,}' for v in by_round)} |"
        )
    out += [
        "",
        "| payload | handlers under | respond µs | decode | transform | predict | encode "
        "| share of the deployed p50 (1 client), by round |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for case, size, *_ in CASES:
        for label, runs in handlers.items():
            steps = {
                step: statistics.median(run[str(size)][step] for run in runs) for step in runs[0][str(size)]
            }
            share = ""
            if label.startswith("image") and ("deployed", case) in figures:
                per_round = [
                    run[str(size)]["respond"] / 1e3 / p50
                    for run, p50 in zip(runs, figures["deployed", case].one, strict=True)
                ]
                share = f"**{statistics.median(per_round):.0%}** ({', '.join(f'{x:.0%}' for x in per_round)})"
                summary[f"share / {case}"] = per_round
            summary[f"handlers / {label} / {case}"] = steps
            cells = " | ".join(
                f"{steps[k]:.0f}" for k in ("respond", "decode", "transform", "predict", "encode")
            )
            out.append(f"| {case} | {label} | {cells} | {share} |")
    if ("make serve", CASES[0][0]) in figures and ("toolkit", CASES[0][0]) in figures:
        ratios = []
        for case, *_ in CASES:
            ours = [m.requests_per_s for m in figures["make serve", case].many]
            theirs = [m.requests_per_s for m in figures["toolkit", case].many]
            per_round = [a / b for a, b in zip(ours, theirs, strict=True)]
            summary[f"make serve vs toolkit / {case}"] = per_round
            ratios.append(f"{case}: **{statistics.median(per_round):.2f}x** (by round "
                          + ", ".join(f"{x:.2f}" for x in per_round) + ")")  # fmt: skip
        out += [
            "",
            "make serve vs the same handlers under Flask + gunicorn (toolkit, no nginx): "
            + "; ".join(ratios),
        ]
    return "\n".join(out), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stacks", nargs="+", default=list(STACKS), choices=[*STACKS, "reference"])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--code",
        type=Path,
        help="serve another version's ml_code (a folder holding ml_code/), for before/after",
    )
    args = parser.parse_args(argv)
    pythons = {f".venv Python {sys.version.split()[0]}": Path(sys.executable)}
    if {"deployed", "toolkit"} & set(args.stacks):
        if "deployed" in args.stacks and not shutil.which("nginx"):
            raise SystemExit("nginx is not installed (make bench installs it: apt-get install -y nginx)")
        pythons = {"image Python 3.10 (.venv-contract)": contract_python(), **pythons}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        model_dir, rows = build_model(Path(tmp), args.code)
        trees = json.loads((model_dir / contract.MODEL_META_FILE).read_text())["num_boosted_rounds"]
        figures, handlers = measure(
            args.stacks, pythons, model_dir, rows, args.rounds, args.workers, args.code
        )
    load_after = os.getloadavg()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · load average (1 min) before "
        f"{load_before[0]:.2f}, after {load_after[0]:.2f} · the demo's model ({trees} trees) · {CONCURRENCY} "
        f"clients · {args.workers} workers per stack · {args.rounds} rounds, medians"
        + (f" · ml_code from {args.code}" if args.code else "")
    )
    table, summary = report(figures, handlers)
    print(table)
    if args.json:
        summary.update(trees=trees, load=[load_before, load_after])
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
