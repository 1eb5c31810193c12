"""A smoke test in a stage account: the role it goes through, and a session with that role's credentials.

An endpoint in another account (``endpoints.<stage>.account``) is invoked through the stage's smoke
role ``<prefix>-<stage>-smoke``, which may only invoke that endpoint and trusts only the stage's
deploy build role in the tooling account. Only the invocation uses its credentials; the smoke
samples (artifact bucket) and the version's problem type (registry) are read in the tooling
account with the caller's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    from mypy_boto3_sts import STSClient

#: STS's limit on a role session name.
MAX_SESSION_NAME: Final = 64


class AssumeRoleError(Exception):
    """The role could not be assumed (not trusted, no such role, no credentials); the message says which."""


def session_name(endpoint: str) -> str:
    """``smoke-<endpoint>`` (the endpoint is ``<prefix>-<stage>``): what the stage account's
    CloudTrail shows for the invocations, cut to STS's 64 characters."""
    return f"smoke-{endpoint}"[:MAX_SESSION_NAME]


def partition_of(region: str | None) -> str:
    """The AWS partition (``aws``, ``aws-cn``, ...) of ``region``, else of the SDK's default region.

    Raises:
        AssumeRoleError: no region is known, or botocore knows no partition for it.
    """
    session = boto3.session.Session()
    name = region or session.region_name
    if name is None:
        raise AssumeRoleError("no AWS region configured (--region, AWS_REGION): cannot name the smoke role")
    try:
        return session.get_partition_for_region(name)
    except (BotoCoreError, ValueError) as exc:
        raise AssumeRoleError(f"cannot tell the partition of region {name}: {exc}") from None


def role_session(sts: STSClient, role_arn: str, *, name: str, region: str | None) -> boto3.Session:
    """A boto3 session with the temporary credentials of ``role_arn`` (session ``name``).

    Raises:
        AssumeRoleError: STS refused (the role does not trust the caller, or does not exist).
    """
    try:
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    except (BotoCoreError, ClientError) as exc:
        raise AssumeRoleError(f"cannot assume {role_arn}: {exc}") from None
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
