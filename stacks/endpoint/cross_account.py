"""What a stage in another account's model role reads from the tooling account.

The role has the fixed name the tooling account's bucket and key policies admit
(:func:`contracts.names.stage_model_role_name`; :mod:`stacks.data.stage_access`). It reads exactly
the approved model.tar.gz, its ARN built from the approved ``model_data_url`` (the bucket is the
tooling account's, so there is no bucket construct to ask). It may decrypt with the tooling
account's keys only through S3 in this region: the tooling data key's ID is generated there and
unknown here, and that key's policy is the gate (it admits this role, through S3, and nothing else
across accounts). The stage's own key only encrypts what the endpoint captures.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from contracts.approved_model import ApprovedModel


@dataclass(frozen=True, kw_only=True)
class CrossAccountServing:
    """A stage in another account: the role's fixed name and the account its model comes from."""

    role_name: str
    tooling_account: str


def model_data_key(approved: ApprovedModel) -> str:
    """The object key of the version's model.tar.gz inside its bucket."""
    return approved.model_data_url.removeprefix("s3://").partition("/")[2]


def model_data_arn(stack: cdk.Stack, approved: ApprovedModel) -> str:
    """ARN of the version's model.tar.gz, from ``s3://<bucket>/<key>`` (whatever account owns it)."""
    bucket = approved.model_data_url.removeprefix("s3://").partition("/")[0]
    return f"arn:{stack.partition}:s3:::{bucket}/{model_data_key(approved)}"


def tooling_keys_arn(stack: cdk.Stack, tooling_account: str) -> str:
    """``arn:<partition>:kms:<region>:<tooling account>:key/*``: the keys the model may be encrypted with."""
    return stack.format_arn(service="kms", account=tooling_account, resource="key", resource_name="*")


def tooling_model_statements(
    stack: cdk.Stack, *, approved: ApprovedModel, serving: CrossAccountServing, key: kms.IKey, capturing: bool
) -> list[iam.PolicyStatement]:
    """Read the model file, decrypt it through S3; the stage's ``key`` when ``capturing``."""
    statements = [
        iam.PolicyStatement(
            sid="ReadThisModelVersion",
            actions=["s3:GetObject"],
            resources=[model_data_arn(stack, approved)],
            # the bucket name is the registry's to say; the account is ours: the tooling one
            conditions={"StringEquals": {"s3:ResourceAccount": serving.tooling_account}},
        ),
        iam.PolicyStatement(
            sid="DecryptModelThroughS3",
            actions=["kms:Decrypt"],
            resources=[tooling_keys_arn(stack, serving.tooling_account)],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        ),
    ]
    if capturing:
        statements.append(
            iam.PolicyStatement(
                sid="UseDataKey",
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            )
        )
    return statements
