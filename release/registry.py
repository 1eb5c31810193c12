"""Model Registry queries for the release tools (boto3, run at deploy time, never at synth).

:func:`find_version` picks a model package version of a group (the newest Approved one, or an
exact version that must be Approved) and :func:`approved_model` turns its description into the
approved-model file (:class:`contracts.approved_model.ApprovedModel`). Every refusal is a
:class:`ResolveError` whose message is one line naming the group, the version and the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from contracts.approved_model import (
    PROBLEM_TYPE_METADATA_KEY,
    SCHEMA_VERSION,
    SMOKE_SAMPLES_METADATA_KEY,
    ApprovedModel,
    ApprovedModelError,
)

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.type_defs import DescribeModelPackageOutputTypeDef, ModelPackageSummaryTypeDef

APPROVED: Final = "Approved"
#: ``CustomerMetadataProperties`` key under which the pipeline's register step records the
#: problem type (binary, multiclass, regression) of a version (stacks/pipeline/gate.py).


class ResolveError(Exception):
    """No deployable version: the message (one line) names the group, version and reason."""


def _summaries(
    sagemaker: SageMakerClient, group: str, status: str | None
) -> Iterator[ModelPackageSummaryTypeDef]:
    """Versions of ``group`` (newest first), optionally only those with approval ``status``."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageType": "Versioned",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
    }
    if status is not None:
        request["ModelApprovalStatus"] = status
    for page in sagemaker.get_paginator("list_model_packages").paginate(**request):
        yield from page.get("ModelPackageSummaryList", [])


def _check_group(sagemaker: SageMakerClient, group: str) -> None:
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound"):
            raise ResolveError(f"model package group {group!r} does not exist") from None
        raise


def find_version(
    sagemaker: SageMakerClient, group: str, version: int | None = None
) -> DescribeModelPackageOutputTypeDef:
    """``DescribeModelPackage`` of the version to deploy.

    Args:
        sagemaker: a boto3 SageMaker client.
        group: the model package group name.
        version: an exact version to deploy (roll back / promote), or None for the newest Approved.

    Raises:
        ResolveError: the group does not exist; it has no Approved version; ``version`` does not
            exist (never registered, or deleted); ``version`` is not Approved.
    """
    _check_group(sagemaker, group)
    if version is None:
        newest = next(_summaries(sagemaker, group, APPROVED), None)
        if newest is None:
            raise ResolveError(f"model package group {group!r} has no Approved version to deploy")
        arn = str(newest["ModelPackageArn"])
    else:
        match = next(
            (s for s in _summaries(sagemaker, group, None) if s.get("ModelPackageVersion") == version),
            None,
        )
        if match is None:
            raise ResolveError(f"version {version} of {group!r} does not exist (never registered or deleted)")
        status = match.get("ModelApprovalStatus")
        if status != APPROVED:
            raise ResolveError(
                f"version {version} of {group!r} is {status}, not Approved: refusing to deploy it"
            )
        arn = str(match["ModelPackageArn"])
    try:
        described = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        raise ResolveError(f"{arn}: cannot describe it (deleted?): {exc}") from None
    if described.get("ModelApprovalStatus") != APPROVED:  # changed between list and describe
        raise ResolveError(f"{arn} is {described.get('ModelApprovalStatus')}, not Approved")
    return described


def approved_model(described: Mapping[str, Any]) -> ApprovedModel:
    """The approved-model file for one ``DescribeModelPackage`` response.

    Raises:
        ResolveError: the package has no container, or a field fails the file's validation.
    """
    arn = str(described.get("ModelPackageArn", "?"))
    containers = described.get("InferenceSpecification", {}).get("Containers") or []
    if not containers:
        raise ResolveError(f"{arn}: InferenceSpecification has no container to deploy")
    container = containers[0]
    quality = described.get("DriftCheckBaselines", {}).get("ModelDataQuality", {})
    metadata = described.get("CustomerMetadataProperties") or {}
    data = {
        "model_package_arn": arn,
        "model_package_group": described.get("ModelPackageGroupName"),
        "version": described.get("ModelPackageVersion"),
        "image_uri": container.get("Image"),
        "model_data_url": container.get("ModelDataUrl"),
        "environment": dict(container.get("Environment") or {}),
        "baseline_statistics_uri": quality.get("Statistics", {}).get("S3Uri"),
        "baseline_constraints_uri": quality.get("Constraints", {}).get("S3Uri"),
        "smoke_samples_uri": metadata.get(SMOKE_SAMPLES_METADATA_KEY),
        "schema_version": SCHEMA_VERSION,
    }
    try:
        return ApprovedModel.from_mapping(data, arn)
    except ApprovedModelError as exc:
        raise ResolveError(str(exc)) from None


def recorded_problem_type(sagemaker: SageMakerClient, package_arn: str) -> str | None:
    """The problem type recorded with the model version ``package_arn`` (None if not recorded).

    Raises:
        ResolveError: the version cannot be described (deleted, no permission).
    """
    try:
        described = sagemaker.describe_model_package(ModelPackageName=package_arn)
    except ClientError as exc:
        raise ResolveError(f"{package_arn}: cannot describe it: {exc}") from None
    value = (described.get("CustomerMetadataProperties") or {}).get(PROBLEM_TYPE_METADATA_KEY)
    return None if value is None else str(value)
