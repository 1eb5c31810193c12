"""The platform's customer-managed key, which CloudWatch Logs may use for this project's log groups."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from contracts.names import key_alias
from stacks.common.logical_ids import pin_logical_id


def data_key(scope: Construct, construct_id: str, *, prefix: str) -> kms.Key:
    """The key (rotation on, retained, logical ID pinned to ``construct_id``) for data, logs and Studio."""
    key = kms.Key(
        scope,
        construct_id,
        alias=key_alias(prefix),
        description=f"{prefix}: SageMaker data, artifacts, Studio storage and logs",
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    pin_logical_id(key, construct_id)
    _allow_cloudwatch_logs(key, prefix)
    return key


def _allow_cloudwatch_logs(key: kms.Key, prefix: str) -> None:
    """Let CloudWatch Logs use the key for this project's log groups only.

    Every log group the key encrypts (flow logs, functions, builds) is named by CloudFormation,
    which starts a generated name with the stack's name, ``<prefix>-<part>``; SageMaker's own
    ``/aws/sagemaker/*`` groups are not encrypted with this key.
    """
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsForThisProject",
            principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:DescribeKey",
            ],
            resources=["*"],  # in a key policy "*" means this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
                        f":log-group:{prefix}-*"
                    )
                }
            },
        )
    )
