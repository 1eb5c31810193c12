"""Benchmark: the offline runner vs the three step scripts run directly, one after the other.

Both sides run the same scripts (from the synthesized source bundle) on the same data with
the same arguments, as child processes of this one, against the same moto server (evaluate
looks up the champion there). The runner adds what a pipeline adds: downloads and uploads
through the S3 stand-in, unpacking the bundle per job, archiving model.tar.gz, the
condition and the register call. Goal: runner overhead < 10% of the direct time.

    .venv/bin/python -m benchmarks.bench_runner [--rounds 5] [--cdk-out DIR] [--write]

Without --cdk-out it synthesizes into a temporary folder first (not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from demo.synth import synth
from emulator.cfn import Assembly
from emulator.data_upload import upload_data
from emulator.definition import coerce_parameters
from emulator.expressions import Scope
from emulator.local_aws import LocalAws, moto_server
from emulator.provision import OfflinePipeline, pipeline_from, provision
from emulator.runner import run_pipeline
from ml_code import contract, sample_data

ROOT = Path(__file__).resolve().parents[1]
ROWS = 4000


def step_commands(pipeline: OfflinePipeline) -> dict[str, list[str]]:
    """Each step's script and arguments as the definition has them (parameters at their defaults)."""
    scope = Scope(parameters=coerce_parameters(pipeline.definition, {}), execution={})
    commands = {}
    for step in pipeline.definition["Steps"]:
        if step["Type"] not in ("Processing", "Training"):
            continue
        args = step["Arguments"]
        spec = args.get("AppSpecification") or args["AlgorithmSpecification"]
        shell = spec["ContainerEntrypoint"][2]  # "cd ... && exec python3 X.py "$@""
        script = shell.split("exec python3 ", 1)[1].split()[0]
        arguments = [str(a) for a in scope.resolve(spec.get("ContainerArguments", []))]
        # train.py reads hyperparameters.json in a job; here the same values as flags (which win)
        for name, value in sorted(args.get("HyperParameters", {}).items()):
            arguments += [f"--{name}", str(value)]
        commands[step["Name"]] = [script, *arguments]
    return commands


def at(root: Path, container_path: str) -> Path:
    return root / Path(container_path).relative_to(contract.OPT_ML)


def direct_run(
    work: Path, bundle: Path, data: Path, commands: dict[str, list[str]], aws: LocalAws, *, checkpoints: bool
) -> tuple[float, dict[str, float]]:
    """Preprocess, train, evaluate as plain processes handing over local folders.

    With `checkpoints` (the definition's training step has a CheckpointConfig), the checkpoint
    folder exists as SageMaker creates it, so train.py does the same checkpointing work.
    Returns the wall seconds of the whole sequence and of each script.
    """
    code = work / "code"
    code.mkdir(parents=True)
    with tarfile.open(bundle) as tar:
        tar.extractall(code, filter="data")
    pre, trn, ev = work / "preprocess", work / "train", work / "evaluate"
    at(pre, contract.RAW_DATA_DIR).mkdir(parents=True)
    shutil.copy(data, at(pre, contract.RAW_DATA_DIR))
    env = {**os.environ, **aws.step_environment(), "MPLBACKEND": "Agg"}
    per_step: dict[str, float] = {}

    def run(step: str, root: Path, **extra: str) -> None:
        step_env = {**env, contract.OPT_ML_ROOT_ENV: str(root), **extra}
        out, begun = subprocess.DEVNULL, time.perf_counter()
        argv = [sys.executable, *commands[step]]
        subprocess.run(argv, cwd=code, env=step_env, check=True, stdout=out, stderr=out)
        per_step[step] = time.perf_counter() - begun

    started = time.perf_counter()
    run("Preprocess", pre)
    channels = at(trn, contract.TRAINING_CHANNEL_ROOT)
    for channel in (contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL):
        shutil.copytree(at(pre, contract.PREPROCESS_OUTPUTS[channel]), channels / channel)
    model_dir = at(trn, contract.TRAINING_MODEL_DIR)
    if checkpoints:
        at(trn, contract.CHECKPOINT_DIR).mkdir(parents=True)
    run(
        "Train", trn, SM_MODEL_DIR=str(model_dir),
        SM_CHANNEL_TRAIN=str(channels / contract.TRAIN_CHANNEL),
        SM_CHANNEL_VALIDATION=str(channels / contract.VALIDATION_CHANNEL),
    )  # fmt: skip
    at(ev, contract.MODEL_INPUT_DIR).mkdir(parents=True)
    with tarfile.open(at(ev, contract.MODEL_INPUT_DIR) / "model.tar.gz", "w:gz") as tar:
        tar.add(model_dir, arcname=".")
    shutil.copytree(at(pre, contract.PREPROCESS_OUTPUTS["test"]), at(ev, contract.TEST_INPUT_DIR))
    run("Evaluate", ev)
    return time.perf_counter() - started, per_step


