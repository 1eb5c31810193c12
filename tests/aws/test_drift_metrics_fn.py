"""The drift-metrics Lambda publishes the drift check's report to CloudWatch (under moto)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from contracts import layout
from functions import drift_metrics
from ml_code import contract
from stacks.common import event_types

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


# ---------------------------------------------------------------------- a stage account's relay

ALARM = f"{ENDPOINT}-drift"
BUS = f"arn:aws:events:us-east-1:{DEFAULT_ACCOUNT_ID}:event-bus/default"


def test_the_relays_event_and_layout_are_the_contract_ones() -> None:
    assert (drift_metrics.DRIFT_SOURCE, drift_metrics.DRIFT_PERSISTS_EVENT) == (
        event_types.DRIFT_SOURCE,
        event_types.DRIFT_PERSISTS_EVENT,
    )
    # the execution ID is read from where the layout puts a report, whatever its prefix
    for execution in ("e1", "wvyi5mr0xcm4"):
        uri = f"s3://artifacts/{layout.check_report_prefix(execution)}{contract.DRIFT_METRICS_FILE}"
        assert drift_metrics.check_execution_id(uri) == execution
    assert f"s3://artifacts/{layout.check_report_prefix('e1')}{contract.DRIFT_METRICS_FILE}" == URI


@dataclass
class Stage:
    """The stage account's drift alarm, what reached its bus, and every AWS call the handler made."""

    cloudwatch: Any
    queue_url: str
    calls: list[str] = field(default_factory=list)

    def alarm(self, state: str) -> None:
        self.cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason="Violations >= 1")

    def events(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def stage(aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> Stage:
    """A stage account's publisher settings, its drift alarm, a queue catching what its bus gets."""
    s3, cloudwatch = aws
    _put(s3, REPORT)
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM, Namespace=contract.DRIFT_NAMESPACE, MetricName="Violations", Statistic="Maximum",
        Period=3600, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}],
    )  # fmt: skip
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue_url = sqs.create_queue(QueueName="caught")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="catch", EventPattern=json.dumps({"source": [event_types.DRIFT_SOURCE]}))
    events.put_targets(Rule="catch", Targets=[{"Id": "q", "Arn": queue_arn}])
    monkeypatch.setenv("DRIFT_ALARM_NAME", ALARM)
    monkeypatch.setenv("DRIFT_EVENT_BUS", BUS)
    found = Stage(cloudwatch, queue_url)
    # every operation of every client the handler makes (boto3.client uses the default session)
    session = boto3.Session()
    session.events.register("provide-client-params", lambda model, **_: found.calls.append(model.name))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return found


def test_drift_that_persists_is_put_on_the_bus_once(stage: Stage) -> None:
    # GIVEN the stage's drift alarm already in ALARM from an earlier check
    stage.alarm("ALARM")
    # WHEN this check's report (2 violations) is published
    out = drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    # THEN the metrics are out, and one event tells the tooling account that drift persists
    assert out == {"violations": 2}
    (event,) = stage.events()
    # (EventBridge stamps the account; an entry cannot name one, and moto's queue target drops it)
    assert (event["source"], event["detail-type"]) == ("mlops.drift", "Drift Persists")
    assert event["detail"] == {
        "alarmName": ALARM,
        "endpointName": ENDPOINT,
        "violations": 2,
        "checkExecutionId": "e1",
        "reportUri": URI,
        "reason": f"drift persists: drift check e1 found 2 violation(s) on {ENDPOINT}",
    }
    assert stage.calls.count("PutEvents") == 1
    assert _maximum(stage.cloudwatch, "Violations", EndpointName=ENDPOINT) == 2.0


@pytest.mark.parametrize(
    ("violations", "alarm_state", "describes"),
    [
        (0, "ALARM", False),  # drift has gone: the alarm still shows the earlier check
        (2, "OK", True),  # a first detection: the alarm's own state change is forwarded
        (2, "INSUFFICIENT_DATA", True),
    ],
)
def test_nothing_is_relayed_unless_drift_persists(
    stage: Stage, violations: int, alarm_state: str, describes: bool
) -> None:
    _put(boto3.client("s3"), {**REPORT, "violations": violations})
    stage.alarm(alarm_state)
    assert drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT}) == {"violations": violations}
    assert stage.events() == []
    assert "PutEvents" not in stage.calls
    assert ("DescribeAlarms" in stage.calls) is describes
    assert "PutMetricData" in stage.calls


def test_a_report_about_another_endpoint_than_the_alarms_is_not_relayed(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage.alarm("ALARM")
    monkeypatch.setenv("DRIFT_ALARM_NAME", "mlops-demo-dev-staging-drift")
    drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    assert stage.events() == []
    assert not {"DescribeAlarms", "PutEvents"} & set(stage.calls)


def test_without_a_bus_the_publisher_never_describes_or_puts(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the tooling account's publisher (no relay settings), the alarm in ALARM, drift found
    monkeypatch.delenv("DRIFT_ALARM_NAME")
    monkeypatch.delenv("DRIFT_EVENT_BUS")
    stage.alarm("ALARM")
    # WHEN it publishes
    drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    # THEN it only read the report and put metrics (the trigger reads the check there)
    assert set(stage.calls) == {"GetObject", "PutMetricData"}
    assert stage.events() == []


def test_a_failed_relay_fails_the_step_after_the_metrics_are_out(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage.alarm("ALARM")
    monkeypatch.setenv("DRIFT_EVENT_BUS", BUS.replace("/default", "/gone"))
    with pytest.raises(botocore.exceptions.ClientError, match="ResourceNotFoundException"):
        drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    # the check fails (its failure reaches the team), but the alarm still sees this check
    assert _maximum(stage.cloudwatch, "Violations", EndpointName=ENDPOINT) == 2.0


@pytest.mark.parametrize("missing", ["DRIFT_ALARM_NAME", "DRIFT_EVENT_BUS"])
def test_half_a_relay_setting_is_named_before_anything_is_published(
    stage: Stage, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=f"{missing} is not set"):
        drift_metrics.handler({"report_uri": URI, "endpoint_name": ENDPOINT})
    assert "PutMetricData" not in stage.calls
