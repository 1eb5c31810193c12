"""The emulator's CloudWatch alarm evaluation (moto stores alarms, never evaluates them), and its event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator.alarms import alarm_event, evaluate_alarm
from emulator.local_aws import LocalAws, moto_server

ALARM: dict[str, Any] = {
    "AlarmName": "mlops-demo-dev-prod-drift",
    "Namespace": "MLOpsPlatform/Drift",
    "MetricName": "Violations",
    "Dimensions": [{"Name": "EndpointName", "Value": "mlops-demo-dev-prod"}],
    "Statistic": "Maximum",
    "Period": 3600,
    "EvaluationPeriods": 1,
    "Threshold": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "ActionsEnabled": True,
}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as stand_in:
        yield stand_in


def _publish(aws: LocalAws, value: float, endpoint: str = "mlops-demo-dev-prod") -> None:
    aws.client("cloudwatch").put_metric_data(
        Namespace="MLOpsPlatform/Drift",
        MetricData=[{"MetricName": "Violations", "Value": value,
                     "Dimensions": [{"Name": "EndpointName", "Value": endpoint}]}],
    )  # fmt: skip


def test_a_breaching_datum_published_this_second_raises_the_alarm(aws: LocalAws) -> None:
    # (moto drops data at or after EndTime truncated to the second: evaluated at once, it must count)
    _publish(aws, 8)
    state, reason = evaluate_alarm(aws, ALARM)
    assert (state, reason) == ("ALARM", "Violations Maximum = 8.0 vs threshold 1")
    described = aws.client("cloudwatch").describe_alarms(AlarmNames=[ALARM["AlarmName"]])["MetricAlarms"]
    assert described[0]["StateValue"] == "ALARM"


def test_no_datum_for_this_endpoint_is_ok(aws: LocalAws) -> None:
    _publish(aws, 8, endpoint="another-endpoint")
    alarm = {**ALARM, "AlarmName": "quiet", "Dimensions": [{"Name": "EndpointName", "Value": "quiet"}]}
    assert evaluate_alarm(aws, alarm) == ("OK", "Violations Maximum = None vs threshold 1")


def test_the_event_is_the_state_change_the_rule_matches() -> None:
    event = alarm_event("mlops-demo-dev-prod-drift", "ALARM", "why")
    assert event["source"] == "aws.cloudwatch"
    assert event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["detail"] == {
        "alarmName": "mlops-demo-dev-prod-drift",
        "state": {"value": "ALARM", "reason": "why"},
    }
