"""Drift → retrain: starts when idle, never beside a running execution, at most once per interval.

moto runs every pipeline execution to Succeeded at once, so "running" and "started an hour ago"
are set on moto's in-process backend objects (``FakePipelineExecution``) directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from functions import retrain_trigger
from functions.retrain_trigger import Execution, decide
from stacks.common import event_types

PIPELINE = "mlops-demo-dev-training"
REGION = "us-east-1"
NOW = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
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
    assert result["execution_arn"] == execution.arn
    assert execution.pipeline_execution_description == "drift: mlops-demo-dev-prod-drift — Violations >= 1"
    # moto checks neither pattern nor length: check them against the botocore service model
    model = sagemaker.meta.service_model
    name_shape = model.shape_for("PipelineExecutionName")
    assert re.fullmatch(name_shape.metadata["pattern"], execution.pipeline_execution_display_name)
    assert len(execution.pipeline_execution_display_name) <= name_shape.metadata["max"]
    token = model.shape_for("IdempotencyToken").metadata
    assert token["min"] <= len(execution.client_request_token) <= token["max"]


def test_a_long_multiline_reason_fits_the_description_limit() -> None:
    text = retrain_trigger.description("alarm", "line one\nline two " + "x" * 5000)
    assert text.startswith("drift: alarm — line one line two x")
    assert len(text) == retrain_trigger.DESCRIPTION_MAX == 3072


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


def test_an_interval_that_is_not_whole_seconds_is_named(
    sagemaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIN_INTERVAL_SECONDS", "1d")
    with pytest.raises(RuntimeError, match="MIN_INTERVAL_SECONDS must be whole seconds, got '1d'"):
        retrain_trigger.handler(_alarm(), now=NOW)


@pytest.mark.parametrize("missing", ["PIPELINE_NAME", "MIN_INTERVAL_SECONDS"])
def test_a_missing_setting_is_named(sagemaker: Any, monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        retrain_trigger.handler(_alarm(), now=NOW)
    assert _executions() == []


def test_decide_is_pure() -> None:
    done = Execution("a", "Succeeded", NOW - timedelta(hours=30), "drift: x")
    stopping = Execution("b", "Stopping", NOW, "push")
    assert decide([done], NOW, 24 * HOUR).start
    assert not decide([stopping, done], NOW, 24 * HOUR).start
    assert not decide([done], NOW, 31 * HOUR).start
    # a long-running execution blocks however long ago it started; a failed drift run still counts
    old_running = Execution("c", "Executing", NOW - timedelta(days=3), "push")
    failed_drift = Execution("d", "Failed", NOW - timedelta(hours=1), "drift: y")
    assert not decide([old_running], NOW, 24 * HOUR).start
    capped = decide([done, failed_drift], NOW, 24 * HOUR)
    assert not capped.start
    assert capped.reason.endswith(": d")


REPORTS = "local-artifacts"
REPORT_URI = f"s3://{REPORTS}/drift-checks/{{execution_id}}/report/drift_metrics.json"
CHECK_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-demo-dev-drift-check/execution/"


def _check_succeeded(execution_id: str = "chk1") -> dict[str, Any]:
    """The drift-check pipeline's completion event (what the second rule delivers)."""
    return {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "detail": {
            "currentPipelineExecutionStatus": "Succeeded",
            "pipelineExecutionArn": CHECK_ARN + execution_id,
        },
    }


