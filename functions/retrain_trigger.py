"""Drift alarm → retraining, at most once per interval and never beside a running execution.

Target of an EventBridge rule on the drift alarms' ``CloudWatch Alarm State Change`` events. The
decision is a pure function of the pipeline's recent executions (tested on its own); the handler
only lists executions, decides, and starts one with the reason in its description. The Lambda
runs with reserved concurrency 1, so two alarms firing together cannot both pass the check.

Environment: ``PIPELINE_NAME``, ``MIN_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import boto3

#: Executions started by this trigger carry this description prefix (the rate cap counts them).
REASON_PREFIX = "drift:"
RUNNING = frozenset({"Executing", "Stopping"})


@dataclass(frozen=True)
class Execution:
    """What the decision needs of one pipeline execution."""

    arn: str
    status: str
    started: datetime
    description: str


@dataclass(frozen=True)
class Decision:
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
        return Decision(False, f"a drift retraining started at {recent[0].started.isoformat()} (rate cap)")
    return Decision(True, "no execution running and none drift-triggered within the interval")


def recent_executions(client: Any, pipeline: str, limit: int = 50) -> list[Execution]:
    """The pipeline's newest executions, with descriptions (the summaries lack them)."""
    summaries = client.list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=limit
    )["PipelineExecutionSummaries"]
    found = []
    for summary in summaries:
        arn = summary["PipelineExecutionArn"]
        detail = client.describe_pipeline_execution(PipelineExecutionArn=arn)
        found.append(
            Execution(
                arn=arn,
                status=summary.get("PipelineExecutionStatus", detail.get("PipelineExecutionStatus", "")),
                started=_aware(summary.get("StartTime") or detail["CreationTime"]),
                description=detail.get("PipelineExecutionDescription", "") or "",
            )
        )
    return found


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # noqa: UP017


def handler(event: dict[str, Any], context: Any = None, *, now: datetime | None = None) -> dict[str, Any]:
    """Handle one alarm state change; returns (and logs) the decision."""
    detail = event.get("detail", {})
    alarm = detail.get("alarmName", "unknown alarm")
    state = detail.get("state", {})
    if state.get("value") != "ALARM":
        ignored = {"start": False, "reason": f"{alarm} is {state.get('value')}, not ALARM", "alarm": alarm}
        print(json.dumps(ignored))
        return ignored
    pipeline = os.environ["PIPELINE_NAME"]
    client = boto3.client("sagemaker")
    moment = now or datetime.now(timezone.utc)  # noqa: UP017
    decision = decide(recent_executions(client, pipeline), moment, int(os.environ["MIN_INTERVAL_SECONDS"]))
    result: dict[str, Any] = {**asdict(decision), "alarm": alarm}
    if decision.start:
        description = f"{REASON_PREFIX} {alarm}: {state.get('reason', '')}"[:3072]
        started = client.start_pipeline_execution(
            PipelineName=pipeline,
            PipelineExecutionDisplayName=f"drift-{moment.strftime('%Y%m%d-%H%M%S')}",
            PipelineExecutionDescription=description,
            # Same alarm in the same minute = the same request: SageMaker starts it once.
            ClientRequestToken=hashlib.sha256(f"{alarm}@{moment:%Y%m%d%H%M}".encode()).hexdigest()[:40],
        )
        result["execution_arn"] = started["PipelineExecutionArn"]
    print(json.dumps(result))
    return result
