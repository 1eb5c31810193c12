"""The drift-metrics Lambda publishes the drift check's report to CloudWatch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions import drift_metrics
from ml_code import contract

REPORT = {
    "endpoint_name": "mlops-demo-dev-prod",
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


def test_namespace_is_the_contract_one() -> None:
    assert drift_metrics.DEFAULT_NAMESPACE == contract.DRIFT_NAMESPACE


def test_publishes_per_endpoint_and_per_feature_metrics(aws: tuple[Any, Any]) -> None:
    s3, cloudwatch = aws
    s3.put_object(
        Bucket="artifacts", Key="drift-checks/e1/report/drift_metrics.json", Body=json.dumps(REPORT)
    )
    out = drift_metrics.handler(
        {"report_uri": "s3://artifacts/drift-checks/e1/report/drift_metrics.json", "endpoint_name": "x"}
    )
    assert out == {"violations": 2}
    metrics = cloudwatch.list_metrics(Namespace=contract.DRIFT_NAMESPACE)["Metrics"]
    names = {(m["MetricName"], tuple(sorted(d["Value"] for d in m["Dimensions"]))) for m in metrics}
    assert ("Violations", ("mlops-demo-dev-prod",)) in names
    assert ("FeatureDistance", ("mlops-demo-dev-prod", "tenure_months")) in names
    assert ("FeatureMissingRate", ("contract", "mlops-demo-dev-prod")) in names
    assert len(metrics) == 2 + 2 * 2


@pytest.mark.parametrize(
    ("change", "field"),
    [({"violations": "2"}, "violations"), ({"features": [{"feature_name": "a"}]}, "features[0].distance")],
)
def test_a_malformed_report_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        drift_metrics.metric_data({**REPORT, **change})


def test_bad_uri_is_refused() -> None:
    with pytest.raises(ValueError, match="report_uri"):
        drift_metrics.handler({"report_uri": "/tmp/x.json"})
