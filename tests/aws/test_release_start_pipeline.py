"""release.start_pipeline against moto: reason recorded, valid display name, parameters checked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from release import start_pipeline

PIPELINE = "mlops-demo-dev-training"
DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "InputDataUri", "Type": "String"}, {"Name": "TargetColumn", "Type": "String"}],
    "Steps": [],
}
# StartPipelineExecution's PipelineExecutionDisplayName pattern and length, from the service model.
DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
NOW = datetime(2026, 11, 28, 19, 0, 5, tzinfo=UTC)


@pytest.fixture
def sagemaker() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sagemaker", region_name="eu-west-1")
        client.create_pipeline(
            PipelineName=PIPELINE,
            PipelineDefinition=json.dumps(DEFINITION),
            RoleArn="arn:aws:iam::123456789012:role/pipeline",
        )
        yield client


def test_starts_with_the_reason_and_parameters_and_prints_arn_and_link(
    sagemaker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = "push abc1234 to main: tune features"
    code = start_pipeline.main(
        ["--pipeline", PIPELINE, "--reason", reason, "--parameter", "TargetColumn=churn"], sagemaker
    )
    assert code == 0
    _, arn, url = capsys.readouterr().out.splitlines()
    execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert execution["PipelineExecutionDescription"] == reason
    assert DISPLAY_NAME.match(execution["PipelineExecutionDisplayName"])
    assert execution["PipelineExecutionDisplayName"].startswith("push-abc1234-to-main-tune-features-")
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
        "PipelineParameters"
    ]
    assert parameters == [{"Name": "TargetColumn", "Value": "churn"}]
    assert url.startswith("https://eu-west-1.console.aws.amazon.com/sagemaker/")
    assert url.endswith(arn.rsplit("/", 1)[-1])


@pytest.mark.parametrize(
    "reason", ["drift on monthly_charges (FeatureDistance 0.31 > 0.2)", "!!!", "x" * 500, "a--b"]
)
def test_display_name_is_always_valid(reason: str) -> None:
    name = start_pipeline.display_name(reason, NOW)
    assert DISPLAY_NAME.match(name), name
    assert name.endswith("-20261128190005")


def test_unknown_parameter_is_refused(sagemaker: Any, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--pipeline", PIPELINE, "--reason", "r", "--parameter", "Target=churn"]
    assert start_pipeline.main(args, sagemaker) == 2
    assert "has no parameter(s) Target" in capsys.readouterr().err
    assert sagemaker.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"] == []


def test_missing_pipeline_is_refused(sagemaker: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert start_pipeline.main(["--pipeline", "nope", "--reason", "r"], sagemaker) == 2
    assert "pipeline 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(("items", "message"), [(["novalue"], "NAME=VALUE"), (["a=1", "a=2"], "twice")])
def test_bad_parameter_syntax(items: list[str], message: str) -> None:
    with pytest.raises(start_pipeline.StartError, match=message):
        start_pipeline.parse_parameters(items)


def test_empty_reason_is_refused(sagemaker: Any) -> None:
    with pytest.raises(start_pipeline.StartError, match="--reason"):
        start_pipeline.start(sagemaker, PIPELINE, "  ", {}, NOW)
