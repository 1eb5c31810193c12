"""Data stack: CMK with rotation, locked-down buckets, model registry; retained and pinned."""

from __future__ import annotations

from aws_cdk.assertions import Match
from platform_synth import SynthesizedPlatform, resources

# Renaming any of these replaces a stateful resource (and orphans the old one): keep them.
PINNED = {
    "DataKey": "AWS::KMS::Key",
    "ArtifactBucket": "AWS::S3::Bucket",
    "AccessLogBucket": "AWS::S3::Bucket",
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


def test_key_rotates_and_lets_cloudwatch_logs_use_it(synthesized: SynthesizedPlatform) -> None:
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
                            {"Sid": "AllowCloudWatchLogsInThisAccount", "Condition": Match.any_value()}
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
    for logical_id in ("ArtifactBucket", "AccessLogBucket"):
        props = synthesized.raw["data"]["Resources"][logical_id]["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        (rule,) = props["LifecycleConfiguration"]["Rules"]
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_every_bucket_policy_denies_plain_http(synthesized: SynthesizedPlatform) -> None:
    policies = resources(synthesized.raw["data"], "AWS::S3::BucketPolicy")
    assert {p["Properties"]["Bucket"]["Ref"] for p in policies.values()} == {
        "ArtifactBucket",
        "AccessLogBucket",
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
