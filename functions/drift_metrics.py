"""Lambda step of the drift-check pipeline: publish the drift check's numbers to CloudWatch.

The drift check itself runs network-isolated and cannot call CloudWatch; this step reads its
``drift_metrics.json`` and publishes, per endpoint, ``Violations`` and ``RecordsChecked`` and, per
feature, ``FeatureDistance`` and ``FeatureMissingRate``. The drift alarm watches ``Violations``.

In a stage account (an endpoint in another account than the tooling one) it also relays drift
that *persists*: when this check's report has violations and the endpoint's drift alarm is already
in ALARM (from an earlier check; the same rule as the retraining trigger's ``_persisting_drift`` for
the tooling account's own checks), it puts one :data:`DRIFT_PERSISTS_EVENT` on this account's bus,
from where the stage's forwarding rule sends it to the tooling account's retraining trigger. An
alarm that stays in ALARM sends no further state change, so without it a refused retraining (a run
executing, the rate cap) would drop persistent drift for good. The metrics are published first:
when describing the alarm or putting the event fails, the step fails after them (the check's
execution fails, and its failure reaches the team's topic as every failed check does), so the alarm
still sees the check and the team hears that persistent drift was not relayed.

Event (the step's Arguments): ``{"report_uri": "s3://.../drift_metrics.json", "endpoint_name": ...}``.
Returns ``{"violations": n}`` (the step's output parameter). Environment: ``METRIC_NAMESPACE``; in a
stage account also ``DRIFT_ALARM_NAME`` and ``DRIFT_EVENT_BUS`` (the bus's ARN).
Standard library, boto3 and ``contracts.names`` (which the function's asset carries beside it;
:mod:`stacks.monitoring.function_asset`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import boto3

from contracts.names import drift_alarm_name

if TYPE_CHECKING:  # type stubs: a development requirement, not in the Lambda bundle
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

#: Must equal ``ml_code.contract.DRIFT_NAMESPACE`` (a test pins it; Lambda code cannot import ml_code).
DEFAULT_NAMESPACE = "MLOpsPlatform/Drift"
#: PutMetricData takes at most 1000 metrics per call (MetricData and EntityMetricData together).
BATCH = 1000
#: Must equal ``stacks.common.event_types.DRIFT_SOURCE`` and ``DRIFT_PERSISTS_EVENT`` (a test pins them).
DRIFT_SOURCE = "mlops.drift"
DRIFT_PERSISTS_EVENT = "Drift Persists"


@dataclass(frozen=True)
class Relay:
    """Whether a finished check's drift is relayed to the tooling account, and why (logged)."""

    send: bool
    reason: str


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


def decide_relay(violations: int, alarm: str, alarm_state: str) -> Relay:
    """Relay when this check found violations and ``alarm`` is already in ALARM: drift persists.

    A first detection (the alarm not yet in ALARM: CloudWatch evaluates the new datum a minute or
    so later) is left to the alarm's own state change, which the stage forwards already.
    """
    if violations <= 0:
        return Relay(False, "clear in this check (0 violations)")
    if alarm_state != "ALARM":
        return Relay(False, f"{alarm} is {alarm_state} (a first detection: the alarm's own event decides)")
    return Relay(True, f"{violations} violation(s) while {alarm} is in ALARM: drift persists")


def check_execution_id(report_uri: str) -> str:
    """The drift-check execution a report belongs to: a report is ``…/<execution id>/<folder>/<file>``
    (``contracts.layout.check_report_prefix``, which this Lambda cannot import: it needs ml_code)."""
    _, key = _split_s3_uri(report_uri)
    parts = key.split("/")
    return parts[-3] if len(parts) >= 3 else ""


