"""Champion lookup against moto: newest Approved version with a readable report wins."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ml_code.steps.champion import find_champion, read_gate_value

GROUP = "churn-models"
BUCKET = "reports"
CONTAINER = {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:3.0-5"}


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        s3.create_bucket(Bucket=BUCKET)
        yield sagemaker, s3


def register(
    sagemaker: Any,
    s3: Any,
    status: str,
    *,
    value: float | None = None,
    metric: str = "auc",
    report: bool = True,
) -> str:
    """Register a version (with its report in S3 unless ``report`` is False) and set its approval."""
    time.sleep(0.002)  # moto stamps CreationTime in milliseconds; keep the order unambiguous
    extra: dict[str, Any] = {}
    if report:
        key = f"eval/{time.time_ns()}.json"
        if value is not None:
            body = {"quality_gate": {"metric": metric, "value": value}}
            s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
        stats = {"ContentType": "application/json", "S3Uri": f"s3://{BUCKET}/{key}"}
        extra["ModelMetrics"] = {"ModelQuality": {"Statistics": stats}}
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


def test_no_approved_version_means_no_champion(aws: tuple[Any, Any]) -> None:
    sagemaker, s3 = aws
    assert find_champion(sagemaker, s3, GROUP) is None
    register(sagemaker, s3, "PendingManualApproval", value=0.9)
    register(sagemaker, s3, "Rejected", value=0.95)
    assert find_champion(sagemaker, s3, GROUP) is None


def test_newest_approved_version_wins_over_pending_and_rejected(aws: tuple[Any, Any]) -> None:
    # GIVEN an older approved version, a newer approved one, and newer pending/rejected ones
    sagemaker, s3 = aws
    register(sagemaker, s3, "Approved", value=0.91)
    newest_approved = register(sagemaker, s3, "Approved", value=0.84)
    register(sagemaker, s3, "PendingManualApproval", value=0.99)
    register(sagemaker, s3, "Rejected", value=0.98)
    # WHEN the champion is looked up THEN it is the newest approved, whatever its score
    champion = find_champion(sagemaker, s3, GROUP, "auc")
    assert champion is not None
    assert (champion.value, champion.model_package_arn) == (0.84, newest_approved)


def test_versions_without_a_usable_report_are_skipped_with_a_log_line(
    aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an approved version with a report, then newer approved ones without a usable one
    sagemaker, s3 = aws
    usable = register(sagemaker, s3, "Approved", value=0.8)
    other_metric = register(sagemaker, s3, "Approved", value=0.7, metric="r2")
    object_gone = register(sagemaker, s3, "Approved", value=None)  # report URI points at nothing
    no_metrics = register(sagemaker, s3, "Approved", report=False)
    # WHEN the champion is looked up
    champion = find_champion(sagemaker, s3, GROUP, "auc")
    # THEN each unusable one is skipped, and said so, down to the usable one
    assert champion is not None
    assert champion.model_package_arn == usable
    for arn in (other_metric, object_gone, no_metrics):
        assert f"skipping approved {arn}" in caplog.text
    assert "has no model quality report" in caplog.text


class DeletedBetweenListAndDescribe:
    """The SageMaker client, except one version vanishes after listing (as a concurrent delete would)."""

    def __init__(self, client: Any, deleted_arn: str) -> None:
        self._client, self._deleted = client, deleted_arn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def describe_model_package(self, **kwargs: Any) -> Any:
        if kwargs["ModelPackageName"] == self._deleted:
            error = {"Error": {"Code": "ValidationException", "Message": "Model package does not exist."}}
            raise ClientError(error, "DescribeModelPackage")  # type: ignore[arg-type]
        return self._client.describe_model_package(**kwargs)


def test_a_deleted_version_is_skipped(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    sagemaker, s3 = aws
    survivor = register(sagemaker, s3, "Approved", value=0.8)
    deleted = register(sagemaker, s3, "Approved", value=0.9)
    champion = find_champion(DeletedBetweenListAndDescribe(sagemaker, deleted), s3, GROUP)
    assert champion is not None
    assert champion.model_package_arn == survivor
    assert "does not exist" in caplog.text


class ListingDenied:
    """A SageMaker client whose role may not list model packages."""

    def get_paginator(self, name: str) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},  # type: ignore[arg-type]
            "ListModelPackages",
        )


def test_a_listing_error_surfaces_instead_of_meaning_no_champion(aws: tuple[Any, Any]) -> None:
    # Treating "cannot list" as "no champion" would let any candidate through the gate.
    _, s3 = aws
    with pytest.raises(ClientError, match="AccessDenied"):
        find_champion(ListingDenied(), s3, GROUP)


def test_read_gate_value_rejects_bad_reports(aws: tuple[Any, Any]) -> None:
    _, s3 = aws
    s3.put_object(Bucket=BUCKET, Key="bad.json", Body=b"{not json")
    with pytest.raises(ValueError, match="not an s3:// URI"):
        read_gate_value(s3, "https://example.com/x.json")
    with pytest.raises(ValueError, match=r"has no readable quality_gate\.value"):
        read_gate_value(s3, f"s3://{BUCKET}/bad.json")
    with pytest.raises(ClientError):
        read_gate_value(s3, f"s3://{BUCKET}/missing.json")
