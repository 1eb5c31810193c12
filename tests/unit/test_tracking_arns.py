"""One parser for the SageMaker ARNs the tracking code is handed."""

from __future__ import annotations

import pytest

from ml_code.tracking.arns import SageMakerArn, sagemaker_arn


def test_an_arn_of_the_kind_splits_into_partition_region_and_names() -> None:
    arn = "arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:pipeline/p-1/execution/abc"
    assert sagemaker_arn(arn, "pipeline", 3) == SageMakerArn(
        "aws-us-gov", "us-gov-west-1", ("p-1", "execution", "abc")
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/2",  # another kind
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution",  # a name short
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p//abc",  # an empty name
        "arn:aws:s3:us-east-1:123456789012:pipeline/p/execution/abc",  # another service
        "arn:aws:sagemaker::123456789012:pipeline/p/execution/abc",  # no region
        "pipeline/p/execution/abc",
    ],
)
def test_anything_else_is_none(arn: str) -> None:
    assert sagemaker_arn(arn, "pipeline", 3) is None