def drift_persists_entry(report: dict[str, Any], *, report_uri: str, alarm: str, bus: str) -> dict[str, Any]:
    """The PutEvents entry telling the tooling account that drift persists (one per check)."""
    endpoint, violations = report["endpoint_name"], int(report["violations"])
    check = check_execution_id(report_uri)
    detail = {
        "alarmName": alarm,
        "endpointName": endpoint,
        "violations": violations,
        "checkExecutionId": check,
        "reportUri": report_uri,
        "reason": f"drift persists: drift check {check} found {violations} violation(s) on {endpoint}",
    }
    return {
        "Source": DRIFT_SOURCE,
        "DetailType": DRIFT_PERSISTS_EVENT,
        "Detail": json.dumps(detail, sort_keys=True),
        "EventBusName": bus,
    }


def relay_persisting_drift(report: dict[str, Any], report_uri: str, *, alarm: str, bus: str) -> Relay:
    """Describe ``alarm``; when drift persists (:func:`decide_relay`), put one event on ``bus``.

    Raises:
        RuntimeError: EventBridge did not take the event (its error code and message).
        botocore.exceptions.ClientError: DescribeAlarms or PutEvents was refused.
    """
    violations = int(report["violations"])
    if drift_alarm_name(report["endpoint_name"]) != alarm:  # a run started by hand for another endpoint
        return Relay(False, f"the report is about {report['endpoint_name']}, not {alarm}'s endpoint")
    state = "not described"  # a clear check needs no alarm state
    if violations > 0:
        found = boto3.client("cloudwatch").describe_alarms(AlarmNames=[alarm], AlarmTypes=["MetricAlarm"])
        state = next((a["StateValue"] for a in found.get("MetricAlarms", [])), "missing")
    relay = decide_relay(violations, alarm, state)
    if not relay.send:
        return relay
    entry = drift_persists_entry(report, report_uri=report_uri, alarm=alarm, bus=bus)
    result = boto3.client("events").put_events(Entries=[entry])
    (outcome,) = result["Entries"]
    if result.get("FailedEntryCount") or "EventId" not in outcome:
        raise RuntimeError(
            f"{bus} did not take the {DRIFT_PERSISTS_EVENT!r} event for {alarm}: "
            f"{outcome.get('ErrorCode')} {outcome.get('ErrorMessage')}"
        )
    return Relay(True, f"{relay.reason}; event {outcome['EventId']} put on {bus}")


def _relay_settings() -> tuple[str, str] | None:
    """(alarm, bus) in a stage account; None where the tooling account's trigger reads the check."""
    alarm, bus = os.environ.get("DRIFT_ALARM_NAME", ""), os.environ.get("DRIFT_EVENT_BUS", "")
    if not alarm and not bus:
        return None
    if not alarm or not bus:
        missing = "DRIFT_ALARM_NAME" if not alarm else "DRIFT_EVENT_BUS"
        raise RuntimeError(f"environment variable {missing} is not set (the other relay setting is)")
    return alarm, bus


def handler(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    """Read the report at ``event["report_uri"]``, publish its metrics, return its violation count;
    in a stage account, then relay persisting drift (:func:`relay_persisting_drift`).

    Raises:
        ValueError: a bad ``report_uri``, a report that is not JSON or is malformed, or a report
            about another endpoint than ``event["endpoint_name"]``.
        RuntimeError: a relay setting is missing, or the relay failed (after the metrics are out).
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
    relay_to = _relay_settings()  # a missing setting fails before anything is published
    namespace = os.environ.get("METRIC_NAMESPACE") or DEFAULT_NAMESPACE
    calls = publish(boto3.client("cloudwatch"), namespace, data)
    violations = int(report["violations"])
    summary = {"endpoint": report["endpoint_name"], "published": len(data), "calls": calls}
    print(json.dumps({**summary, "namespace": namespace, "violations": violations}))
    if relay_to is not None:
        alarm, bus = relay_to
        relay = relay_persisting_drift(report, event["report_uri"], alarm=alarm, bus=bus)
        print(json.dumps({"relay": asdict(relay), "alarm": alarm}))
    return {"violations": violations}
