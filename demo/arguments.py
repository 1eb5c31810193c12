"""`make demo`'s command line: which environment, whose data, how far to go."""

from __future__ import annotations

import argparse
from pathlib import Path

from demo.synth import ROOT
from ml_code import contract


def parse_arguments(argv: list[str] | None, *, description: str) -> argparse.Namespace:
    """The demo's command line (``description``: the story's, shown by ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m demo", description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="dev", help="environment in cdk.json (default dev)")
    parser.add_argument("--data", type=Path, help="your own CSV instead of the sample data")
    parser.add_argument("--target", help="target column of --data")
    parser.add_argument("--problem-type", choices=contract.PROBLEM_TYPES, help="problem type of --data")
    parser.add_argument("--threshold", help="QualityThreshold: a floor on the gate metric, or none")
    parser.add_argument(
        "--work-dir", type=Path, default=ROOT / ".demo", help="where runs go (default .demo/)"
    )
    parser.add_argument("--cdk-out", type=Path, help="use this synthesized cdk.out instead of synthesizing")
    parser.add_argument(
        "--runs", type=int, default=2, choices=(1, 2), help="1 = register only; 2 = also champion"
    )
    parser.add_argument(
        "--no-release", action="store_true", help="stop after training (no deploy, smoke test or drift)"
    )
    parser.add_argument(
        "--use-case",
        help="then an additional use case of --env on the same stand-in, and both side by side "
        "(make demo USE_CASE=fraud runs the cases env's)",
    )
    parser.add_argument(
        "--mlflow-url",
        help="with tracking.enabled: log to this running MLflow server (default: start one on .demo/mlflow)",
    )
    args = parser.parse_args(argv)
    if args.data is not None and not (args.target and args.problem_type):
        parser.error("--data needs --target and --problem-type (make demo DATA=… TARGET=… PROBLEM=…)")
    if args.data is not None and not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    return args
