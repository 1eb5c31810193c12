"""acknowledge_resource names a wildcard as cdk-nag renders it from the template, whichever stack
the resource comes from and whichever kind of cross-stack reference CDK makes."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from nag_findings import findings

from stacks.common.nag import acknowledge_resource, flatten

_STRENGTH = "@aws-cdk/core:defaultCrossStackReferences"


def _wildcard_findings(tmp_path: Path, *, strength: str, same_stack: bool) -> set[str]:
    """Findings of a policy reading ``data/*`` (acknowledged) and ``logs/*`` (not) of a bucket."""
    app = cdk.App(outdir=str(tmp_path), context={_STRENGTH: strength})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    producer = cdk.Stack(app, "Producer")
    consumer = producer if same_stack else cdk.Stack(app, "Consumer")
    bucket = s3.Bucket(producer, "Bucket")
    policy = iam.ManagedPolicy(
        consumer,
        "Policy",
        statements=[
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects("data/*"), bucket.arn_for_objects("logs/*")],
            )
        ],
    )
    acknowledge_resource(policy, bucket.arn_for_objects("data/*"), "reads the data prefix")
    return {f for f in findings(app) if f.startswith("AwsSolutions-IAM5[Resource::")}


@pytest.mark.parametrize(("strength", "same_stack"), [("weak", False), ("strong", False), ("weak", True)])
def test_the_acknowledged_wildcard_is_silenced_and_no_other(
    tmp_path: Path, strength: str, same_stack: bool
) -> None:
    # GIVEN a policy with two wildcards on a bucket, one acknowledged
    # WHEN the app is synthesized with cdk-nag
    found = _wildcard_findings(tmp_path, strength=strength, same_stack=same_stack)
    # THEN only the other one is a finding
    assert len(found) == 1
    (finding,) = found
    assert finding.endswith("/logs/*]")


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("arn:${AWS::Partition}:s3:::b/*", "arn:<AWS::Partition>:s3:::b/*"),
        ({"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/data/*"]]}, "<Bucket.Arn>/data/*"),
        ({"Fn::Join": [":", [{"Ref": "AWS::Region"}, "x"]]}, "<AWS::Region>:x"),
        ({"Fn::ImportValue": "Producer:ExportsOutputBucketArn"}, "Producer:ExportsOutputBucketArn"),
        (
            {"Fn::GetStackOutput": {"StackName": "p", "OutputName": "o"}},
            '{"Fn::GetStackOutput":{"StackName":"p","OutputName":"o"}}',
        ),
    ],
)
def test_flatten_reads_like_cdk_nag(value: object, rendered: str) -> None:
    assert flatten(value) == rendered
