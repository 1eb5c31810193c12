"""Drift alarm → retraining, at most once per interval and never beside a running execution.

Target of EventBridge rules for three kinds of event:

* the drift alarms' ``CloudWatch Alarm State Change`` events (into ALARM): drift was just found
  (a tooling stage's alarm, or a stage account's, forwarded to the tooling account's bus);
* the drift-check pipeline's successful executions: drift *persists* when that check's own
  report has violations and the endpoint's drift alarm is already in ALARM (from an earlier
  check: CloudWatch evaluates the new datum a minute or so later, so the alarm alone would be
  stale, and first detections stay with the alarm's own event). An alarm that stays in ALARM sends
  no further state-change event, so without this a refusal (a run was executing, or the rate cap)
  would drop persistent drift for good; with it, persistent drift retrains once the cap allows;
* ``Drift Persists`` (source ``mlops.drift``): the same finding for a stage in another account,
  whose report and alarm are there. Its drift check's metrics step applied the same rule and
  sends the alarm name and reason (``functions/drift_metrics.py``); the tooling account's rule
  admits it only from that stage's account and for that stage's alarm, so it counts as ALARM.

The decision (:func:`decide`) is a pure function of the pipeline's recent executions; the handler
only lists executions, decides, and starts one with the reason in its description (which is how
later decisions recognise drift-triggered runs). The function runs with reserved concurrency 1,
so two alarms firing together are handled one after the other and the second sees the first's
execution; the idempotency token makes an EventBridge retry of the same alarm start nothing new.

Environment: ``PIPELINE_NAME``, ``MIN_INTERVAL_SECONDS``; for drift-check completions also
``ALARM_NAMES`` (comma-separated: the drift alarms, ``<endpoint>-drift``) and ``REPORT_URI``
(``s3://…/{execution_id}/…/drift_metrics.json``). Standard library, boto3 and ``contracts.names``
(which the function's asset carries beside it; :mod:`stacks.monitoring.function_asset`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions

from contracts.names import drift_alarm_name

if TYPE_CHECKING:  # type stubs: a development requirement, not in the Lambda bundle
    from mypy_boto3_sagemaker import SageMakerClient

#: Executions started by this trigger carry this description prefix (the rate cap counts them).
REASON_PREFIX = "drift:"
ALARM_EVENT = "CloudWatch Alarm State Change"
PIPELINE_EVENT = "SageMaker Model Building Pipeline Execution Status Change"
#: Must equal ``stacks.common.event_types.DRIFT_PERSISTS_EVENT`` (as the two above theirs; a test pins them).
DRIFT_PERSISTS_EVENT = "Drift Persists"
RUNNING = frozenset({"Executing", "Stopping"})
#: PipelineExecutionDescription's maximum length (botocore's service model).
DESCRIPTION_MAX = 3072
#: How many of the newest executions are checked (ListPipelineExecutions pages of 100).
LOOKBACK_EXECUTIONS = 500


@dataclass(frozen=True)
class Execution:
    """What the decision needs of one pipeline execution."""

    arn: str
    status: str
    started: datetime
    description: str


@dataclass(frozen=True)
class Decision:
    """Whether to start a retraining run, and why (logged and returned)."""

    start: bool
    reason: str


def decide(executions: Sequence[Execution], now: datetime, min_interval_seconds: int) -> Decision:
    """Start a retraining run unless one is running or a drift run started within the interval."""
    running = [e for e in executions if e.status in RUNNING]
    if running:
        return Decision(False, f"an execution is already running ({running[0].arn})")
    recent = [
        e
        for e in executions
        if e.description.startswith(REASON_PREFIX)
        and (now - e.started).total_seconds() < min_interval_seconds
    ]
    if recent:
        newest = max(recent, key=lambda e: e.started)
        return Decision(
            False,
            f"a drift retraining started at {newest.started.isoformat()}, less than "
            f"{min_interval_seconds}s ago (rate cap): {newest.arn}",
        )
    return Decision(True, "no execution running and none drift-triggered within the interval")


def recent_executions(
    client: SageMakerClient, pipeline: str, limit: int = LOOKBACK_EXECUTIONS
) -> list[Execution]:
    """The pipeline's newest executions (at most ``limit``); summaries carry status and description."""
    pages = client.get_paginator("list_pipeline_executions").paginate(
        PipelineName=pipeline,
        SortBy="CreationTime",
        SortOrder="Descending",
        PaginationConfig={"MaxItems": limit, "PageSize": 100},
    )
    return [
        Execution(
            arn=summary["PipelineExecutionArn"],
            status=summary.get("PipelineExecutionStatus", ""),
            started=_aware(summary["StartTime"]),
            description=summary.get("PipelineExecutionDescription") or "",
        )
        for page in pages
        for summary in page["PipelineExecutionSummaries"]
    ]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _setting(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def description(alarm: str, reason: str) -> str:
    """The execution description: the prefix the rate cap counts, the alarm and its reason."""
    text = f"{REASON_PREFIX} {alarm} — {' '.join(reason.split())}"
    return text[:DESCRIPTION_MAX]


def handler(event: dict[str, Any], context: Any = None, *, now: datetime | None = None) -> dict[str, Any]:
    """Handle one alarm state change, drift-check completion or stage account's persisting drift;
    returns (and logs) the decision.

    Raises:
        RuntimeError: a setting is not set (or ``MIN_INTERVAL_SECONDS`` is not whole seconds).
        ValueError: the event is none of the three kinds, or a ``Drift Persists`` event names no alarm.
    """
    kind = event.get("detail-type")
    if kind == PIPELINE_EVENT:
        alarm, state, reason = _persisting_drift(event.get("detail") or {})
    elif kind == ALARM_EVENT:
        detail = event.get("detail") or {}
        alarm = str(detail.get("alarmName", "unknown alarm"))
        state = str((detail.get("state") or {}).get("value"))
        reason = str((detail.get("state") or {}).get("reason", ""))
    elif kind == DRIFT_PERSISTS_EVENT:
        alarm, state, reason = _stage_persisting_drift(event)
    else:
        raise ValueError(
            f"unexpected event detail-type {kind!r}: expected {ALARM_EVENT!r}, {PIPELINE_EVENT!r} "
            f"or {DRIFT_PERSISTS_EVENT!r}"
        )
    if state != "ALARM":
        ignored = {"start": False, "reason": f"{alarm} is {state}, not ALARM", "alarm": alarm}
        print(json.dumps(ignored))
        return ignored
    return _decide_and_start(alarm, reason, now or datetime.now(UTC))


def _persisting_drift(detail: dict[str, Any]) -> tuple[str, str, str]:
    """(alarm, state, reason) for a finished drift check: "ALARM" only when its report found
    violations on an endpoint whose drift alarm is already in ALARM; otherwise why not."""
    execution_arn = str(detail.get("pipelineExecutionArn", ""))
    execution_id = execution_arn.rsplit("/", 1)[-1]
    if not execution_id:
        raise ValueError("drift-check event without detail.pipelineExecutionArn")
    report = _read_report(_setting("REPORT_URI").format(execution_id=execution_id))
    if report is None:
        return f"drift check {execution_id}", "a check without a report (no capture in its window)", ""
    endpoint, violations = str(report.get("endpoint_name", "")), int(report.get("violations", 0))
    alarm = drift_alarm_name(endpoint)
    if alarm not in _setting("ALARM_NAMES").split(","):
        return alarm, "not a configured drift alarm", ""
    if violations <= 0:
        return alarm, f"clear in drift check {execution_id} (0 violations)", ""
    found = boto3.client("cloudwatch").describe_alarms(AlarmNames=[alarm], AlarmTypes=["MetricAlarm"])
    state = next((a["StateValue"] for a in found.get("MetricAlarms", [])), "missing")
    if state != "ALARM":
        return alarm, f"{state} (a first detection: the alarm's own event decides)", ""
    reason = f"drift persists: drift check {execution_id} found {violations} violation(s) on {endpoint}"
    return alarm, "ALARM", reason


def _stage_persisting_drift(event: dict[str, Any]) -> tuple[str, str, str]:
    """(alarm, "ALARM", reason) of a stage account's ``Drift Persists`` event: that account's check
    found violations while its alarm was in ALARM (the rule matched its account and alarm name)."""
    detail = event.get("detail") or {}
    alarm = str(detail.get("alarmName") or "")
    if not alarm:
        raise ValueError(f"{DRIFT_PERSISTS_EVENT!r} event without detail.alarmName")
    reason = str(detail.get("reason") or f"drift persists on {alarm}")
    return alarm, "ALARM", f"{reason} (account {event.get('account', 'unknown')})"


def _read_report(uri: str) -> dict[str, Any] | None:
    """The drift check's metrics document, or None when the check wrote none (it was skipped)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except botocore.exceptions.ClientError as err:
        if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    report: dict[str, Any] = json.loads(body)
    return report


def _decide_and_start(alarm: str, reason: str, moment: datetime) -> dict[str, Any]:
    pipeline = _setting("PIPELINE_NAME")
    try:
        interval = int(_setting("MIN_INTERVAL_SECONDS"))
    except ValueError:
        raise RuntimeError(
            f"MIN_INTERVAL_SECONDS must be whole seconds, got {os.environ['MIN_INTERVAL_SECONDS']!r}"
        ) from None
    client = boto3.client("sagemaker")
    decision = decide(recent_executions(client, pipeline), moment, interval)
    result: dict[str, Any] = {**asdict(decision), "alarm": alarm, "pipeline": pipeline}
    if decision.start:
        started = client.start_pipeline_execution(
            PipelineName=pipeline,
            PipelineExecutionDisplayName=f"drift-{moment:%Y%m%d-%H%M%S}",
            PipelineExecutionDescription=description(alarm, reason),
            # The same alarm in the same minute (an EventBridge retry) is the same request.
            ClientRequestToken=hashlib.sha256(f"{alarm}@{moment:%Y%m%d%H%M}".encode()).hexdigest()[:40],
        )
        result["execution_arn"] = started["PipelineExecutionArn"]
    print(json.dumps(result))
    return result
