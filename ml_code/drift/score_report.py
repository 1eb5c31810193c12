"""ScoreReport step of the batch scoring pipeline: the run's manifest, and drift of the scored rows.

Runs as a SageMaker processing job (network-isolated) after the Transform job. Inputs: the
Transform job's output (``contract.SCORE_PREDICTIONS_DIR``: one ``<input>.out`` per input object),
the scored input (``contract.SCORE_INPUT_DIR``) and, with ``--drift-check``, the version's
baseline (``contract.SCORE_BASELINE_DIR``: ``statistics.json``/``constraints.json``). Outputs in
``contract.SCORE_REPORT_DIR``:

- ``manifest.json``: which model version scored what (``model_package_arn``, ``version``,
  ``input_uri``, ``output_uri``, ``execution_arn``), ``files`` (``input``, ``output``, ``rows``
  each), ``rows``, ``key_column``, ``output_columns`` (the predictions' header names, see
  :func:`ml_code.drift.score_files.output_columns`) and ``drift`` (the verdict, or why none);
- with ``--drift-check`` and a baseline: ``drift/`` with the drift check's three report files,
  comparing the scored rows' features (key dropped) with the baseline (ml_code.drift).

An input object without its ``.out`` (or with another row count) fails the job, naming it.

It lives in ``ml_code.drift``, not ``ml_code.steps``: it runs the drift comparison, and the layer
contract (pyproject) puts drift above steps and serving.

    python -m ml_code.drift.score_report --model-package-arn ARN --version N --input-uri S3 --output-uri S3
        --execution-arn ARN --problem-type binary|multiclass|regression [--key-column NAME]
        [--drift-check] [--threshold 0.2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

import pandas as pd

from ml_code import contract
from ml_code.container import LOG, container_path, run_step
from ml_code.drift.compare import Settings, compare
from ml_code.drift.monitor import write_reports
from ml_code.drift.score_files import load_baseline_if_any, output_columns, paired_files, scored_features
from ml_code.errors import DataValidationError

MANIFEST_FILE: Final = "manifest.json"
#: Under the report dir: the drift check's report files for the scored rows.
DRIFT_FOLDER: Final = "drift"
PROBLEM_TYPES: Final = ("binary", "multiclass", "regression")


def drift_section(
    input_dir: Path, baseline_dir: Path | None, key_column: str | None, threshold: float, report_dir: Path
) -> dict[str, Any]:
    """The manifest's ``drift`` entry; writes ``drift/`` under ``report_dir`` when a check ran."""
    if baseline_dir is None:
        return {"checked": False, "reason": "not asked (driftCheck off)"}
    baseline = load_baseline_if_any(baseline_dir)
    if baseline is None:
        return {"checked": False, "reason": "the model version has no baseline: drift not checked"}
    statistics, constraints = baseline
    names = [f["name"] for f in statistics["features"]]
    frame: pd.DataFrame = scored_features(input_dir, names, key_column is not None)
    result = compare(frame, statistics, constraints, Settings(threshold=threshold))
    write_reports(result, "batch-score", report_dir / DRIFT_FOLDER)
    drifted = [f.feature_name for f in result.features if f.drifted]
    return {
        "checked": True,
        "records": result.records,
        "enough_records": result.enough_data,
        "violations": len(result.violations),
        "drifted_features": drifted,
        "verdict": ("not enough records" if not result.enough_data else "drift" if drifted else "no drift"),
    }


def build_manifest(args: argparse.Namespace, predictions_dir: Path, input_dir: Path) -> dict[str, Any]:
    """Everything in ``manifest.json`` but ``drift`` (see the module doc).

    Raises:
        DataValidationError: no input rows, an input without its ``.out``, or different row counts.
    """
    files = paired_files(input_dir, predictions_dir)
    first = next((f["first_line"] for f in files if f["first_line"]), "")
    input_width = next((f["input_width"] for f in files if f["input_width"]), 0)
    return {
        "model_package_arn": args.model_package_arn,
        "version": args.version,
        "input_uri": args.input_uri,
        "output_uri": args.output_uri,
        "execution_arn": args.execution_arn,
        "problem_type": args.problem_type,
        "key_column": args.key_column,
        "output_columns": output_columns(
            args.problem_type,
            args.key_column,
            width=len(first.split(",")) if first else 0,
            input_width=input_width,
        ),
        "rows": sum(f["rows"] for f in files),
        "files": [{"input": f["input"], "output": f["output"], "rows": f["rows"]} for f in files],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The job's arguments; exits 2 with argparse's message for a bad one."""
    parser = argparse.ArgumentParser(description="Write the batch scoring run's manifest and drift report.")
    for name in ("--model-package-arn", "--version", "--input-uri", "--output-uri", "--execution-arn"):
        parser.add_argument(name, required=True)
    parser.add_argument("--problem-type", required=True, choices=PROBLEM_TYPES)
    parser.add_argument("--key-column", default=None)
    parser.add_argument("--drift-check", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.2)
    args = parser.parse_args(argv)
    if not 0 < args.threshold <= 1:
        parser.error(f"--threshold {args.threshold} is outside (0, 1]")
    args.key_column = args.key_column or None
    return args


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    report_dir = container_path(contract.SCORE_REPORT_DIR)
    report_dir.mkdir(parents=True, exist_ok=True)
    input_dir = container_path(contract.SCORE_INPUT_DIR)
    manifest = build_manifest(args, container_path(contract.SCORE_PREDICTIONS_DIR), input_dir)
    baseline_dir = container_path(contract.SCORE_BASELINE_DIR) if args.drift_check else None
    manifest["drift"] = drift_section(input_dir, baseline_dir, args.key_column, args.threshold, report_dir)
    (report_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    LOG.info(
        "version %s scored %d rows in %d file(s); drift: %s",
        args.version, manifest["rows"], len(manifest["files"]),
        manifest["drift"].get("verdict") or manifest["drift"]["reason"],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the step on the container contract; 0, or non-zero after writing the failure file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


__all__ = ["DRIFT_FOLDER", "MANIFEST_FILE", "DataValidationError", "build_manifest", "drift_section", "main"]

if __name__ == "__main__":
    sys.exit(main())
