"""The drift-check entry point on the container contract (OPT_ML_ROOT remap), end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ml_code import contract, sample_data
from ml_code.drift import monitor
from ml_code.drift.compare import DISTRIBUTIONS_FILE, MIN_RECORDS
from ml_code.serving.capture import UTC, capture_line
from ml_code.steps.baseline import compute_statistics, suggest_constraints

NOW = datetime.now(UTC)


@pytest.fixture
def processing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """/opt/ml remapped to tmp_path, with a baseline from undrifted training data in place."""
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    baseline = tmp_path / "processing" / "input" / "baseline"
    baseline.mkdir(parents=True)
    statistics = compute_statistics(sample_data.generate(2000, seed=1).drop(columns=["churn"]))
    (baseline / contract.BASELINE_STATISTICS_FILE).write_text(json.dumps(statistics))
    (baseline / contract.BASELINE_CONSTRAINTS_FILE).write_text(json.dumps(suggest_constraints(statistics)))
    return tmp_path / "processing"


def _body(records: list[dict[str, Any]], kind: str) -> bytes:
    if kind == contract.CONTENT_TYPE_CSV:
        return "\n".join(",".join("" if v is None else str(v) for v in r.values()) for r in records).encode()
    if kind == contract.CONTENT_TYPE_JSONLINES:
        return "\n".join(json.dumps(r) for r in records).encode()
    return json.dumps({"instances": records}).encode()


def capture(processing: Path, frame: pd.DataFrame, when: datetime = NOW, name: str = "a") -> Path:
    """Capture ``frame`` as requests of 10 records, CSV / JSON / JSON Lines in turn."""
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    kinds = (contract.CONTENT_TYPE_CSV, contract.CONTENT_TYPE_JSON, contract.CONTENT_TYPE_JSONLINES)
    lines = [
        capture_line(
            _body(records[i : i + 10], kinds[i // 10 % 3]), kinds[i // 10 % 3], b"[]", "text/csv", when
        )
        for i in range(0, len(records), 10)
    ]
    path = (
        processing
        / "input"
        / "capture"
        / "ep"
        / "AllTraffic"
        / when.strftime("%Y/%m/%d/%H")
        / f"{name}.jsonl"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def traffic(rows: int, drift: float, seed: int = 4) -> pd.DataFrame:
    return sample_data.generate(rows, seed=seed, drift=drift).drop(columns=["churn"])


def report(processing: Path, name: str) -> Any:
    return json.loads((processing / "output" / "report" / name).read_text())


def test_drifted_traffic_gives_violations_metrics_and_distributions(processing: Path) -> None:
    # GIVEN 300 drifted records captured in all three content types
    capture(processing, traffic(300, drift=1.0))
    # WHEN the check runs
    assert monitor.main(["--endpoint-name", "ep", "--lookback-hours", "24"]) == 0
    # THEN the metrics file has the agreed shape and counts
    metrics = report(processing, contract.DRIFT_METRICS_FILE)
    assert set(metrics) == {"endpoint_name", "records", "violations", "features"}
    assert (metrics["endpoint_name"], metrics["records"]) == ("ep", 300)
    drifted = {f["feature_name"] for f in metrics["features"] if f["drifted"]}
    assert {"monthly_charges", "support_calls", "region"} <= drifted
    violations = report(processing, contract.VIOLATIONS_FILE)["violations"]
    assert metrics["violations"] == len(violations) > 0
    assert {
        v["feature_name"] for v in violations if v["constraint_check_type"] == "data_drift_check"
    } == drifted
    distributions = report(processing, DISTRIBUTIONS_FILE)
    assert distributions["enough_records"] is True
    assert len(distributions["features"]) == len(metrics["features"])


def test_steady_traffic_gives_no_violations(processing: Path) -> None:
    capture(processing, traffic(300, drift=0.0))
    assert monitor.main(["--endpoint-name", "ep", "--feature-threshold", "age=0.5"]) == 0
    assert report(processing, contract.VIOLATIONS_FILE) == {"violations": []}
    assert report(processing, contract.DRIFT_METRICS_FILE)["records"] == 300


def test_only_the_lookback_window_is_checked(processing: Path) -> None:
    # GIVEN drifted traffic 30 hours ago and steady traffic now
    capture(processing, traffic(300, drift=1.0), when=NOW - timedelta(hours=30), name="old")
    capture(processing, traffic(200, drift=0.0), name="new")
    assert monitor.main(["--endpoint-name", "ep", "--lookback-hours", "24"]) == 0
    assert report(processing, contract.DRIFT_METRICS_FILE)["records"] == 200
    assert report(processing, contract.VIOLATIONS_FILE) == {"violations": []}
    # WHEN the window reaches back 48 hours THEN the drifted traffic counts again
    assert monitor.main(["--endpoint-name", "ep", "--lookback-hours", "48"]) == 0
    assert report(processing, contract.DRIFT_METRICS_FILE)["records"] == 500


def test_too_few_records_is_reported_not_alarmed(processing: Path) -> None:
    capture(processing, traffic(MIN_RECORDS - 10, drift=1.0))
    assert monitor.main(["--endpoint-name", "ep"]) == 0
    assert report(processing, contract.DRIFT_METRICS_FILE)["records"] == MIN_RECORDS - 10
    assert report(processing, contract.VIOLATIONS_FILE) == {"violations": []}
    assert report(processing, DISTRIBUTIONS_FILE)["enough_records"] is False


def test_no_capture_at_all_gives_empty_reports(processing: Path) -> None:
    assert monitor.main(["--endpoint-name", "ep"]) == 0
    metrics = report(processing, contract.DRIFT_METRICS_FILE)
    assert (metrics["records"], metrics["violations"]) == (0, 0)
    assert all(f["distance"] == 0.0 and f["missing_rate"] == 0.0 for f in metrics["features"])


def test_no_baseline_writes_the_failure_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    assert monitor.main(["--endpoint-name", "ep"]) == 1
    message = (tmp_path / "output" / "message").read_text()
    assert message.startswith("DataValidationError: no readable baseline statistics.json")


def test_corrupt_capture_beyond_the_tolerance_fails_the_job(processing: Path) -> None:
    capture(processing, traffic(100, drift=0.0))  # 10 good lines
    junk = processing / "input" / "capture" / "junk.jsonl"
    junk.write_text("not json\n" * 2)
    assert monitor.main(["--endpoint-name", "ep"]) == 1
    message = (processing.parent / "output" / "message").read_text()
    assert "2 of 12 capture lines" in message
    assert "junk.jsonl:1" in message


def test_a_few_bad_lines_are_skipped(processing: Path) -> None:
    path = capture(processing, traffic(200, drift=0.0))  # 20 good lines
    bad_csv = capture_line(b"1,2,3", "text/csv", b"[]", "text/csv", NOW)  # 3 of 10 columns
    path.write_text(path.read_text() + "{oops\n" + bad_csv + "\n")
    assert monitor.main(["--endpoint-name", "ep"]) == 0
    assert report(processing, contract.DRIFT_METRICS_FILE)["records"] == 200


@pytest.mark.parametrize(
    "bad",
    [["--threshold", "1.5"], ["--feature-threshold", "age"], ["--lookback-hours", "0"],
     ["--missing-tolerance", "-0.1"]],
)  # fmt: skip
def test_bad_arguments_exit_2_with_the_failure_file(processing: Path, bad: list[str]) -> None:
    assert monitor.main(["--endpoint-name", "ep", *bad]) == 2
    assert "invalid arguments" in (processing.parent / "output" / "message").read_text()


def test_runs_as_a_script_in_a_fresh_interpreter(processing: Path, tmp_path: Path) -> None:
    # GIVEN the package unpacked beside a top-level monitor.py, as the processing job runs it
    code = tmp_path / "code"
    shutil.copytree(
        Path(monitor.__file__).parents[1], code / "ml_code", ignore=shutil.ignore_patterns("__pycache__")
    )
    (code / "monitor.py").write_text("from ml_code.drift.monitor import main\n\nraise SystemExit(main())\n")
    capture(processing, traffic(200, drift=1.0))
    # WHEN it runs with only that folder importable
    env = {**os.environ, contract.OPT_ML_ROOT_ENV: str(tmp_path), "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "monitor.py", "--endpoint-name", "ep", "--threshold", "0.25"],
        cwd=code, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # THEN it exits 0 and leaves the reports where the job's output is uploaded from
    assert done.returncode == 0, done.stdout + done.stderr
    assert report(processing, contract.DRIFT_METRICS_FILE)["violations"] > 0
    assert "drifted:" in done.stdout
