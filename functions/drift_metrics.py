"""Lambda step of the drift-check pipeline: publish the drift check's numbers to CloudWatch.

The drift check itself runs network-isolated and cannot call CloudWatch; this step reads its
``drift_metrics.json`` and publishes, per endpoint, ``Violations`` and ``RecordsChecked`` and, per
feature, ``FeatureDistance`` and ``FeatureMissingRate``. The drift alarm watches ``Violations``.

Event (the step's Arguments): ``{"report_uri": "s3://.../drift_metrics.json", "endpoint_name": ...}``.
Returns ``{"violations": n}`` (the step's output parameter).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

DEFAULT_NAMESPACE = "MLOpsPlatform/Drift"
#: PutMetricData takes at most 1000 metric data items per call.
BATCH = 1000


def metric_data(report: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudWatch metric data of one report.

    Raises:
        ValueError: a field is missing or has the wrong type (names the field).
    """
    endpoint = _field(report, "endpoint_name", str)
    endpoint_dim = [{"Name": "EndpointName", "Value": endpoint}]
    data = [
        {
            "MetricName": "Violations",
            "Dimensions": endpoint_dim,
            "Value": float(_field(report, "violations", int)),
        },
        {
            "MetricName": "RecordsChecked",
            "Dimensions": endpoint_dim,
            "Value": float(_field(report, "records", int)),
        },
    ]
    for index, feature in enumerate(_field(report, "features", list)):
        if not isinstance(feature, dict):
            raise ValueError(f"features[{index}]: expected an object")
        dims = [
            *endpoint_dim,
            {"Name": "Feature", "Value": _field(feature, "feature_name", str, f"features[{index}].")},
        ]
        for metric, key in (("FeatureDistance", "distance"), ("FeatureMissingRate", "missing_rate")):
            value = _field(feature, key, (int, float), f"features[{index}].")
            data.append({"MetricName": metric, "Dimensions": dims, "Value": float(value)})
    return data


def _field(data: dict[str, Any], name: str, kind: Any, where: str = "") -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"drift report field '{where}{name}': expected {kind}, got {value!r}")
    return value


def handler(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    """Read the report at ``event["report_uri"]`` and publish its metrics."""
    uri = event.get("report_uri", "")
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValueError(f"report_uri: expected an s3:// URI, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    report = json.loads(body)
    data = metric_data(report)
    cloudwatch = boto3.client("cloudwatch")
    namespace = os.environ.get("METRIC_NAMESPACE", DEFAULT_NAMESPACE)
    for start in range(0, len(data), BATCH):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + BATCH])
    print(
        json.dumps(
            {"published": len(data), "endpoint": report["endpoint_name"], "violations": report["violations"]}
        )
    )
    return {"violations": int(report["violations"])}
