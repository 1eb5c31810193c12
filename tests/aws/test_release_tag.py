"""release.release_tag against moto: the shipped version's objects carry the stage's release tag.

A stage account may read only objects tagged ``mlops:released-<stage>`` (the tooling bucket's
policy, tests/cdk/test_multi_account.py; the attacks in tests/security/test_stage_account_review.py),
so the deploy build must tag exactly the resolved version's model file and baseline, keep any tag
the object had, and fail naming the object when it cannot.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts.approved_model import ApprovedModel
from release import release_tag

BUCKET = "artifacts"
RUN = "pipeline-runs/exec-1"
MODEL = f"{RUN}/train/pipelines-exec-1-train/output/model.tar.gz"
STATISTICS = f"{RUN}/preprocess/baseline/statistics.json"
CONSTRAINTS = f"{RUN}/preprocess/baseline/constraints.json"
OTHER = "pipeline-runs/exec-2/train/pipelines-exec-2-train/output/model.tar.gz"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        for key in (MODEL, STATISTICS, CONSTRAINTS, OTHER):
            client.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        yield client


def _model_file(tmp_path: Path, *, baseline: bool = True) -> Path:
    model = ApprovedModel(
        model_package_arn="arn:aws:sagemaker:us-east-1:111111111111:model-package/p-models/3",
        model_package_group="p-models",
        version=3,
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        model_data_url=f"s3://{BUCKET}/{MODEL}",
        baseline_statistics_uri=f"s3://{BUCKET}/{STATISTICS}" if baseline else None,
        baseline_constraints_uri=f"s3://{BUCKET}/{CONSTRAINTS}" if baseline else None,
    )
    path = tmp_path / "prod.json"
    model.write(path)
    return path


def _tags(s3: Any, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


def test_the_model_file_and_baseline_are_tagged_for_the_stage_and_nothing_else(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_object_tagging(Bucket=BUCKET, Key=MODEL, Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]})
    code = release_tag.main(["--stage", "prod", "--model-file", str(_model_file(tmp_path))], s3=s3)
    assert code == 0
    assert _tags(s3, MODEL) == {"team": "ml", "mlops:released-prod": "true"}  # kept what it had
    assert _tags(s3, STATISTICS) == _tags(s3, CONSTRAINTS) == {"mlops:released-prod": "true"}
    assert _tags(s3, OTHER) == {}  # another run's model is not shipped
    assert capsys.readouterr().out.count("tagged mlops:released-prod=true") == 3


def test_a_second_stage_adds_its_own_tag_and_a_repeat_changes_nothing(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _model_file(tmp_path, baseline=False)
    assert release_tag.main(["--stage", "staging", "--model-file", str(path)], s3=s3) == 0
    assert release_tag.main(["--stage", "prod", "--model-file", str(path)], s3=s3) == 0
    assert release_tag.main(["--stage", "prod", "--model-file", str(path)], s3=s3) == 0
    assert _tags(s3, MODEL) == {"mlops:released-staging": "true", "mlops:released-prod": "true"}
    assert capsys.readouterr().out.splitlines()[-1].endswith(": already tagged mlops:released-prod=true")


def test_a_missing_object_fails_naming_it(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.delete_object(Bucket=BUCKET, Key=MODEL)
    code = release_tag.main(["--stage", "prod", "--model-file", str(_model_file(tmp_path))], s3=s3)
    assert code == 2
    assert f"cannot tag s3://{BUCKET}/{MODEL} for prod" in capsys.readouterr().err


def test_an_unreadable_model_file_fails_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert release_tag.main(["--stage", "prod", "--model-file", str(path)], s3=None) == 2
    assert str(path) in capsys.readouterr().err
