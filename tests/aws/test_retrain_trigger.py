"""Drift → retrain: starts when idle, never beside a running execution, at most once per interval.

moto runs every pipeline execution to Succeeded at once, so "running" and "started an hour ago"
are set on moto's in-process backend objects (``FakePipelineExecution``) directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from functions import retrain_trigger
from functions.retrain_trigger import Execution, decide

PIPELINE = "mlops-demo-dev-training"
REGION = "us-east-1"
NOW = datetime(2026, 11, 28, 19, 0, tzinfo=timezone.utc)  # noqa: UP017
HOUR = 3600


def _alarm(state: str = "ALARM") -> dict[str, Any]:
    return {
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "detail": {
            "alarmName": "mlops-demo-dev-prod-drift",
            "state": {"value": state, "reason": "Violations >= 1"},
        },
    }


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("PIPELINE_NAME", PIPELINE)
    monkeypatch.setenv("MIN_INTERVAL_SECONDS", str(24 * HOUR))
    with mock_aws():
        client = boto3.client("sagemaker", region_name=REGION)
        client.create_pipeline(
            PipelineName=PIPELINE,
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
            RoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/pipeline",
        )
        yield client


def _executions() -> list[Any]:
    pipeline = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[PIPELINE]
    return list(pipeline.pipeline_executions.values())


def _start(client: Any, description: str, *, status: str = "Succeeded", started: datetime = NOW) -> None:
    client.start_pipeline_execution(PipelineName=PIPELINE, PipelineExecutionDescription=description)
    execution = _executions()[-1]
    execution.pipeline_execution_status = status
    execution.start_time = execution.creation_time = started.replace(tzinfo=None)


def test_starts_a_run_with_the_reason_when_idle(sagemaker: Any) -> None:
    result = retrain_trigger.handler(_alarm(), now=NOW)
    assert result["start"] is True
    (execution,) = _executions()
    assert execution.pipeline_execution_description.startswith("drift: mlops-demo-dev-prod-drift")


def test_never_starts_beside_a_running_execution(sagemaker: Any) -> None:
    _start(sagemaker, "push abc123", status="Executing", started=NOW - timedelta(minutes=5))
    result = retrain_trigger.handler(_alarm(), now=NOW)
    assert result["start"] is False
    assert "already running" in result["reason"]
    assert len(_executions()) == 1


def test_rate_cap_within_the_interval_then_allowed_after_it(sagemaker: Any) -> None:
    _start(sagemaker, "drift: earlier alarm", started=NOW - timedelta(hours=2))
    capped = retrain_trigger.handler(_alarm(), now=NOW)
    assert capped["start"] is False
    assert "rate cap" in capped["reason"]
    later = retrain_trigger.handler(_alarm(), now=NOW + timedelta(hours=23))
    assert later["start"] is True


def test_a_second_alarm_right_after_the_first_is_deduplicated(sagemaker: Any) -> None:
    first = retrain_trigger.handler(_alarm(), now=NOW)
    _executions()[-1].start_time = NOW.replace(tzinfo=None)  # moto stamps the wall clock
    second = retrain_trigger.handler(_alarm(), now=NOW + timedelta(minutes=1))
    assert first["start"] is True
    assert second["start"] is False
    assert len(_executions()) == 1


def test_push_runs_do_not_count_towards_the_rate_cap(sagemaker: Any) -> None:
    _start(sagemaker, "push abc123", started=NOW - timedelta(hours=1))
    assert retrain_trigger.handler(_alarm(), now=NOW)["start"] is True


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_other_alarm_states_are_ignored(sagemaker: Any, state: str) -> None:
    assert retrain_trigger.handler(_alarm(state), now=NOW)["start"] is False
    assert _executions() == []


def test_decide_is_pure() -> None:
    done = Execution("a", "Succeeded", NOW - timedelta(hours=30), "drift: x")
    stopping = Execution("b", "Stopping", NOW, "push")
    assert decide([done], NOW, 24 * HOUR).start
    assert not decide([stopping, done], NOW, 24 * HOUR).start
    assert not decide([done], NOW, 31 * HOUR).start
