"""The runner's side of tracking (issue 15): the local MLflow server's URL reaches the jobs that have
the network (as ``MLOPS_MLFLOW_URL``), never an isolated one nor from the runner's own environment,
and the run summary names the MLflow run a Track step wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.local_aws import LocalAws, moto_server
from emulator.report import summary_lines
from emulator.runner import RunResult, run_pipeline
from ml_code import contract

BUCKET = "tracking-bucket"
URL = "http://127.0.0.1:5999"
#: Writes what it sees of MLOPS_MLFLOW_URL, and a tracking.json as the Track step does.
SCRIPT = (
    'mkdir -p /opt/ml/processing/output/tracking && printf "%s" "${MLOPS_MLFLOW_URL-unset}" > '
    "/opt/ml/processing/output/tracking/seen && printf '%s' "
    '\'{"run_id": "r1", "experiment_id": "7", "run_url": "http://mlflow/#/experiments/7/runs/r1"}\' > '
    "/opt/ml/processing/output/tracking/tracking.json"
)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        yield local


def job(name: str, *, isolated: bool) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large"}},
            "AppSpecification": {"ImageUri": "image", "ContainerEntrypoint": ["/bin/sh", "-c", SCRIPT]},
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": contract.TRACKING_OUTPUT,
                        "S3Output": {
                            "S3Uri": f"s3://{BUCKET}/{name}",
                            "LocalPath": contract.TRACKING_DIR,
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "NetworkConfig": {"EnableNetworkIsolation": isolated},
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
    }


def run(aws: LocalAws, tmp_path: Path, mlflow_url: str | None) -> RunResult:
    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [job("Track", isolated=False), job("Isolated", isolated=True)],
    }
    return run_pipeline(definition, aws, tmp_path, mlflow_url=mlflow_url, log=lambda _: None)


def seen(aws: LocalAws, step: str) -> str:
    return aws.read_object(f"s3://{BUCKET}/{step}/seen").decode()


def test_jobs_with_the_network_get_the_tracking_server_and_isolated_ones_do_not(aws, tmp_path, monkeypatch):
    # GIVEN a runner whose own environment names some other server
    monkeypatch.setenv(contract.MLFLOW_URL_ENV, "http://elsewhere:1")
    # WHEN it runs a job with the network and an isolated one, given the local server's URL
    result = run(aws, tmp_path, URL)
    # THEN only the job with the network sees it, and it is the URL the runner was given
    assert result.status == "Succeeded", result.failure
    assert seen(aws, "Track") == URL
    assert seen(aws, "Isolated") == "unset"


def test_without_a_server_no_job_inherits_one(aws, tmp_path, monkeypatch):
    monkeypatch.setenv(contract.MLFLOW_URL_ENV, "http://elsewhere:1")
    result = run(aws, tmp_path, None)
    assert result.status == "Succeeded", result.failure
    assert seen(aws, "Track") == "unset"


def test_the_summary_names_the_run_a_track_step_wrote(aws, tmp_path):
    result = run(aws, tmp_path, URL)
    lines = summary_lines(result, aws)
    # both steps declare a tracking output here, so both name their run
    assert lines.count("      MLflow run: http://mlflow/#/experiments/7/runs/r1") == 2
    written = json.loads(aws.read_object(f"s3://{BUCKET}/Track/{contract.TRACKING_FILE}"))
    assert written["run_id"] == "r1"
