"""`provision` on an assembly whose stacks name accounts (as `cdk synth` writes them with env=): the
pipeline and the registry in the tooling stack's account, each bucket in its stack's account, each
asset published as its destination's publishing role; env-agnostic stacks where the caller acts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.cfn import Assembly
from emulator.local_aws import LocalAws, moto_server
from emulator.provision import OfflinePipeline, pipeline_from, provision
from emulator.standins import ACCOUNT

TOOLING, STAGE = "111111111111", "222222222222"
PUBLISHING_ROLE = f"cdk-hnb659fds-file-publishing-role-{STAGE}-us-east-1"
BODY = {"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "only", "Type": "Fail"}]}
TEMPLATES: dict[str, dict[str, Any]] = {
    "tooling": {
        "Resources": {
            "Group": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {"ModelPackageGroupName": "m"},
            },
            "Artifacts": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "tooling-artifacts"}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Training": {
                "Type": "AWS::SageMaker::Pipeline",
                "Properties": {
                    "PipelineName": "p-training",
                    "PipelineDefinition": {"PipelineDefinitionBody": json.dumps(BODY)},
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                },
            },
        }
    },
    "stage": {
        "Resources": {"Capture": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "stage-capture"}}}
    },
    "anywhere": {
        "Resources": {"Logs": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "agnostic-logs"}}}
    },
}
ENVIRONMENTS = {
    "tooling": f"aws://{TOOLING}/us-east-1",
    "stage": f"aws://{STAGE}/us-east-1",
    "anywhere": "aws://unknown-account/unknown-region",
}


def _write_assembly(folder: Path) -> None:
    """The templates, a manifest naming each stack's environment, and the stage stack's one file
    asset bound for its account's bootstrap bucket through its publishing role."""
    artifacts: dict[str, Any] = {}
    for stack, template in TEMPLATES.items():
        (folder / f"{stack}.template.json").write_text(json.dumps(template))
        artifacts[stack] = {
            "type": "aws:cloudformation:stack",
            "environment": ENVIRONMENTS[stack],
            "properties": {"templateFile": f"{stack}.template.json"},
        }
    (folder / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
    (folder / "asset.abc.json").write_text("{}")
    destination = {
        "bucketName": f"cdk-hnb659fds-assets-{STAGE}-us-east-1",
        "objectKey": "abc.json",
        "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::{STAGE}:role/{PUBLISHING_ROLE}",
    }
    assets = {
        "files": {
            "abc": {
                "source": {"path": "asset.abc.json", "packaging": "file"},
                "destinations": {"d": destination},
            }
        }
    }
    (folder / "stage.assets.json").write_text(json.dumps({"version": "48.0.0", **assets}))


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalAws, OfflinePipeline]]:
    folder = tmp_path_factory.mktemp("cdk.out")
    _write_assembly(folder)
    assembly = Assembly.load(folder)
    pipeline = pipeline_from(assembly)
    with moto_server() as aws:
        assert provision(assembly, aws, pipeline) == 1
        yield aws, pipeline


def _buckets(aws: LocalAws, account: str) -> list[str]:
    return sorted(b["Name"] for b in aws.in_account(account).client("s3").list_buckets()["Buckets"])


def test_the_pipeline_and_registry_are_in_the_tooling_account(
    provisioned: tuple[LocalAws, OfflinePipeline],
) -> None:
    aws, pipeline = provisioned
    assert pipeline.account == TOOLING
    assert pipeline.role_arn.split(":")[4] == TOOLING
    tooling = aws.in_account(TOOLING).client("sagemaker")
    assert [p["PipelineName"] for p in tooling.list_pipelines()["PipelineSummaries"]] == ["p-training"]
    tooling.describe_model_package_group(ModelPackageGroupName="m")
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


def test_each_bucket_is_its_stacks_accounts(provisioned: tuple[LocalAws, OfflinePipeline]) -> None:
    aws, _ = provisioned
    assert _buckets(aws, TOOLING) == ["tooling-artifacts"]
    assert _buckets(aws, STAGE) == [f"cdk-hnb659fds-assets-{STAGE}-us-east-1", "stage-capture"]
    assert _buckets(aws, ACCOUNT) == ["agnostic-logs"]


def test_an_asset_is_published_by_its_destinations_role(
    provisioned: tuple[LocalAws, OfflinePipeline],
) -> None:
    aws, _ = provisioned
    body = aws.client("s3").get_object(Bucket=f"cdk-hnb659fds-assets-{STAGE}-us-east-1", Key="abc.json")[
        "Body"
    ]
    assert body.read() == b"{}"
