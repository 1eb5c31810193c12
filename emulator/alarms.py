"""CloudWatch alarms, evaluated: moto stores an alarm but never evaluates it, so the emulator does.

:func:`evaluate_alarm` reads the alarm's metric from the stand-in's CloudWatch, compares it as the
alarm's rule says and records the state with ``SetAlarmState``; :func:`alarm_event` is the
EventBridge event CloudWatch would emit for that state change (the synthesized rules route it:
:mod:`emulator.events`). The largest statistic over the last two periods decides;
``EvaluationPeriods``, ``DatapointsToAlarm`` and ``TreatMissingData`` are not applied (no data is OK).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from emulator.local_aws import LocalAws
from emulator.standins import ACCOUNT, PARTITION, REGION


def evaluate_alarm(aws: LocalAws, alarm: Mapping[str, Any]) -> tuple[str, str]:
    """Evaluate ``alarm`` on the stand-in's metrics (moto stores alarms, never evaluates them).

    Records the result with SetAlarmState and returns (state, reason).
    """
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        **{
            k: alarm[k]
            for k in (
                "AlarmName",
                "Namespace",
                "MetricName",
                "Statistic",
                "Period",
                "EvaluationPeriods",
                "Threshold",
                "ComparisonOperator",
            )
            if k in alarm
        },
        Dimensions=alarm.get("Dimensions", []),
        ActionsEnabled=bool(alarm.get("ActionsEnabled", True)),
    )
    # The window ends a minute ahead: moto truncates EndTime to the second and excludes it, so a
    # datum published in the current second (the metrics step has just run) would be missed.
    now = datetime.now(UTC)
    stats: Sequence[Mapping[str, Any]] = cloudwatch.get_metric_statistics(
        Namespace=alarm["Namespace"], MetricName=alarm["MetricName"], Dimensions=alarm.get("Dimensions", []),
        StartTime=now - timedelta(seconds=2 * int(alarm["Period"])), EndTime=now + timedelta(minutes=1),
        Period=int(alarm["Period"]), Statistics=[alarm["Statistic"]],
    )["Datapoints"]  # fmt: skip
    value = max((p[alarm["Statistic"]] for p in stats), default=None)
    breaching = value is not None and _compare(value, alarm["ComparisonOperator"], float(alarm["Threshold"]))
    state: Literal["ALARM", "OK"] = "ALARM" if breaching else "OK"
    reason = f"{alarm['MetricName']} {alarm['Statistic']} = {value} vs threshold {alarm['Threshold']}"
    cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason)
    return state, reason


def _compare(value: float, operator: str, threshold: float) -> bool:
    return {
        "GreaterThanOrEqualToThreshold": value >= threshold,
        "GreaterThanThreshold": value > threshold,
        "LessThanThreshold": value < threshold,
        "LessThanOrEqualToThreshold": value <= threshold,
    }[operator]


def alarm_event(alarm_name: str, state: str, reason: str, *, account: str = ACCOUNT) -> dict[str, Any]:
    """The EventBridge event CloudWatch emits in ``account`` for an alarm state change (its
    ``resources`` name the alarm's ARN, which rules match on)."""
    return {
        "version": "0",
        "id": f"offline-{alarm_name}-{state}",
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:{PARTITION}:cloudwatch:{REGION}:{account}:alarm:{alarm_name}"],
        "detail": {"alarmName": alarm_name, "state": {"value": state, "reason": reason}},
    }
