"""The drift-metrics Lambda publishes the drift check's report to CloudWatch (under moto)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions import drift_metrics
from ml_code import contract

ENDPOINT = "mlops-demo-dev-prod"
URI = "s3://artifacts/drift-checks/e1/report/drift_metrics.json"
REPORT: dict[str, Any] = {
    "endpoint_name": ENDPOINT,
    "records": 300,
    "violations": 2,
    "features": [
        {"feature_name": "tenure_months", "distance": 0.31, "threshold": 0.2, "missing_rate": 0.0,
         "unseen_categories": 0, "drifted": True},
        {"feature_name": "contract", "distance": 0.05, "threshold": 0.2, "missing_rate": 0.01,
         "unseen_categories": 3, "drifted": False},
    ],
}  # fmt: skip


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="artifacts")
        yield s3, boto3.client("cloudwatch")


def _put(s3: Any, report: Any) -> None:
    body = report if isinstance(report, str) else json.dumps(report)
    s3.put_object(Bucket="artifacts", Key=URI.split("/", 3)[3], Body=body)


def _maximum(cloudwatch: Any, metric: str, **dims: str) -> float:
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=contract.DRIFT_NAMESPACE, MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=5), Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]  # fmt: skip
    assert len(points) == 1, points
    return float(points[0]["Maximum"])


def test_namespace_is_the_contract_one() -> None:
    assert drift_metrics.DEFAULT_NAMESPACE == contract.DRIFT_NAMESPACE


def test_publishes_per_endpoint_and_per_feature_metrics(aws: tuple[Any, Any]) -> None:
    # GIVEN the check's report in S3
    s3, cloudwatch = aws
    _put(s3, REPORT)
    # WHEN the pipeline's Lambda step calls the handler with its Arguments
    out = drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    # THEN the step's output parameter is the violation count and the metrics carry the contract's dims
    assert out == {"violations": 2}
    metrics = cloudwatch.list_metrics(Namespace=contract.DRIFT_NAMESPACE)["Metrics"]
    found = {
        (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))) for m in metrics
    }
    endpoint = ("EndpointName", ENDPOINT)
    assert found == {
        ("Violations", (endpoint,)),
        ("RecordsChecked", (endpoint,)),
        ("FeatureDistance", (endpoint, ("Feature", "tenure_months"))),
        ("FeatureDistance", (endpoint, ("Feature", "contract"))),
        ("FeatureMissingRate", (endpoint, ("Feature", "tenure_months"))),
        ("FeatureMissingRate", (endpoint, ("Feature", "contract"))),
    }
    assert _maximum(cloudwatch, "Violations", EndpointName=ENDPOINT) == 2.0
    assert _maximum(cloudwatch, "RecordsChecked", EndpointName=ENDPOINT) == 300.0
    assert _maximum(cloudwatch, "FeatureDistance", EndpointName=ENDPOINT, Feature="tenure_months") == 0.31


def test_the_namespace_comes_from_the_environment(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, cloudwatch = aws
    _put(s3, REPORT)
    monkeypatch.setenv("METRIC_NAMESPACE", "Custom/Drift")
    drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    assert len(cloudwatch.list_metrics(Namespace="Custom/Drift")["Metrics"]) == 6
    assert cloudwatch.list_metrics(Namespace=contract.DRIFT_NAMESPACE)["Metrics"] == []


def test_many_features_go_out_in_calls_of_at_most_1000_metrics(aws: tuple[Any, Any]) -> None:
    # GIVEN a report with 600 features (2 + 1200 metrics)
    _, cloudwatch = aws
    report = {**REPORT, "features": [{**REPORT["features"][0], "feature_name": f"f{i}"} for i in range(600)]}
    sizes: list[int] = []
    cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.PutMetricData",
        lambda params, **_: sizes.append(len(params["MetricData"])),
    )
    # WHEN they are published
    calls = drift_metrics.publish(cloudwatch, contract.DRIFT_NAMESPACE, drift_metrics.metric_data(report))
    # THEN two calls carry them all, none over the API's limit
    assert calls == 2
    assert sizes == [1000, 202]
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace=contract.DRIFT_NAMESPACE)
    assert sum(len(page["Metrics"]) for page in pages) == 1202


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"violations": "2"}, "'violations'"),
        ({"violations": True}, "'violations'"),
        ({"records": -1}, "'records'"),
        ({"endpoint_name": ""}, "'endpoint_name'"),
        ({"features": None}, "'features'"),
        ({"features": ["x"]}, "'features[0]'"),
        ({"features": [{"feature_name": "a"}]}, "'features[0].distance'"),
        ({"features": [{"feature_name": "a", "distance": 0.1, "missing_rate": float("nan")}]},
         "'features[0].missing_rate'"),
        ({"features": [{"distance": 0.1, "missing_rate": 0.0}]}, "'features[0].feature_name'"),
    ],
)  # fmt: skip
def test_a_malformed_report_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"drift report field {field}")):
        drift_metrics.metric_data({**copy.deepcopy(REPORT), **change})


def test_a_malformed_report_publishes_nothing(aws: tuple[Any, Any]) -> None:
    s3, cloudwatch = aws
    _put(s3, {**REPORT, "features": [{"feature_name": "a", "distance": "far", "missing_rate": 0.0}]})
    with pytest.raises(ValueError, match="features"):
        drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    assert cloudwatch.list_metrics(Namespace=contract.DRIFT_NAMESPACE)["Metrics"] == []


def test_a_report_that_is_not_json_is_named(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    _put(s3, "{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})


def test_a_report_about_another_endpoint_is_refused(aws: tuple[Any, Any]) -> None:
    s3, cloudwatch = aws
    _put(s3, REPORT)
    with pytest.raises(
        ValueError, match="about endpoint 'mlops-demo-dev-prod', but this step checks 'other'"
    ):
        drift_metrics.handler({"report_uri": URI, "endpoint_name": "other"})
    assert cloudwatch.list_metrics(Namespace=contract.DRIFT_NAMESPACE)["Metrics"] == []


@pytest.mark.parametrize("uri", ["/tmp/x.json", "s3://bucket-only", None])
def test_bad_uri_is_refused(uri: Any) -> None:
    with pytest.raises(ValueError, match="report_uri"):
        drift_metrics.handler({"report_uri": uri})
