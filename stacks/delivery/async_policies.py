"""What a deploy build needs to smoke-test an async endpoint: a round trip through its S3 folders."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from contracts import layout


def async_round_trip(*, bucket: s3.IBucket, key: kms.IKey, endpoint: str) -> list[iam.PolicyStatement]:
    """Put requests in the async endpoint's input folder, read its answers and errors."""
    folder = f"{layout.ASYNC_PREFIX}{endpoint}/"
    inputs, outputs, failures = (
        bucket.arn_for_objects(f"{layout.async_folder(endpoint, name)}*")
        for name in (layout.ASYNC_INPUT_FOLDER, layout.ASYNC_OUTPUT_FOLDER, layout.ASYNC_FAILURE_FOLDER)
    )
    return [
        iam.PolicyStatement(
            sid="PutAsyncRequests",
            actions=["s3:PutObject"],
            resources=[inputs],
        ),
        iam.PolicyStatement(
            sid="ReadAsyncAnswers",
            actions=["s3:GetObject"],
            resources=[outputs, failures],
        ),
        iam.PolicyStatement(
            sid="ListAsyncFolder",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{folder}*"]}},
        ),
        iam.PolicyStatement(
            sid="EncryptAsyncRequests", actions=["kms:GenerateDataKey"], resources=[key.key_arn]
        ),
    ]
