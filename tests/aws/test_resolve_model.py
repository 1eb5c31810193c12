"""ResolveModel against moto: the newest Approved version at run time, its baseline and output filter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions import resolve_model
from ml_code import contract

GROUP = "churn-models"
CONTAINER = {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:3.0-5"}
STATISTICS = "s3://artifacts/pipeline-runs/exec-1/preprocess/baseline/statistics.json"


@pytest.fixture
def sagemaker() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sagemaker")
        client.create_model_package_group(ModelPackageGroupName=GROUP)
        yield client


def register(sagemaker: Any, status: str, *, baseline: bool = True) -> str:
    """Register a version (with a drift baseline unless ``baseline`` is False) and set its approval."""
    time.sleep(0.002)  # moto stamps CreationTime in milliseconds; keep the order unambiguous
    extra: dict[str, Any] = {}
    if baseline:
        stats = {"ContentType": "application/json", "S3Uri": STATISTICS}
        extra["DriftCheckBaselines"] = {"ModelDataQuality": {"Statistics": stats}}
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [CONTAINER], "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **extra,
    )["ModelPackageArn"]  # fmt: skip
    if status != "PendingManualApproval":
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)
    return arn


def _event(problem_type: str = "binary", key_column: str = "true") -> dict[str, str]:
    return {"group": GROUP, "problem_type": problem_type, "key_column": key_column}


def test_the_newest_approved_version_is_chosen(sagemaker: Any) -> None:
    # GIVEN an older approved version, a newer approved one, and newer pending/rejected ones
    register(sagemaker, "Approved")
    newest = register(sagemaker, "Approved")
    register(sagemaker, "PendingManualApproval")
    register(sagemaker, "Rejected")
    # WHEN the step runs
    got = resolve_model.resolve(sagemaker, _event())
    # THEN it names the newest approved, its version, its baseline folder and the keyed binary filter
    assert got == {
        "model_package_arn": newest,
        "version": "2",
        "baseline_uri": "s3://artifacts/pipeline-runs/exec-1/preprocess/baseline/",
        "output_filter": "$[0,-2:]",
    }
    assert all(isinstance(v, str) for v in got.values())  # the step declares String outputs


def test_no_approved_version_fails_the_step_naming_the_group(sagemaker: Any) -> None:
    register(sagemaker, "PendingManualApproval")
    with pytest.raises(LookupError, match=f"no Approved version in {GROUP}"):
        resolve_model.resolve(sagemaker, _event())


def test_a_version_without_baseline_gives_an_empty_uri(sagemaker: Any) -> None:
    register(sagemaker, "Approved", baseline=False)
    assert resolve_model.resolve(sagemaker, _event())["baseline_uri"] == ""


@pytest.mark.parametrize(
    ("problem_type", "key_column", "expected"),
    [
        ("binary", "true", "$[0,-2:]"),
        ("regression", "true", "$[0,-1]"),
        ("multiclass", "true", "$"),
        ("binary", "false", "$"),
        ("regression", "False", "$"),
    ],
)
def test_the_output_filter_keeps_the_key_and_the_predictions(
    problem_type: str, key_column: str, expected: str
) -> None:
    assert resolve_model.output_filter(problem_type, resolve_model.flag("key_column", key_column)) == expected


def test_bad_events_are_refused_naming_the_field(sagemaker: Any) -> None:
    register(sagemaker, "Approved")
    with pytest.raises(ValueError, match="problem_type"):
        resolve_model.resolve(sagemaker, _event(problem_type="ranking"))
    with pytest.raises(ValueError, match="key_column"):
        resolve_model.resolve(sagemaker, _event(key_column="yes"))
    with pytest.raises(ValueError, match="group"):
        resolve_model.resolve(sagemaker, {"problem_type": "binary", "key_column": "true"})


def test_problem_types_are_the_contracts() -> None:
    # Lambda code cannot import ml_code: the copy is pinned here
    assert resolve_model.PROBLEM_TYPES == contract.PROBLEM_TYPES
    assert set(resolve_model.KEYED_FILTERS) == set(contract.PROBLEM_TYPES)


def test_the_handler_uses_a_sagemaker_client(sagemaker: Any) -> None:
    arn = register(sagemaker, "Approved")
    assert resolve_model.handler(_event(), None)["model_package_arn"] == arn
