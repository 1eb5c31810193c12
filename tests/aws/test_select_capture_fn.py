"""The capture-selection Lambda lists only the window's hour folders and writes their manifest (moto)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator.lambdas import LocalFunction
from emulator.local_aws import moto_server
from emulator.runner import run_pipeline
from functions import select_capture
from ml_code import contract
from ml_code.serving.shadow import SHADOW_VARIANT
from stacks.monitoring.definition import DriftDefinitionProps, build_drift_definition
from stacks.monitoring.function_asset import FUNCTIONS_DIR
from stacks.pipeline.requests import JobSettings

BUCKET = "artifacts"
CAPTURE = "data-capture/mlops-demo-dev-prod/"
CAPTURE_URI = f"s3://{BUCKET}/{CAPTURE}"
MANIFEST_URI = f"s3://{BUCKET}/drift-checks/e1/capture.manifest"
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _capture(s3: Any, hours_ago: float, name: str = "a", variant: str = "AllTraffic") -> str:
    """Put a capture file in the hour folder of ``NOW - hours_ago``; returns its key below CAPTURE."""
    relative = (
        f"{variant}/{NOW - timedelta(hours=hours_ago):%Y/%m/%d/%H}/{name}{contract.CAPTURE_FILE_SUFFIX}"
    )
    s3.put_object(Bucket=BUCKET, Key=CAPTURE + relative, Body=b"{}\n")
    return relative


def _run(lookback: Any = "2") -> dict[str, Any]:
    event = {"capture_uri": CAPTURE_URI, "lookback_hours": lookback, "manifest_uri": MANIFEST_URI}
    return select_capture.handler(event, now=NOW)


def _manifest(s3: Any) -> list[Any]:
    listed: list[Any] = json.loads(
        s3.get_object(Bucket=BUCKET, Key=MANIFEST_URI.split("/", 3)[3])["Body"].read()
    )
    return listed


def test_the_suffix_is_the_contract_one() -> None:
    assert select_capture.CAPTURE_FILE_SUFFIX == contract.CAPTURE_FILE_SUFFIX


def test_the_shadow_variant_is_the_servers() -> None:
    assert select_capture.SHADOW_VARIANT == SHADOW_VARIANT


def test_only_files_of_the_window_hours_of_every_production_variant_are_listed(s3: Any) -> None:
    # GIVEN capture 1 h old in two production variants and the shadow's, 3 h old, and a
    # non-capture object in the window
    inside = [_capture(s3, 1), _capture(s3, 0, "b"), _capture(s3, 1, variant="Blue")]
    _capture(s3, 1, "copy", variant=select_capture.SHADOW_VARIANT)
    _capture(s3, 3, "old")
    _capture(s3, 27, "yesterday")
    s3.put_object(Bucket=BUCKET, Key=f"{CAPTURE}AllTraffic/{NOW:%Y/%m/%d/%H}/", Body=b"")  # console folder
    # WHEN the step selects a 2-hour window
    out = _run("2")
    # THEN the manifest lists exactly the window's production files, relative to the capture prefix
    assert out == {"files": 3, "manifest_uri": MANIFEST_URI}
    manifest = _manifest(s3)
    assert manifest[0] == {"prefix": CAPTURE_URI}
    assert sorted(manifest[1:]) == sorted(inside)


def test_only_the_window_hour_prefixes_are_listed(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a year of history in one variant, and the handler using a client that records its calls
    for day in range(0, 365, 7):
        _capture(s3, 24 * day + 5, f"d{day}")
    _capture(s3, 1, "recent")
    listed: list[dict[str, Any]] = []
    s3.meta.events.register(
        "provide-client-params.s3.ListObjectsV2", lambda params, **_: listed.append(params)
    )
    monkeypatch.setattr(select_capture, "boto3", SimpleNamespace(client=lambda service: s3))
    # WHEN a 2-hour window is selected
    out = _run(2)
    # THEN one delimiter listing finds the variants, then only the 3 hours 10:xx-12:xx are listed
    assert out["files"] == 1
    assert [(p["Prefix"], p.get("Delimiter")) for p in listed[:1]] == [(CAPTURE, "/")]
    assert not any("Delimiter" in p for p in listed[1:])
    assert [p["Prefix"] for p in listed[1:]] == [f"{CAPTURE}AllTraffic/2026/03/01/{h}/" for h in (10, 11, 12)]


def test_an_hour_with_more_files_than_a_page_is_listed_whole(s3: Any) -> None:
    # GIVEN 1001 files in one hour (ListObjectsV2 returns at most 1000 per page)
    keys = [_capture(s3, 1, f"f{i:04d}") for i in range(1001)]
    # WHEN selected
    out = _run("2")
    # THEN every one of them is in the manifest
    assert out["files"] == 1001
    assert sorted(_manifest(s3)[1:]) == sorted(keys)


def test_a_window_without_capture_writes_no_manifest(s3: Any) -> None:
    # GIVEN only old capture (and none at all for a new endpoint)
    _capture(s3, 5)
    # WHEN selected
    out = _run(2)
    # THEN the step reports zero files and writes nothing (an empty manifest would fail the job)
    assert out == {"files": 0, "manifest_uri": MANIFEST_URI}
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="drift-checks/")


def test_a_fractional_window_reaches_into_the_hour_it_starts_in(s3: Any) -> None:
    # 12:30 - 1.5 h = 11:00, so the 11:xx folder is listed and the 10:xx one is not
    assert select_capture.hour_folders(NOW, 1.5) == ["2026/03/01/11/", "2026/03/01/12/"]
    assert select_capture.hour_folders(NOW, 0.25) == ["2026/03/01/12/"]


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", None, True, "nan", "inf", str(24 * 366 + 1)])
def test_a_bad_lookback_is_named(value: Any) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"lookback_hours: expected a number of hours in (0, 8784], got {value!r}")
    ):
        _run(value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capture_uri": "s3://artifacts/data-capture/ep"}, "capture_uri"),  # not a folder
        ({"capture_uri": None}, "capture_uri"),
        ({"manifest_uri": "s3://artifacts/drift-checks/"}, "manifest_uri"),
        ({"manifest_uri": "/tmp/m.json"}, "manifest_uri"),
    ],
)
def test_bad_uris_are_named(change: dict[str, Any], field: str) -> None:
    event = {"capture_uri": CAPTURE_URI, "lookback_hours": "2", "manifest_uri": MANIFEST_URI, **change}
    with pytest.raises(ValueError, match=f"^{field}: expected"):
        select_capture.handler(event, now=NOW)


def test_the_drift_pipeline_succeeds_checking_nothing_before_any_traffic(tmp_path: Path) -> None:
    # GIVEN the drift-check definition, its SelectCapture function's own code, and no capture at all
    select_arn = "arn:aws:lambda:us-east-1:123456789012:function:select"
    job = JobSettings(role_arn="role", kms_key_arn="key", image_uri="image", subnet_ids=("subnet-1",),
                      security_group_ids=("sg-1",), max_runtime_seconds=60)  # fmt: skip
    props = DriftDefinitionProps(
        job=job, artifact_bucket=BUCKET, code_uri=f"s3://{BUCKET}/code.tar.gz", function_arn="publish",
        select_function_arn=select_arn, instance_type="ml.m5.large", threshold=0.2, missing_tolerance=0.05,
    )  # fmt: skip
    selector = LocalFunction(
        "monitoring/Select", select_arn, "select_capture.handler", code_dir=FUNCTIONS_DIR
    )
    with moto_server() as aws:
        aws.ensure_bucket(BUCKET)
        # WHEN the schedule starts it
        result = run_pipeline(
            build_drift_definition(props), aws, tmp_path, log=lambda _: None,
            functions={select_arn: selector},
            overrides={"EndpointName": "ep", "CaptureUri": CAPTURE_URI, "BaselineUri": f"s3://{BUCKET}/b/"},
        )  # fmt: skip
    # THEN it succeeds, having selected zero files and skipped the check (which would fail on no input)
    assert result.status == "Succeeded", result.failure
    assert result.step("SelectCapture").outputs["files"] == "0"
    assert result.step("HasCapture").outputs == {"Outcome": "false"}
    assert {result.step(n).status for n in ("DriftCheck", "PublishDriftMetrics")} == {"Skipped"}
