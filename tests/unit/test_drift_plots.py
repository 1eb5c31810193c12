"""The drift chart and table: drawn from the report documents, readable, deterministic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ml_code import sample_data
from ml_code.drift.compare import compare
from ml_code.drift.plots import drift_chart, drift_table
from ml_code.steps.baseline import compute_statistics, suggest_constraints

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def reports() -> tuple[dict[str, Any], dict[str, Any]]:
    statistics = compute_statistics(sample_data.generate(1000, seed=1).drop(columns=["churn"]))
    traffic = sample_data.generate(300, seed=5, drift=1.0).drop(columns=["churn"])
    result = compare(traffic, statistics, suggest_constraints(statistics))
    return result.metrics_report("ep"), result.distributions_report()


def test_chart_with_distributions_is_a_sane_png_and_deterministic(
    reports: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    metrics, distributions = reports
    first = drift_chart(metrics, tmp_path / "a" / "drift.png", distributions)
    second = drift_chart(metrics, tmp_path / "b.png", distributions)
    assert first.read_bytes()[:8] == PNG_SIGNATURE
    assert 20_000 < first.stat().st_size < 1_000_000
    assert first.read_bytes() == second.read_bytes()
    # the distribution panels make it larger than the distances alone
    assert drift_chart(metrics, tmp_path / "c.png").stat().st_size < first.stat().st_size


def test_chart_caps_categories_and_handles_an_empty_report(tmp_path: Path) -> None:
    wide = {"feature_name": "city", "distance": 0.5, "threshold": 0.2, "missing_rate": 0.0,
            "unseen_categories": 0, "drifted": True}  # fmt: skip
    shares = {"features": [{"feature_name": "city", "bins": [f"c{i}" for i in range(80)],
                            "baseline": [1 / 80] * 80, "recent": [0.5, 0.5] + [0.0] * 78}]}  # fmt: skip
    metrics = {"endpoint_name": "ep", "records": 100, "violations": 1, "features": [wide]}
    assert drift_chart(metrics, tmp_path / "wide.png", shares).stat().st_size > 10_000
    empty = {"endpoint_name": "ep", "records": 0, "violations": 0, "features": []}
    assert drift_chart(empty, tmp_path / "empty.png", {"features": [], "enough_records": False}).exists()


def test_table_lists_features_worst_first_and_marks_drift(
    reports: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    metrics, _ = reports
    lines = drift_table(metrics)
    assert len(lines) == len(metrics["features"])
    distances = [float(line.split()[1]) for line in lines]
    assert distances == sorted(distances, reverse=True)
    assert "DRIFT" in lines[0]
    marks = {line.split()[0]: line.split()[4] for line in lines}
    assert marks["num_products"] == "ok"
    assert marks["monthly_charges"] == "DRIFT"
