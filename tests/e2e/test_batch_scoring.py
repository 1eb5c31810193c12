"""Batch scoring offline end to end (issue 16): the batch definition as the stack writes it, run by
the offline runner against moto with ResolveModel's own Lambda code, the registered version's own
serving code in the Transform job, and ScoreReport from the source bundle.

The training definition registers version 1 first; before its approval a batch run fails in
ResolveModel, naming the group; after it, keyed rows in two objects are scored, joined to their
keys, and the manifest names the version and the files, with the drift check of the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ml_code
from emulator.lambdas import LocalFunction
from emulator.local_aws import LocalAws, moto_server
from emulator.runner import RunResult, run_pipeline
from ml_code import contract, sample_data
from stacks.batch.definition import BatchDefinitionProps, definition_json
from stacks.batch.requests import TransformSettings
from stacks.pipeline.definition import build_definition
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.requests import JobSettings
from stacks.pipeline.source_bundle import bundle_bytes

pytestmark = [pytest.mark.slow]

BUCKET, CODE_BUCKET, GROUP = "batch-artifacts", "batch-code", "batch-models"
ACCOUNT, REGION = "123456789012", "us-east-1"
RESOLVE_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resolve-model"
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
ROWS = 2000
JOB = JobSettings(
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
    kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
    subnet_ids=("subnet-0123456789abcdef0",),
    security_group_ids=("sg-0123456789abcdef0",),
    max_runtime_seconds=600,
)


def _training() -> dict[str, Any]:
    props = DefinitionProps(
        job=JOB,
        artifact_bucket=BUCKET,
        code_uri=f"s3://{CODE_BUCKET}/0123abcd.tar.gz",
        region=REGION,
        model_package_group_name=GROUP,
        processing_instance_type="ml.m5.large",
        training_instance_type="ml.m5.xlarge",
        endpoint_instance_type="ml.m5.large",
        quality_threshold=0.6,
        champion_margin=0.01,
        use_spot=False,
    )
    return dict(json.loads(build_definition(props, name="batch-training")))


def _batch() -> dict[str, Any]:
    props = BatchDefinitionProps(
        job=JOB,
        artifact_bucket=BUCKET,
        code_uri=f"s3://{CODE_BUCKET}/0123abcd.tar.gz",
        resolve_function_arn=RESOLVE_ARN,
        model_package_group_name=GROUP,
        problem_type="binary",
        input_uri=f"s3://{BUCKET}/data/batch/",
        transform=TransformSettings(
            instance_type="ml.m5.large", instance_count=1, max_payload_mb=1, max_concurrent_transforms=1
        ),
        report_instance_type="ml.m5.large",
        key_column="row_id",
        drift_check=True,
        threshold=0.2,
    )
    return dict(json.loads(definition_json(props)))


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        for bucket in (BUCKET, CODE_BUCKET):
            local.ensure_bucket(bucket)
        s3 = local.client("s3")
        s3.put_object(
            Bucket=CODE_BUCKET, Key="0123abcd.tar.gz", Body=bundle_bytes(Path(ml_code.__file__).parent)
        )
        rows = sample_data.generate(ROWS, seed=5).to_csv(index=False).encode()
        s3.put_object(Bucket=BUCKET, Key="data/raw/churn.csv", Body=rows)
        for name, (count, seed) in {"day1/a.csv": (700, 11), "day1/late/b.csv": (300, 12)}.items():
            frame = sample_data.generate(count, seed=seed).drop(columns=[contract.SAMPLE_TARGET_COLUMN])
            frame.insert(0, "row_id", [f"{name}-{i}" for i in range(count)])
            body = frame.to_csv(header=False, index=False).encode()
            s3.put_object(Bucket=BUCKET, Key=f"data/batch/{name}", Body=body)
        local.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield local


@pytest.fixture(scope="module")
def runs(aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    root = tmp_path_factory.mktemp("runs")
    functions = {RESOLVE_ARN: LocalFunction("Batch/ResolveModel", RESOLVE_ARN, "resolve_model.handler",
                                            code_dir=FUNCTIONS_DIR, timeout_seconds=60)}  # fmt: skip

    def run(definition: dict[str, Any], execution_id: str) -> RunResult:
        return run_pipeline(
            definition, aws, root, execution_id=execution_id, functions=functions, log=lambda _: None
        )

    training = run(_training(), "trainrun0001")
    assert training.status == "Succeeded", training.failure
    unapproved = run(_batch(), "batchnone001")
    assert training.model_package_arn is not None
    aws.client("sagemaker").update_model_package(
        ModelPackageArn=training.model_package_arn, ModelApprovalStatus="Approved"
    )
    return {"training": training, "unapproved": unapproved, "scored": run(_batch(), "batchrun0001")}


def test_without_an_approved_version_the_run_fails_in_resolve_model(runs: dict[str, RunResult]) -> None:
    result = runs["unapproved"]
    assert result.status == "Failed"
    assert result.step("ResolveModel").status == "Failed"
    assert f"no Approved version in {GROUP}" in result.failure
    assert result.step("Score").status == "NotStarted"


def test_keyed_rows_are_scored_and_the_manifest_names_the_version(
    aws: LocalAws, runs: dict[str, RunResult]
) -> None:
    result = runs["scored"]
    assert result.status == "Succeeded", result.failure
    run_uri = f"s3://{BUCKET}/batch-scores/batchrun0001"
    manifest = json.loads(aws.read_object(f"{run_uri}/manifest.json"))
    assert manifest["model_package_arn"] == runs["training"].model_package_arn
    assert manifest["version"] == "1"
    assert manifest["input_uri"] == f"s3://{BUCKET}/data/batch/"
    assert manifest["output_uri"] == f"{run_uri}/predictions/"
    assert manifest["files"] == [
        {"input": "day1/a.csv", "output": "day1/a.csv.out", "rows": 700},
        {"input": "day1/late/b.csv", "output": "day1/late/b.csv.out", "rows": 300},
    ]
    assert manifest["output_columns"] == ["row_id", "label", "probability"]
    lines = aws.read_object(f"{run_uri}/predictions/day1/late/b.csv.out").decode().splitlines()
    assert [line.split(",")[0] for line in lines] == [f"day1/late/b.csv-{i}" for i in range(300)]
    assert all(0.0 <= float(line.split(",")[2]) <= 1.0 for line in lines)


def test_the_scored_rows_are_checked_for_drift(aws: LocalAws, runs: dict[str, RunResult]) -> None:
    result = runs["scored"]
    assert result.step("ScoreReport").status == "Succeeded"
    assert result.step("ScoreReportNoBaseline").status == "Skipped"
    manifest = json.loads(aws.read_object(f"s3://{BUCKET}/batch-scores/batchrun0001/manifest.json"))
    assert manifest["drift"]["checked"] is True
    assert manifest["drift"]["records"] == 1000
    assert manifest["drift"]["verdict"] == "no drift"
    metrics = json.loads(
        aws.read_object(f"s3://{BUCKET}/batch-scores/batchrun0001/drift/{contract.DRIFT_METRICS_FILE}")
    )
    assert metrics["records"] == 1000
