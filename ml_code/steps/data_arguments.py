"""The arguments Profile and Preprocess share (ml_code/steps/profile.py's ``settings_of`` reads them)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from ml_code import contract
from ml_code.column_roles import OVERRIDE_HELP
from ml_code.steps.chunks import DEFAULT_CHUNK_ROWS

DEFAULT_SAMPLE_ROWS: Final = 100_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments Profile and Preprocess share."""
    parser.add_argument("--target-column", required=True)
    parser.add_argument("--problem-type", required=True, choices=contract.PROBLEM_TYPES)
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    parser.add_argument("--sample-rows", type=int, default=DEFAULT_SAMPLE_ROWS)
    parser.add_argument("--input-dir", type=Path, default=None, help="default: the processing input dir")
    parser.add_argument("--column", action="append", default=[], metavar="NAME=ROLE", help=OVERRIDE_HELP)
