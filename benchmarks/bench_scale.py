"""Benchmark (issue 14 point 6): the data steps at 100k, 1M and 10M rows on 1 and 2 instances.

    .venv/bin/python -m benchmarks.bench_scale [--rows 100000,1000000,10000000] [--instances 1,2]
        [--chunk-rows 100000] [--sample-rows 100000] [--rev REV] [--external-memory]
        [--work DIR] [--keep] [--python PATH]

For each size, the sample generator streams the rows into 2 CSV files (so 2 processing hosts
each get one; :func:`ml_code.sample_data.write_csv`). Then, for each instance count P, the
pipeline's steps run as SageMaker would run them on P hosts (:mod:`benchmarks.scale_pipeline`):
P = 1: Preprocess alone (it profiles its own input); P = 2: Profile on both hosts, then
Preprocess on both; then Train on T = P hosts over the part files, then Evaluate once. Every
host is a process of its own, measured for wall time and peak RSS (:mod:`benchmarks.scale_hosts`).
``--rev`` runs a git revision's ``ml_code`` (a snapshot) instead of the working tree's;
``--external-memory`` adds that flag to train.py's arguments (the definition does not pass it).
``--python`` is the interpreter every host runs (default: this one); ``make bench-scale`` gives
``.venv-contract``'s, the SageMaker image's Python and library pins, so each host's peak RSS is
what the image's libraries take (``.venv``'s pandas also loads pyarrow, which the image does not
have: ~34 MB more in every process).

Writes ``benchmarks/scale_results.json`` and ``benchmarks/scale.png`` after every run (so a
partial run keeps what it measured) and prints the table and the targets
(:mod:`benchmarks.scale_report`). Data and step folders go under ``--work`` (default: a new
folder in /tmp), each run's deleted once measured, each size's data after its runs, unless
``--keep``. About 660 MB of CSV at 10M rows, and about as much again of step outputs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.scale_hosts import ROOT, HostFailedError, HostRun, job_hosts, run_job
from benchmarks.scale_pipeline import Settings, run_pipeline
from benchmarks.scale_report import PLOT_FILE, RESULTS_FILE, plot, summary
from ml_code import contract, sample_data

SEED = 42
#: Files the data is streamed into: one per processing host at P = 2.
DATA_FILES = 2


def _sizes(text: str) -> list[int]:
    values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of positive numbers")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=_sizes, default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--instances", type=_sizes, default=[1, 2])
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--sample-rows", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None, help="default: a new folder under /tmp")
    parser.add_argument("--keep", action="store_true", help="keep the data and every step's folder")
    parser.add_argument(
        "--rev", default=None, help="run this git revision's ml_code (default: the working tree)"
    )
    parser.add_argument("--external-memory", action="store_true", help="train.py --external-memory too")
    parser.add_argument("--python", default=sys.executable, help="the steps' interpreter (default: this one)")
    parser.add_argument("--results", type=Path, default=RESULTS_FILE)
    parser.add_argument("--plot", type=Path, default=PLOT_FILE)
    return parser.parse_args(argv)


def _generate(work: Path, rows: int, code: Path, python: str) -> tuple[list[Path], dict[str, Any]]:
    """Stream ``rows`` rows into DATA_FILES files (the generator's own process, measured)."""
    folder = work / f"data-{rows}"
    out = folder / "churn.csv"
    (host,) = job_hosts(work / f"generate-{rows}", 1)
    (made,) = run_job(
        "generate", [host], "ml_code.sample_data",
        ["--rows", str(rows), "--seed", str(SEED), "--out", str(out), "--files", str(DATA_FILES)],
        failure_file=contract.PROCESSING_MESSAGE_FILE, code=code, python=python,
    )  # fmt: skip
    files = sample_data.file_paths(out, DATA_FILES)
    return files, {**asdict(made), "bytes": sum(p.stat().st_size for p in files)}


def _run(
    work: Path, data: list[Path], rows: int, instances: int, settings: Settings, keep: bool
) -> dict[str, Any]:
    folder = work / f"run-{rows}-p{instances}"
    run: dict[str, Any] = {"rows": rows, "instances": instances, "load_before": list(os.getloadavg())}
    started = time.monotonic()
    measured: list[HostRun] = []
    try:
        run["auc"], run["model"] = run_pipeline(folder, data, instances, settings, measured)
    except HostFailedError as err:
        run["error"] = str(err)
    hosts = [asdict(h) for h in measured]
    walls = {s: max(h["wall_s"] for h in hosts if h["step"] == s) for s in {h["step"] for h in hosts}}
    run |= {"hosts": hosts, "end_to_end_s": sum(walls.values())}
    run |= {"harness_wall_s": time.monotonic() - started, "load_after": list(os.getloadavg())}
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return run


def _save(results: dict[str, Any], args: argparse.Namespace) -> None:
    args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    plot(results, args.plot)


def _code(work: Path, rev: str | None) -> tuple[Path, str]:
    """The folder whose ``ml_code`` the steps run, and what it is: ``rev``'s snapshot (``git
    archive``, so edits in progress in the working tree do not leak in), else the working tree."""
    if rev is None:
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "ml_code"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
        head = _git("rev-parse", "--short", "HEAD")
        return ROOT, f"working tree at {head}" + (" (ml_code edited)" if dirty.strip() else "")
    commit = _git("rev-parse", "--short", rev)
    folder = work / f"code-{commit}"
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", commit, "ml_code"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder, commit


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def _header(settings: Settings, code: str) -> dict[str, Any]:
    version = subprocess.run([settings.python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    machine = {"cpus": os.cpu_count(), "python": version, "platform": platform.platform()}
    return {
        "date": dt.date.today().isoformat(),
        "code": code,
        "machine": machine,
        "settings": {
            "chunk_rows": settings.chunk_rows,
            "sample_rows": settings.sample_rows,
            "train_extra": list(settings.train_extra),
            "python": settings.python,
            "seed": SEED,
            "data_files": DATA_FILES,
        },
        "generate": {},
        "runs": [],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    code, label = _code(work, args.rev)
    extra = ("--external-memory",) if args.external_memory else ()
    settings = Settings(args.chunk_rows, args.sample_rows, code=code, train_extra=extra, python=args.python)
    results = _header(settings, label)
    try:
        for rows in args.rows:
            data, made = _generate(work, rows, code, settings.python)
            results["generate"][str(rows)] = made
            print(
                f"generated {rows:,} rows ({made['bytes'] / 1e6:.0f} MB) in {made['wall_s']:.1f} s",
                flush=True,
            )
            for instances in args.instances:
                run = _run(work, data, rows, instances, settings, args.keep)
                results["runs"].append(run)
                _save(results, args)
                status = run.get("error") or f"{run['end_to_end_s']:.1f} s, AUC {run['auc']:.4f}"
                print(f"{rows:,} rows, {instances} instance(s): {status}", flush=True)
            if not args.keep:
                shutil.rmtree(data[0].parent, ignore_errors=True)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(summary(results))
    return 0 if all("error" not in r for r in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