@pytest.fixture
def recheck(sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The settings a drift-check completion needs, the reports bucket, and the prod drift alarm."""
    monkeypatch.setenv("ALARM_NAMES", "mlops-demo-dev-staging-drift,mlops-demo-dev-prod-drift")
    monkeypatch.setenv("REPORT_URI", REPORT_URI)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=REPORTS)
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName="mlops-demo-dev-prod-drift", Namespace="MLOpsPlatform/Drift", MetricName="Violations",
        Statistic="Maximum", Period=3600, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip
    return sagemaker


def _alarm_state(state: str) -> None:
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
        AlarmName="mlops-demo-dev-prod-drift", StateValue=state, StateReason="Violations >= 1"
    )


def _report(execution_id: str, violations: int, endpoint: str = "mlops-demo-dev-prod") -> None:
    body = json.dumps({"endpoint_name": endpoint, "records": 500, "violations": violations})
    key = f"drift-checks/{execution_id}/report/drift_metrics.json"
    boto3.client("s3", region_name=REGION).put_object(Bucket=REPORTS, Key=key, Body=body.encode())


def test_persistent_drift_retrains_after_a_refusal(recheck: Any) -> None:
    # GIVEN drift found while a push run executes: the alarm's only state-change event is refused
    _alarm_state("ALARM")
    _start(recheck, "push abc123", status="Executing", started=NOW - timedelta(minutes=5))
    assert retrain_trigger.handler(_alarm(), now=NOW)["start"] is False
    # WHEN the push run has finished and the next drift check again finds violations
    _executions()[-1].pipeline_execution_status = "Succeeded"
    _report("chk2", violations=3)
    result = retrain_trigger.handler(_check_succeeded("chk2"), now=NOW + timedelta(hours=1))
    # THEN retraining starts, naming the alarm and that check
    assert result["start"] is True
    assert result["alarm"] == "mlops-demo-dev-prod-drift"
    assert _executions()[-1].pipeline_execution_description == (
        "drift: mlops-demo-dev-prod-drift — drift persists: drift check chk2 found 3 violation(s) "
        "on mlops-demo-dev-prod"
    )
    # ... and the next check within the interval is rate-capped
    _executions()[-1].start_time = (NOW + timedelta(hours=1)).replace(tzinfo=None)
    _report("chk3", violations=3)
    assert retrain_trigger.handler(_check_succeeded("chk3"), now=NOW + timedelta(hours=2))["start"] is False


@pytest.mark.parametrize(
    ("alarm_state", "violations", "why"),
    [
        # the alarm still shows the earlier check's ALARM, but this check is clear: drift has gone
        ("ALARM", 0, "clear in drift check chk1 (0 violations)"),
        # the first detection: CloudWatch has not evaluated the new datum yet; the alarm decides
        ("OK", 4, "OK (a first detection: the alarm's own event decides)"),
    ],
)
def test_a_check_starts_nothing_unless_drift_persists(
    recheck: Any, alarm_state: str, violations: int, why: str
) -> None:
    _alarm_state(alarm_state)
    _report("chk1", violations=violations)
    result = retrain_trigger.handler(_check_succeeded("chk1"), now=NOW)
    assert result == {"start": False, "reason": f"mlops-demo-dev-prod-drift is {why}, not ALARM",
                      "alarm": "mlops-demo-dev-prod-drift"}  # fmt: skip
    assert _executions() == []


def test_a_skipped_check_or_another_endpoint_starts_nothing(recheck: Any) -> None:
    _alarm_state("ALARM")
    # no report: the check found no capture in its window and skipped the drift step
    skipped = retrain_trigger.handler(_check_succeeded("nothing"), now=NOW)
    assert skipped["start"] is False
    assert "without a report" in skipped["reason"]
    # a report about an endpoint without a configured drift alarm
    _report("other", violations=5, endpoint="someone-else")
    other = retrain_trigger.handler(_check_succeeded("other"), now=NOW)
    assert other["start"] is False
    assert "someone-else-drift is not a configured drift alarm" in other["reason"]
    assert _executions() == []


def test_an_unknown_event_is_refused_by_name(sagemaker: Any) -> None:
    with pytest.raises(ValueError, match="unexpected event detail-type 'Scheduled Event'"):
        retrain_trigger.handler({"detail-type": "Scheduled Event", "detail": {}}, now=NOW)


# ---------------------------------------------------------------------- a stage account's drift persists

STAGE_ACCOUNT = "333333333333"


def _stage_persists(alarm: str = "mlops-demo-dev-prod-drift") -> dict[str, Any]:
    """A stage account's ``Drift Persists`` event, as the tooling bus's rule delivers it."""
    return {
        "source": "mlops.drift",
        "detail-type": "Drift Persists",
        "account": STAGE_ACCOUNT,
        "detail": {
            "alarmName": alarm,
            "endpointName": "mlops-demo-dev-prod",
            "violations": 3,
            "checkExecutionId": "chk7",
            "reportUri": "s3://stage-capture/drift-checks/chk7/report/drift_metrics.json",
            "reason": "drift persists: drift check chk7 found 3 violation(s) on mlops-demo-dev-prod",
        },
    }


def test_the_event_types_are_the_stacks_ones() -> None:
    assert (
        retrain_trigger.ALARM_EVENT,
        retrain_trigger.PIPELINE_EVENT,
        retrain_trigger.DRIFT_PERSISTS_EVENT,
    ) == (event_types.ALARM_EVENT, event_types.PIPELINE_EVENT, event_types.DRIFT_PERSISTS_EVENT)


def test_a_stage_accounts_persisting_drift_starts_retraining_when_allowed(sagemaker: Any) -> None:
    # GIVEN no setting about reports or alarms (the stage checked both in its account)
    # WHEN its Drift Persists event arrives
    result = retrain_trigger.handler(_stage_persists(), now=NOW)
    # THEN one run starts, its description naming the alarm, the check and the account
    assert result["start"] is True
    assert result["alarm"] == "mlops-demo-dev-prod-drift"
    (execution,) = _executions()
    assert execution.pipeline_execution_description == (
        "drift: mlops-demo-dev-prod-drift — drift persists: drift check chk7 found 3 violation(s) "
        f"on mlops-demo-dev-prod (account {STAGE_ACCOUNT})"
    )


def test_a_stage_accounts_persisting_drift_is_rate_capped(sagemaker: Any) -> None:
    # GIVEN the stage's alarm started a run two hours ago (its state change, forwarded)
    _start(sagemaker, "drift: mlops-demo-dev-prod-drift — Violations >= 1", started=NOW - timedelta(hours=2))
    # WHEN the next check finds the drift persisting
    capped = retrain_trigger.handler(_stage_persists(), now=NOW)
    # THEN the cap refuses it, and the same event once the interval has passed starts one
    assert capped["start"] is False
    assert "rate cap" in capped["reason"]
    assert len(_executions()) == 1
    assert retrain_trigger.handler(_stage_persists(), now=NOW + timedelta(hours=23))["start"] is True


def test_a_stage_accounts_persisting_drift_waits_for_a_running_execution(sagemaker: Any) -> None:
    _start(sagemaker, "push abc123", status="Executing", started=NOW - timedelta(minutes=5))
    result = retrain_trigger.handler(_stage_persists(), now=NOW)
    assert result["start"] is False
    assert "already running" in result["reason"]


def test_a_persisting_drift_event_without_an_alarm_is_refused(sagemaker: Any) -> None:
    event = _stage_persists()
    del event["detail"]["alarmName"]
    with pytest.raises(ValueError, match=re.escape("'Drift Persists' event without detail.alarmName")):
        retrain_trigger.handler(event, now=NOW)
    assert _executions() == []
