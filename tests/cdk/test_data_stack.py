"""Data stack: CMK with rotation, locked-down buckets, model registry; retained and pinned."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match
from platform_synth import SynthesizedPlatform, resources

# Renaming any of these replaces a stateful resource (and orphans the old one): keep them.
PINNED = {
    "DataKey": "AWS::KMS::Key",
    "ArtifactBucket": "AWS::S3::Bucket",
    "AccessLogBucket": "AWS::S3::Bucket",
    "DeliveryBucket": "AWS::S3::Bucket",
    "ModelPackageGroup": "AWS::SageMaker::ModelPackageGroup",
}


def test_stateful_logical_ids_are_pinned(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["data"]["Resources"]
    assert {logical_id: template[logical_id]["Type"] for logical_id in PINNED} == PINNED


def test_every_stateful_resource_is_retained(synthesized: SynthesizedPlatform) -> None:
    template = synthesized.raw["data"]["Resources"]
    for logical_id in PINNED:
        assert template[logical_id]["DeletionPolicy"] == "Retain", logical_id
        assert template[logical_id]["UpdateReplacePolicy"] == "Retain", logical_id


def test_key_rotates_and_lets_cloudwatch_logs_use_it_for_this_projects_log_groups(
    synthesized: SynthesizedPlatform,
) -> None:
    template = synthesized.templates["data"]
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": f"alias/{synthesized.config.prefix}"})
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowCloudWatchLogsForThisProject",
                                "Condition": {
                                    "ArnLike": {
                                        "kms:EncryptionContext:aws:logs:arn": {
                                            "Fn::Join": [
                                                "",
                                                Match.array_with(
                                                    [f":log-group:{synthesized.config.prefix}-*"]
                                                ),
                                            ]
                                        }
                                    }
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_artifact_bucket_uses_the_key_with_bucket_key(synthesized: SynthesizedPlatform) -> None:
    bucket = synthesized.raw["data"]["Resources"]["ArtifactBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]},
    }
    assert rule["BucketKeyEnabled"] is True
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}


def test_access_log_bucket_uses_s3_managed_keys(synthesized: SynthesizedPlatform) -> None:
    bucket = synthesized.raw["data"]["Resources"]["AccessLogBucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_buckets_block_public_access_version_and_tidy_up(synthesized: SynthesizedPlatform) -> None:
    for logical_id in ("ArtifactBucket", "AccessLogBucket", "DeliveryBucket"):
        props = synthesized.raw["data"]["Resources"][logical_id]["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        rule = props["LifecycleConfiguration"]["Rules"][0]
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_every_bucket_policy_denies_plain_http(synthesized: SynthesizedPlatform) -> None:
    policies = resources(synthesized.raw["data"], "AWS::S3::BucketPolicy")
    assert {p["Properties"]["Bucket"]["Ref"] for p in policies.values()} == {
        "ArtifactBucket",
        "AccessLogBucket",
        "DeliveryBucket",
    }
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_model_package_group_is_named_from_the_prefix(synthesized: SynthesizedPlatform) -> None:
    name = f"{synthesized.config.prefix}-models"
    synthesized.templates["data"].has_resource_properties(
        "AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": name}
    )
    assert synthesized.platform.data.model_package_group_name == name


def test_retention_expires_capture_checks_and_intermediates_never_runs(
    synthesized: SynthesizedPlatform,
) -> None:
    # GIVEN the configured retention
    retention = synthesized.config.env.retention
    rules = synthesized.raw["data"]["Resources"]["ArtifactBucket"]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    # THEN each working prefix expires after its days, and nothing under pipeline-runs/ (models, baselines)
    expiring = {r["Prefix"]: r["ExpirationInDays"] for r in rules if "Prefix" in r}
    assert expiring == {
        "data-capture/": retention.capture_days,
        "drift-checks/": retention.drift_check_days,
        "pipeline-intermediates/": retention.intermediate_days,
    }
    assert not [r for r in rules if "ExpirationInDays" in r and "Prefix" not in r]


def _artifact_policy(synthesized: SynthesizedPlatform) -> dict[str, dict]:
    (policy,) = [
        p
        for p in resources(synthesized.raw["data"], "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": "ArtifactBucket"}
    ]
    return {s.get("Sid", ""): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_only_the_pipeline_role_path_writes_runs_and_nobody_deletes_them(
    synthesized: SynthesizedPlatform,
) -> None:
    statements = _artifact_policy(synthesized)
    writes = statements["OnlyThePipelineWritesRuns"]
    assert writes["Effect"] == "Deny"
    assert writes["Principal"] == {"AWS": "*"}
    assert writes["Action"] == "s3:PutObject"
    assert "/pipeline-runs/*" in str(writes["Resource"])
    path = f"/{synthesized.config.prefix}/pipeline-runs-writer/"
    assert f":role{path}*" in str(writes["Condition"]["ArnNotLike"]["aws:PrincipalArn"])
    deletes = statements["RunsAreNeverDeleted"]
    assert deletes["Effect"] == "Deny"
    assert "Condition" not in deletes
    assert set(deletes["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"}
    # AND the training pipeline's role is the one on that path
    pipeline = json.loads(
        (synthesized.outdir / f"{synthesized.config.prefix}-pipeline.template.json").read_text()
    )
    paths = [r["Properties"].get("Path") for r in resources(pipeline, "AWS::IAM::Role").values()]
    assert path in paths


def test_uploads_under_another_key_or_sse_type_are_denied(synthesized: SynthesizedPlatform) -> None:
    statements = _artifact_policy(synthesized)
    key = statements["OnlyTheDataKey"]
    assert key["Effect"] == "Deny"
    assert key["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
        "StringNotEquals": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": ["DataKey", "Arn"]}
        },
    }
    assert statements["OnlySseKms"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": "aws:kms"
    }


def test_uploads_with_customer_provided_keys_are_denied(synthesized: SynthesizedPlatform) -> None:
    # SSE-C sends none of the SSE-KMS headers the two statements above check
    statement = _artifact_policy(synthesized)["NoCustomerProvidedKeys"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}
