"""Lambda step of the drift-check pipeline: publish the drift check's numbers to CloudWatch.

The drift check itself runs network-isolated and cannot call CloudWatch; this step reads its
``drift_metrics.json`` and publishes, per endpoint, ``Violations`` and ``RecordsChecked`` and, per
feature, ``FeatureDistance`` and ``FeatureMissingRate``. The drift alarm watches ``Violations``.

Event (the step's Arguments): ``{"report_uri": "s3://.../drift_metrics.json", "endpoint_name": ...}``.
Returns ``{"violations": n}`` (the step's output parameter). Environment: ``METRIC_NAMESPACE``.
Standard library and boto3 only (this folder is the Lambda code asset).
"""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:  # type stubs: a development requirement, not in the Lambda bundle
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

#: Must equal ``ml_code.contract.DRIFT_NAMESPACE`` (a test pins it; Lambda code cannot import ml_code).
DEFAULT_NAMESPACE = "MLOpsPlatform/Drift"
#: PutMetricData takes at most 1000 metrics per call (MetricData and EntityMetricData together).
BATCH = 1000


def metric_data(report: dict[str, Any]) -> list[MetricDatumTypeDef]:
    """CloudWatch metric data of one ``drift_metrics.json`` report.

    Raises:
        ValueError: a field is missing, has the wrong type or is not a finite number (names it).
    """
    if not isinstance(report, dict):
        raise ValueError(f"drift report: expected a JSON object, got {type(report).__name__}")
    endpoint = _text(report, "endpoint_name")
    endpoint_dim: list[DimensionTypeDef] = [{"Name": "EndpointName", "Value": endpoint}]
    data: list[MetricDatumTypeDef] = [
        {"MetricName": "Violations", "Dimensions": endpoint_dim, "Value": _count(report, "violations")},
        {"MetricName": "RecordsChecked", "Dimensions": endpoint_dim, "Value": _count(report, "records")},
    ]
    features = report.get("features")
    if not isinstance(features, list):
        raise ValueError(f"drift report field 'features': expected a list, got {features!r}")
    for index, feature in enumerate(features):
        where = f"features[{index}]."
        if not isinstance(feature, dict):
            raise ValueError(f"drift report field 'features[{index}]': expected an object, got {feature!r}")
        dims: list[DimensionTypeDef] = [
            *endpoint_dim,
            {"Name": "Feature", "Value": _text(feature, "feature_name", where)},
        ]
        for metric, key in (("FeatureDistance", "distance"), ("FeatureMissingRate", "missing_rate")):
            data.append({"MetricName": metric, "Dimensions": dims, "Value": _number(feature, key, where)})
    return data


def _text(data: dict[str, Any], name: str, where: str = "") -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"drift report field '{where}{name}': expected a non-empty string, got {value!r}")
    return value


def _count(data: dict[str, Any], name: str) -> float:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"drift report field '{name}': expected a count (integer >= 0), got {value!r}")
    return float(value)


def _number(data: dict[str, Any], name: str, where: str) -> float:
    value = data.get(name)
    # CloudWatch refuses NaN and infinities; a report carrying one is broken, not "no drift".
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"drift report field '{where}{name}': expected a finite number, got {value!r}")
    return float(value)


def publish(cloudwatch: CloudWatchClient, namespace: str, data: list[MetricDatumTypeDef]) -> int:
    """Put ``data`` in calls of at most :data:`BATCH` metrics; returns the number of calls."""
    calls = 0
    for start in range(0, len(data), BATCH):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + BATCH])
        calls += 1
    return calls


def _split_s3_uri(uri: Any) -> tuple[str, str]:
    bucket, _, key = str(uri)[len("s3://") :].partition("/")
    if not isinstance(uri, str) or not uri.startswith("s3://") or not bucket or not key:
        raise ValueError(f"report_uri: expected s3://bucket/key, got {uri!r}")
    return bucket, key


def handler(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    """Read the report at ``event["report_uri"]``, publish its metrics, return its violation count.

    Raises:
        ValueError: a bad ``report_uri``, a report that is not JSON or is malformed, or a report
            about another endpoint than ``event["endpoint_name"]``.
    """
    bucket, key = _split_s3_uri(event.get("report_uri"))
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        report = json.loads(body)
    except ValueError as err:
        raise ValueError(f"drift report {event['report_uri']} is not JSON: {err}") from None
    data = metric_data(report)
    expected = event.get("endpoint_name")
    if expected is not None and expected != report["endpoint_name"]:
        raise ValueError(
            f"drift report {event['report_uri']} is about endpoint {report['endpoint_name']!r}, "
            f"but this step checks {expected!r}"
        )
    namespace = os.environ.get("METRIC_NAMESPACE") or DEFAULT_NAMESPACE
    calls = publish(boto3.client("cloudwatch"), namespace, data)
    violations = int(report["violations"])
    summary = {"endpoint": report["endpoint_name"], "published": len(data), "calls": calls}
    print(json.dumps({**summary, "namespace": namespace, "violations": violations}))
    return {"violations": violations}
