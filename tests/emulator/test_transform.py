"""Transform steps: a real tiny model's own serving code scores S3 objects as a batch transform job.

Each test hand-writes a Model + Transform definition in the SDK's serialized shape (the model
named through a registered package, as the batch scoring pipeline does), puts input objects in
the S3 stand-in, runs it and reads the ``.out`` objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serving_models import build_model, raw_rows, tar_model

from emulator.local_aws import LocalAws, moto_server
from emulator.runner import RunResult, run_pipeline
from emulator.transform_records import TransformRecordError, batches, parse_filter
from stacks.pipeline.register import model_package_request

BUCKET = "transform-bucket"
GROUP = "batch-group"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalAws, str]]:
    root = tmp_path_factory.mktemp("model")
    archive = tar_model(build_model(root, "binary"), root / "model.tar.gz")
    with moto_server() as local:
        local.upload_file(archive, f"s3://{BUCKET}/models/model.tar.gz")
        sagemaker = local.client("sagemaker")
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        arn = sagemaker.create_model_package(**_package_request())["ModelPackageArn"]
        yield local, arn


def _package_request() -> dict[str, Any]:
    request = model_package_request(
        group_name=GROUP,
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:3.0-5",
        model_data=f"s3://{BUCKET}/models/model.tar.gz",
        statistics_uri=f"s3://{BUCKET}/baseline/statistics.json",
        constraints_uri=f"s3://{BUCKET}/baseline/constraints.json",
        evaluation_uri=f"s3://{BUCKET}/evaluation.json",
        endpoint_instance_type="ml.m5.large",
        region="us-east-1",
        metadata={},
    )
    return {k: v for k, v in request.items() if k != "ModelCard"}


def definition(package_arn: str, input_uri: str, **transform: Any) -> dict[str, Any]:
    """CreateModel from the package, then a Transform on ``input_uri`` (``transform`` overrides)."""
    request: dict[str, Any] = {
        "ModelName": {"Get": "Steps.CreateModel.ModelName"},
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": 6,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
            "CompressionType": "None",
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://{BUCKET}/scores/predictions",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        **transform,
    }
    model = {
        "PrimaryContainer": {"ModelPackageName": package_arn},
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/batch",
        "EnableNetworkIsolation": True,
    }
    return {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {"Name": "CreateModel", "Type": "Model", "Arguments": model},
            {"Name": "Score", "Type": "Transform", "Arguments": request},
        ],
    }


def run(aws: LocalAws, tmp_path: Path, steps: dict[str, Any]) -> RunResult:
    return run_pipeline(steps, aws, tmp_path, log=lambda _: None)


def put_rows(aws: LocalAws, key: str, lines: list[str]) -> str:
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=("\n".join(lines) + "\n").encode())
    return f"s3://{BUCKET}/{key}"


def keyed_lines(n: int, first: int = 0) -> list[str]:
    frame = raw_rows("binary", n)
    return [
        f"row-{first + i}," + ",".join(map(str, row)) for i, row in enumerate(frame.itertuples(index=False))
    ]


def test_keyed_rows_are_scored_by_the_models_own_code_and_joined_back(
    aws: tuple[LocalAws, str], tmp_path: Path
) -> None:
    # GIVEN two objects (one nested) of keyed, headerless rows, and a 1 MB payload limit
    local, arn = aws
    put_rows(local, "in/keyed/a.csv", keyed_lines(30))
    put_rows(local, "in/keyed/sub/b.csv", keyed_lines(5, first=30))
    processing = {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-2:]"}
    steps = definition(arn, f"s3://{BUCKET}/in/keyed/", DataProcessing=processing, MaxPayloadInMB=1)
    # WHEN the pipeline runs
    result = run(local, tmp_path, steps)
    # THEN each object has its .out, line for line: the key, the label and the probability
    assert result.status == "Succeeded", result.failure
    out = local.read_object(f"s3://{BUCKET}/scores/predictions/a.csv.out").decode().splitlines()
    assert len(out) == 30
    assert [line.split(",")[0] for line in out] == [f"row-{i}" for i in range(30)]
    assert all(len(line.split(",")) == 3 for line in out)
    assert 1 <= len({line.split(",")[1] for line in out}) <= 2  # the binary model's labels
    assert all(0.0 <= float(line.split(",")[2]) <= 1.0 for line in out)
    nested = local.read_object(f"s3://{BUCKET}/scores/predictions/sub/b.csv.out").decode().splitlines()
    assert [line.split(",")[0] for line in nested] == [f"row-{30 + i}" for i in range(5)]
    score = result.properties["Score"]
    assert score["TransformJobStatus"] == "Completed"
    assert result.step("Score").outputs["predictions"] == f"s3://{BUCKET}/scores/predictions"


def test_without_a_key_the_output_is_the_predictions_only(aws: tuple[LocalAws, str], tmp_path: Path) -> None:
    local, arn = aws
    lines = [line.split(",", 1)[1] for line in keyed_lines(7)]
    put_rows(local, "in/plain/rows.csv", lines)
    result = run(local, tmp_path, definition(arn, f"s3://{BUCKET}/in/plain/"))
    assert result.status == "Succeeded", result.failure
    out = local.read_object(f"s3://{BUCKET}/scores/predictions/rows.csv.out").decode().splitlines()
    assert len(out) == 7
    assert all(len(line.split(",")) == 2 for line in out)


def test_a_bad_row_fails_the_job_with_the_models_answer(aws: tuple[LocalAws, str], tmp_path: Path) -> None:
    # GIVEN a row with too few columns: the model answers 400 naming the problem
    local, arn = aws
    put_rows(local, "in/bad/rows.csv", [*keyed_lines(3), "row-9,1,2"])
    steps = definition(arn, f"s3://{BUCKET}/in/bad/", DataProcessing={"InputFilter": "$[1:]"})
    result = run(local, tmp_path, steps)
    assert result.status == "Failed"
    assert "the model answered 400" in result.failure
    assert result.properties["Score"]["TransformJobStatus"] == "Failed"


def test_an_unsupported_filter_fails_the_step_naming_it(aws: tuple[LocalAws, str], tmp_path: Path) -> None:
    local, arn = aws
    put_rows(local, "in/json/rows.csv", keyed_lines(2))
    steps = definition(arn, f"s3://{BUCKET}/in/json/", DataProcessing={"InputFilter": "$.features"})
    result = run(local, tmp_path, steps)
    assert result.status == "Failed"
    assert "InputFilter '$.features' cannot run locally" in result.failure


def test_a_request_botocore_refuses_fails_the_step(aws: tuple[LocalAws, str], tmp_path: Path) -> None:
    local, arn = aws
    put_rows(local, "in/typo/rows.csv", keyed_lines(2))
    result = run(local, tmp_path, definition(arn, f"s3://{BUCKET}/in/typo/", MaxPayloadInMb=6))
    assert result.status == "Failed"
    assert "CreateTransformJob request is invalid" in result.failure
    assert "MaxPayloadInMb" in result.failure


@pytest.mark.parametrize(
    ("expression", "cells", "expected"),
    [
        ("$", ["a", "b"], None),
        ("$[1:]", ["k", "x", "y"], ["x", "y"]),
        ("$[0,-2:]", ["k", "x", "y", "l", "p"], ["k", "l", "p"]),
        ("$[0,-1]", ["k", "x", "s"], ["k", "s"]),
        ("$[1:3]", ["a", "b", "c", "d"], ["b", "c"]),
        ("$[2]", ["a", "b", "c"], ["c"]),
    ],
)
def test_csv_filters(expression: str, cells: list[str], expected: list[str] | None) -> None:
    selector = parse_filter(expression, "InputFilter")
    assert (selector(cells) if selector else None) == expected


@pytest.mark.parametrize("expression", ["$.features", "$[a]", "$[]", "$[1:2:3]", "[1]"])
def test_other_filters_are_refused(expression: str) -> None:
    with pytest.raises(TransformRecordError, match="cannot run locally"):
        parse_filter(expression, "OutputFilter")


def test_batches_stay_within_the_payload_limit_and_a_too_large_record_is_named() -> None:
    records = ["x" * 400_000] * 5  # 2 fit in 1 MiB, 3 do not
    assert list(batches(records, "MultiRecord", 1, "a.csv")) == [[0, 1], [2, 3], [4]]
    assert list(batches(records, "SingleRecord", 6, "a.csv")) == [[0], [1], [2], [3], [4]]
    with pytest.raises(TransformRecordError, match=r"record 2 of a\.csv is 1100001 bytes"):
        list(batches(["a", "y" * 1_100_000], "MultiRecord", 1, "a.csv"))
