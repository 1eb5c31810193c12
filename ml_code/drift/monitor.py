"""Drift check entry point: captured endpoint traffic vs the deployed version's baseline.

Runs as a SageMaker processing job (our replacement for Model Monitor, which AWS documents as
closed to new customers), network-isolated: it only reads its inputs and writes its outputs.
Inputs: the version's ``statistics.json``/``constraints.json`` in ``contract.MONITOR_BASELINE_DIR``,
the endpoint's data-capture files (any depth) in ``contract.MONITOR_CAPTURE_DIR``. Outputs in
``contract.MONITOR_REPORT_DIR``: ``constraint_violations.json`` (Model Monitor's format),
``drift_metrics.json`` (per-feature numbers for CloudWatch) and ``drift_distributions.json``
(bins and shares, for the chart). Too few records is not an error: the reports say so (records,
no drift judged). Bad input (no baseline, mostly unreadable capture) writes SageMaker's failure
file and exits 1; bad arguments exit 2.

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
from ml_code.container import LOG, container_path, run_step
from ml_code.drift.compare import DISTRIBUTIONS_FILE, DriftResult, Settings, compare
from ml_code.errors import DataValidationError, PayloadError
from ml_code.serving.capture import UTC, read_lines
from ml_code.serving.payload_codec import decode

#: Above this share of unreadable capture lines (or undecodable requests) the capture itself is
#: suspect: fail the job rather than judge drift on what is left.
MAX_BAD_SHARE: Final = 0.1


def load_traffic(capture_dir: Path, features: list[str], since: datetime) -> pd.DataFrame:
    """Raw feature records (columns ``features``) of every request captured at or after ``since``.

    CSV rows are read in the baseline's feature order; JSON objects by name (unknown keys
    ignored, absent ones missing). Raises DataValidationError when more than MAX_BAD_SHARE of
    the lines are unreadable, or their payloads undecodable (naming the first one).
    """
    rows: list[dict[str, Any]] = []
    total = bad = 0
    first_bad = ""
    for path, line_no, request in read_lines(capture_dir):
        total += 1
        problem = "not a capture record with an input" if request is None else ""
        if request is not None and request.inference_time < since:
            continue
        if request is not None:
            try:
                decoded = decode(request.data, request.content_type).rows
                if any(isinstance(r, list) and len(r) != len(features) for r in decoded):
                    raise PayloadError(f"CSV rows must have the baseline's {len(features)} columns")
                rows += [r if isinstance(r, dict) else dict(zip(features, r, strict=True)) for r in decoded]
            except PayloadError as exc:
                problem = str(exc)
        if problem:
            bad += 1
            first_bad = first_bad or f"{path}:{line_no}: {problem[:200]}"
    if total and bad / total > MAX_BAD_SHARE:
        raise DataValidationError(
            f"{bad} of {total} capture lines under {capture_dir} are unreadable (first: {first_bad})"
        )
    if bad:
        LOG.warning("skipped %d unreadable capture line(s); first: %s", bad, first_bad)
    return pd.DataFrame.from_records(rows, columns=features) if rows else pd.DataFrame(columns=features)


def load_baseline(baseline_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics, constraints) from ``baseline_dir``.

    Raises DataValidationError when a file is missing, not JSON, or has no named features.
    """
    docs = []
    for name in (contract.BASELINE_STATISTICS_FILE, contract.BASELINE_CONSTRAINTS_FILE):
        try:
            doc = json.loads((baseline_dir / name).read_text(encoding="utf-8"))
            if not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in doc["features"]):
                raise ValueError("every feature needs a name")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataValidationError(f"no readable baseline {name} in {baseline_dir}: {exc}") from exc
        docs.append(doc)
    return docs[0], docs[1]


def check(baseline_dir: Path, capture_dir: Path, *, since: datetime, settings: Settings) -> DriftResult:
    """Load the baseline and the traffic captured since ``since``; compare them.

    Raises DataValidationError for an unreadable baseline or capture (see the loaders).
    """
    statistics, constraints = load_baseline(baseline_dir)
    unknown = set(settings.feature_thresholds) - {f["name"] for f in statistics["features"]}
    if unknown:
        LOG.warning("thresholds for features the baseline does not have are ignored: %s", sorted(unknown))
    traffic = load_traffic(capture_dir, [f["name"] for f in statistics["features"]], since)
    LOG.info("comparing %d captured records since %s with the baseline", len(traffic), since.isoformat())
    return compare(traffic, statistics, constraints, settings)


def write_reports(result: DriftResult, endpoint_name: str, report_dir: Path) -> list[Path]:
    """Write the three report files into ``report_dir``; returns their paths."""
    report_dir.mkdir(parents=True, exist_ok=True)
    documents = {
        contract.VIOLATIONS_FILE: result.violations_report(),
        contract.DRIFT_METRICS_FILE: result.metrics_report(endpoint_name),
        DISTRIBUTIONS_FILE: result.distributions_report(),
    }
    for name, document in documents.items():
        (report_dir / name).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return [report_dir / name for name in documents]


def _number(low: float, high: float, *, low_open: bool = True) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (low < value if low_open else low <= value) or not value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {'(' if low_open else '['}{low}, {high}]")
        return value

    return parse


def _feature_threshold(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected name=number, got {text!r}")
    return name.strip(), _number(0, 1)(value)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The job's arguments; exits 2 with argparse's message for a bad one."""
    parser = argparse.ArgumentParser(description="Check captured traffic for drift from the baseline.")
    parser.add_argument("--endpoint-name", required=True)
    parser.add_argument("--lookback-hours", type=_number(0, 24 * 366), default=24.0)
    parser.add_argument("--threshold", type=_number(0, 1), default=0.2, help="default distance threshold")
    parser.add_argument("--feature-threshold", type=_feature_threshold, action="append", default=[],
                        metavar="NAME=VALUE", help="a feature's own threshold (repeatable)")  # fmt: skip
    parser.add_argument("--missing-tolerance", type=_number(0, 1, low_open=False), default=0.05)
    return parser.parse_args(argv)


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    settings = Settings(threshold=args.threshold, feature_thresholds=dict(args.feature_threshold),
                        missing_tolerance=args.missing_tolerance)  # fmt: skip
    result = check(
        container_path(contract.MONITOR_BASELINE_DIR), container_path(contract.MONITOR_CAPTURE_DIR),
        since=datetime.now(UTC) - timedelta(hours=args.lookback_hours), settings=settings,
    )  # fmt: skip
    write_reports(result, args.endpoint_name, container_path(contract.MONITOR_REPORT_DIR))
    drifted = [f.feature_name for f in result.features if f.drifted]
    LOG.info(
        "%d records, %d violations; drifted: %s", result.records, len(result.violations), drifted or "none"
    )
    if not result.enough_data:
        LOG.warning("not enough records (%d < %d in the last %g h): distances reported, drift not judged",
                    result.records, result.min_records, args.lookback_hours)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the check on the container contract; 0, or non-zero after writing the failure file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
