"""Preprocess, Evaluate and the drift check under the image's Python 3.10 and pins give what the
offline runner gives, running each synthesized request's own ContainerEntrypoint + arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from contract_jobs import IMAGE, INTERPRETERS, OFFLINE, run_processing
from contract_outputs import differences

from ml_code import contract

pytestmark = pytest.mark.contract


def test_preprocess_outputs_are_byte_equal(preprocess_runs: dict[str, Any]) -> None:
    image, offline = preprocess_runs[IMAGE.name], preprocess_runs[OFFLINE.name]
    assert image.error is None, image.error
    assert offline.error is None, offline.error
    outputs = image.file(contract.PROCESSING_DIR) / "output"
    assert sorted(p.name for p in outputs.iterdir()) == sorted(contract.PREPROCESS_OUTPUTS)
    assert (outputs / "train" / "part-algo-1-00.csv").stat().st_size > 0
    assert (outputs / "transformer" / contract.TRANSFORMER_FILE).stat().st_size > 0
    assert differences(outputs, offline.file(contract.PROCESSING_DIR) / "output") == []


def test_evaluate_outputs_match_and_the_champion_is_found_by_the_images_boto3(
    evaluate_runs: dict[str, Any],
) -> None:
    runs = evaluate_runs["runs"]
    image, offline = runs[IMAGE.name], runs[OFFLINE.name]
    assert image.error is None, image.error
    assert offline.error is None, offline.error
    report_dir = image.file(contract.EVALUATION_DIR)
    gate = json.loads((report_dir / contract.EVALUATION_FILE).read_text())[contract.GATE_SECTION]
    # boto3 1.17.52 listed the group, described the version and downloaded its model.tar.gz, which
    # (the same model) scored this run's raw test rows exactly as the challenger scored its split
    assert gate["champion_model_package_arn"] == evaluate_runs["champion"]
    assert gate["champion"]["error"] is None
    assert gate["champion_value"] == gate["value"]
    assert gate["champion"]["improvement"] == 0.0
    assert gate["passed"] == 1
    # evaluation.json byte-equal; the PNG plots pixel-equal (see contract_outputs)
    assert differences(report_dir, offline.file(contract.EVALUATION_DIR)) == []


def test_drift_check_reports_are_byte_equal(drift_runs: dict[str, Any]) -> None:
    image, offline = drift_runs[IMAGE.name], drift_runs[OFFLINE.name]
    assert image.error is None, image.error
    assert offline.error is None, offline.error
    report_dir = image.file(contract.MONITOR_REPORT_DIR)
    metrics = json.loads((report_dir / contract.DRIFT_METRICS_FILE).read_text())
    assert metrics["records"] > 0
    assert metrics["features"]
    assert differences(report_dir, offline.file(contract.MONITOR_REPORT_DIR)) == []


def test_a_failing_processing_job_writes_the_same_message_on_both_sides(
    workspace: Path, pipeline_requests: dict[str, Any], bundle: Path
) -> None:
    # GIVEN Preprocess with a raw data file that is not CSV at all
    bad = workspace / "bad-raw"
    bad.mkdir()
    (bad / "notes.txt").write_text("no csv here\n")

    # WHEN it runs on each side
    runs = {
        i.name: run_processing(
            workspace / f"preprocess-bad-{n}",
            i,
            pipeline_requests["Preprocess"],
            {"code": bundle, "data": bad},
        )
        for n, i in enumerate(INTERPRETERS)
    }

    # THEN both fail with the same DataValidationError in /opt/ml/output/message (its container
    # path: each run's stand-in folder is put back to /opt/ml, as it is in SageMaker)
    assert all(run.error for run in runs.values())
    messages = {
        name: run.file(contract.PROCESSING_MESSAGE_FILE).read_text().replace(str(run.root), contract.OPT_ML)
        for name, run in runs.items()
    }
    assert messages[IMAGE.name].startswith(f"DataValidationError: no CSV file under {contract.RAW_DATA_DIR}")
    assert messages[IMAGE.name] == messages[OFFLINE.name]
