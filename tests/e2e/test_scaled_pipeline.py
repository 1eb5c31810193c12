"""The scaled training definition (issue 14), as the stack writes it, run offline end to end: Profile and
Preprocess on 2 local hosts over the raw data's files, Train on 2 hosts with XGBoost's collective over
loopback, Evaluate, the gate and Register. The same data through the one-instance definition gives the
same transformer and the same split sizes, and a model whose test AUC is within 0.005 of it."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ml_code
from emulator.local_aws import LocalAws, moto_server
from emulator.runner import RunResult, run_pipeline
from ml_code import contract, sample_data
from stacks.pipeline.definition import build_definition
from stacks.pipeline.props import DefinitionProps
from stacks.pipeline.requests import JobSettings
from stacks.pipeline.source_bundle import bundle_bytes

BUCKET = "scaled-artifacts"
CODE_BUCKET = "scaled-code"
GROUP = "scaled-models"
ACCOUNT = "123456789012"
ROWS = 3000
FAST = {"num_round": "40", "max_depth": "4", "early_stopping_rounds": "10", "subsample": "1"}


def _props(instances: int) -> DefinitionProps:
    return DefinitionProps(
        job=JobSettings(
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
            kms_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
            subnet_ids=("subnet-0123456789abcdef0",),
            security_group_ids=("sg-0123456789abcdef0",),
            max_runtime_seconds=600,
        ),
        artifact_bucket=BUCKET,
        code_uri=f"s3://{CODE_BUCKET}/bundle.tar.gz",
        region="us-east-1",
        model_package_group_name=GROUP,
        processing_instance_type="ml.m5.large",
        training_instance_type="ml.m5.xlarge",
        endpoint_instance_type="ml.m5.large",
        quality_threshold=0.5,
        champion_margin=0.01,
        use_spot=False,
        processing_instances=instances,
        training_instances=instances,
        chunk_rows=1000,
        sample_rows=1000,
    )


def _definition(instances: int) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(build_definition(_props(instances), name="scaled"))
    for step in definition["Steps"]:  # quicker trees; the definition's own hyperparameters otherwise
        if step["Name"] == "Train":
            step["Arguments"]["HyperParameters"].update(FAST)
    return definition


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        for bucket in (BUCKET, CODE_BUCKET):
            local.ensure_bucket(bucket)
        s3 = local.client("s3")
        s3.put_object(
            Bucket=CODE_BUCKET, Key="bundle.tar.gz", Body=bundle_bytes(Path(ml_code.__file__).parent)
        )
        frame = sample_data.generate(ROWS, seed=21)
        for part in range(2):  # two files, so each of two processing hosts has one
            rows = frame.iloc[part::2].to_csv(index=False).encode()
            s3.put_object(Bucket=BUCKET, Key=f"data/raw/part-{part}.csv", Body=rows)
        local.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield local


@pytest.fixture(scope="module")
def runs(aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> dict[int, RunResult]:
    root = tmp_path_factory.mktemp("runs")
    return {n: run_pipeline(_definition(n), aws, root, log=lambda _: None) for n in (1, 2)}


def _read(aws: LocalAws, uri: str) -> bytes:
    return aws.read_object(uri)


def _evaluation(aws: LocalAws, result: RunResult) -> dict[str, Any]:
    uri = result.step("Evaluate").outputs[contract.EVALUATION_OUTPUT]
    report: dict[str, Any] = json.loads(_read(aws, f"{uri}/{contract.EVALUATION_FILE}"))
    return report


def _keys(aws: LocalAws, uri: str) -> list[str]:
    bucket, prefix = uri.removeprefix("s3://").split("/", 1)
    listed = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/") + "/")
    return sorted(o["Key"].rsplit("/", 1)[-1] for o in listed.get("Contents", []))


def test_every_step_runs_on_its_hosts_and_registers(runs):
    scaled = runs[2]
    assert scaled.status == "Succeeded", scaled.failure
    for step in ("Profile", "Preprocess", "Train"):
        assert "2 instances: algo-1, algo-2 (2 local processes)" in scaled.step(step).notes
    assert scaled.model_package_arn is not None


def test_preprocess_hosts_write_their_shards_and_the_leader_the_single_files(aws, runs):
    preprocess = runs[2].step("Preprocess").outputs
    assert _keys(aws, preprocess["train"]) == [f"part-algo-{h}-{k:02d}.csv" for h in (1, 2) for k in (0, 1)]
    assert _keys(aws, preprocess["transformer"]) == [contract.TRANSFORMER_FILE]
    assert contract.SMOKE_SAMPLES_FILE in _keys(aws, preprocess["test"])


def test_one_and_two_instances_fit_the_same_transformer_and_baseline(aws, runs):
    one, two = (runs[n].step("Preprocess").outputs for n in (1, 2))
    for output, file in (
        ("transformer", contract.TRANSFORMER_FILE),
        ("baseline", contract.BASELINE_STATISTICS_FILE),
        ("test", contract.SMOKE_SAMPLES_FILE),
    ):
        assert _read(aws, f"{one[output]}/{file}") == _read(aws, f"{two[output]}/{file}"), file


def test_the_two_instance_model_scores_as_the_one_instance_model(aws, runs):
    one, two = (_evaluation(aws, runs[n]) for n in (1, 2))
    section = contract.METRICS_SECTION_BY_PROBLEM["binary"]
    assert abs(one[section]["auc"]["value"] - two[section]["auc"]["value"]) <= 0.005


def test_only_the_leader_model_is_archived(aws, runs):
    archive = _read(aws, runs[2].step("Train").outputs["model"])
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        names = set(tar.getnames())
    assert {contract.MODEL_FILE, contract.TRANSFORMER_FILE} <= names
