"""Offline, a registered version keeps its model card as SageMaker does (moto 5.2.5 drops it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ParamValidationError

from emulator.local_aws import LocalAws, moto_server
from emulator.sagemaker_fakes import create_model_package

GROUP = "demo-models"
PACKAGE = {
    "ModelPackageGroupName": GROUP,
    "ModelApprovalStatus": "PendingManualApproval",
    "InferenceSpecification": {
        "Containers": [
            {"Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgb:3.0-5", "ModelDataUrl": "s3://b/m.tar.gz"}
        ],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    },
}


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield local


def test_a_version_registered_with_a_card_describes_with_it(aws: LocalAws) -> None:
    sagemaker = aws.client("sagemaker")
    card = {
        "ModelCardContent": '{"intended_uses":{"risk_rating":"Unknown"}}',
        "ModelCardStatus": "PendingReview",
    }
    # WHEN one version is registered with a card and one without
    with_card = create_model_package(sagemaker, aws.account, **PACKAGE, ModelCard=card)
    without = create_model_package(sagemaker, aws.account, **PACKAGE)
    # THEN the first describes with its card, the second with none (as the API answers)
    assert sagemaker.describe_model_package(ModelPackageName=with_card)["ModelCard"] == card
    assert "ModelCard" not in sagemaker.describe_model_package(ModelPackageName=without)


def test_a_card_the_api_would_reject_is_rejected(aws: LocalAws) -> None:
    with pytest.raises(ParamValidationError, match="ModelCardStatus"):
        create_model_package(
            aws.client("sagemaker"), aws.account, **PACKAGE, ModelCard={"ModelCardStatus": 7}
        )
