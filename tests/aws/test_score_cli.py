"""``make score`` (release.score) against moto: the batch pipeline started on INPUT, refusals named."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from release import score

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "mlops-demo-dev-batch-score"
DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "InputDataUri", "Type": "String", "DefaultValue": "s3://artifacts/data/batch/"}],
    "Steps": [],
}
INPUT = "s3://artifacts/data/batch/2024-06-01/"


def _cdk_json(tmp_path: Path, batch: dict[str, Any] | None) -> Path:
    """cdk.json with dev's ``batch`` section set to ``batch`` (None: left out)."""
    document = json.loads((ROOT / "cdk.json").read_text())
    context = copy.deepcopy(document["context"])
    context["environments"]["dev"].pop("batch", None)
    if batch is not None:
        context["environments"]["dev"]["batch"] = batch
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": context}))
    return path


@pytest.fixture
def sagemaker() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sagemaker", region_name="eu-west-1")
        client.create_pipeline(
            PipelineName=PIPELINE,
            PipelineDefinition=json.dumps(DEFINITION),
            RoleArn="arn:aws:iam::123456789012:role/batch",
        )
        yield client


def _run(cdk_json: Path, sagemaker: Any, *extra: str) -> int:
    return score.main(["--env", "dev", "--cdk-json", str(cdk_json), *extra], sagemaker)


def test_starts_the_batch_pipeline_on_the_input(
    tmp_path: Path, sagemaker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN dev with batch scoring on and its pipeline deployed
    cdk_json = _cdk_json(tmp_path, {"enabled": True})
    # WHEN make score runs with an S3 input
    assert _run(cdk_json, sagemaker, "--input", INPUT) == 0
    # THEN the pipeline runs with InputDataUri = the input, and the ARN and a console link are printed
    summary, arn, url = capsys.readouterr().out.splitlines()
    assert PIPELINE in summary
    assert INPUT in summary
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    assert parameters["PipelineParameters"] == [{"Name": "InputDataUri", "Value": INPUT}]
    execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert execution["PipelineExecutionDescription"] == f"make score {INPUT}"
    assert url.startswith("https://eu-west-1.console.aws.amazon.com/sagemaker/")


@pytest.mark.parametrize(
    "bad", ["data/batch/", "/tmp/rows.csv", "https://bucket.s3.amazonaws.com/x", "s3://"]
)
def test_a_non_s3_input_is_refused_with_what_to_give(
    tmp_path: Path, sagemaker: Any, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    assert _run(_cdk_json(tmp_path, {"enabled": True}), sagemaker, "--input", bad) == 2
    error = capsys.readouterr().err
    assert f"INPUT {bad!r} is not an S3 URI" in error
    assert "s3://" in error
    assert not sagemaker.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]


def test_batch_off_is_refused_naming_the_key(
    tmp_path: Path, sagemaker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(_cdk_json(tmp_path, None), sagemaker, "--input", INPUT) == 2
    assert "'environments.dev.batch.enabled' is off" in capsys.readouterr().err


def test_an_unknown_use_case_is_refused(
    tmp_path: Path, sagemaker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_json = _cdk_json(tmp_path, {"enabled": True})
    assert _run(cdk_json, sagemaker, "--input", INPUT, "--use-case", "fraud") == 2
    assert "has no use case 'fraud'" in capsys.readouterr().err


def test_a_pipeline_not_deployed_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        client = boto3.client("sagemaker", region_name="eu-west-1")
        assert _run(_cdk_json(tmp_path, {"enabled": True}), client, "--input", INPUT) == 2
    assert PIPELINE in capsys.readouterr().err
