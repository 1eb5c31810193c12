"""The artifact bucket's policy: denies that no identity policy can undo (an explicit Deny wins).

What a training run wrote (``pipeline-runs/``, registered models included) is writable only by the
training pipeline's role (its IAM path, ``contracts.layout.runs_writer_path``) and deletable by
nobody but the lifecycle rules; uploads are refused unless encrypted with the data key.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from contracts import layout

_SSE_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"


def protect_artifacts(bucket: s3.IBucket, *, key: kms.IKey, prefix: str) -> None:
    """Add the deny statements to ``bucket``'s policy (``prefix``: the project's, naming the writer)."""
    runs = bucket.arn_for_objects(f"{layout.RUNS_PREFIX}*")
    writer = f"arn:{cdk.Aws.PARTITION}:iam::{cdk.Aws.ACCOUNT_ID}:role{layout.runs_writer_path(prefix)}*"
    _deny(
        bucket,
        "OnlyThePipelineWritesRuns",
        ["s3:PutObject"],
        runs,
        {"ArnNotLike": {"aws:PrincipalArn": writer}},
    )
    _deny(bucket, "RunsAreNeverDeleted", ["s3:DeleteObject", "s3:DeleteObjectVersion"], runs, None)
    only_key(bucket, key=key)


def only_key(bucket: s3.IBucket, *, key: kms.IKey) -> None:
    """Refuse uploads encrypted with anything but ``key``: another key, another SSE type, SSE-C.

    Uploads use the bucket's default (``key``) or name it. Also the stage accounts' capture buckets.
    """
    every_object = bucket.arn_for_objects("*")
    denies: list[tuple[str, dict[str, Any]]] = [
        ("OnlyTheDataKey", {"Null": {_SSE_KEY: "false"}, "StringNotEquals": {_SSE_KEY: key.key_arn}}),
        (
            "OnlySseKms",
            {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            },
        ),
        # SSE-C sends neither header above: refuse it outright (no reader could decrypt it).
        ("NoCustomerProvidedKeys", {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}),
    ]
    for sid, conditions in denies:
        _deny(bucket, sid, ["s3:PutObject"], every_object, conditions)


def _deny(
    bucket: s3.IBucket, sid: str, actions: list[str], resource: str, conditions: dict[str, Any] | None
) -> None:
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=actions,
            resources=[resource],
            conditions=conditions,
        )
    )
