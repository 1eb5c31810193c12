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
    every_object = bucket.arn_for_objects("*")
    writer = f"arn:{cdk.Aws.PARTITION}:iam::{cdk.Aws.ACCOUNT_ID}:role{layout.runs_writer_path(prefix)}*"
    # Uploads use the bucket's default (the data key) or name it; never another key or SSE type.
    denies: list[tuple[str, list[str], str, dict[str, Any] | None]] = [
        ("OnlyThePipelineWritesRuns", ["s3:PutObject"], runs, {"ArnNotLike": {"aws:PrincipalArn": writer}}),
        ("RunsAreNeverDeleted", ["s3:DeleteObject", "s3:DeleteObjectVersion"], runs, None),
        (
            "OnlyTheDataKey",
            ["s3:PutObject"],
            every_object,
            {"Null": {_SSE_KEY: "false"}, "StringNotEquals": {_SSE_KEY: key.key_arn}},
        ),
        (
            "OnlySseKms",
            ["s3:PutObject"],
            every_object,
            {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            },
        ),
        # SSE-C sends neither header above: refuse it outright (the pipeline could not read it).
        (
            "NoCustomerProvidedKeys",
            ["s3:PutObject"],
            every_object,
            {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
        ),
    ]
    for sid, actions, resource, conditions in denies:
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
