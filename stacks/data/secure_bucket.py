"""S3 buckets with the platform's baseline: TLS-only, no public access, versioned, retained."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.common.logical_ids import pin_logical_id
from stacks.common.nag import acknowledge


@dataclass(frozen=True, kw_only=True)
class SecureBucketProps:
    """Encryption and logging choices; everything else is fixed policy.

    ``key=None`` means S3-managed keys, which S3 server access logging requires of its target.
    """

    key: kms.IKey | None
    access_log_bucket: s3.IBucket | None
    access_log_prefix: str | None = None
    noncurrent_version_days: int = 90
    expiration_days: int | None = None
    #: Key prefix -> days after which its objects expire (retention as code, per prefix).
    expire_prefixes: Mapping[str, int] = field(default_factory=dict)


def secure_bucket(scope: Construct, construct_id: str, *, props: SecureBucketProps) -> s3.Bucket:
    """Create a retained, versioned, TLS-only bucket that blocks all public access.

    Returns the bucket; its CloudFormation logical ID is pinned to ``construct_id``.
    """
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.KMS if props.key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=props.key,
        bucket_key_enabled=True if props.key else None,
        versioned=True,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=props.access_log_bucket,
        server_access_logs_prefix=props.access_log_prefix,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="TidyVersionsAndUploads",
                noncurrent_version_expiration=cdk.Duration.days(props.noncurrent_version_days),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                expiration=cdk.Duration.days(props.expiration_days) if props.expiration_days else None,
            ),
            *(
                s3.LifecycleRule(
                    id="Expire-" + prefix.strip("/").replace("/", "-"),
                    prefix=prefix,
                    expiration=cdk.Duration.days(days),
                )
                for prefix, days in sorted(props.expire_prefixes.items())
            ),
        ],
    )
    # Pinned so a refactor of construct paths never replaces a bucket full of data.
    pin_logical_id(bucket, construct_id)
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "Single-region platform: versioning, noncurrent-version retention and "
        "RemovalPolicy.RETAIN protect the objects; cross-region replication is a "
        "disaster-recovery choice for the deployer, not a default.",
    )
    return bucket


def access_log_bucket(scope: Construct, construct_id: str) -> s3.Bucket:
    """The server-access-log destination: S3-managed keys (S3 logging accepts no other), kept a year."""
    bucket = secure_bucket(
        scope, construct_id, props=SecureBucketProps(key=None, access_log_bucket=None, expiration_days=365)
    )
    for rule in ("AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled"):
        acknowledge(
            bucket,
            rule,
            "This bucket is the server-access-log destination; logging it into itself would "
            "loop and a second log bucket would only move the problem.",
        )
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3DefaultEncryptionKMS",
        "S3 server access logging only delivers to buckets encrypted with S3-managed keys "
        "(SSE-S3); SSE-KMS targets are rejected.",
    )
    return bucket
