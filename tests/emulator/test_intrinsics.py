"""CloudFormation intrinsics resolved locally, across the stacks of a cloud assembly.

Templates are hand-written in the shapes CDK synthesizes: cross-stack references through
exports and `Fn::GetStackOutput`, a pipeline body in `Fn::Sub` or `Fn::Join`, file assets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.cfn import Assembly, IntrinsicError
from emulator.provision import ProvisionError, pipeline_from

DATA_STACK = {
    "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
    "Resources": {
        "ArtifactBucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "NamedBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-named-bucket"}},
        "DataKey": {"Type": "AWS::KMS::Key", "Properties": {}},
    },
    "Outputs": {
        "BucketOut": {"Value": {"Ref": "ArtifactBucket"}, "Export": {"Name": "data:ArtifactBucket"}},
        "KeyOut": {
            "Value": {"Fn::GetAtt": ["DataKey", "Arn"]},
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:KeyArn"}},
        },
    },
}

PIPELINE_STACK = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "prod"},
        "NoDefault": {"Type": "String"},
    },
    "Mappings": {"Images": {"us-east-1": {"Account": "683313688378"}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
    },
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Group": {
            "Type": "AWS::SageMaker::ModelPackageGroup",
            "Properties": {"ModelPackageGroupName": "models"},
        },
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
    },
}


@pytest.fixture
def assembly() -> Assembly:
    return Assembly(
        templates={"data": json.loads(json.dumps(DATA_STACK)), "pipe": json.loads(json.dumps(PIPELINE_STACK))}
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Ref": "AWS::StackName"}, "pipe"),
        ({"Ref": "Stage"}, "prod"),  # the parameter's default, in this stack
        ({"Ref": "Group"}, "models"),  # an explicit name wins
        ({"Ref": "Role"}, "local-pipe-role"),
        ({"Fn::GetAtt": ["Role", "Arn"]}, "arn:aws:iam::123456789012:role/local-pipe-role"),
        ({"Fn::GetAtt": "Role.Arn"}, "arn:aws:iam::123456789012:role/local-pipe-role"),
        (
            {"Fn::GetAtt": ["Group", "ModelPackageGroupArn"]},
            "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/models",
        ),
        (
            {"Fn::ImportValue": "data:ArtifactBucket"},
            "local-data-artifactbucket",
        ),  # resolved in its own stack
        ({"Fn::ImportValue": "data:KeyArn"}, "arn:aws:kms:us-east-1:123456789012:key/local-data-datakey"),
        (
            {
                "Fn::GetStackOutput": {
                    "StackName": "data",
                    "OutputName": "BucketOut",
                    "Region": {"Ref": "AWS::Region"},
                }
            },
            "local-data-artifactbucket",
        ),
        (
            {"Fn::Sub": "${AWS::Region}.${AWS::URLSuffix}/${Stage}/${Role.Arn}"},
            "us-east-1.amazonaws.com/prod/arn:aws:iam::123456789012:role/local-pipe-role",
        ),
        (
            {
                "Fn::Sub": [
                    "s3://${B}/${!Literal}/${Stage}",
                    {"B": {"Fn::ImportValue": "data:ArtifactBucket"}},
                ]
            },
            "s3://local-data-artifactbucket/${Literal}/prod",
        ),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, {"Ref": "AWS::Region"}]]}, "a-prod-us-east-1"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}, "y"),
        ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "us-east-1a"),
        ({"Fn::FindInMap": ["Images", {"Ref": "AWS::Region"}, "Account"]}, "683313688378"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::If": ["NotProd", "big", "small"]}, "small"),
        ({"Fn::Or": [{"Condition": "NotProd"}, {"Fn::Equals": ["a", "a"]}]}, True),
        ({"Fn::And": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]}, False),
        # intrinsics nest anywhere inside plain values
        ({"List": [{"Ref": "Stage"}], "N": 1}, {"List": ["prod"], "N": 1}),
    ],
)
def test_intrinsics_resolve_to_local_stand_ins(assembly: Assembly, value: Any, expected: Any) -> None:
    assert assembly.resolve("pipe", value) == expected


def test_stand_in_names_are_deterministic_and_valid_bucket_names(assembly: Assembly) -> None:
    again = Assembly(templates={"data": DATA_STACK, "pipe": PIPELINE_STACK})
    name = assembly.resolve("data", {"Ref": "ArtifactBucket"})
    assert name == again.resolve("data", {"Ref": "ArtifactBucket"})
    assert name.islower()
    assert 3 <= len(name) <= 63
    assert assembly.resolve("data", {"Ref": "NamedBucket"}) == "my-named-bucket"
    assert assembly.resolve("data", {"Fn::GetAtt": ["NamedBucket", "Arn"]}) == "arn:aws:s3:::my-named-bucket"
    assert assembly.resolve("pipe", {"Fn::GetAtt": ["Sg", "GroupId"]}).startswith("sg-")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::Base64": "x"}, "Pipeline.Body: intrinsic Fn::Base64 is not supported offline"),
        (
            {"Props": {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}},
            "Pipeline.Body.Props: intrinsic Fn::Cidr is not supported",
        ),
        ({"Ref": "Ghost"}, "Pipeline.Body: Ref to 'Ghost', which is neither a parameter nor a resource"),
        ({"Ref": "NoDefault"}, "Pipeline.Body: parameter NoDefault has no default to use offline"),
        ({"Fn::GetAtt": ["Ghost", "Arn"]}, "Fn::GetAtt of unknown resource 'Ghost'"),
        ({"Fn::ImportValue": "nobody:exports"}, "Fn::ImportValue 'nobody:exports': no stack in the assembly"),
        (
            {"Fn::GetStackOutput": {"StackName": "data", "OutputName": "Nope"}},
            "output 'Nope' of stack 'data'",
        ),
        ({"Fn::FindInMap": ["Images", "eu-west-9", "Account"]}, "Fn::FindInMap Images/eu-west-9/Account"),
        ({"Fn::If": ["Ghost", 1, 2]}, "condition 'Ghost' is not in the template's Conditions"),
    ],
)
def test_unresolvable_intrinsics_name_themselves_and_where(
    assembly: Assembly, value: Any, message: str
) -> None:
    with pytest.raises(IntrinsicError) as raised:
        assembly.resolve("pipe", value, "Pipeline.Body")
    assert message in str(raised.value)


BODY = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "InputDataUri", "Type": "String", "DefaultValue": "s3://${Bucket}/data/"}],
    "Steps": [{"Name": "Gate", "Type": "Fail", "Arguments": {"ErrorMessage": "in ${AWS::Region}"}}],
}


def pipeline_template(body: Any) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(json.dumps(PIPELINE_STACK))
    template["Resources"]["Pipeline"] = {
        "Type": "AWS::SageMaker::Pipeline",
        "Properties": {
            "PipelineName": {"Fn::Sub": "training-${Stage}"},
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
            "PipelineDefinition": {"PipelineDefinitionBody": body},
        },
    }
    return template


SUB_BODY = {"Fn::Sub": [json.dumps(BODY), {"Bucket": {"Fn::ImportValue": "data:ArtifactBucket"}}]}
JOIN_BODY = {
    "Fn::Join": [
        "",
        [
            json.dumps(BODY).split("${Bucket}")[0],
            {"Fn::ImportValue": "data:ArtifactBucket"},
            json.dumps(BODY).split("${Bucket}")[1].replace("${AWS::Region}", "us-east-1"),
        ],
    ]
}
PLAIN_BODY = (
    json.dumps(BODY).replace("${Bucket}", "local-data-artifactbucket").replace("${AWS::Region}", "us-east-1")
)


@pytest.mark.parametrize(
    "body", [SUB_BODY, JOIN_BODY, PLAIN_BODY], ids=["Fn::Sub", "Fn::Join", "plain string"]
)
def test_the_pipeline_definition_body_resolves_in_every_form(body: Any) -> None:
    assembly = Assembly(templates={"data": DATA_STACK, "pipe": pipeline_template(body)})
    pipeline = pipeline_from(assembly)
    assert pipeline.name == "training-prod"
    assert pipeline.role_arn == "arn:aws:iam::123456789012:role/local-pipe-role"
    assert pipeline.model_package_group == "models"
    assert pipeline.definition["Parameters"][0]["DefaultValue"] == "s3://local-data-artifactbucket/data/"
    assert pipeline.definition["Steps"][0]["Arguments"]["ErrorMessage"] == "in us-east-1"


def test_a_body_that_is_not_json_after_resolution_is_named() -> None:
    assembly = Assembly(
        templates={"data": DATA_STACK, "pipe": pipeline_template({"Fn::Sub": "{not json ${Stage}"})}
    )
    with pytest.raises(ProvisionError, match="pipe/Pipeline: the resolved definition body is not JSON"):
        pipeline_from(assembly)


def test_an_assembly_without_a_pipeline_is_named() -> None:
    with pytest.raises(
        ProvisionError, match="expected one AWS::SageMaker::Pipeline in the assembly, found 0"
    ):
        pipeline_from(Assembly(templates={"data": DATA_STACK}))


def test_file_assets_map_to_the_bucket_and_key_the_templates_name(tmp_path: Path) -> None:
    # GIVEN a cdk.out folder with a template and an assets manifest in the CLI's format
    (tmp_path / "pipe.template.json").write_text(json.dumps(PIPELINE_STACK))
    (tmp_path / "asset.abc.tar.gz").write_bytes(b"code")
    manifest = {
        "version": "48.0.0",
        "files": {
            "abc": {
                "source": {"path": "asset.abc.tar.gz", "packaging": "file"},
                "destinations": {
                    "current": {
                        "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                        "objectKey": "abc.gz",
                        "assumeRoleArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/publishing",
                    }
                },
            }
        },
        "dockerImages": {},
    }
    (tmp_path / "pipe.assets.json").write_text(json.dumps(manifest))
    # WHEN the assembly is loaded
    assembly = Assembly.load(tmp_path)
    # THEN the asset's destination has the pseudo parameters of the stand-in account filled in
    assert assembly.asset_files() == [
        (tmp_path / "asset.abc.tar.gz", "cdk-hnb659fds-assets-123456789012-us-east-1", "abc.gz")
    ]
    assert list(assembly.templates) == ["pipe"]


def test_loading_an_empty_folder_says_to_synth_first(tmp_path: Path) -> None:
    with pytest.raises(IntrinsicError, match=r"no \*\.template\.json in .*: run the synth first"):
        Assembly.load(tmp_path)
