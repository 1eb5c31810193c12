"""Drift check entry point: captured endpoint traffic vs the deployed version's baseline.

Runs as a SageMaker processing job (our replacement for Model Monitor, which AWS documents as
closed to new customers), with network isolation: it only reads its inputs and writes its
outputs. Inputs: the version's ``statistics.json``/``constraints.json`` in
``contract.MONITOR_BASELINE_DIR`` and the endpoint's data-capture files in
``contract.MONITOR_CAPTURE_DIR``. Outputs in ``contract.MONITOR_REPORT_DIR``:
``constraint_violations.json`` (Model Monitor's format) and ``drift_metrics.json`` (per-feature
numbers for CloudWatch). Bad input writes SageMaker's failure file and exits non-zero.

    python monitor.py --endpoint-name NAME [--lookback-hours 24] [--threshold 0.2]
                      [--feature-threshold tenure_months=0.3 ...] [--missing-tolerance 0.05]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pandas as pd

from ml_code import contract
from ml_code.capture import UTC, read_requests
from ml_code.container import LOG, container_path, run_step
from ml_code.drift import DriftResult, compare
from ml_code.errors import DataValidationError, PayloadError
from ml_code.payload_codec import decode

#: Above this share of unreadable capture lines the capture itself is suspect: fail the job.
MAX_BAD_LINES: Final = 0.1


def load_traffic(capture_dir: Path, features: list[str], since: datetime) -> pd.DataFrame:
    """Raw feature records of every request captured at or after ``since``.

    Raises:
        DataValidationError: more than MAX_BAD_LINES of the lines (or payloads) are unreadable.
    """
    rows: list[dict[str, Any]] = []
    total = bad = 0
    for request in read_requests(capture_dir):
        total += 1
        if request is None:
            bad += 1
            continue
        if request.inference_time < since:
            continue
        try:
            payload = decode(request.data, request.content_type)
        except PayloadError:
            bad += 1
            continue
        for row in payload.rows:
            rows.append(row if isinstance(row, dict) else dict(zip(features, row, strict=False)))
    if total and bad / total > MAX_BAD_LINES:
        raise DataValidationError(f"{bad} of {total} capture lines under {capture_dir} are unreadable")
    return pd.DataFrame.from_records(rows, columns=features) if rows else pd.DataFrame(columns=features)


def check(
    baseline_dir: Path, capture_dir: Path, *, since: datetime, threshold: float,
    feature_thresholds: dict[str, float], missing_tolerance: float,
) -> DriftResult:  # fmt: skip
    """Load the baseline and the traffic since ``since``; compare them.

    Raises:
        DataValidationError: the baseline files are missing or unreadable.
    """
    try:
        statistics = json.loads(
            (baseline_dir / contract.BASELINE_STATISTICS_FILE).read_text(encoding="utf-8")
        )
        constraints = json.loads(
            (baseline_dir / contract.BASELINE_CONSTRAINTS_FILE).read_text(encoding="utf-8")
        )
        features = [f["name"] for f in statistics["features"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataValidationError(f"no readable baseline in {baseline_dir}: {exc}") from exc
    traffic = load_traffic(capture_dir, features, since)
    LOG.info("comparing %d captured records since %s with the baseline", len(traffic), since.isoformat())
    return compare(
        traffic, statistics, constraints,
        threshold=threshold, feature_thresholds=feature_thresholds, missing_tolerance=missing_tolerance,
    )  # fmt: skip


def write_reports(result: DriftResult, endpoint_name: str, report_dir: Path) -> None:
    """Write constraint_violations.json and drift_metrics.json into ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / contract.VIOLATIONS_FILE).write_text(json.dumps(result.violations_report(), indent=2))
    (report_dir / contract.DRIFT_METRICS_FILE).write_text(
        json.dumps(result.metrics_report(endpoint_name), indent=2)
    )


def _feature_threshold(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected name=number, got {text!r}") from None


def _run(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(description="Check captured traffic for drift from the baseline.")
    parser.add_argument("--endpoint-name", required=True)
    parser.add_argument("--lookback-hours", type=int, default=24)
    parser.add_argument("--threshold", type=float, default=0.2)
    parser.add_argument("--feature-threshold", type=_feature_threshold, action="append", default=[])
    parser.add_argument("--missing-tolerance", type=float, default=0.05)
    args = parser.parse_args(argv)
    result = check(
        container_path(contract.MONITOR_BASELINE_DIR),
        container_path(contract.MONITOR_CAPTURE_DIR),
        since=datetime.now(UTC) - timedelta(hours=args.lookback_hours),
        threshold=args.threshold,
        feature_thresholds=dict(args.feature_threshold),
        missing_tolerance=args.missing_tolerance,
    )
    write_reports(result, args.endpoint_name, container_path(contract.MONITOR_REPORT_DIR))
    drifted = [f.feature_name for f in result.features if f.drifted]
    LOG.info(
        "%d records, %d violations; drifted: %s", result.records, len(result.violations), drifted or "none"
    )
    if not result.enough_data:
        LOG.warning("fewer than the minimum records: distances reported, drift not judged")


def main(argv: list[str] | None = None) -> int:
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
