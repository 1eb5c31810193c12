"""The drift-check entry point on the container contract, and the capture format it reads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ml_code import contract, monitor, sample_data
from ml_code.baseline import compute_statistics, suggest_constraints
from ml_code.capture import UTC, CaptureWriter, capture_line, read_requests
from ml_code.drift_plots import drift_chart, drift_table


def _opt_ml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drift: float, rows: int = 300) -> Path:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    processing = tmp_path / "processing"
    baseline = processing / "input" / "baseline"
    baseline.mkdir(parents=True)
    statistics = compute_statistics(sample_data.generate(2000, seed=1).drop(columns=["churn"]))
    (baseline / contract.BASELINE_STATISTICS_FILE).write_text(json.dumps(statistics))
    (baseline / contract.BASELINE_CONSTRAINTS_FILE).write_text(json.dumps(suggest_constraints(statistics)))
    writer = CaptureWriter(processing / "input" / "capture", "ep")
    traffic = sample_data.generate(rows, seed=4, drift=drift).drop(columns=["churn"])
    for start in range(0, rows, 10):  # 10 records per request, JSON and CSV alternately
        chunk = traffic.iloc[start : start + 10].to_dict("records")
        kind = contract.CONTENT_TYPE_JSON if start % 20 else contract.CONTENT_TYPE_CSV
        body = _json(chunk) if kind == contract.CONTENT_TYPE_JSON else _csv(chunk)
        writer.write(body, kind, b'{"predictions": []}', contract.CONTENT_TYPE_JSON)
    return processing


def _json(records: list[dict[str, object]]) -> bytes:
    return json.dumps([{k: None if v != v else v for k, v in r.items()} for r in records]).encode()


def _csv(records: list[dict[str, object]]) -> bytes:
    return "\n".join(
        ",".join("" if v is None or v != v else str(v) for v in r.values()) for r in records
    ).encode()


def _report(processing: Path, name: str) -> dict[str, object]:
    return json.loads((processing / "output" / "report" / name).read_text())


def test_drifted_traffic_gives_violations_and_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processing = _opt_ml(tmp_path, monkeypatch, drift=1.0)
    assert monitor.main(["--endpoint-name", "ep"]) == 0
    metrics = _report(processing, contract.DRIFT_METRICS_FILE)
    assert metrics["records"] == 300
    assert metrics["violations"] > 0
    violations = _report(processing, contract.VIOLATIONS_FILE)["violations"]
    assert any(v["constraint_check_type"] == "data_drift_check" for v in violations)  # type: ignore[union-attr]
    assert drift_chart(metrics, tmp_path / "drift.png").stat().st_size > 5000
    assert any("DRIFT" in line for line in drift_table(metrics))


def test_steady_traffic_gives_no_violations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    processing = _opt_ml(tmp_path, monkeypatch, drift=0.0)
    assert monitor.main(["--endpoint-name", "ep", "--feature-threshold", "age=0.5"]) == 0
    assert _report(processing, contract.VIOLATIONS_FILE) == {"violations": []}


def test_old_traffic_is_outside_the_lookback(tmp_path: Path) -> None:
    old = datetime.now(UTC) - timedelta(hours=30)
    path = tmp_path / "c" / "ep" / "AllTraffic" / "x.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(capture_line(b'{"age": 40}', "application/json", b"{}", "application/json", old) + "\n")
    assert monitor.load_traffic(tmp_path / "c", ["age"], datetime.now(UTC) - timedelta(hours=24)).empty
    assert len(monitor.load_traffic(tmp_path / "c", ["age"], old - timedelta(hours=1))) == 1


def test_no_baseline_writes_the_failure_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    assert monitor.main(["--endpoint-name", "ep"]) == 1
    message = (tmp_path / "output" / "message").read_text()
    assert "no readable baseline" in message


def test_corrupt_capture_fails_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    processing = _opt_ml(tmp_path, monkeypatch, drift=0.0, rows=20)
    (processing / "input" / "capture" / "junk.jsonl").write_text("not json\n" * 10)
    assert monitor.main(["--endpoint-name", "ep"]) == 1
    assert "unreadable" in (tmp_path / "output" / "message").read_text()


def test_capture_round_trip_keeps_body_type_and_time(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path, "ep")
    path = writer.write(b"1,2,3", "text/csv", b"\xff\xfe", "application/octet-stream")
    assert path.relative_to(tmp_path).parts[:2] == ("ep", "AllTraffic")
    line = json.loads(path.read_text())
    assert line["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv", "mode": "INPUT", "data": "1,2,3", "encoding": "CSV",
    }  # fmt: skip
    assert line["captureData"]["endpointOutput"]["encoding"] == "BASE64"
    (request,) = list(read_requests(tmp_path))
    assert request is not None
    assert request.data == "1,2,3"
    assert abs((datetime.now(UTC) - request.inference_time).total_seconds()) < 60