@dataclass
class Samples:
    """Per round: the direct and runner totals, and per step (direct script, runner step, its process)."""

    direct: list[float] = field(default_factory=list)
    runner: list[float] = field(default_factory=list)
    #: CPU seconds (this process, with the moto server thread, plus its children) per round
    direct_cpu: list[float] = field(default_factory=list)
    runner_cpu: list[float] = field(default_factory=list)
    steps: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)


def cpu_seconds() -> float:
    """User + system CPU of this process (runner, moto server thread) and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(args: argparse.Namespace, tmp: Path) -> Samples:
    assembly = Assembly.load(args.cdk_out) if args.cdk_out else synth("dev", tmp / "cdk.out")
    pipeline = pipeline_from(assembly)
    commands = step_commands(pipeline)
    checkpoints = any(
        "CheckpointConfig" in step.get("Arguments", {}) for step in pipeline.definition["Steps"]
    )
    [bundle] = [path for path, _, _ in assembly.asset_files() if path.name.endswith(".tar.gz")]
    data = tmp / "sample.csv"
    sample_data.generate(rows=ROWS, seed=7).to_csv(data, index=False)
    samples = Samples()
    with moto_server() as aws:
        provision(assembly, aws, pipeline)
        upload_data(aws, pipeline, data)
        for i in range(args.rounds):  # interleaved, so machine load hits both alike
            cpu = cpu_seconds()
            direct, per_script = direct_run(
                tmp / f"direct{i}", bundle, data, commands, aws, checkpoints=checkpoints
            )
            samples.direct_cpu.append(cpu_seconds() - cpu)
            cpu, started = cpu_seconds(), time.perf_counter()
            result = run_pipeline(pipeline.definition, aws, tmp / "runs", log=lambda _: None)
            samples.runner.append(time.perf_counter() - started)
            samples.runner_cpu.append(cpu_seconds() - cpu)
            samples.direct.append(direct)
            if result.status != "Succeeded":
                raise SystemExit(f"the offline run failed: {result.failure}")
            for step in result.steps:
                if step.name in per_script:
                    sample = (per_script[step.name], step.seconds, step.process_seconds)
                    samples.steps.setdefault(step.name, []).append(sample)
            print(
                f"round {i + 1}: direct {direct:.2f}s ({samples.direct_cpu[-1]:.2f} CPU s), "
                f"runner {samples.runner[-1]:.2f}s ({samples.runner_cpu[-1]:.2f} CPU s)",
                flush=True,
            )
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cdk-out", type=Path, default=None)
    parser.add_argument("--write", action="store_true", help="append the figures to benchmarks/README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        samples = measure(args, Path(tmp))
    report = render(samples, args.rounds)
    print(report)
    if args.write:
        with (ROOT / "benchmarks" / "README.md").open("a", encoding="utf-8") as readme:
            readme.write("\n" + report)


def render(samples: Samples, rounds: int) -> str:
    ratios = [r / d for r, d in zip(samples.runner, samples.direct, strict=True)]
    per_round = ", ".join(f"{r - 1:+.1%}" for r in ratios)
    overhead = statistics.median(ratios) - 1
    verdict = "within" if overhead < 0.10 else "over"
    cpu_overhead = statistics.median(samples.runner_cpu) / statistics.median(samples.direct_cpu) - 1
    rows = []
    for name, values in samples.steps.items():
        script, step, process = (min(column) for column in zip(*values, strict=True))
        rows.append(f"| {name} | {script:.2f} | {step:.2f} | {process:.2f} | {step - script:+.2f} |")
    return "\n".join(
        [
            f"## Offline runner vs the three scripts run directly ({dt.date.today().isoformat()})",
            "",
            f"`.venv/bin/python -m benchmarks.bench_runner --rounds {rounds} [--cdk-out DIR] [--write]`:",
            f"the synthesized pipeline on the {ROWS}-row churn sample, {rounds} interleaved rounds.",
            "*Direct*: `python3 preprocess.py`, `train.py`, `evaluate.py` from the unpacked source bundle",
            "with the definition's own arguments, handing over local folders (and tarring the model, as",
            "evaluate reads model.tar.gz; the checkpoint folder exists when the definition asks for",
            "checkpoints). *Runner*: `run_pipeline` on the definition from cdk.out, every",
            "transfer through the moto S3 stand-in, the bundle unpacked per job, condition and register.",
            "Both look up the champion in the same moto server. Overhead is the median of the per-round",
            "ratios (paired, so load from other work on the machine cancels out); seconds are minimums.",
            "CPU seconds (this process with the moto thread, plus children) are less load-sensitive.",
            "",
            "| What | Value |",
            "|---|---|",
            f"| direct: three scripts one after the other (min) | {min(samples.direct):.2f} s |",
            f"| offline runner: the whole pipeline (min) | {min(samples.runner):.2f} s |",
            f"| overhead per round: {per_round} | **{overhead:+.1%}** median |",
            f"| goal < 10% | {verdict} the goal |",
            f"| CPU seconds, direct / runner (median) | {statistics.median(samples.direct_cpu):.2f} / "
            f"{statistics.median(samples.runner_cpu):.2f} ({cpu_overhead:+.1%}) |",
            "",
            "| Step (min s) | script run directly | runner step | of which the job's process | difference |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )


if __name__ == "__main__":
    main()
